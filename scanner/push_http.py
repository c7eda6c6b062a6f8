"""`massicot push` talking to the correction server: keep-alive HTTP connections, one per sending
thread, and retries.

Connection errors, timeouts and 5xx/429 answers are transient: retried with exponential backoff
and full jitter (so forty centres do not all come back in the same second after an outage), until
the server has given no answer for the push's patience. Any other answer goes back to the caller.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from massicot_core.errors import UserError

Say = Callable[[str], None]


class GaveUp(UserError):
    """The server stayed unreachable longer than allowed; everything acknowledged is kept."""


class Transient(Exception):
    """A failure worth retrying: no answer, a cut connection, a restarting server."""


class Patience:
    """Exponential backoff with full jitter, bounded by the time since the server last answered."""

    def __init__(self, limit: float, say: Say) -> None:
        self.limit = limit
        self.say = say
        self.last_answer = time.monotonic()
        self.retries = 0
        self._lock = threading.Lock()
        self._quiet_until = 0.0

    def answered(self) -> None:
        self.last_answer = time.monotonic()

    def wait(self, attempt: int, why: str) -> None:
        silent = time.monotonic() - self.last_answer
        if silent > self.limit:
            raise GaveUp(
                f"no usable answer from the server for {silent / 60:.0f} min ({why}); gave up. Everything it "
                "acknowledged is kept: run the same command again (or with --spool) to resume"
            )
        delay = random.uniform(0.5, 1.0) * min(30.0, 0.25 * 2**attempt)
        with self._lock:
            self.retries += 1
            now = time.monotonic()
            if now >= self._quiet_until:  # several threads wait at once: say it once
                self.say(f"{why}; trying again in {delay:.0f} s")
                self._quiet_until = now + 5.0
        time.sleep(delay)


@dataclass
class Response:
    status_code: int
    reason: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def detail(response: Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)


class ServerConnections:
    """Keep-alive HTTP connections to the server, one per sending thread.

    The standard library's client, not a richer one: per image it costs a third of the
    CPU, and a station pushes thousands of images on a small machine.
    """

    def __init__(self, server: str, token: str, timeout: float, patience: Patience) -> None:
        self.patience = patience
        parts = urllib.parse.urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserError(f"--server {server!r} is not a web address like https://copies.example.fr")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.headers = {"Authorization": f"Bearer {token}", "User-Agent": "massicot-push/1"}
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.https:
                conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        conn.close()
        self._local.conn = None

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()

    def once(
        self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        """One request; a transient failure raises Transient, anything else is returned."""
        conn = self._connection()
        try:
            conn.request(method, self.prefix + url, body=body, headers={**self.headers, **(headers or {})})
            raw = conn.getresponse()
            data = raw.read()
        except (OSError, http.client.HTTPException) as exc:
            self._drop(conn)
            raise Transient(_transport_words(exc)) from None
        response = Response(raw.status, raw.reason, {k.lower(): v for k, v in raw.getheaders()}, data)
        if raw.will_close:
            self._drop(conn)
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise Transient(f"the server answered {response.status_code} ({detail(response)})")
        self.patience.answered()
        return response

    def call(
        self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        attempt = 0
        while True:
            try:
                return self.once(method, url, body, headers)
            except Transient as exc:
                self.patience.wait(attempt, str(exc))
                attempt += 1


def _transport_words(exc: Exception) -> str:
    if isinstance(exc, ConnectionRefusedError | socket.gaierror):
        return "the server cannot be reached (no connection)"
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, ssl.SSLError):
        return f"the secure connection failed ({exc.reason})"
    return "the connection to the server was cut"
