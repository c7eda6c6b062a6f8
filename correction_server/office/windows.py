"""A paper's dates the office sets in the console: the correction window (editable until it
opens; marks outside it are refused by `marking.rules`) and the centres' scan deadline. Both are
typed in the session's time zone (`web.clock`) and kept in UTC; each change is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.audit.actors import Actor
from correction_server.models import Paper
from correction_server.web import clock
from massicot_core.errors import Refused

WINDOW_SET = "paper.window"
DEADLINE_SET = "paper.scan_deadline"


def _moment(text: str, field: str) -> datetime | None:
    try:
        return clock.parse_local(text)
    except ValueError:
        raise Refused(400, "office.err.bad_moment", field=field, text=text) from None


def window_editable(paper: Paper, now: datetime) -> bool:
    """Until the window opens (or while it has no opening date)."""
    return paper.window_opens is None or now < paper.window_opens


def set_window(
    session: Session, paper: Paper, opens: str, closes: str, now: datetime, actor: Actor, by_name: str
) -> None:
    """The correction window of a paper, typed in the session's zone. Caller commits."""
    if not window_editable(paper, now):
        raise Refused(
            409, "office.err.window_open", paper=paper.code, since=clock.local_text(paper.window_opens)
        )
    start, end = _moment(opens, "opens"), _moment(closes, "closes")
    if start is None or end is None:
        raise Refused(400, "office.err.window_both")
    if end <= start:
        raise Refused(400, "office.err.window_order")
    if start <= now:
        raise Refused(400, "office.err.window_past", when=clock.local_text(start))
    before = (paper.window_opens, paper.window_closes)
    paper.window_opens, paper.window_closes = start, end
    audit.record(
        session,
        actor,
        WINDOW_SET,
        "paper",
        paper.id,
        {
            "paper": paper.code,
            "opens": start.isoformat(),
            "closes": end.isoformat(),
            "was": [m.isoformat() if m else None for m in before],
            "by": by_name,
        },
    )


def set_scan_deadline(session: Session, paper: Paper, deadline: str, actor: Actor, by_name: str) -> None:
    """The date by which the centres push the paper's lots ('' : none). Caller commits."""
    moment = _moment(deadline, "deadline")
    paper.scan_deadline = moment
    audit.record(
        session,
        actor,
        DEADLINE_SET,
        "paper",
        paper.id,
        {"paper": paper.code, "deadline": moment.isoformat() if moment else None, "by": by_name},
    )
