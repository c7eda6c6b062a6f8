"""What every request passes before any route sees it: the peer, the body's size, the answer's headers.

One ASGI middleware (`RequestGuard`, installed by `create_app`) does three things, in one pass:

- **Forwarded headers, only from trusted proxies.** The client's address and scheme come from
  `X-Forwarded-For` / `X-Forwarded-Proto` only when the peer is one of `Settings.trusted_proxies`
  (none by default): otherwise anyone could choose his own address and dodge the login limit,
  or set everyone's. Behind a trusted proxy, the client is the right-most address of
  `X-Forwarded-For` that is not itself a trusted proxy. The server is started with uvicorn's own
  proxy handling off (`correction_server.cli`), so this is the only place that decides.
- **Bodies bounded before they are read.** A declared `Content-Length` above the route class's
  ceiling is refused with 413 before a byte is read; a body sent without one (chunked) is
  counted as it streams, and refused as soon as it passes the ceiling. Ceilings by route class:
  a page image chunk (`intake.uploads.MAX_CHUNK_BYTES`, given by `create_app`), a lot's
  announce (its manifest), everything else (forms, the marking API's JSON): `SMALL_BODY_BYTES`.
  Credentials come first: the push API's routes check the station's token before they read,
  and a state-changing browser request without a validly signed session cookie (`has_login`)
  is answered 401 here, before its form is read (but for the pages that need no login:
  `PUBLIC_POSTS`).
- **Cookies `Secure` over https.** When the request came over https (as the peer, or a
  trusted proxy, says), every cookie the answer sets is marked `Secure`, whichever route set
  it: a browser then never sends a session or a shown-once secret over plain http.
- **Security headers on every answer**: a Content-Security-Policy without inline script,
  no framing (`frame-ancestors 'none'`, `X-Frame-Options: DENY`), `Referrer-Policy`,
  `X-Content-Type-Options: nosniff`, and `Cache-Control: no-store` on every answer that did not
  choose its own caching (pages and API answers carry marks or identities; the page images
  and static files say how long they keep).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from massicot_core.words import translate

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A page image chunk, unless `create_app` says otherwise (intake.uploads.MAX_CHUNK_BYTES).
CHUNK_BODY_BYTES = 16 * 1024 * 1024
# Forms and the marking API's JSON: a long appreciation is a few kB.
SMALL_BODY_BYTES = 1024 * 1024
# A lot's announce carries its manifest: ~400 bytes a page, a few thousand pages at most.
ANNOUNCE_BODY_BYTES = 32 * 1024 * 1024
_CHUNK_PATH = re.compile(r"^/api/v1/lots/[^/]+/images/[^/]+$")
# Requests that change something without a login: the login forms (staff and candidate), a
# candidate's activation, a set-password link, and the stations' API (its routes check the
# token before reading).
PUBLIC_POSTS = re.compile(r"^(/login|/password/[^/]+|/candidate/(activate|login)|/api/v1/.*)$")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # The harmonisation charts are inline SVG with a <style> of their own; styles run no code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
]
NO_STORE = (b"cache-control", b"no-store")


def body_limit(method: str, path: str, chunk_bytes: int = CHUNK_BODY_BYTES) -> int:
    """The largest body a request of this route class may carry, in bytes."""
    if method == "PUT" and _CHUNK_PATH.match(path):
        return chunk_bytes
    if method == "POST" and path == "/api/v1/lots":
        return ANNOUNCE_BODY_BYTES
    return SMALL_BODY_BYTES


class BodyTooLarge(HTTPException):
    """Raised while a body is read, as soon as it passes its route class's ceiling."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_words("fr", limit))
        self.limit = limit


def too_large_words(lang: str, limit: int) -> str:
    if limit >= 1024 * 1024:
        return translate(lang, "error.too_large_mib", mib=limit // (1024 * 1024))
    return translate(lang, "error.too_large_kib", kib=max(1, limit // 1024))


class TrustedProxies:
    """The peers whose X-Forwarded-* headers are believed."""

    def __init__(self, entries: tuple[str, ...] | list[str]) -> None:
        self.networks = [
            ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()
        ]

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, host: str | None) -> bool:
        if not host or not self.networks:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The right-most address of the chain that is not a trusted proxy (else the left-most)."""
        chain = [part.strip() for part in forwarded_for.split(",") if part.strip()]
        for hop in reversed(chain):
            if not self.trusts(hop):
                return hop if _is_address(hop) else peer
        return chain[0] if chain and _is_address(chain[0]) else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _header(scope: Scope, name: bytes) -> str | None:
    values = [value for key, value in scope.get("headers", []) if key == name]
    return values[-1].decode("latin-1") if values else None


def _language(scope: Scope) -> str:
    from correction_server import i18n

    cookie = None
    for part in (_header(scope, b"cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == i18n.LANGUAGE_COOKIE:
            cookie = value
    return i18n.pick_language(cookie, _header(scope, b"accept-language"))


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        trusted_proxies: tuple[str, ...] | list[str] = (),
        chunk_bytes: int = CHUNK_BODY_BYTES,
        has_login: Callable[[str | None], bool] | None = None,
    ) -> None:
        self.app = app
        self.proxies = TrustedProxies(trusted_proxies)
        self.chunk_bytes = chunk_bytes
        # cookie header → whether it holds a validly signed session cookie (no database read).
        self.has_login = has_login

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._apply_forwarded(scope)
        limit = body_limit(scope["method"], scope["path"], self.chunk_bytes)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > limit):
            await _refuse(scope, send, limit if declared.strip().isdigit() else None)
            return
        if (
            self.has_login is not None
            and scope["method"] in _UNSAFE
            and not PUBLIC_POSTS.match(scope["path"])
            and not self.has_login(_header(scope, b"cookie"))
        ):
            await _answer(scope, send, 401, translate(_language(scope), "error.login_first"))
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if scope.get("scheme") == "https":
                    headers = [secure_cookie(key, value) for key, value in headers]
                names = {key.lower() for key, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in names)
                if b"cache-control" not in names and not scope["path"].startswith("/static/"):
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _refuse(scope, guarded_send, exc.limit)

    def _apply_forwarded(self, scope: Scope) -> None:
        client = scope.get("client")
        if not self.proxies or not client or not self.proxies.trusts(client[0]):
            return
        forwarded_for = _header(scope, b"x-forwarded-for")
        if forwarded_for:
            scope["client"] = (self.proxies.client(client[0], forwarded_for), 0)
        proto = (_header(scope, b"x-forwarded-proto") or "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto


def secure_cookie(key: bytes, value: bytes) -> tuple[bytes, bytes]:
    """A Set-Cookie header with the `Secure` attribute (other headers unchanged)."""
    if key.lower() != b"set-cookie":
        return key, value
    attributes = [part.strip().lower() for part in value.split(b";")[1:]]
    return (key, value) if b"secure" in attributes else (key, value + b"; Secure")


async def _refuse(scope: Scope, send: Send, limit: int | None) -> None:
    """413 (or 400 for a Content-Length that is not a number), without reading the body."""
    lang = _language(scope)
    if limit is None:
        await _answer(scope, send, 400, translate(lang, "error.bad_length"))
    else:
        await _answer(scope, send, 413, too_large_words(lang, limit))


async def _answer(scope: Scope, send: Send, status: int, words: str) -> None:
    body = json.dumps({"detail": words}, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *SECURITY_HEADERS,
        NO_STORE,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
