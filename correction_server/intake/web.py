"""HTTP API for scan stations: push a sealed lot, exactly once, resumably.

Every request carries the centre's token: `Authorization: Bearer <token>` (issued by
`massicot office centre-token UAI`). Only a centre token may push, and only lots of
its own centre; a corrector, coordinator or office token gets 403. Errors are JSON
`{"detail": "plain words"}` (some add fields, e.g. `offset`, `missing`, `copies`).

The protocol (`scanner.push` is its client):

1. `POST /api/v1/lots` with `{"manifest": <manifest.json>, "identity": <identity.json, base64>}`
   → 200 `{"seal", "state": "receiving", "missing": [sha256...], "max_page_bytes", ...}`
   or 200 `{"state": "already received"}` when the lot is already in: nothing changes.
   Refusals: 422 (seal hash wrong, counts that lie, identity file not matching, unknown
   paper or candidate), 403 (another centre's lot, a paper the centre does not host),
   409 (copy ids already received in another lot; `copies` lists them).
2. For each missing image, resumable upload addressed by its SHA-256:
   `HEAD /api/v1/lots/{seal}/images/{sha256}` → headers `Upload-Offset` (bytes the server
   holds) and `Upload-Complete` (`1` when stored and verified);
   `PUT /api/v1/lots/{seal}/images/{sha256}` with `Content-Range: bytes START-END/TOTAL`
   and the chunk as body → 200 `{"offset", "complete"}`. A chunk must start at the
   current offset (else 409 with the right `offset`). When the last byte arrives the
   image is hashed; a wrong hash → 422 naming the page, the partial is dropped and the
   image must be sent again from byte 0. TOTAL above the server's limit → 413.
   A cut connection loses at most the chunk in flight: HEAD tells where to continue.
3. `POST /api/v1/lots/{seal}/commit` → 201 `{"state": "received", "copies", "pages"}` once
   every image is stored (else 409 with `missing`); the lot is created in one database
   transaction. A push left idle for days may have been purged by the office
   (`massicot office purge-uploads`): its commit is then refused with 409 and `missing` too,
   and announcing the lot again (step 1) starts it over. Committing again → 200
   `{"state": "already received"}`. The answer does not wait for the pages' display images:
   they are made afterwards, in the background (correction_server.page_rendering).

`GET /api/v1/lots/{seal}` tells a centre the state of its own push; `GET /api/v1/rescan-requests`
lists the pages the exam office asked it to scan again (its own lots only, `intake.rescans`).
A lot resealed with those pages is pushed by the same protocol: the server replaces only the
pages asked for (`intake.repush`). Nothing else can be read back through this API.
"""

from __future__ import annotations

import base64
import re
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from correction_server.auth.tokens import Principal, authenticate
from correction_server.deps import Ingest, Parts, ServerParts
from correction_server.intake.refusals import IngestError, Invalid, TooLarge, require_centre
from correction_server.intake.rescans import open_requests
from correction_server.intake.seal_checks import decode_identity
from correction_server.intake.states import LotState
from correction_server.intake.uploads import MAX_CHUNK_BYTES
from correction_server.pages.store import SHA256_RE

router = APIRouter(prefix="/api/v1", tags=["scan stations"])

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_ERROR = {"content": {"application/json": {"example": {"detail": "plain words saying what to do"}}}}


