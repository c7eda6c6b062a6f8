"""What the harmonisation meeting changes: one copy's mark, or a rule over a set of copies
(every copy of one corrector, or of the paper) such as "+1 point, capped at 20, in half points".

A change is first previewed — which copies move, and the distributions before and after with the
same statistics and charts as the harmonisation page (coordination.statistics, coordination.plots)
— then applied in one transaction: the rule, every mark it changed (before and after, kept beside
the corrector's, never over it) and one audit entry per changed mark naming the rule. Each
corrector sees on his own copies what was changed and why (`changes_for_corrector`).

The marks worked on are out of 20: the standing mark before the jury (the meeting's own latest
change, else the coordinator's decision, else the corrector's). AB and 00 copies never move.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.coordination import plots, statistics
from correction_server.coordination.harmonisation_meeting import HarmonisationRefused, ensure_harmonised
from correction_server.coordination.people import display_name
from correction_server.marking.frozen import is_frozen
from correction_server.marking.harmonised import ChangeSeen, changes_for_corrector
from correction_server.marking.rules import MarkingRefused, parse_points
from correction_server.models import (
    Copy,
    HarmonisationRule,
    HarmonisedMark,
    Marking,
    MarkingStatus,
    Paper,
    ReadingStatus,
    SecondReading,
    User,
)

__all__ = ["ChangeSeen", "RuleIn", "apply_rule", "changes_for_corrector", "preview"]

KINDS = ("corrector", "all", "copy")
TOP = Decimal(20)
PREVIEW_PERMUTATIONS = 2000  # the preview is a glance; the harmonisation page uses the full count


@dataclass(frozen=True)
class RuleIn:
    """A change as the meeting states it."""

    kind: str  # "corrector": every copy he marked; "all": every copy; "copy": one copy
    reason: str
    delta: str = ""  # points out of 20 added (may be negative), for "corrector" and "all"
    corrector_id: int | None = None
    copy_id: str = ""
    new_mark: str = ""  # the copy's new mark out of 20, for "copy"


@dataclass(frozen=True)
class Change:
    copy_id: str
    corrector_id: int
    before: Decimal
    after: Decimal


@dataclass
class Preview:
    paper_id: int
    code: str
    rule: RuleIn
    delta: Decimal | None
    new_mark: Decimal | None
    changes: list[Change]
    unchanged: int  # copies the rule covers whose mark does not move (already at the cap)
    before: statistics.Harmonisation
    after: statistics.Harmonisation
    names: dict[int, str] = field(default_factory=dict)
    before_marks: list[float] = field(default_factory=list)
    after_marks: list[float] = field(default_factory=list)

    def histogram_svg(self, label: str) -> str:
        """The marks after (outline) over the marks before (grey bars), per point."""
        return plots.histogram(self.after_marks, self.before_marks, label)

    def means_svg(self, title: str, desc: str) -> str:
        """Each corrector's average after the change, with the band of chance."""
        rows = [
            plots.MeanRow(
                self.names.get(t.corrector_id, "?"), t.n, t.mean, t.band_low, t.band_high, t.flagged
            )
            for t in self.after.tests
        ]
        return plots.means_chart(rows, self.after.pool_mean, title, desc)

    def corrector_means(self) -> list[tuple[str, int, float, float]]:
        """(name, copies, average before, average after) per corrector, by name."""
        after = {t.corrector_id: t for t in self.after.tests}
        rows = [
            (self.names.get(t.corrector_id, "?"), t.n, t.mean, after[t.corrector_id].mean)
            for t in self.before.tests
        ]
        return sorted(rows, key=lambda r: r[0].lower())


def standing_marks(session: Session, paper_id: int) -> dict[str, tuple[int, Decimal]]:
    """copy id -> (who marked it, its standing mark out of 20), for copies with a real mark."""
    out: dict[str, tuple[int, Decimal]] = {}
    for copy_id, corrector_id, mark in session.execute(
        select(Marking.copy_id, Marking.corrector_id, Marking.mark_20)
        .join(Copy, Copy.id == Marking.copy_id)
        .where(
            Copy.paper_id == paper_id,
            Marking.status == MarkingStatus.MARKED,
            Marking.special.is_(None),
            Marking.mark_20.is_not(None),
        )
        .order_by(Marking.copy_id)
    ):
        out[copy_id] = (corrector_id, mark)
    for copy_id, decided in session.execute(
        select(SecondReading.copy_id, SecondReading.decided_mark_20)
        .where(SecondReading.paper_id == paper_id, SecondReading.status == ReadingStatus.DECIDED)
        .order_by(SecondReading.decided_at)
    ):
        if copy_id in out and decided is not None:
            out[copy_id] = (out[copy_id][0], decided)
    for copy_id, after in session.execute(
        select(HarmonisedMark.copy_id, HarmonisedMark.after)
        .where(HarmonisedMark.paper_id == paper_id)
        .order_by(HarmonisedMark.id)
    ):
        if copy_id in out:
            out[copy_id] = (out[copy_id][0], after)
    return out


