"""A throw-away PostgreSQL cluster, for the tests' databases and the benchmarks.

Its binaries come from /usr/lib/postgresql/*/bin (or MASSICOT_PG_ROOT, so the "missing
binaries" path itself can be tested) and run as the `postgres` user when run as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from testkit.missing import missing
from testkit.net import free_port

CLUSTER_PREFIX = "massicot-pg-"


def find_pg_bin() -> Path | None:
    root = Path(os.environ.get("MASSICOT_PG_ROOT", "/usr/lib/postgresql"))
    candidates = sorted(root.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return candidates[-1].parent if candidates else None


@dataclass
class PgCluster:
    """A PostgreSQL cluster in a temporary folder, reachable on 127.0.0.1:port with trust auth."""

    bin_dir: Path
    root: Path
    port: int = 0
    start_seconds: float = 0.0

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def _run(self, *args: str) -> None:
        # PostgreSQL refuses to run as root: as root, run it as the postgres user; otherwise as
        # the current user (a developer's own machine).
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}{tail}")

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        # Durability is worthless for a throw-away cluster; speed is not.
        options = (
            f"-p {{port}} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        for attempt in range(3):  # the free port may be taken between choosing and binding it
            self.port = free_port()
            try:
                self._run(
                    str(self.bin_dir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "30",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.root / "server.log"),
                    "-o",
                    options.format(port=self.port),
                )
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def stop(self) -> None:
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run(str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def stop_orphan_clusters(bin_dir: Path) -> None:
    """Stop clusters left by a pytest run that was killed before its clean-up could run."""
    for root in Path("/tmp").glob(f"{CLUSTER_PREFIX}*"):
        try:
            owner = int((root / "owner.pid").read_text())
            os.kill(owner, 0)
            continue  # its pytest is still running
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue
        PgCluster(bin_dir=bin_dir, root=root).stop()


@contextmanager
def throwaway_cluster() -> Iterator[PgCluster]:
    """The tests' cluster, stopped at the end; without the binaries the test asking for it is
    skipped, or fails in CI (testkit.missing)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        missing("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing("runuser not found: it is needed to run initdb as the postgres user")
    stop_orphan_clusters(bin_dir)
    # Under /tmp, not $TMPDIR: the postgres user must reach the folder, and a unix socket path
    # must stay under 108 characters.
    root = Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX, dir="/tmp"))
    (root / "owner.pid").write_text(str(os.getpid()))
    cluster = PgCluster(bin_dir=bin_dir, root=root)
    started = time.monotonic()
    try:
        cluster.start()
    except Exception:
        shutil.rmtree(root, ignore_errors=True)
        raise
    cluster.start_seconds = time.monotonic() - started
    try:
        yield cluster
    finally:
        cluster.stop()
