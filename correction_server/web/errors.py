"""How refusals and HTTP errors reach people.

- A service's `Refused` becomes one answer: a JSON client (a path under /api/, or a request that
  does not ask for HTML) gets the body its API has always had (`Refused.answer`: `{"detail": ...}`
  for the stations' push API, `{"error": ..., "message": ...}` for the marking API) with the
  refusal's status; a browser page gets the error page with the sentence in the reader's language.
- On browser pages a 401 on a GET redirects to /login?next=..., a 403 or 404 renders the error
  page; JSON clients keep FastAPI's JSON errors.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from correction_server.web.rendering import render, request_language, wants_html
from massicot_core.errors import Refused
from massicot_core.words import translate


def install(app: FastAPI) -> None:
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(StarletteHTTPException, _browser_errors)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    lang = request_language(request)
    if wants_html(request):
        return render(request, "error.html", {"message": exc.words(lang)}, status_code=exc.status)
    return JSONResponse(exc.answer(lang), status_code=exc.status)


async def _browser_errors(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not wants_html(request) or exc.status_code not in (401, 403, 404):
        return await http_exception_handler(request, exc)
    if exc.status_code == 401:
        if request.method == "GET":
            return login_redirect(request)
        return await http_exception_handler(request, exc)
    lang = request_language(request)
    key = "error.forbidden" if exc.status_code == 403 else "error.not_found"
    message = exc.detail if exc.status_code == 403 and "form" in str(exc.detail) else translate(lang, key)
    return render(request, "error.html", {"message": message}, status_code=exc.status_code)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
