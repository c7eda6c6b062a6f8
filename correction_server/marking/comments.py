"""The comment bank: a corrector's own comments for a paper, plus those the coordinator shares.

The shared entries are the paper's common wording (settled at the standardisation meeting): any
coordinator of the paper, or the exam office, adds, rewords and retires them; correctors use
them but cannot change them.

Copies reference bank entries (CommentUse) instead of copying their text, so correcting a
typo in a comment corrects it on every copy where it was used. An entry already used is never
deleted, only retired from the bank: the copies keep showing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.audit.actors import actor_of
from correction_server.models import Comment, CommentUse, CorrectorPaper, Role, User
from massicot_core.errors import Refused

MAX_COMMENT = 600


class CommentRefused(Refused):
    """A comment-bank request the rules refuse, in plain words."""

    status = 422

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(None, f"marking.err.comment_{key}", **values)

    def answer(self, lang: str | None = None) -> dict[str, Any]:
        return {"error": "comment", "message": self.words(lang)}


class CommentForbidden(CommentRefused):
    status = 403


class CommentNotFound(CommentRefused):
    status = 404


@dataclass(frozen=True)
class BankEntry:
    id: int
    text: str
    shared: bool
    mine: bool
    retired: bool
    uses: int

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "text": self.text,
            "shared": self.shared,
            "mine": self.mine,
            "retired": self.retired,
            "uses": self.uses,
        }


def _visible(user_id: int, paper_id: int):
    return (Comment.paper_id == paper_id) & or_(Comment.owner_id == user_id, Comment.shared.is_(True))


def ensure_on_paper(session: Session, user: User, paper_id: int) -> None:
    on_paper = session.scalar(
        select(CorrectorPaper.id).where(
            CorrectorPaper.user_id == user.id, CorrectorPaper.paper_id == paper_id
        )
    )
    if on_paper is None:
        raise CommentForbidden("no_bank")


def may_share(session: Session, user: User, paper_id: int) -> bool:
    """The shared bank is the paper's wording: kept by its coordinators, or by the exam office."""
    if user.role == Role.OFFICE:
        return True
    if user.role != Role.COORDINATOR:
        return False
    return (
        session.scalar(
            select(CorrectorPaper.id).where(
                CorrectorPaper.user_id == user.id, CorrectorPaper.paper_id == paper_id
            )
        )
        is not None
    )


def ensure_may_share(session: Session, user: User, paper_id: int) -> None:
    if not may_share(session, user, paper_id):
        raise CommentForbidden("share_forbidden")


def shared_bank(session: Session, user: User, paper_id: int) -> list[BankEntry]:
    """Every shared entry of the paper, retired ones included, for those who keep the shared bank."""
    ensure_may_share(session, user, paper_id)
    uses = (
        select(CommentUse.comment_id, func.count().label("n"))
        .where(CommentUse.comment_id.in_(select(Comment.id).where(_shared_of(paper_id))))
        .group_by(CommentUse.comment_id)
        .subquery()
    )
    query = (
        select(Comment, func.coalesce(uses.c.n, 0))
        .outerjoin(uses, uses.c.comment_id == Comment.id)
        .where(_shared_of(paper_id))
        .order_by(Comment.retired, Comment.id)
    )
    return [
        BankEntry(c.id, c.text, True, c.owner_id == user.id, c.retired, n)
        for c, n in session.execute(query).all()
    ]


def count_shared(session: Session, paper_id: int) -> int:
    """Shared entries still offered to the correctors (retired ones are not)."""
    return session.scalar(select(func.count()).where(_shared_of(paper_id), Comment.retired.is_(False))) or 0


def ensure_shared_entry(session: Session, paper_id: int, comment_id: int) -> None:
    """The entry is a shared comment of this paper (a corrector's own entries are never reached here)."""
    found = session.scalar(select(Comment.id).where(Comment.id == comment_id, _shared_of(paper_id)))
    if found is None:
        raise CommentNotFound("no_shared", number=comment_id)


def _shared_of(paper_id: int):
    return (Comment.paper_id == paper_id) & Comment.shared.is_(True)


