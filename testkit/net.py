"""A free TCP port on 127.0.0.1, for a server the tests or benchmarks start."""

from __future__ import annotations

import socket


def free_port() -> int:
    # The port is free when asked; a caller that binds it later may still lose it to another process.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
