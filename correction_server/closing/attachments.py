"""A file attached to an office decision (a procès-verbal's scan, a medical certificate): kept in
the page store by its SHA-256, its name beside it; nothing else of it is read."""

from __future__ import annotations

from dataclasses import dataclass

from correction_server.closing.refusals import ClosingRefused
from correction_server.pages.store import ObjectStore
from massicot_core.files import sha256_bytes

MAX_ATTACHMENT = 20 * 1024 * 1024  # a phone photo or a scanned PDF, not a video


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes


def keep_attachment(store: ObjectStore | None, attachment: Attachment | None) -> tuple[str | None, str]:
    """(sha256, file name) of the stored file; (None, "") when there is none."""
    if attachment is None or not attachment.data:
        return None, ""
    if len(attachment.data) > MAX_ATTACHMENT:
        raise ClosingRefused("jury.err.attachment_too_large", mb=MAX_ATTACHMENT // (1024 * 1024))
    if store is None:
        raise ClosingRefused("jury.err.attachment_no_store")
    name = (attachment.name or "piece-jointe").strip().replace("/", "_")[:200]
    # Through the protocol's own calls (every store has them, not only the local one).
    sha = sha256_bytes(attachment.data)
    if not store.has(sha):
        offset = store.upload_offset(sha)  # a partial file left by an earlier attempt is resumed
        store.append_chunk(sha, offset, attachment.data[offset:], len(attachment.data))
    return sha, name