def _half_points(text: str, *, signed: bool) -> Decimal:
    try:
        value = parse_points(text or "")
    except MarkingRefused:
        raise HarmonisationRefused("not_points", typed=text) from None
    if (value * 2) % 1 != 0 or abs(value) > TOP or (not signed and value < 0):
        raise HarmonisationRefused("not_points", typed=text)
    return value.quantize(Decimal("0.01"))


def _capped(value: Decimal) -> Decimal:
    return min(TOP, max(Decimal(0), value)).quantize(Decimal("0.01"))


def preview(
    session: Session, paper_id: int, rule: RuleIn, permutations: int = PREVIEW_PERMUTATIONS
) -> Preview:
    """What the rule would change, and the distributions before and after; nothing is written."""
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise HarmonisationRefused("no_paper")
    if rule.kind not in KINDS:
        raise HarmonisationRefused("kind")
    marks = standing_marks(session, paper_id)
    delta = new_mark = None
    if rule.kind == "copy":
        copy_id = (rule.copy_id or "").strip().upper()
        if copy_id not in marks:
            raise HarmonisationRefused("copy_not_marked", copy=rule.copy_id)
        new_mark = _half_points(rule.new_mark, signed=False)
        covered = [copy_id]
    else:
        delta = _half_points(rule.delta, signed=True)
        if delta == 0:
            raise HarmonisationRefused("zero")
        if rule.kind == "corrector":
            covered = [c for c, (who, _m) in marks.items() if who == rule.corrector_id]
            if not covered:
                raise HarmonisationRefused("corrector_has_none")
        else:
            covered = list(marks)
    changes = []
    for copy_id in covered:
        who, before = marks[copy_id]
        after = new_mark if new_mark is not None else _capped(before + delta)
        if after != before:
            changes.append(Change(copy_id, who, before, after))
    after_marks = dict(marks)
    for c in changes:
        after_marks[c.copy_id] = (c.corrector_id, c.after)
    ids = {who for who, _m in marks.values()}
    names = {u.id: display_name(u) for u in session.scalars(select(User).where(User.id.in_(ids or {-1})))}
    return Preview(
        paper_id=paper_id,
        code=paper.code,
        rule=rule,
        delta=delta,
        new_mark=new_mark,
        changes=changes,
        unchanged=len(covered) - len(changes),
        before=_compare(marks, permutations, paper_id),
        after=_compare(after_marks, permutations, paper_id),
        names=names,
        before_marks=[float(m) for _w, m in marks.values()],
        after_marks=[float(m) for _w, m in after_marks.values()],
    )


def _compare(marks: dict[str, tuple[int, Decimal]], permutations: int, seed: int) -> statistics.Harmonisation:
    grouped: dict[int, list[float]] = defaultdict(list)
    for who, mark in marks.values():
        grouped[who].append(float(mark))
    return statistics.compare_correctors(dict(grouped), permutations=permutations, seed=seed)


def apply_rule(
    session: Session, paper_id: int, rule: RuleIn, actor: audit.Actor, by_name: str
) -> HarmonisationRule:
    """Apply the change as previewed, in the caller's transaction (the caller commits once)."""
    meeting = ensure_harmonised(session, paper_id)
    if is_frozen(session, paper_id):
        raise HarmonisationRefused("frozen", paper=session.get(Paper, paper_id).code)
    reason = (rule.reason or "").strip()
    if not reason:
        raise HarmonisationRefused("reason")
    seen = preview(session, paper_id, rule, permutations=0)
    if not seen.changes:
        raise HarmonisationRefused("nothing_changes")
    now = datetime.now(UTC)
    row = HarmonisationRule(
        meeting_id=meeting.id,
        paper_id=paper_id,
        kind=rule.kind,
        copy_id=seen.changes[0].copy_id if rule.kind == "copy" else None,
        corrector_id=rule.corrector_id if rule.kind == "corrector" else None,
        delta=seen.delta,
        set_mark=seen.new_mark,
        reason=reason,
        changed=len(seen.changes),
        by_id=actor.user_id,
        by_name=(by_name or "").strip() or "exam office",
        at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "coordination.harmonisation_rule",
        "paper",
        paper_id,
        {
            "rule": row.id,
            "meeting": meeting.id,
            "kind": row.kind,
            "corrector_id": row.corrector_id,
            "copy": row.copy_id,
            "delta": row.delta,
            "new_mark": row.set_mark,
            "reason": reason,
            "changed": row.changed,
            "by": row.by_name,
        },
    )
    for c in seen.changes:
        session.add(
            HarmonisedMark(
                rule_id=row.id,
                copy_id=c.copy_id,
                paper_id=paper_id,
                corrector_id=c.corrector_id,
                before=c.before,
                after=c.after,
                at=now,
            )
        )
        audit.record(
            session,
            actor,
            "coordination.harmonised_mark",
            "copy",
            c.copy_id,
            {"rule": row.id, "before": c.before, "after": c.after, "reason": reason},
        )
    session.flush()
    return row
