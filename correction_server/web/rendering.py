"""Rendering the browser pages: Jinja2 templates from web/templates/, with language and CSRF.

Every page extends `base.html` (skip link, header with the language switch and logout,
`<main id="content">`). Use from a route::

    from correction_server.web.rendering import render
    return render(request, "marking/copy.html", {"copy": copy}, status_code=200)

The context always has: `t` (translate a key, see correction_server.i18n), `lang`,
`user` (or None), `csrf_token` (put it in every POST form as
`<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`; scripts read
`<meta name="csrf-token">` and send it as the `X-CSRF-Token` header).

Data a page hands its script travels as JSON inside `<script type="application/json">`, and
ALWAYS through `script_json` (the template filter `script_json`): whatever a user saved (a
comment holding `</script>` or `<!--<script>`), the HTML parser sees no tag, no comment, no
entity in it, because `<`, `>`, `&` (and the line separators JavaScript once refused) are
written as JSON escapes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from correction_server import i18n
from correction_server.web import clock

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

jinja = Jinja2Templates(directory=str(TEMPLATE_DIR))
# Templates ship with the code and change only with a new release (and a restart): no stat()
# of every template file at every page.
jinja.env.auto_reload = False
# Every moment a page shows goes through the session's clock: {{ moment|when }}.
clock.install_filters(jinja.env)

_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def script_json(value: object) -> Markup:
    """`value` as JSON that is inert inside a <script> element, whatever strings it holds."""
    text = json.dumps(value, ensure_ascii=False)
    for char, escape in _SCRIPT_ESCAPES.items():
        text = text.replace(char, escape)
    return Markup(text)


jinja.env.filters["script_json"] = script_json
jinja.env.filters["tojson"] = script_json  # one way to embed JSON, whichever name a template uses


def request_language(request: Request) -> str:
    return i18n.pick_language(
        request.cookies.get(i18n.LANGUAGE_COOKIE), request.headers.get("accept-language")
    )


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    lang = request_language(request)
    parts = getattr(request.app.state, "parts", None)
    if parts is not None:  # the session's time zone, read again every few seconds
        clock.refresh_zone(parts.session_factory, parts.settings.database_url)

    def t(key: str, **values: object) -> str:
        return i18n.translate(lang, key, **values)

    base = {
        "t": t,
        "lang": lang,
        "languages": i18n.LANGUAGE_NAMES,
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
    }
    base.update(context or {})
    return jinja.TemplateResponse(request, template, base, status_code=status_code)


def wants_html(request: Request) -> bool:
    """A browser page (not the JSON API): it gets pages, JSON clients keep JSON answers."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")
