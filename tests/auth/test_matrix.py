"""The authorisation matrix: every route × every role × own/other object → allowed or denied.

HOW TO ADD A ROUTE (the test `test_every_route_is_in_the_table` fails until you do):
  add one line to ROUTES below, keyed by (METHOD, path exactly as declared in the router):

      ("GET", "/marking/copies/{copy_id}"): expect(corrector=OWN, coordinator=OWN, office=ALLOW),

  - roles not named are DENY; `PUBLIC` = every role, anonymous included, ALLOW;
  - OWN = allowed on the role's own object, denied on another's (e.g. a corrector's own lot);
  - path parameters are filled from testkit.worlds.auth.World.objects[role][param_name] = (own, other):
    copy_id, lot_id, paper_id, page_id, comment_id, seal, sha256, code, token, copy_token,
    position, request_id. A new kind of
    parameter needs a line there (the test says so);
  - `body=` gives a JSON body (callable world → dict) when the route needs one to get past
    validation; without it an allowed cell may answer 422, which still counts as allowed.

What counts as DENIED: 401, 403, a redirect to /login?next=..., or a 404 with the detail of
correction_server.auth.access (`access.NOT_YOURS`) or the marking API's `{"error": "not_found"}`:
ownership checks must use `access.ensure_*` (or that refusal), so that a corrector cannot tell
"not yours" from "does not exist" — and this test can tell it from a plain 404.
Anything else below 500 is ALLOWED (the request got past authorisation). A 5xx fails the cell.

Requests are sent as a JavaScript client would (Accept: application/json, X-CSRF-Token),
so a denial is a status code, not a redirect to the login page. Each cell uses a fresh login
session (no password hashing: sessions are opened directly), so POST /logout in one cell
does not log out the next.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from correction_server.app import create_app
from correction_server.auth import access
from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.migrate import upgrade_database
from correction_server.settings import Settings
from testkit.worlds.auth import ROLES, SECRET, World, build_world, login_cookie, make_client

ALLOW, DENY, OWN = "allow", "deny", "own"


@dataclass(frozen=True)
class Expect:
    rules: dict[str, str]
    body: Callable[[World], dict] | None = None


def expect(body: Callable[[World], dict] | None = None, **rules: str) -> Expect:
    unknown = set(rules) - set(ROLES)
    assert not unknown, f"unknown role(s) {unknown} in the matrix table"
    return Expect({role: rules.get(role, DENY) for role in ROLES}, body)


PUBLIC = expect(**{role: ALLOW for role in ROLES})
LOGGED_IN = expect(**{role: ALLOW for role in ROLES if role != "anonymous"})
STAFF = dict(office=ALLOW, corrector=OWN, coordinator=OWN)

ROUTES: dict[tuple[str, str], Expect] = {
    # The API description (web/docs.py): for the office (MASSICOT_PUBLIC_API_DOCS opens it);
    # Swagger UI's own files are code, never data.
    ("GET", "/openapi.json"): expect(office=ALLOW),
    ("GET", "/docs"): expect(office=ALLOW),
    ("MOUNT", "/static/api-docs"): PUBLIC,
    ("MOUNT", "/static"): PUBLIC,
    # The web shell.
    ("GET", "/"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): LOGGED_IN,
    ("GET", "/lang/{code}"): PUBLIC,
    ("GET", "/password/{token}"): PUBLIC,
    ("POST", "/password/{token}"): PUBLIC,
    ("GET", "/home"): LOGGED_IN,
    # The server's health, for nginx and the operators' probes: no login, nothing secret in it.
    ("GET", "/health"): PUBLIC,
    # One's own password: every logged-in role (without a body, the change is refused with a 400).
    ("GET", "/account/password"): LOGGED_IN,
    ("POST", "/account/password"): LOGGED_IN,
    # Correction lots and their slips.
    ("GET", "/lots/{lot_id}"): expect(**STAFF),
    ("GET", "/lots/{lot_id}/slip"): expect(**STAFF),
    ("GET", "/lots/{lot_id}/slip.csv"): expect(**STAFF),
    ("GET", "/lots/{lot_id}/slip.pdf"): expect(**STAFF),
    # Dispatch: the office only.
    ("GET", "/office/dispatch"): expect(office=ALLOW),
    ("POST", "/office/dispatch/{paper_id}"): expect(office=ALLOW),
    # Marking (correctors mark their own lots; coordinators and the office read).
    ("GET", "/marking"): expect(corrector=ALLOW),
    ("GET", "/marking/copies/{copy_id}"): expect(**STAFF),
    ("GET", "/marking/pages/{page_id}/image"): expect(**STAFF),
    ("GET", "/api/marking/copies/{copy_id}"): expect(**STAFF),
    ("PUT", "/api/marking/copies/{copy_id}"): expect(corrector=OWN, body=lambda w: {"version": 0}),
    ("GET", "/api/marking/papers/{paper_id}/comments"): expect(corrector=OWN, coordinator=OWN),
    ("POST", "/api/marking/papers/{paper_id}/comments"): expect(
        corrector=OWN, coordinator=OWN, body=lambda w: {"text": "Bien argumenté."}
    ),
    ("PUT", "/api/marking/comments/{comment_id}"): expect(
        corrector=OWN, coordinator=OWN, body=lambda w: {"text": "Bien argumenté, mais incomplet."}
    ),
    ("DELETE", "/api/marking/comments/{comment_id}"): expect(corrector=OWN, coordinator=OWN),
    # A corrector flags a copy of his own lots; the paper's subject and corrigé: its correctors and
    # coordinators, and the office (none is uploaded in this world: an allowed reader is told so).
    ("POST", "/marking/copies/{copy_id}/flag"): expect(corrector=OWN),
    ("GET", "/marking/papers/{paper_id}/documents/{kind}"): expect(
        office=ALLOW, corrector=OWN, coordinator=OWN
    ),
    # The office's pages for the marking rules: documents, flags, incompatibilities.
    ("GET", "/office/papers/{paper_id}/documents"): expect(office=ALLOW),
    ("POST", "/office/papers/{paper_id}/documents"): expect(office=ALLOW),
    ("GET", "/office/flags"): expect(office=ALLOW),
    ("POST", "/office/flags/{flag_id}"): expect(office=ALLOW),
    ("GET", "/office/incompatibilities"): expect(office=ALLOW),
    ("POST", "/office/incompatibilities"): expect(office=ALLOW),
    ("POST", "/office/incompatibilities/teaches"): expect(office=ALLOW),
    # Coordination: the coordinator of the paper (and the office); the second reader his readings.
    ("GET", "/coordination"): expect(office=ALLOW, coordinator=ALLOW),
    ("GET", "/coordination/papers/{paper_id}"): expect(office=ALLOW, coordinator=OWN),
    ("GET", "/coordination/papers/{paper_id}/progress"): expect(office=ALLOW, coordinator=OWN),
    ("POST", "/coordination/papers/{paper_id}/reassign"): expect(office=ALLOW, coordinator=OWN),
    ("POST", "/coordination/papers/{paper_id}/second-readings"): expect(office=ALLOW, coordinator=OWN),
    ("POST", "/coordination/papers/{paper_id}/decide"): expect(office=ALLOW, coordinator=OWN),
    # The standardisation meeting's outcome: the barème's lock and the paper's shared comment bank.
    ("GET", "/coordination/papers/{paper_id}/scheme/lock"): expect(office=ALLOW, coordinator=OWN),
    ("POST", "/coordination/papers/{paper_id}/scheme/lock"): expect(office=ALLOW, coordinator=OWN),
    ("GET", "/coordination/papers/{paper_id}/comments"): expect(office=ALLOW, coordinator=OWN),
    ("POST", "/coordination/papers/{paper_id}/comments"): expect(office=ALLOW, coordinator=OWN),
    ("POST", "/coordination/papers/{paper_id}/comments/{comment_id}"): expect(office=ALLOW, coordinator=OWN),
    ("POST", "/coordination/papers/{paper_id}/comments/{comment_id}/retire"): expect(
        office=ALLOW, coordinator=OWN
    ),
    # The harmonisation meeting after marking, its mark changes, the coordinator's confirmation.
    ("GET", "/coordination/papers/{paper_id}/harmonisation"): expect(office=ALLOW, coordinator=OWN),
    ("POST", "/coordination/papers/{paper_id}/harmonisation/meeting"): expect(office=ALLOW, coordinator=OWN),
    ("POST", "/coordination/papers/{paper_id}/harmonisation/apply"): expect(office=ALLOW, coordinator=OWN),
    ("POST", "/coordination/papers/{paper_id}/confirm-work"): expect(office=ALLOW, coordinator=OWN),
    ("GET", "/second-readings"): expect(corrector=ALLOW),
    ("GET", "/second-readings/{reading_id}"): expect(corrector=OWN),
    ("POST", "/second-readings/{reading_id}"): expect(corrector=OWN),
    ("GET", "/second-readings/{reading_id}/image"): expect(corrector=OWN),
    # Closing: identities, exports, holds, payment — the exam office only.
    ("GET", "/office/closing"): expect(office=ALLOW),
    ("GET", "/office/closing/papers/{paper_id}"): expect(office=ALLOW),
    ("GET", "/office/closing/papers/{paper_id}/export.csv"): expect(office=ALLOW),
    ("GET", "/office/closing/papers/{paper_id}/export.xlsx"): expect(office=ALLOW),
    ("GET", "/office/closing/papers/{paper_id}/consultation.pdf"): expect(office=ALLOW),
    ("POST", "/office/closing/papers/{paper_id}/missing"): expect(office=ALLOW),
    ("POST", "/office/closing/papers/{paper_id}/jury"): expect(office=ALLOW),
    ("POST", "/office/closing/papers/{paper_id}/publish"): expect(office=ALLOW),
    ("POST", "/office/holds"): expect(office=ALLOW),
    ("POST", "/office/holds/release"): expect(office=ALLOW),
    ("GET", "/office/payment.csv"): expect(office=ALLOW),
    # The candidate's space: activation and login are public; the rest is the candidate's own
    # (another candidate's copy token answers like one that does not exist); the office's pages.
    ("GET", "/candidate/activate"): PUBLIC,
    ("POST", "/candidate/activate"): PUBLIC,
    ("GET", "/candidate/login"): PUBLIC,
    ("POST", "/candidate/login"): PUBLIC,
    ("GET", "/candidate"): expect(candidate=ALLOW),
    ("GET", "/candidate/copies/{copy_token}"): expect(candidate=OWN),
    ("GET", "/candidate/copies/{copy_token}/pages/{position}/image"): expect(candidate=OWN),
    ("GET", "/candidate/copies/{copy_token}/copy.pdf"): expect(candidate=OWN),
    ("POST", "/candidate/copies/{copy_token}/requests"): expect(candidate=OWN),
    ("GET", "/office/candidates"): expect(office=ALLOW),
    ("POST", "/office/candidates/letters"): expect(office=ALLOW),
    ("GET", "/office/candidates/requests/{request_id}"): expect(office=ALLOW),
    ("POST", "/office/candidates/requests/{request_id}"): expect(office=ALLOW),
    # The jury rules: anonymised export, justified absences, void, jury meetings, harmonisation
    # meeting, payment by level and the confirmation of the work — the exam office only.
    ("GET", "/office/closing/papers/{paper_id}/export-anonymised.csv"): expect(office=ALLOW),
    ("GET", "/office/closing/papers/{paper_id}/export-anonymised.xlsx"): expect(office=ALLOW),
    ("POST", "/office/closing/papers/{paper_id}/absence"): expect(office=ALLOW),
    ("GET", "/office/closing/papers/{paper_id}/replacement.csv"): expect(office=ALLOW),
    ("POST", "/office/closing/papers/{paper_id}/void"): expect(office=ALLOW),
    ("POST", "/office/closing/papers/{paper_id}/jury-meeting"): expect(office=ALLOW),
    ("POST", "/office/closing/papers/{paper_id}/harmonisation"): expect(office=ALLOW),
    ("POST", "/office/closing/papers/{paper_id}/pay-level"): expect(office=ALLOW),
    ("POST", "/office/closing/papers/{paper_id}/pay-rates"): expect(office=ALLOW),
    ("POST", "/office/closing/papers/{paper_id}/confirm-work"): expect(office=ALLOW),
    # The office console: the exam office only, every page and form (identities, tokens, accounts).
    ("GET", "/office"): expect(office=ALLOW),
    ("GET", "/office/settings"): expect(office=ALLOW),
    ("POST", "/office/settings"): expect(office=ALLOW),
    ("GET", "/office/imports"): expect(office=ALLOW),
    ("POST", "/office/imports/candidates"): expect(office=ALLOW),
    ("POST", "/office/imports/paper"): expect(office=ALLOW),
    ("POST", "/office/imports/paper-form"): expect(office=ALLOW),
    ("GET", "/office/actions"): expect(office=ALLOW),
    ("GET", "/office/actions/{action_id}"): expect(office=ALLOW),
    ("POST", "/office/actions/{action_id}/import"): expect(office=ALLOW),
    ("POST", "/office/actions/{action_id}/recheck"): expect(office=ALLOW),
    ("GET", "/office/once"): expect(office=ALLOW),
    ("GET", "/office/centres"): expect(office=ALLOW),
    ("GET", "/office/centres/{centre_id}"): expect(office=ALLOW),
    ("POST", "/office/centres/{centre_id}/contact"): expect(office=ALLOW),
    ("POST", "/office/centres/{centre_id}/token"): expect(office=ALLOW),
    ("GET", "/office/centres/{centre_id}/rolls/{paper_id}.csv"): expect(office=ALLOW),
    ("GET", "/office/people"): expect(office=ALLOW),
    ("POST", "/office/people/add"): expect(office=ALLOW),
    ("POST", "/office/people/import"): expect(office=ALLOW),
    ("POST", "/office/people/{user_id}/link"): expect(office=ALLOW),
    ("POST", "/office/people/{user_id}/reset"): expect(office=ALLOW),
    ("POST", "/office/people/{user_id}/active"): expect(office=ALLOW),
    ("GET", "/office/papers/{paper_id}"): expect(office=ALLOW),
    ("POST", "/office/papers/{paper_id}/window"): expect(office=ALLOW),
    ("POST", "/office/papers/{paper_id}/deadline"): expect(office=ALLOW),
    ("POST", "/office/papers/{paper_id}/lock"): expect(office=ALLOW),
    ("POST", "/office/papers/{paper_id}/dispatch"): expect(office=ALLOW),
    ("GET", "/office/housekeeping"): expect(office=ALLOW),
    ("POST", "/office/housekeeping/uploads"): expect(office=ALLOW),
    ("POST", "/office/housekeeping/retention"): expect(office=ALLOW),
    ("POST", "/office/housekeeping/audit"): expect(office=ALLOW),
    # Scan-station API: centre accounts only (bearer token). Which centre a lot belongs to is
    # decided by the ingest service from the announced manifest, and another centre's seal is
    # answered exactly like an unknown one ("unknown" / 404) on purpose: see tests of the ingest.
    ("POST", "/api/v1/lots"): expect(centre=ALLOW, body=lambda w: {"manifest": {}, "identity": ""}),
    ("GET", "/api/v1/lots/{seal}"): expect(centre=ALLOW),
    ("HEAD", "/api/v1/lots/{seal}/images/{sha256}"): expect(centre=ALLOW),
    ("PUT", "/api/v1/lots/{seal}/images/{sha256}"): expect(centre=ALLOW),
    ("POST", "/api/v1/lots/{seal}/commit"): expect(centre=ALLOW),
    # The rescan requests of the centre's own lots (the service filters by the token's centre).
    ("GET", "/api/v1/rescan-requests"): expect(centre=ALLOW),
    # The room report a centre sealed into its lot: it names candidates, the office only.
    ("GET", "/office/scan-lots/{seal}/room-report"): expect(office=ALLOW),
    ("GET", "/office/scan-lots/{seal}/room-report/{sha256}"): expect(office=ALLOW),
}


# --- discovery -------------------------------------------------------------------------------


def discover_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route of the app, included routers and mounts too."""
    found: set[tuple[str, str]] = set()

    def add(methods, path):
        methods = set(methods or ())
        if "GET" in methods:
            methods.discard("HEAD")  # the same handler
        for method in methods:
            found.add((method, path))

    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):  # FastAPI's included routers
            for ctx in route.effective_route_contexts():
                add(getattr(ctx.original_route, "methods", None), ctx.path)
        elif hasattr(route, "methods"):
            add(route.methods, route.path)
        else:  # a mount (static files)
            found.add(("MOUNT", route.path))
    return found


