"""Which server process answered, and how long the application took: for load measurements.

Off by default (MASSICOT_SERVER_TIMING=1 turns it on). Every answer then carries
`X-Massicot-Worker: <pid>` and `Server-Timing: app;dur=<ms>`: the time from the moment the
application took the request to the moment its answer started. A client that
also measures the whole request tells apart the time it waited before the application saw it
(the kernel's accept queue, an event loop busy with other connections) from the time it was
served. bench/marking_load.py reads both.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WORKER_HEADER = b"x-massicot-worker"


def enabled() -> bool:
    return os.environ.get("MASSICOT_SERVER_TIMING", "") not in ("", "0")


class ServerTiming:
    """Pure ASGI middleware (no thread hop, no body buffering): adds the two headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pid = str(os.getpid()).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        pid = self.pid

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                app_ms = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((WORKER_HEADER, pid))
                headers.append((b"server-timing", f"app;dur={app_ms:.2f}".encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, timed_send)