async def caller(request: Request, parts: Parts) -> Principal | None:
    """The bearer token's account, or None (the service says 401 or 403 in plain words)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    cache = parts.token_cache
    principal = cache.get(token)
    if principal is None:
        principal = await run_in_threadpool(_lookup, parts, token)
        if principal is not None:
            cache.put(token, principal)
    return principal


def _lookup(parts: ServerParts, token: str) -> Principal | None:
    with parts.session_factory() as session:
        return authenticate(session, token)


Station = Annotated[Principal | None, Depends(caller)]


def _state(state: LotState, status: int = 200) -> JSONResponse:
    return JSONResponse(asdict(state), status_code=status)


def _check_hash(value: str, what: str) -> str:
    if not SHA256_RE.match(value):
        raise Invalid(f"{what} {value!r} is not a SHA-256 (64 lowercase hex digits)")
    return value


@router.post(
    "/lots",
    summary="Announce a sealed lot; the answer lists the page images still to send",
    responses={401: _ERROR, 403: _ERROR, 409: _ERROR, 422: _ERROR},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["manifest", "identity"],
                        "properties": {
                            "manifest": {"type": "object", "description": "manifest.json of the lot"},
                            "identity": {"type": "string", "description": "identity.json, base64"},
                        },
                    }
                }
            },
        }
    },
)
async def announce_lot(request: Request, principal: Station, ingest: Ingest) -> JSONResponse:
    require_centre(principal)  # the token first: nothing of the body is read without one
    try:
        body = await request.json()
    except (ValueError, RecursionError):
        raise Invalid(
            'the body must be JSON (not nested deeper than a manifest is): {"manifest": ..., '
            '"identity": base64}'
        ) from None
    if not isinstance(body, dict) or "manifest" not in body or "identity" not in body:
        raise Invalid("the body must be JSON with the fields `manifest` and `identity`")
    identity = decode_identity(str(body["identity"]))
    state = await run_in_threadpool(ingest.announce, principal, body["manifest"], identity)
    return _state(state)


@router.get("/lots/{seal}", summary="The state of one of this centre's pushes", responses={401: _ERROR})
def lot_state(seal: str, request: Request, principal: Station, ingest: Ingest) -> JSONResponse:
    return _state(ingest.state(principal, _check_hash(seal, "seal")))


@router.get(
    "/rescan-requests",
    summary="The pages the exam office asked this centre to scan again",
    responses={401: _ERROR, 403: _ERROR},
)
def rescan_requests(request: Request, principal: Station, parts: Parts) -> JSONResponse:
    with parts.session_factory() as session:
        found = open_requests(session, principal)
    return JSONResponse({"requests": found})


@router.head("/lots/{seal}/images/{sha256}", summary="Where an interrupted image upload resumes")
def image_offset(seal: str, sha256: str, request: Request, principal: Station, ingest: Ingest) -> Response:
    try:
        receipt = ingest.upload_offset(principal, _check_hash(seal, "seal"), _check_hash(sha256, "image"))
    except IngestError as exc:
        return Response(status_code=exc.status)  # HEAD answers carry no body
    return Response(
        status_code=200,
        headers={"Upload-Offset": str(receipt.offset), "Upload-Complete": "1" if receipt.complete else "0"},
    )


@router.put(
    "/lots/{seal}/images/{sha256}",
    summary="Send one chunk of a page image (Content-Range: bytes START-END/TOTAL)",
    responses={401: _ERROR, 403: _ERROR, 404: _ERROR, 409: _ERROR, 413: _ERROR, 422: _ERROR},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def put_image_chunk(
    seal: str, sha256: str, request: Request, principal: Station, ingest: Ingest
) -> JSONResponse:
    require_centre(principal)  # the token first: nothing of the body is read without one
    _check_hash(seal, "seal")
    _check_hash(sha256, "image")
    data = await _read_body(request)
    header = request.headers.get("content-range")
    if header is None:
        offset, total = 0, len(data)
    else:
        match = _CONTENT_RANGE.match(header.strip())
        if not match:
            raise Invalid(f"Content-Range {header!r} is not of the form 'bytes START-END/TOTAL'")
        offset, end, total = (int(part) for part in match.groups())
        if end - offset + 1 != len(data):
            raise Invalid(
                f"the chunk holds {len(data)} bytes but Content-Range announces {end - offset + 1}: "
                "the connection was probably cut; ask where to resume (HEAD) and send again"
            )
    receipt = await run_in_threadpool(ingest.receive_chunk, principal, seal, sha256, offset, total, data)
    return JSONResponse({"offset": receipt.offset, "complete": receipt.complete})


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_CHUNK_BYTES:
        raise TooLarge(
            f"a chunk may hold at most {MAX_CHUNK_BYTES // (1024 * 1024)} MiB; send smaller chunks"
        )
    parts = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > MAX_CHUNK_BYTES:
            raise TooLarge(
                f"a chunk may hold at most {MAX_CHUNK_BYTES // (1024 * 1024)} MiB; send smaller chunks"
            )
        parts.append(part)
    return b"".join(parts)


@router.post(
    "/lots/{seal}/commit",
    summary="Create the lot's copies and pages, once every image is stored",
    status_code=201,
    responses={200: {"description": "already received"}, 401: _ERROR, 403: _ERROR, 404: _ERROR, 409: _ERROR},
)
def commit_lot(seal: str, request: Request, principal: Station, ingest: Ingest) -> JSONResponse:
    state = ingest.commit(principal, _check_hash(seal, "seal"))
    return _state(state, 201 if state.state == "received" else 200)


def encode_identity(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