def _app_for_listing():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_app(Settings(database_url="sqlite://", store_path=Path("/nonexistent"), secret_key="x"))


def test_every_route_is_in_the_table() -> None:
    routes = discover_routes(_app_for_listing())
    missing = sorted(routes - set(ROUTES))
    stale = sorted(set(ROUTES) - routes)
    assert not missing, f"routes with no line in tests/auth/test_matrix.py ROUTES: {missing}"
    assert not stale, f"lines in ROUTES for routes that no longer exist: {stale}"


# --- the cells -------------------------------------------------------------------------------


def _params(path: str) -> list[str]:
    import re

    return re.findall(r"{(\w+)(?::\w+)?}", path)


def _cells():
    for (method, path), exp in ROUTES.items():
        for role in ROLES:
            if _params(path) or method == "MOUNT":
                sides = ("own", "other") if _params(path) else ("-",)
            else:
                sides = ("-",)
            for side in sides:
                rule = exp.rules[role]
                allowed = rule == ALLOW or (rule == OWN and side in ("own", "-"))
                yield pytest.param(method, path, role, side, allowed, id=f"{method} {path} {role} {side}")


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("matrix")
    url = f"sqlite:///{folder / 'matrix.sqlite3'}"
    upgrade_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    world = build_world(factory, SECRET)
    with make_client(url, folder / "store") as client:
        yield client, world, factory
    engine.dispose()


