"""Authorisation: who may reach which route and which object. Checked on the server, every time.

How to protect a route (browser page or JSON endpoint): the route takes its user from
`correction_server.deps` (`CurrentUser`, or a role guard such as `StaffUser`), then checks
the object it names::

    @router.get("/copies/{copy_id}")
    def copy_view(copy_id: str, user: StaffUser, session: Db):
        ensure_copy_visible(session, user, copy_id)      # 404 unless his lot / his paper
        ...

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

from fastapi import HTTPException, Request
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from correction_server.models.accounts import CorrectorPaper, Role, User
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from correction_server.models.scans import Copy

# The one answer for "not yours" and "does not exist" alike (tests/auth/test_matrix.py relies on it).
NOT_YOURS = "Not found, or not yours."


# What an account whose password the office reset may reach before choosing its own.
PASSWORD_CHANGE_PAGE = "/account/password"
PASSWORD_CHANGE_PATHS = frozenset({PASSWORD_CHANGE_PAGE, "/logout"})


def password_change_first(request: Request) -> HTTPException:
    if request.method == "GET" and not request.url.path.startswith("/api/"):
        # A browser page: straight to the form (a 303 with a Location is followed like a redirect).
        return HTTPException(status_code=303, headers={"Location": PASSWORD_CHANGE_PAGE})
    return HTTPException(
        status_code=403,
        detail=f"Choose your own password first, at {PASSWORD_CHANGE_PAGE}: the one you logged in with "
        "was given for one use only.",
    )


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
