"""Marks frozen by the jury's deliberation (fiche 6 §IV.4, fiche 10): once the jury has
deliberated on a paper, no mark of it changes until a reconvened jury meeting is recorded.

Read here (marking may not import closing) so that a corrector's save, a coordinator's decision
and the closing's changes all ask the same question; the meetings are recorded by
correction_server.closing.deliberation.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from correction_server.marking.rules import MarkingClosed
from correction_server.models import JuryMeeting, Paper

DELIBERATION = "deliberation"
RECONVENED = "reconvened"

# Built once with a bound parameter: it runs on every save.
_LAST_MEETING = (
    select(JuryMeeting.kind)
    .where(JuryMeeting.paper_id == bindparam("paper_id"))
    .order_by(JuryMeeting.id.desc())
    .limit(1)
)


def is_frozen(session: Session, paper_id: int) -> bool:
    """The last jury meeting recorded for the paper is a deliberation (not a reconvened jury)."""
    return session.scalar(_LAST_MEETING, {"paper_id": paper_id}) == DELIBERATION


class MarksFrozen(MarkingClosed):
    code = "frozen"


def ensure_not_frozen(session: Session, paper: Paper) -> None:
    if is_frozen(session, paper.id):
        raise MarksFrozen(
            f"The jury has deliberated on {paper.code}: its marks are final. A change needs the jury "
            "to meet again (the exam office records that meeting).",
            "frozen",
            paper=paper.code,
        )
