"""Copies against the roll: pure functions, no disk.

Rules (issue 4 and the domain's rule 3): every present candidate hands in exactly one copy,
even blank; an absent candidate hands in none and the lot records an ABSENT copy for him;
no stranger, no copy twice, every copy says whose it is (its label).

What the pages show settles two cases without the operator (each said in the report's notices):
- a booklet whose label names a candidate absent on the roll and whose answer areas carry no
  writing is that candidate's ABSENT copy (the centre sticks the label on a booklet marked
  ABSENT and files it with the others); with writing on it, the roll may be wrong: anomaly;
- a present candidate's complete booklet with no writing in any answer area is a blank copy
  (its 00 is still confirmed by a corrector).
`mark-written` undoes either reading for a copy whose answers the scan did not see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from massicot_core.roll import RollLine
from scanner.grouping import Anomaly, Grouping, PlacedPage, expected_page_count

Status = str  # "ok" | "blank" | "absent" | "incomplete"


@dataclass
class CopyDecisions:
    """The operator's decisions about copies and candidates, latest first already applied."""

    blank_copies: set[str] = field(default_factory=set)
    absent_copies: set[str] = field(default_factory=set)
    written_copies: set[str] = field(default_factory=set)  # carries answers, whatever the scan read
    labels: dict[str, str] = field(default_factory=dict)  # copy → candidate, typed by the operator
    accepted_incomplete: dict[str, str] = field(default_factory=dict)  # copy → reason
    presence: dict[str, bool] = field(default_factory=dict)  # candidate → present (overrides the roll)
    blank_candidates: set[str] = field(default_factory=set)  # present, handed in nothing scannable
    admitted: dict[str, str] = field(default_factory=dict)  # candidate not on the roll → reason
    joined: dict[str, str] = field(default_factory=dict)  # extra booklet → the copy it continues
    separate: set[str] = field(default_factory=set)  # booklets that are not another's continuation


@dataclass
class CopyResult:
    copy: str
    candidate: str | None
    status: Status
    pages: list[PlacedPage]
    missing: list[int] = field(default_factory=list)
    recorded: bool = False  # no booklet scanned: recorded from the roll or a decision (absent, blank)
    read_from_pages: bool = False  # blank or absent because nothing is written on its pages


@dataclass
class Counts:
    registered: int
    present: int
    absent: int
    blank: int
    copies: int
    pages: int


@dataclass
class Reconciliation:
    copies: list[CopyResult]
    anomalies: list[Anomaly]
    counts: Counts


def _pages_text(numbers: Sequence[int]) -> str:
    return ("page " if len(numbers) == 1 else "pages ") + ", ".join(str(n) for n in numbers)


def reconcile(
    grouping: Grouping,
    roll: Sequence[RollLine],
    decisions: CopyDecisions,
    *,
    recorded_copy_id: Callable[[str], str],
    pages_per_copy: int | None = None,
) -> Reconciliation:
    """Check the grouped copies against the roll.

    `recorded_copy_id(candidate)` gives the (stable, unguessable) id of the copy the lot
    records for a candidate without a booklet: absent, or blank without pages.
    """
    on_roll = {line.candidate: line for line in roll}
    registered = dict.fromkeys(on_roll) | dict.fromkeys(decisions.admitted)
    expected = expected_page_count(grouping, pages_per_copy)
    anomalies: list[Anomaly] = list(grouping.anomalies)
    results: list[CopyResult] = []
    on_roll_present = _presence(on_roll, decisions, [])

    for copy_id, grouped in grouping.copies.items():
        candidate = decisions.labels.get(copy_id) or grouped.label_registration
        result = CopyResult(copy=copy_id, candidate=candidate, status="ok", pages=grouped.pages)
        if copy_id in decisions.absent_copies:
            result.status = "absent"
        elif copy_id in decisions.blank_copies or (
            grouped.pages and all(p.page.blank for p in grouped.pages)
        ):
            result.status = "blank"
        else:
            top = max([expected or 0, *grouped.numbers])
            result.missing = sorted(set(range(1, top + 1)) - grouped.numbers)
            if result.missing:
                result.status = "incomplete"
            if copy_id not in decisions.written_copies and candidate in on_roll_present:
                _read_from_pages(result, grouped.pages, present=on_roll_present[candidate])
        results.append(result)
        anomalies.extend(_copy_anomalies(result, grouped.label_unreadable, decisions))

    present = _presence(on_roll, decisions, results)
    anomalies.extend(_roll_anomalies(results, registered, present, decisions))

    with_copy = {r.candidate for r in results if r.candidate}
    for candidate in registered:
        if candidate in with_copy:
            continue
        if not present[candidate]:
            results.append(CopyResult(recorded_copy_id(candidate), candidate, "absent", [], recorded=True))
        elif candidate in decisions.blank_candidates:
            results.append(CopyResult(recorded_copy_id(candidate), candidate, "blank", [], recorded=True))
        else:
            anomalies.append(
                Anomaly(
                    "missing_copy",
                    None,
                    candidate,
                    None,
                    f"candidate {candidate} ({_name(on_roll, candidate)}) signed the roll as present "
                    "but no copy of his was found",
                    "find the copy and scan it (`massicot scan import`), or if the roll is wrong record "
                    f"him absent (`massicot scan resolve mark-absent DIR {candidate}`)",
                )
            )

    results.sort(key=lambda r: r.copy)
    anomalies.sort(key=Anomaly.sort_key)
    counts = Counts(
        registered=len(registered),
        present=sum(1 for c in registered if present[c]),
        absent=sum(1 for c in registered if not present[c]),
        blank=sum(1 for r in results if r.status == "blank"),
        copies=len(results),
        pages=sum(len(r.pages) for r in results),
    )
    return Reconciliation(copies=results, anomalies=anomalies, counts=counts)


