"""What the harmonisation meeting changed on a corrector's own copies, for him to read on his home
and in the copy view: the mark before and after, and why (the national system changed marks
without telling the markers; a corrector who sees it trusts the tool). The changes themselves are
made by correction_server.coordination.harmonisation_rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.models import HarmonisationMeeting, HarmonisationRule, HarmonisedMark, Paper


@dataclass(frozen=True)
class ChangeSeen:
    """A change on one of his copies, as the corrector reads it."""

    copy_id: str
    paper: str
    before: Decimal
    after: Decimal
    reason: str
    held_on: date
    at: datetime


def changes_for_corrector(
    session: Session, corrector_id: int, copy_id: str | None = None
) -> list[ChangeSeen]:
    """What the harmonisation meeting changed on the copies he marked (one copy, or all)."""
    query = (
        select(HarmonisedMark, HarmonisationRule.reason, HarmonisationMeeting.held_on, Paper.code)
        .join(HarmonisationRule, HarmonisationRule.id == HarmonisedMark.rule_id)
        .join(HarmonisationMeeting, HarmonisationMeeting.id == HarmonisationRule.meeting_id)
        .join(Paper, Paper.id == HarmonisedMark.paper_id)
        .where(HarmonisedMark.corrector_id == corrector_id)
        .order_by(HarmonisedMark.id)
    )
    if copy_id is not None:
        query = query.where(HarmonisedMark.copy_id == copy_id)
    return [
        ChangeSeen(h.copy_id, code, h.before, h.after, reason, held_on, h.at)
        for h, reason, held_on, code in session.execute(query)
    ]
