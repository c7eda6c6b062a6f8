"""The API description: /openapi.json and /docs, for the office (or anyone, when configured).

FastAPI's own /docs loads Swagger UI from a CDN that deployments cannot reach, and runs an
inline script the Content-Security-Policy forbids: here the page is a template of ours, its
script a static file (web/static/docs.js), and Swagger UI's files come from the installed
`swagger-ui-bundle` package, served by the server itself under /static/api-docs/.
Who may read it: `deps.DocsReader` (the office; everyone when MASSICOT_PUBLIC_API_DOCS=1).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from correction_server.deps import DocsReader
from correction_server.web.rendering import render

DOCS_ASSETS = "/static/api-docs"

router = APIRouter(include_in_schema=False, dependencies=[DocsReader])


@router.get("/openapi.json")
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    return render(request, "api_docs.html", {"assets": DOCS_ASSETS})


def mount_assets(app: FastAPI) -> None:
    """Swagger UI's files, from the package that ships them (mounted before /static)."""
    import swagger_ui_bundle

    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="api-docs")
