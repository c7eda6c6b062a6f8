"""Several server processes on one port, each with its own listening socket (SO_REUSEPORT).

uvicorn's own `--workers` binds one socket and lets every process accept from it. Each
connection then goes to whichever process's event loop wakes first, and keeps going there for
as long as the browser holds it open (a corrector's connection lives the whole evening). Under
load the processes do not wake in turn: bench/marking_load.py found one process holding most of
the 1,000 correctors' connections, its interpreter saturated, while the other one idled and the
machine had a third of its CPU free. With one socket per process bound with SO_REUSEPORT, the
kernel spreads new connections over the processes by a hash of their addresses: evenly,
whatever each process is doing.

The parent keeps the port bound (not listening, so it receives nothing) so that another program
cannot take it, and starts again a process that died, as uvicorn's supervisor does.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from typing import Any

log = logging.getLogger(__name__)

APP = "correction_server.app:create_app"
BACKLOG = 2048
# A process that dies sooner than this after its start is not started again in a loop.
RESTART_PAUSE = 1.0


def reuse_port_socket(host: str, port: int, listen: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _serve_one(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    sock = reuse_port_socket(host, port, listen=True)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, backlog=BACKLOG, **options)
    uvicorn.Server(config).run(sockets=[sock])


def run(host: str, port: int, workers: int, **options: Any) -> None:
    """Serve the application on `host:port` with `workers` processes until told to stop."""
    if workers <= 1:
        import uvicorn

        uvicorn.run(APP, factory=True, host=host, port=port, backlog=BACKLOG, **options)
        return
    guard = reuse_port_socket(host, port, listen=False)  # fails at once if the port is taken
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_serve_one, args=(host, port, options), daemon=False)
        process.start()
        return process

    children = [start() for _ in range(workers)]
    started = [time.monotonic()] * workers
    try:
        while not stopping:
            time.sleep(0.5)
            for i, child in enumerate(children):
                if child.is_alive() or stopping:
                    continue
                log.warning(
                    "server process %s ended (exit code %s); starting another", child.pid, child.exitcode
                )
                if time.monotonic() - started[i] < RESTART_PAUSE:
                    time.sleep(RESTART_PAUSE)
                children[i], started[i] = start(), time.monotonic()
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()  # uvicorn finishes the requests in flight, then exits
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
        guard.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
