"""Authorisation: who may reach which route and which object. Checked on the server, every time.

How to protect a route (browser page or JSON endpoint)::

    from correction_server.access import db_session, require_role, ensure_copy_visible
    from correction_server.models.accounts import Role, User

    @router.get("/copies/{copy_id}")
    def copy_view(copy_id: str,
                  user: User = Depends(require_role(Role.CORRECTOR, Role.COORDINATOR)),
                  session: Session = Depends(db_session)):
        ensure_copy_visible(session, user, copy_id)      # 404 unless his lot / his paper
        ...

- `db_session`: one SQLAlchemy Session per request; the route commits what it wants kept
  (`session.commit()` before returning: an acknowledged save must be durable).
- `current_user`: the logged-in `User`, else 401 (HTML pages turn a 401 into a redirect to
  /login, see `correction_server.web`). For POST/PUT/PATCH/DELETE it also checks the CSRF token
  (form field `csrf_token` or header `X-CSRF-Token`) and answers 403 when it is missing or wrong.
  An account whose password the office reset reaches only /account/password (and /logout) until
  it has chosen its own: pages redirect there, other requests get a 403 saying so.
- `require_role(*roles)`: `current_user` + the role must be one of `roles`, else 403.
- Ownership: `corrector_can_see_copy`, `can_see_copy`, `can_see_lot`, `can_see_paper`,
  `can_see_identity` return booleans; the `ensure_*` versions raise 404 (not 403: a corrector
  must not learn that a copy id exists outside his lots).

The rules (DOMAIN.md, rules 1–2):
- office: everything, and is the only role that reads IdentityLink / Candidate.
- corrector: only copies in his own correction lots (not withdrawn), and his own lots.
- coordinator: the papers he is assigned to (CorrectorPaper), their copies, lots and
  correctors; never a candidate's identity.
- centre: its own centre's scan lots (pushes); no copy content in the marking views.

Every new route must also get a line in tests/auth/test_matrix.py, or that test fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from fastapi import Depends, HTTPException, Request
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from correction_server.auth import sessions as auth
from correction_server.models.accounts import CorrectorPaper, Role, User
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from correction_server.models.scans import Copy

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The one answer for "not yours" and "does not exist" alike (tests/auth/test_matrix.py relies on it).
NOT_YOURS = "Not found, or not yours."


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
    session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


def read_only(session: Session) -> Session:
    """For a request that only reads: no transaction around its queries.

    Call before the session's first query. In READ COMMITTED every statement sees its own
    snapshot anyway, so a transaction adds nothing to a read but two round trips to the
    database (BEGIN, then ROLLBACK when the session closes).
    """
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session


async def submitted_csrf_token(request: Request) -> str | None:
    """The CSRF token sent with a state-changing request: header first, else the form field.

    Async (reading a form body is); kept apart from `current_user` so that the database
    lookup runs in the thread pool and never blocks the event loop.
    """
    if request.method not in UNSAFE_METHODS:
        return None
    given = request.headers.get(auth.CSRF_HEADER)
    if given is None and _is_form(request):
        value = (await request.form()).get(auth.CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return given


async def current_user(
    request: Request,
    session: Session = Depends(db_session),
    csrf_given: str | None = Depends(submitted_csrf_token),
) -> User:
    """The logged-in user (401 if none) — and the CSRF check for state-changing requests.

    A login read in the last few seconds is taken from the process's cache
    (`auth.known_logins`); otherwise it is read in a worker thread through a short session of
    its own (one indexed query). The user is then attached to the request's session without a
    query (`merge(load=False)`).
    """
    cookie = request.cookies.get(auth.SESSION_COOKIE)
    # Keyed by database too: several applications may share a process (tests do).
    key = (request.app.state.settings.database_url, cookie)
    known = auth.known_logins.get(key) if cookie else None
    if known is None and cookie:
        known = await run_in_threadpool(_read_login, request, key)
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
        raise _password_change_first(request)
    return user


# What an account whose password the office reset may reach before choosing its own.
PASSWORD_CHANGE_PAGE = "/account/password"
PASSWORD_CHANGE_PATHS = frozenset({PASSWORD_CHANGE_PAGE, "/logout"})


def _password_change_first(request: Request) -> HTTPException:
    if request.method == "GET" and not request.url.path.startswith("/api/"):
        # A browser page: straight to the form (a 303 with a Location is followed like a redirect).
        return HTTPException(status_code=303, headers={"Location": PASSWORD_CHANGE_PAGE})
    return HTTPException(
        status_code=403,
        detail=f"Choose your own password first, at {PASSWORD_CHANGE_PAGE}: the one you logged in with "
        "was given for one use only.",
    )


def _read_login(request: Request, key: tuple[str, str]) -> auth.KnownLogin | None:
    session_id = auth.session_id_from_cookie(key[1], request.app.state.settings.secret_key)
    if session_id is None:
        return None
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        read_only(session)
        found = auth.load_session(session, session_id)
    return None if found is None else auth.known_logins.put(key, *found)


async def optional_user(
    request: Request,
    session: Session = Depends(db_session),
    csrf_given: str | None = Depends(submitted_csrf_token),
) -> User | None:
    """The logged-in user or None, for pages anyone may see (login page, language switch)."""
    try:
        return await current_user(request, session, csrf_given)
    except HTTPException:
        return None


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def require_role(*roles: Role) -> Callable[..., User]:
    """Dependency: the logged-in user, who must have one of `roles` (403 otherwise)."""
    allowed = frozenset(roles)

    async def dependency(user: User = Depends(current_user)) -> User:
        if user.role not in allowed:
            raise HTTPException(status_code=403, detail="Your account may not open this page.")
        return user

    dependency.__name__ = "require_" + "_or_".join(r.value for r in roles)
    return dependency


# --- ownership -------------------------------------------------------------------------------


def papers_of(session: Session, user: User) -> set[int]:
    """Papers a corrector or coordinator is assigned to."""
    return set(session.scalars(select(CorrectorPaper.paper_id).where(CorrectorPaper.user_id == user.id)))


def corrector_can_see_copy(session: Session, user: User, copy_id: str) -> bool:
    """True only when the copy is in one of this corrector's lots (and not withdrawn from it)."""
    return bool(
        session.scalar(
            select(
                exists()
                .where(LotCopy.copy_id == copy_id)
                .where(LotCopy.state == AssignmentState.ASSIGNED)
                .where(LotCopy.lot_id == CorrectionLot.id)
                .where(CorrectionLot.corrector_id == user.id)
            )
        )
    )


