"""`GET /health`: public, JSON, 200 when every part answers, 503 naming the parts that do not."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from correction_server.deps import Parts
from correction_server.health.checks import check

router = APIRouter(tags=["health"])


@router.get("/health")
def health(parts: Parts) -> JSONResponse:
    """Whether the database, the page store and the job queue answer (no login needed)."""
    found = check(parts.settings, parts.session_factory, parts.store)
    return JSONResponse(found.as_json(), status_code=200 if found.ok else 503)