def _request(client, world: World, factory, method: str, path: str, role: str, side: str):
    client.cookies.clear()
    headers = {"accept": "application/json"}
    if role != "anonymous":
        account = world.accounts[role]
        cookie, csrf = login_cookie(factory, account.user_id, SECRET)
        client.cookies.set(auth.SESSION_COOKIE, cookie)
        headers[auth.CSRF_HEADER] = csrf
        if account.bearer:
            headers["authorization"] = f"Bearer {account.bearer}"
    url = path
    for name in _params(path):
        objects = world.objects[role]
        assert name in objects, (
            f"testkit.worlds.auth has no object for the path parameter {name!r}: add it to World.objects"
        )
        value = objects[name][0 if side in ("own", "-") else 1]
        url = url.replace("{" + name + "}", str(value))
    if method == "MOUNT":
        return client.get(path + "/massicot.css", headers=headers)
    body = ROUTES[(method, path)].body
    kwargs = {"json": body(world)} if body else {}
    return client.request(method, url, headers=headers, follow_redirects=False, **kwargs)


def _denied(response) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code == 404:
        try:
            body = response.json()
        except ValueError:
            return False
        # access.ensure_* (detail), or the marking API's refusal of a copy outside one's lots.
        return body.get("detail") == access.NOT_YOURS or body.get("error") == "not_found"
    # A page that needs a login sends the browser to /login?next=<itself>.
    location = response.headers.get("location", "")
    return response.status_code in (302, 303, 307) and location.startswith("/login?next=")


@pytest.mark.parametrize(("method", "path", "role", "side", "allowed"), list(_cells()))
def test_cell(matrix, method: str, path: str, role: str, side: str, allowed: bool) -> None:
    client, world, factory = matrix
    response = _request(client, world, factory, method, path, role, side)
    assert response.status_code < 500, (
        f"{method} {path} as {role} ({side}): {response.status_code} {response.text[:300]}"
    )
    what = "allowed" if allowed else "denied"
    assert _denied(response) != allowed, (
        f"{method} {path} as {role} ({side}) should be {what}, "
        f"got {response.status_code} {response.text[:200]}"
    )
