"""Browser pages (server-rendered Jinja2). `install(app)` mounts them on the application.

Errors on browser pages: a 401 on a GET page redirects to /login?next=..., a 403 or 404
renders the error page; JSON clients (paths under /api/, or requests that do not accept
text/html) keep FastAPI's JSON errors.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from correction_server import i18n
from correction_server.auth.login_limit import LoginRateLimiter
from correction_server.web.rendering import STATIC_DIR, render, request_language


def install(app: FastAPI) -> None:
    from correction_server.auth import web as account
    from correction_server.closing import web as closing
    from correction_server.coordination import standardisation_web as standardisation
    from correction_server.coordination import web as coordination
    from correction_server.dispatch import web as lots
    from correction_server.marking import web as marking
    from correction_server.office import web as office
    from correction_server.web import home as pages

    # Its counts are in the database; the object holds only the ceilings and the clock.
    app.state.login_limiter = LoginRateLimiter()
    # Routes are matched in order: the marking routes, most of a correction evening's requests,
    # first (their paths share no prefix with the others).
    marking.install(app)
    app.include_router(pages.router)
    app.include_router(account.router)
    app.include_router(lots.router)
    app.include_router(office.router)
    app.include_router(coordination.router)
    app.include_router(standardisation.router)
    app.include_router(closing.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def _browser_errors(request: Request, exc: StarletteHTTPException):
        if not _is_browser_page(request) or exc.status_code not in (401, 403, 404):
            return await http_exception_handler(request, exc)
        if exc.status_code == 401:
            if request.method == "GET":
                return pages.login_redirect(request)
            return await http_exception_handler(request, exc)
        lang = request_language(request)
        key = "error.forbidden" if exc.status_code == 403 else "error.not_found"
        message = (
            exc.detail if exc.status_code == 403 and "form" in str(exc.detail) else i18n.translate(lang, key)
        )
        return render(request, "error.html", {"message": message}, status_code=exc.status_code)


def _is_browser_page(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")
