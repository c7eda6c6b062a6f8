"""Harmonisation: each corrector's marks against the pool's, and the flag in plain words.

The statistics (permutation test, Holm's correction) are correction_server.coordination.statistics;
this reads the marks they work on and says what they mean, in the reader's language.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.coordination import statistics
from correction_server.coordination.people import display_name
from correction_server.marking.reading import load_scheme
from correction_server.marking.rules import SchemeQuestion
from correction_server.models import Copy, Marking, MarkingStatus, Paper, QuestionMark, User
from massicot_core.words import command_line_language, translate


@dataclass
class CorrectorMarks:
    corrector_id: int
    name: str
    test: statistics.CorrectorTest
    question_means: dict[int, float]  # question id -> mean points
    marks: list[float]


@dataclass
class Distributions:
    paper_id: int
    code: str
    questions: list[SchemeQuestion]
    pool_question_means: dict[int, float]
    pool_marks: list[float]
    result: statistics.Harmonisation
    correctors: list[CorrectorMarks] = field(default_factory=list)

    @property
    def flagged(self) -> list[CorrectorMarks]:
        return [c for c in self.correctors if c.test.flagged]


def marks_by_corrector(session: Session, paper_id: int) -> dict[int, list[tuple[int, float]]]:
    """(marking id, mark out of 20) of every copy marked with a real mark, per corrector.

    AB and blank copies are left out: their mark says nothing about how a corrector marks.
    """
    rows = session.execute(
        select(Marking.corrector_id, Marking.id, Marking.mark_20)
        .join(Copy, Copy.id == Marking.copy_id)
        .where(
            Copy.paper_id == paper_id,
            Marking.status == MarkingStatus.MARKED,
            Marking.special.is_(None),
            Marking.mark_20.is_not(None),
        )
        .order_by(Marking.corrector_id, Marking.id)
    ).all()
    out: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for corrector_id, marking_id, mark_20 in rows:
        out[corrector_id].append((marking_id, float(mark_20)))
    return dict(out)


def distributions(
    session: Session, paper_id: int, permutations: int = statistics.PERMUTATIONS
) -> Distributions:
    paper = session.get(Paper, paper_id)
    scheme = load_scheme(session, paper_id)
    by_corrector = marks_by_corrector(session, paper_id)
    result = statistics.compare_correctors(
        {cid: [m for _mid, m in rows] for cid, rows in by_corrector.items()},
        permutations=permutations,
        seed=paper_id,  # the same page on every reload
    )
    marking_owner = {mid: cid for cid, rows in by_corrector.items() for mid, _m in rows}
    sums: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    pool_sums: dict[int, list[float]] = defaultdict(list)
    if marking_owner:
        for marking_id, question_id, points in session.execute(
            select(QuestionMark.marking_id, QuestionMark.question_id, QuestionMark.points).where(
                QuestionMark.marking_id.in_(list(marking_owner))
            )
        ):
            sums[marking_owner[marking_id]][question_id].append(float(points))
            pool_sums[question_id].append(float(points))
    names = {
        u.id: display_name(u)
        for u in session.scalars(select(User).where(User.id.in_(list(by_corrector) or [-1])))
    }
    out = Distributions(
        paper_id=paper_id,
        code=paper.code,
        questions=list(scheme.questions),
        pool_question_means={q: sum(v) / len(v) for q, v in pool_sums.items()},
        pool_marks=[m for rows in by_corrector.values() for _mid, m in rows],
        result=result,
    )
    for test in result.tests:
        out.correctors.append(
            CorrectorMarks(
                corrector_id=test.corrector_id,
                name=names.get(test.corrector_id, "?"),
                test=test,
                question_means={q: sum(v) / len(v) for q, v in sums[test.corrector_id].items()},
                marks=[m for _mid, m in by_corrector[test.corrector_id]],
            )
        )
    out.correctors.sort(key=lambda c: c.name.lower())
    return out


def local_decimals(text: str, lang: str) -> str:
    """Numbers as the reader writes them: the decimal comma on French pages."""
    return text.replace(".", ",") if lang == "fr" else text


def flag_sentence(c: CorrectorMarks, pool_mean: float, lang: str | None = None) -> str:
    """One plain sentence about a corrector's marks, for the page (the command line's language
    when `lang` is None)."""
    lang = lang or command_line_language()
    t = c.test
    if t.p_value is None:
        return translate(lang, "coordination.flag.too_few", n=t.n)
    side = "below" if t.difference < 0 else "above"
    mean = local_decimals(f"{t.mean:.1f}", lang)
    gap = local_decimals(f"{abs(t.difference):.1f}", lang)
    if not t.flagged:
        return translate(lang, f"coordination.flag.within_{side}", mean=mean, gap=gap)
    if t.p_value >= 0.001:
        chance = translate(lang, "coordination.flag.chance", p=local_decimals(f"{t.p_value:.1%}", lang))
    else:
        chance = translate(lang, "coordination.flag.chance_rare")
    pool = local_decimals(f"{pool_mean:.1f}", lang)
    return translate(lang, f"coordination.flag.off_{side}", mean=mean, gap=gap, pool=pool, chance=chance)
