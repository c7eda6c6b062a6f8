"""A corrector flags a copy for the office (fiche 4; fiche 2 annexe 3; DOMAIN rules 15 and 17).

Three kinds: an identifying sign outside the header, a page unreadable or missing, a page of
another copy. Flagging takes the copy out of the corrector's to-do (`Copy.flagged`): he keeps
marking the rest of his lot, and the copy comes back when the office has decided every flag on
it (`correction_server.office.flags`). What to do about it is never the corrector's choice:
he says what he saw, the office decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.audit.actors import actor_of
from correction_server.marking.reading import load_copy, not_yours
from correction_server.marking.rules import MarkingRefused, utcnow
from correction_server.models import Copy, CopyFlag, FlagKind, FlagState, Page, User

MAX_NOTE = 2000
OPEN_STATES = (FlagState.OPEN, FlagState.RESCAN)


@dataclass(frozen=True)
class FlagView:
    id: int
    kind: str
    page_number: int | None
    note: str
    state: str
    raised_at: datetime


def parse_kind(text: str) -> FlagKind:
    try:
        return FlagKind(text.strip())
    except ValueError:
        raise MarkingRefused(
            f"{text!r} is not a kind of flag: identifying_sign, unreadable_page or foreign_page.",
            "flag_kind",
            kind=text,
        ) from None


def raise_flag(
    session: Session,
    user: User,
    copy_id: str,
    kind: FlagKind,
    page_number: int | None,
    note: str,
    now: datetime | None = None,
) -> CopyFlag:
    """Record the corrector's flag, take the copy out of his to-do, audit it; commits."""
    found = load_copy(session, copy_id, user.id)
    if found is None:
        raise not_yours(copy_id)
    copy = found[0]
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise MarkingRefused(f"Say it in at most {MAX_NOTE} characters.", "flag_note_long", max=MAX_NOTE)
    numbers = set(session.scalars(select(Page.number).where(Page.copy_id == copy.id)))
    if page_number is None and kind != FlagKind.UNREADABLE_PAGE:
        raise MarkingRefused("Say which page of the copy it is.", "flag_page_needed")
    if page_number is not None and page_number not in numbers and kind != FlagKind.UNREADABLE_PAGE:
        raise MarkingRefused(
            f"Copy {copy.id} has no page {page_number}.", "flag_no_page", copy=copy.id, page=page_number
        )
    if page_number is not None and page_number < 1:
        raise MarkingRefused("A page number is 1 or more.", "flag_page_number")
    flag = CopyFlag(
        copy_id=copy.id,
        page_number=page_number,
        kind=kind,
        note=note,
        raised_by_id=user.id,
        raised_at=now or utcnow(),
        state=FlagState.OPEN,
    )
    session.add(flag)
    session.execute(update(Copy).where(Copy.id == copy.id).values(flagged=True))
    session.flush()
    audit.record(
        session,
        actor_of(user),
        "flag.raise",
        "copy",
        copy.id,
        {"flag": flag.id, "kind": kind.value, "page": page_number, "note": note},
    )
    session.commit()
    return flag


def open_flags_of(session: Session, copy_id: str) -> list[FlagView]:
    """The flags on a copy not decided yet (shown on the copy while it waits)."""
    rows = session.scalars(
        select(CopyFlag)
        .where(CopyFlag.copy_id == copy_id, CopyFlag.state.in_(OPEN_STATES))
        .order_by(CopyFlag.id)
    )
    return [FlagView(f.id, f.kind.value, f.page_number, f.note, f.state.value, f.raised_at) for f in rows]