def coordinator_can_see_paper(session: Session, user: User, paper_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(CorrectorPaper.user_id == user.id).where(CorrectorPaper.paper_id == paper_id)
            )
        )
    )


def can_see_copy(session: Session, user: User, copy_id: str) -> bool:
    """May `user` open this copy's (anonymised) pages and marks?"""
    if user.role == Role.OFFICE:
        return session.get(Copy, copy_id) is not None
    if user.role == Role.CORRECTOR:
        return corrector_can_see_copy(session, user, copy_id)
    if user.role == Role.COORDINATOR:
        paper_id = session.scalar(select(Copy.paper_id).where(Copy.id == copy_id))
        return paper_id is not None and coordinator_can_see_paper(session, user, paper_id)
    return False


def can_see_lot(session: Session, user: User, lot_id: int) -> bool:
    lot = session.get(CorrectionLot, lot_id)
    if lot is None:
        return False
    if user.role == Role.OFFICE:
        return True
    if user.role == Role.CORRECTOR:
        return lot.corrector_id == user.id
    if user.role == Role.COORDINATOR:
        return coordinator_can_see_paper(session, user, lot.paper_id)
    return False


def can_see_paper(session: Session, user: User, paper_id: int) -> bool:
    """Correctors and coordinators see the papers they are assigned to; the office all."""
    if user.role == Role.OFFICE:
        return True
    if user.role in (Role.CORRECTOR, Role.COORDINATOR):
        return coordinator_can_see_paper(session, user, paper_id)
    return False


def can_see_identity(user: User) -> bool:
    """Only the exam office reads IdentityLink / Candidate (the correspondence list)."""
    return user.role == Role.OFFICE


def _not_found() -> HTTPException:
    return HTTPException(status_code=404, detail=NOT_YOURS)


def ensure_copy_visible(session: Session, user: User, copy_id: str) -> None:
    if not can_see_copy(session, user, copy_id):
        raise _not_found()


def ensure_lot_visible(session: Session, user: User, lot_id: int) -> None:
    if not can_see_lot(session, user, lot_id):
        raise _not_found()


def ensure_paper_visible(session: Session, user: User, paper_id: int) -> None:
    if not can_see_paper(session, user, paper_id):
        raise _not_found()


def ensure_identity_visible(user: User) -> None:
    if not can_see_identity(user):
        raise HTTPException(status_code=403, detail="Only the exam office sees who wrote a copy.")
