"""What routes take from the server: one place for every FastAPI dependency.

`create_app` builds the process's parts once (`install`); a route names what it needs by
type and never looks in `app.state` itself::

    @router.get("/office/papers/{paper_id}")
    def paper_page(paper_id: int, user: OfficeUser, session: Db): ...

- `Db`: one SQLAlchemy Session per request; the route commits what it wants kept
  (`session.commit()` before returning: an acknowledged save must be durable).
- `CurrentUser`: the logged-in `User`, else 401 (HTML pages turn a 401 into a redirect to
  /login, see `correction_server.web`). For POST/PUT/PATCH/DELETE it also checks the CSRF token
  (form field `csrf_token` or header `X-CSRF-Token`) and answers 403 when it is missing or wrong.
  An account whose password the office reset reaches only /account/password (and /logout) until
  it has chosen its own: pages redirect there, other requests get a 403 saying so.
- Role guards (`OfficeUser`, `CorrectorUser`, `SupervisorUser`, `StaffUser`, `BankUser`, `CandidateUser`):
  `CurrentUser` whose role must be one of theirs, else 403.
- `Store`, `SettingsDep`, `Parts`: the page store, the settings, every part at once.
- `bounded_ids` runs before every route (`create_app` gives it to the application): a path id
  (`paper_id`, `page_id`, ...) beyond what a database integer holds answers 404, like any id
  that does not exist, instead of failing in the database.
- `DocsReader`: who may read /docs and /openapi.json (the office; anyone when
  `Settings.public_api_docs`).
Ownership (which copy, lot or paper) is decided by `correction_server.auth.access`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from correction_server.auth import sessions as auth
from correction_server.auth.access import PASSWORD_CHANGE_PATHS, password_change_first
from correction_server.auth.login_limit import LoginRateLimiter
from correction_server.auth.tokens import TokenCache
from correction_server.db import read_only
from correction_server.intake.ingest import IngestService
from correction_server.models.accounts import Role, User
from correction_server.pages.store import ObjectStore
from correction_server.settings import Settings

if TYPE_CHECKING:
    from correction_server.jobs.runner import Jobs

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The largest id a database integer column holds (BIGINT, and SQLite's INTEGER).
MAX_ID = 2**63 - 1


@dataclass
class ServerParts:
    """What one application holds for its whole life, built once by `create_app`."""

    settings: Settings
    session_factory: sessionmaker[Session]
    store: ObjectStore
    login_limiter: LoginRateLimiter
    # The push API's service and its cache of verified station tokens.
    ingest: IngestService
    token_cache: TokenCache
    # Where background jobs go (correction_server.jobs): started and stopped by the
    # application's lifespan; outside it, display images are made on first view.
    jobs: Jobs


def install(app: FastAPI, parts: ServerParts) -> None:
    app.state.parts = parts
    # Tests and the command line reach these by name.
    app.state.settings = parts.settings
    app.state.session_factory = parts.session_factory
    app.state.login_limiter = parts.login_limiter


def server_parts(request: Request) -> ServerParts:
    return request.app.state.parts


Parts = Annotated[ServerParts, Depends(server_parts)]


def settings(request: Request) -> Settings:
    return request.app.state.parts.settings


def store(request: Request) -> ObjectStore:
    return request.app.state.parts.store


def login_limiter(request: Request) -> LoginRateLimiter:
    return request.app.state.parts.login_limiter


def ingest(request: Request) -> IngestService:
    return request.app.state.parts.ingest


SettingsDep = Annotated[Settings, Depends(settings)]
Store = Annotated[ObjectStore, Depends(store)]
Limiter = Annotated[LoginRateLimiter, Depends(login_limiter)]
Ingest = Annotated[IngestService, Depends(ingest)]


async def db_session(request: Request) -> AsyncIterator[Session]:
    """One database session per request, closed afterwards (uncommitted work is rolled back).

    Sync routes run in worker threads, and FastAPI runs each sync dependency in a thread of its
    own. A request must never hold a database connection while it waits for a thread: with many
    requests in flight, threads waiting for a connection and connections waiting for a thread
    block each other until the pool times out. So this dependency is async (creating a Session
    connects nothing), `current_user` reads the login through a short session of its own, and
    the route's session connects in the route's thread; if the route left it open, it is closed
    here at once (hot routes close it themselves, in their thread).
    """
    session = request.app.state.parts.session_factory()
    try:
        yield session
    finally:
        session.close()


Db = Annotated[Session, Depends(db_session)]


async def bounded_ids(request: Request) -> None:
    """404 for a path id no row can have (above 2**63 - 1): the database would refuse to compare it."""
    for name, value in request.path_params.items():
        if (name == "id" or name.endswith("_id")) and isinstance(value, str):
            digits = value[1:] if value[:1] in "+-" else value
            if digits.isascii() and digits.isdigit() and (len(digits) > 19 or int(digits) > MAX_ID):
                raise HTTPException(status_code=404, detail="Not Found")


async def submitted_csrf_token(request: Request) -> str | None:
    """The CSRF token sent with a state-changing request: header first, else the form field.

    Async (reading a form body is); kept apart from `current_user` so that the database
    lookup runs in the thread pool and never blocks the event loop. The form is read only when
    the request carries a validly signed session cookie: without credentials nothing of the
    body is read (`current_user` answers 401 first).
    """
    if request.method not in UNSAFE_METHODS:
        return None
    secret = request.app.state.parts.settings.secret_key
    if auth.session_id_from_cookie(request.cookies.get(auth.SESSION_COOKIE), secret) is None:
        return None
    given = request.headers.get(auth.CSRF_HEADER)
    if given is None and _is_form(request):
        value = (await request.form()).get(auth.CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return given


async def current_user(
    request: Request,
    session: Db,
    csrf_given: Annotated[str | None, Depends(submitted_csrf_token)],
) -> User:
    """The logged-in user (401 if none) — and the CSRF check for state-changing requests.

    The login is read at every request, in a worker thread through a short session of its own
    (one indexed query): a logout or a password change made in another server process counts
    at once. The user is then attached to the request's session without a query
    (`merge(load=False)`).
    """
    parts: ServerParts = request.app.state.parts
    cookie = request.cookies.get(auth.SESSION_COOKIE)
    known = await run_in_threadpool(_read_login, parts, cookie) if cookie else None
    if known is None:
        raise HTTPException(status_code=401, detail="Please log in.")
    user = session.merge(known.user, load=False)
    request.state.user = user
    request.state.csrf_token = known.csrf_token
    request.state.login_session_id = known.login_id
    if request.method in UNSAFE_METHODS and not auth.tokens_match(known.csrf_token, csrf_given):
        raise HTTPException(
            status_code=403,
            detail="This form has expired or did not come from this site. Reload the page and try again.",
        )
    if user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise password_change_first(request)
    return user


def _read_login(parts: ServerParts, cookie: str) -> auth.KnownLogin | None:
    session_id = auth.session_id_from_cookie(cookie, parts.settings.secret_key)
    if session_id is None:
        return None
    with parts.session_factory() as session:
        read_only(session)
        found = auth.load_session(session, session_id)
    return None if found is None else auth.known_login(*found)


async def optional_user(
    request: Request,
    session: Db,
    csrf_given: Annotated[str | None, Depends(submitted_csrf_token)],
) -> User | None:
    """The logged-in user or None, for pages anyone may see (login page, language switch)."""
    try:
        return await current_user(request, session, csrf_given)
    except HTTPException:
        return None


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def require_role(*roles: Role) -> Callable[..., Any]:
    """Dependency: the logged-in user, who must have one of `roles` (403 otherwise)."""
    allowed = frozenset(roles)

    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in allowed:
            raise HTTPException(status_code=403, detail="Your account may not open this page.")
        return user

    dependency.__name__ = "require_" + "_or_".join(r.value for r in roles)
    return dependency


async def docs_reader(
    request: Request, session: Db, csrf_given: Annotated[str | None, Depends(submitted_csrf_token)]
) -> None:
    """The API description is for the office (and the stations' developers on a test installation)."""
    if request.app.state.parts.settings.public_api_docs:
        return
    user = await current_user(request, session, csrf_given)
    if user.role != Role.OFFICE:
        raise HTTPException(status_code=403, detail="Your account may not open this page.")


CurrentUser = Annotated[User, Depends(current_user)]
DocsReader = Depends(docs_reader)
OptionalUser = Annotated[User | None, Depends(optional_user)]
OfficeUser = Annotated[User, Depends(require_role(Role.OFFICE))]
CorrectorUser = Annotated[User, Depends(require_role(Role.CORRECTOR))]
# Who supervises a paper: its coordinators, and the office.
SupervisorUser = Annotated[User, Depends(require_role(Role.COORDINATOR, Role.OFFICE))]
# Who reads lots, copies and marks (each within his own, see auth.access).
StaffUser = Annotated[User, Depends(require_role(Role.CORRECTOR, Role.COORDINATOR, Role.OFFICE))]
# A candidate in his own space (correction_server.candidate_space); no other role reaches it.
CandidateUser = Annotated[User, Depends(require_role(Role.CANDIDATE))]
# Who keeps a comment bank.
BankUser = Annotated[User, Depends(require_role(Role.CORRECTOR, Role.COORDINATOR))]