def nothing_written(pages: Sequence[PlacedPage]) -> bool:
    """Every page is a numbered booklet page whose answer zone was measured free of writing.

    An annex means something was handed in; a page not measured (no code read, an old lot)
    leaves the question to the operator."""
    return bool(pages) and all(
        p.number is not None and p.page.analysis is not None and p.page.analysis.written is False
        for p in pages
    )


def _read_from_pages(result: CopyResult, pages: Sequence[PlacedPage], *, present: bool) -> None:
    if not nothing_written(pages):
        return
    if not present:  # the candidate's ABSENT copy, even with a sheet missing: it is not marked
        result.status, result.missing, result.read_from_pages = "absent", [], True
    elif not result.missing:
        result.status, result.read_from_pages = "blank", True


def _name(on_roll: dict[str, RollLine], candidate: str) -> str:
    line = on_roll.get(candidate)
    return line.name if line and line.name else "name unknown"


def _presence(
    on_roll: dict[str, RollLine], decisions: CopyDecisions, results: list[CopyResult]
) -> dict[str, bool]:
    present = {c: line.present for c, line in on_roll.items()}
    present |= dict.fromkeys(decisions.admitted, True)
    for result in results:  # a copy recorded as ABSENT makes its candidate absent
        if result.status == "absent" and result.candidate in present:
            present[result.candidate] = False
    for candidate, value in decisions.presence.items():
        if candidate in present:
            present[candidate] = value
    return present


def _copy_anomalies(result: CopyResult, label_unreadable: bool, decisions: CopyDecisions) -> list[Anomaly]:
    found: list[Anomaly] = []
    copy = result.copy
    if result.missing and copy not in decisions.accepted_incomplete:
        found.append(
            Anomaly(
                "missing_page",
                copy,
                result.candidate,
                None,
                f"copy {copy} lacks {_pages_text(result.missing)}",
                "find the sheet and scan it, or rescan the whole copy "
                f"(`massicot scan resolve rescan DIR {copy}`); if the sheet really is not there, accept the "
                f"copy as it is (`massicot scan resolve accept-incomplete DIR {copy} --reason '...'`)",
            )
        )
    if result.candidate is None and result.status != "absent":
        why = "its label could not be read" if label_unreadable else "no label was found on its page 1"
        if 1 in result.missing:
            why = "its page 1, which carries the label, is missing"
        found.append(
            Anomaly(
                "no_label",
                copy,
                None,
                None,
                f"copy {copy} does not say whose it is: {why}",
                f"read the label on the sheet and record it (`massicot scan resolve label DIR {copy} "
                "REGISTRATION_NUMBER`); an ABSENT booklet: `massicot scan resolve mark-absent DIR "
                f"{copy} --candidate REGISTRATION_NUMBER`",
            )
        )
    return found


def _roll_anomalies(
    results: list[CopyResult],
    registered: dict[str, None],
    present: dict[str, bool],
    decisions: CopyDecisions,
) -> list[Anomaly]:
    found: list[Anomaly] = []
    by_candidate: dict[str, list[CopyResult]] = defaultdict(list)
    for result in results:
        if result.candidate:
            by_candidate[result.candidate].append(result)
    for candidate, copies in by_candidate.items():
        if len(copies) > 1:
            ids = ", ".join(c.copy for c in copies)
            for result in copies:
                found.append(
                    Anomaly(
                        "duplicate_label",
                        result.copy,
                        candidate,
                        None,
                        f"copies {ids} all carry the label of candidate {candidate}",
                        "look at the labels: correct the wrong one "
                        f"(`massicot scan resolve label DIR {result.copy} REGISTRATION_NUMBER`)",
                    )
                )
        for result in copies:
            if candidate not in registered:
                found.append(
                    Anomaly(
                        "unexpected_copy",
                        result.copy,
                        candidate,
                        None,
                        f"copy {result.copy} has the label of candidate {candidate}, who is not on the roll",
                        "check the label; if the candidate did sit the paper here, record it "
                        f"(`massicot scan resolve admit DIR {candidate} --reason '...'`), otherwise "
                        "correct the label or take the copy out (`scan resolve rescan`)",
                    )
                )
            elif not present[candidate] and result.status != "absent":
                found.append(
                    Anomaly(
                        "absent_with_copy",
                        result.copy,
                        candidate,
                        None,
                        f"candidate {candidate} is absent on the roll, yet copy {result.copy} has his label",
                        "if he did sit the paper, record him present "
                        f"(`massicot scan resolve mark-present DIR {candidate}`); if it is his ABSENT copy, "
                        f"record it (`massicot scan resolve mark-absent DIR {result.copy}`)",
                    )
                )
    return found
