"""The plan of an evening, pure data: which copies exist, which sheets go through the scanner,
in which order, and which defect each carries."""

from __future__ import annotations

import random
from dataclasses import dataclass

from massicot_core.identifiers import new_copy_id
from massicot_core.roll import RollLine
from testkit.samples.defects import DefectPlan


@dataclass
class PlannedCopy:
    """A booklet handed out (or slipped in from another room) and what happens to it."""

    copy_id: str
    paper: str
    booklet_index: int  # index among the booklets printed for that paper
    line: RollLine
    status: str  # present, blank, absent, foreign
    label: str  # ok, torn, none
    birth_date: str
    ink: int  # gray level of this candidate's pen
    continues: str | None = None  # an extra booklet: the copy it continues (slid inside it)


@dataclass
class PlannedSheet:
    """One sheet side as it goes through the scanner."""

    copy: PlannedCopy | None
    page: int | None  # None: annex or blank verso
    kind: str  # booklet, annex, blank
    rotation: int = 0
    skew: float = 0.0
    defect: str | None = None


def plan_evening(
    paper: str,
    roll: list[RollLine],
    copy_ids: list[str],
    pages: int,
    plan: DefectPlan,
    rng: random.Random,
    foreign_paper: str,
) -> tuple[list[PlannedCopy], list[PlannedSheet], dict[str, dict]]:
    """The copies, the sheets in scan order, and per copy id the marks its defects left."""
    copies: list[PlannedCopy] = []
    for index, line in enumerate(roll):
        status = "present" if line.present else "absent"
        copies.append(
            PlannedCopy(
                copy_id=copy_ids[index],
                paper=paper,
                booklet_index=index,
                line=line,
                status=status,
                # The centre sticks an absent candidate's label on a booklet marked ABSENT.
                label="ok",
                birth_date=f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2000, 2006)}",
                ink=rng.choice((28, 40, 55, 62, 70)),
            )
        )
    for n in range(plan.foreign_copy):
        line = RollLine(
            candidate=f"X{rng.randrange(10**7):07d}", name=f"Étranger Candidat{n + 1}", present=True
        )
        copies.append(
            PlannedCopy(
                copy_id=new_copy_id(rng),  # type: ignore[arg-type]
                paper=foreign_paper,
                booklet_index=n,
                line=line,
                status="foreign",
                label="ok",
                birth_date="01/01/2004",
                ink=40,
            )
        )
    # Each copy-level defect goes to a different present candidate while there are enough,
    # so the truth stays unambiguous.
    present = [c for c in copies if c.status == "present"]
    rng.shuffle(present)
    marks: dict[str, dict] = {c.copy_id: {"defects": []} for c in copies}
    pool = list(present)

    def take(count: int, name: str) -> list[PlannedCopy]:
        chosen = []
        for _ in range(count):
            if not pool:
                pool.extend(present)  # more defects than candidates: copies get several
            if not pool:
                break
            chosen.append(pool.pop())
            marks[chosen[-1].copy_id]["defects"].append(name)
        return chosen

    for c in take(plan.blank_copy, "blank_copy"):
        c.status = "blank"
    for c in take(plan.no_label, "no_label"):
        c.label = "none"
    for c in take(plan.torn_label, "torn_label"):
        if c.label == "ok":
            c.label = "torn"
    later_pages = list(range(2, pages + 1))
    for c in take(plan.missing_page, "missing_page") if later_pages else []:
        marks[c.copy_id]["missing"] = rng.choice(later_pages)
    for c in take(plan.duplicate_page, "duplicate_page"):
        marks[c.copy_id]["duplicate"] = rng.randint(1, pages)
    for c in take(plan.annex, "annex"):
        marks[c.copy_id]["annex_after"] = rng.randint(1, pages)
    for c in take(plan.missing_copy, "missing_copy"):
        marks[c.copy_id]["missing_copy"] = True
    for c in take(plan.duplicate_copy, "duplicate_copy"):
        marks[c.copy_id]["duplicate_copy"] = True
    for c in take(plan.header_ink, "header_ink"):
        marks[c.copy_id]["header_ink"] = True
    for c in take(plan.faint_pencil, "faint_pencil"):
        marks[c.copy_id]["faint_pencil"] = True
    for c in take(plan.printed_insert, "printed_insert"):
        marks[c.copy_id]["insert_after"] = rng.randint(1, pages)
        marks[c.copy_id]["insert_id"] = new_copy_id(rng)
    extras: dict[str, PlannedCopy] = {}  # host copy id → its extra booklet
    orphans: list[PlannedCopy] = []
    printed = sum(1 for c in copies if c.paper == paper)
    for kind, count in (("extra_booklet", plan.extra_booklet), ("orphan_booklet", plan.orphan_booklet)):
        for host in take(count, kind):
            extra = PlannedCopy(
                copy_id=new_copy_id(rng),  # type: ignore[arg-type]
                paper=paper,
                booklet_index=printed,
                line=host.line,
                status="extra",
                label="none",
                birth_date=host.birth_date,
                ink=host.ink,
                continues=host.copy_id,
            )
            printed += 1
            copies.append(extra)
            marks[extra.copy_id] = {"defects": [kind]}
            if kind == "extra_booklet":
                extras[host.copy_id] = extra
            else:
                orphans.append(extra)

    sheets: list[PlannedSheet] = []
    order = [c for c in copies if c.status != "extra"]
    for foreign in [c for c in copies if c.status == "foreign"]:
        # A copy of another room lands somewhere inside the pile, not neatly at its end.
        order.remove(foreign)
        order.insert(rng.randint(0, len(order)), foreign)
    again: list[PlannedCopy] = []
    for extra in orphans:  # fed first, before any copy: nothing tells whose it is
        sheets.extend(
            PlannedSheet(extra, page, "booklet", defect="orphan_booklet") for page in range(1, pages + 1)
        )
    inside_done = False
    for c in order:
        mark = marks[c.copy_id]
        if mark.get("missing_copy"):
            continue
        if mark.get("duplicate_copy"):
            again.append(c)
        for page in range(1, pages + 1):
            if mark.get("missing") == page:
                continue
            defect = "foreign_copy" if c.status == "foreign" else None
            if page == 1 and mark.get("header_ink"):
                defect = "header_ink"
            sheets.append(PlannedSheet(c, page, "booklet", defect=defect))
            if mark.get("duplicate") == page:
                sheets.append(PlannedSheet(c, page, "booklet", defect="duplicate_page"))
            if mark.get("annex_after") == page:
                sheets.append(PlannedSheet(c, None, "annex", defect="annex"))
            if mark.get("insert_after") == page:
                sheets.append(PlannedSheet(c, None, "insert", defect="printed_insert"))
            extra = extras.get(c.copy_id)
            # The first extra booklet is scanned inside its copy (after page 2), the others right after.
            if extra is not None and page == (2 if not inside_done else pages):
                inside_done = True
                sheets.extend(
                    PlannedSheet(extra, n, "booklet", defect="extra_booklet") for n in range(1, pages + 1)
                )
    for c in again:
        # The same sheets fed again later in the evening: somewhere after their first pass.
        last = max(i for i, sheet in enumerate(sheets) if sheet.copy is c)
        at = rng.randint(last + 1, len(sheets))
        sheets[at:at] = [
            PlannedSheet(c, page, "booklet", defect="duplicate_copy") for page in range(1, pages + 1)
        ]
    for _ in range(plan.blank_verso):
        at = rng.randint(1, len(sheets))
        sheets.insert(at, PlannedSheet(sheets[at - 1].copy, None, "blank", defect="blank_verso"))
    printed = [i for i, s in enumerate(sheets) if s.kind == "booklet" and s.defect is None]
    for i in rng.sample(printed, min(plan.upside_down, len(printed))):
        sheets[i].rotation = 180
        sheets[i].defect = "upside_down"
    for s in sheets:
        s.skew = round(rng.uniform(-plan.skew_max_deg, plan.skew_max_deg), 2) if plan.skew_max_deg else 0.0
    return copies, sheets, marks