def bank(session: Session, user: User, paper_id: int, include_retired: bool = False) -> list[BankEntry]:
    """Shared entries first (the coordinator's wording), then the user's own, oldest first."""
    ensure_on_paper(session, user, paper_id)
    # Count uses of the visible entries only: never a scan of every use of every paper.
    uses = (
        select(CommentUse.comment_id, func.count().label("n"))
        .where(CommentUse.comment_id.in_(select(Comment.id).where(_visible(user.id, paper_id))))
        .group_by(CommentUse.comment_id)
        .subquery()
    )
    query = (
        select(Comment, func.coalesce(uses.c.n, 0))
        .outerjoin(uses, uses.c.comment_id == Comment.id)
        .where(_visible(user.id, paper_id))
        .order_by(Comment.shared.desc(), Comment.id)
    )
    if not include_retired:
        query = query.where(Comment.retired.is_(False))
    return [
        BankEntry(c.id, c.text, c.shared, c.owner_id == user.id, c.retired, n)
        for c, n in session.execute(query).all()
    ]


def texts(session: Session, user_id: int, paper_id: int) -> dict[int, str]:
    """Every entry the user may see for the paper, retired ones included (copies still show them)."""
    return dict(session.execute(select(Comment.id, Comment.text).where(_visible(user_id, paper_id))).all())


def usable_comment_ids(session: Session, user_id: int, paper_id: int, wanted: set[int]) -> set[int]:
    """Which of `wanted` the user may place on a copy of the paper (retired ones stay usable where used)."""
    return set(
        session.scalars(select(Comment.id).where(Comment.id.in_(wanted), _visible(user_id, paper_id))).all()
    )


def _clean(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise CommentRefused("empty")
    if len(text) > MAX_COMMENT:
        raise CommentRefused("too_long", maximum=MAX_COMMENT, length=len(text))
    return text


def add(session: Session, user: User, paper_id: int, text: str, shared: bool = False) -> BankEntry:
    if shared:
        ensure_may_share(session, user, paper_id)
    else:
        ensure_on_paper(session, user, paper_id)
    comment = Comment(
        paper_id=paper_id,
        owner_id=user.id,
        shared=shared,
        text=_clean(text),
        retired=False,
        updated_at=datetime.now(UTC),
    )
    session.add(comment)
    session.flush()
    _audit(session, user, "comment.add", comment, text=comment.text)
    return BankEntry(comment.id, comment.text, comment.shared, True, False, 0)


def _own(session: Session, user: User, comment_id: int) -> Comment:
    """An entry the user may change: his own, or a shared one of a paper whose shared bank he keeps."""
    comment = session.get(Comment, comment_id)
    if comment is not None and comment.shared and may_share(session, user, comment.paper_id):
        return comment
    if comment is None or comment.owner_id != user.id:
        raise CommentForbidden("not_author")
    return comment


def edit(session: Session, user: User, comment_id: int, text: str) -> BankEntry:
    """New wording for an entry: every copy that uses it shows the new wording."""
    comment = _own(session, user, comment_id)
    comment.text = _clean(text)
    comment.updated_at = datetime.now(UTC)
    session.flush()
    _audit(session, user, "comment.edit", comment, text=comment.text)
    return _entry(session, user, comment)


def retire(session: Session, user: User, comment_id: int) -> BankEntry | None:
    """Take an entry out of the bank: deleted if never used, else kept for the copies using it."""
    comment = _own(session, user, comment_id)
    used = session.scalar(select(func.count()).where(CommentUse.comment_id == comment.id))
    if not used:
        _audit(session, user, "comment.delete", comment, text=comment.text)
        session.delete(comment)
        session.flush()
        return None
    comment.retired = True
    comment.updated_at = datetime.now(UTC)
    session.flush()
    _audit(session, user, "comment.retire", comment, uses=used)
    return _entry(session, user, comment)


def _audit(session: Session, user: User, action: str, comment: Comment, **details: object) -> None:
    """Every change of the bank is traced in the transaction that makes it."""
    actor = actor_of(user)
    body = {"paper_id": comment.paper_id, "shared": comment.shared, **details}
    audit.record(session, actor, action, "comment", comment.id, body)


def _entry(session: Session, user: User, comment: Comment) -> BankEntry:
    used = session.scalar(select(func.count()).where(CommentUse.comment_id == comment.id)) or 0
    return BankEntry(
        comment.id, comment.text, comment.shared, comment.owner_id == user.id, comment.retired, used
    )
