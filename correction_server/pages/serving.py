"""One answer for a page image, whichever route serves it.

A display image's name is fixed by the image, its rotation, skew and width, so its bytes never
change: every route that serves a page gives the same ETag, the same `Cache-Control` (a year,
private: it is an exam copy) and a 304 to a browser that already has it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException
from fastapi.responses import Response

from correction_server.pages import images
from correction_server.pages.store import ObjectStore

IMMUTABLE = "private, max-age=31536000, immutable"


def page_image_response(
    if_none_match: str | None,
    store: ObjectStore,
    derived_dir: Path,
    look: images.PageLook,
    width: int,
) -> Response:
    """The display image of one page, or a 304 when the browser's copy is this one.

    Call it after the route has closed its database session: making a display image may take a
    moment, and the connection is better given back first.
    """
    etag = images.etag_of(images.derivative_name(look.sha256, look.rotation, look.skew, width))
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": IMMUTABLE})
    if not store.has(look.sha256):
        raise HTTPException(status_code=404, detail="This page's image has not arrived on the server yet.")
    derived = images.display_image(store, derived_dir, look.sha256, look.rotation, look.skew, width)
    # Read here, in the route's worker thread: a display page is ~100-300 KB, and streaming it
    # as a file response would cost a thread hop per 64 KB chunk.
    return Response(
        derived.path.read_bytes(),
        media_type="image/jpeg",
        headers={"ETag": derived.etag, "Cache-Control": IMMUTABLE},
    )
