"""Helpers of the push tests: a real `massicot serve` process, sealed lots, a TCP proxy.

The proxy sits between the station and the server on 127.0.0.1 and can stall or cut the
connection after a given number of bytes sent by the station: that is how a bad network
(or a station killed in the middle of an image) is made deterministic.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from testkit.push_setup import Exam, ServerProcess

REPO = Path(__file__).resolve().parents[1]

CENTRE_A = "0130040Y"
CENTRE_B = "0130041Z"
TABLES = ("scan_lot", "copy", "page", "identity_link", "push_upload")


def row_counts(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in TABLES}
    finally:
        engine.dispose()


def store_files(store: Path) -> dict[str, int]:
    """Every file the pushes put in the store (objects and partials) with its size.

    Left out: `derived/`, the display images a background renderer makes after each lot is
    received, on its own time; what a push stored must not depend on when it has finished."""
    return {
        str(p.relative_to(store)): p.stat().st_size
        for p in store.rglob("*")
        if p.is_file() and p.relative_to(store).parts[0] != "derived"
    }


def push_command(lot: Path, server_url: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from massicot.cli import main; main()",
        "push",
        str(lot),
        "--server",
        server_url,
        *extra,
    ]


def run_push(
    lot: Path, server_url: str, token: str, *extra: str, timeout: float = 120
) -> subprocess.CompletedProcess:
    env = dict(os.environ, MASSICOT_TOKEN=token)
    return subprocess.run(
        push_command(lot, server_url, *extra),
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=REPO,
    )


def start_push(lot: Path, server_url: str, token: str, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, MASSICOT_TOKEN=token)
    return subprocess.Popen(
        push_command(lot, server_url, *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


STALLED_PUSH_OPTIONS = ("--chunk-kib", "64", "--parallel", "1")


def start_push_stalled_midway(
    lot: Path, image_bytes: int, proxy: TcpProxy, token: str, *extra: str
) -> subprocess.Popen:
    """A station pushing through `proxy`, held when half of the lot's image bytes have gone
    through (small chunks, one at a time, unless `extra` says otherwise); returns once it is."""
    proxy.stall_at(image_bytes // 2)
    station = start_push(lot, proxy.url, token, *(extra or STALLED_PUSH_OPTIONS))
    assert proxy.stalled.wait(60), "the station never reached the stall point"
    time.sleep(0.3)  # let the server write what it already received
    return station


@dataclass
class Site:
    """A running server with its database and store, and the exam seeded in it."""

    server: ServerProcess
    exam: Exam
    db_url: str
    store: Path
    root: Path

    def counts(self) -> dict[str, int]:
        return row_counts(self.db_url)


class TcpProxy:
    """Forwards 127.0.0.1:port → target; can stall or cut after N bytes from the station."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.upstream_bytes = 0  # station → server, over every connection
        self.stall_after: int | None = None
        self.cut_after: int | None = None
        self.stalled = threading.Event()  # set once the stall point is reached
        self.released = threading.Event()
        self.released.set()
        self.closing = False
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stall_at(self, nbytes: int) -> None:
        self.released.clear()
        self.stall_after = nbytes

    def release(self) -> None:
        self.stall_after = None
        self.released.set()

    def cut_at(self, nbytes: int) -> None:
        self.cut_after = nbytes

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_station: bool) -> None:
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                if from_station:
                    data = self._account(data, src, dst)
                    if data is None:
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _account(self, data: bytes, src: socket.socket, dst: socket.socket) -> bytes | None:
        with self.lock:
            start = self.upstream_bytes
            self.upstream_bytes += len(data)
            cut, stall = self.cut_after, self.stall_after
        if cut is not None and start + len(data) >= cut:
            self.cut_after = None  # one cut only
            dst.sendall(data[: max(0, cut - start)])
            src.close()
            dst.close()
            return None
        if stall is not None and start + len(data) >= stall:
            dst.sendall(data[: max(0, stall - start)])
            self.stalled.set()
            self.released.wait()
            return data[max(0, stall - start) :]
        return data

    def close(self) -> None:
        self.closing = True
        self.release()
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.close()
