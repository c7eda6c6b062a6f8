"""Step 2 of a push: the page images of an announced lot, in chunks, by SHA-256.

Chunks are appended to a partial file of the page store; an image becomes visible only when it
is complete and hashes to what the seal says. A station that lost its connection asks how far an
image got (`upload_offset`) and continues from there.
"""

from __future__ import annotations

import io

from correction_server.auth.tokens import Principal
from correction_server.intake.announced import Announced, AnnouncedLots
from correction_server.intake.page_checks import check_stored
from correction_server.intake.refusals import Conflict, Invalid, NotFound, TooLarge, require_centre
from correction_server.intake.states import ChunkReceipt
from correction_server.pages.store import HashMismatch, ObjectStore, OffsetMismatch, StoreError

# One chunk held in memory at a time per request; the station sends 1 MiB by default.
MAX_CHUNK_BYTES = 16 * 1024 * 1024


class ChunkUploads:
    """Receives the images of the lots `lots` knows; holds no request state."""

    def __init__(self, lots: AnnouncedLots, store: ObjectStore, max_page_bytes: int) -> None:
        self.lots = lots
        self.store = store
        self.max_page_bytes = max_page_bytes

    def upload_offset(self, principal: Principal | None, seal: str, sha256: str) -> ChunkReceipt:
        principal = require_centre(principal)
        announced = self.lots.active(principal, seal)
        if announced is None:
            return ChunkReceipt(offset=0, complete=True)
        image_label(announced, sha256)
        if self.store.has(sha256):
            return ChunkReceipt(offset=self.store.upload_offset(sha256), complete=True)
        return ChunkReceipt(offset=self.store.upload_offset(sha256), complete=False)

    def receive_chunk(
        self, principal: Principal | None, seal: str, sha256: str, offset: int, total: int, data: bytes
    ) -> ChunkReceipt:
        principal = require_centre(principal)
        announced = self.lots.active(principal, seal)
        if announced is None:
            return ChunkReceipt(offset=0, complete=True)
        label = image_label(announced, sha256)
        if total > self.max_page_bytes:
            raise TooLarge(
                f"{label}: the image is {total / 1e6:.1f} MB, more than this server accepts per page "
                f"({self.max_page_bytes / 1e6:.1f} MB). Scan that page again at a lower resolution, then "
                "seal the lot again"
            )
        try:
            result = self.store.append_chunk(sha256, offset, data, total)
        except OffsetMismatch as exc:
            raise Conflict(
                f"{label}: this chunk starts at byte {offset} but the server holds {exc.expected} bytes; "
                "continue from there",
                offset=exc.expected,
            ) from None
        except HashMismatch as exc:
            raise Invalid(
                f"{label}: the image received does not match its SHA-256 in the seal (it hashes to "
                f"{exc.actual[:12]}…); it was damaged on the way and was dropped: send it again"
            ) from None
        except StoreError as exc:
            raise Invalid(f"{label}: {exc}") from None
        if result.complete:
            # The whole image in this one chunk (the usual case): checked from memory, not read
            # back from the store (a GET of the whole object from a bucket).
            whole = data if offset == 0 and len(data) == total else None
            self._check(announced, sha256, drop=True, received=whole)
        return ChunkReceipt(offset=result.offset, complete=result.complete)

    def check_images(self, announced: Announced) -> None:
        """Every image of the lot is a picture of its stated type and a page's size (headers only);
        a room sheet may be a PDF."""
        media_types = announced.media_types
        for sha256 in announced.pages_by_hash:
            self._check(announced, sha256, drop=False, media_type=media_types[sha256])

    def _check(
        self,
        announced: Announced,
        sha256: str,
        drop: bool,
        media_type: str | None = None,
        received: bytes | None = None,
    ) -> None:
        media_type = media_type or announced.media_types[sha256]
        try:
            with io.BytesIO(received) if received is not None else self.store.open(sha256) as stream:
                check_stored(stream, media_type, announced.pages_by_hash[sha256])
        except Invalid:
            if drop:
                # Just received and not a page: nothing refers to these bytes, and no lot could.
                self.store.discard(sha256)
            raise


def image_label(announced: Announced, sha256: str) -> str:
    label = announced.pages_by_hash.get(sha256)
    if label is None:
        raise NotFound(f"image {sha256[:12]}… is not a page of this lot")
    return label
