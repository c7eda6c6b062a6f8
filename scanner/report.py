"""The lot's report: what was found, what is wrong, what to do. JSON for tools, a table for people.

The JSON shape is relied on by tools outside the project: fields may be added, never renamed.
    {"paper", "copies": [{"copy", "candidate", "status", "pages": [{"number", "image", "source",
     "rotation", "blank"}]}], "anomalies": [{"kind", "copy", "candidate", "source", "message"}],
     "unassigned": [{"source", "reason"}]}
Added fields: top level "centre", "counts", "sealed", "blocking", "notices" (kinds header_ink,
blank_copy, absent_copy), "warnings"; per copy "missing", "read_from_pages";
per page "annex", "skew_degrees"; per anomaly "action"; per unassigned entry "kind"
(blank_verso, discarded, set_aside, unreadable).
A page's "image" is null only for a sheet without a code the operator has not confirmed yet:
no corrector image is made of a sheet before someone has looked at it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scanner.continuation import join_continuations
from scanner.grouping import Anomaly, Grouping, Unassigned, expected_page_count, group_pages
from scanner.lot import LotState
from scanner.reconcile import Reconciliation, reconcile
from scanner.resolve import fold_decisions, recorded_copy_id


@dataclass
class LotView:
    """Everything the report, the seal and the review page need, computed from the journal."""

    state: LotState
    grouping: Grouping
    reconciliation: Reconciliation
    unreadable: list[tuple[str, str, bool]]  # (source, reason, acknowledged by the operator)
    incomplete_files: list[str]  # source files whose import stopped before their end

    @property
    def anomalies(self) -> list[Anomaly]:
        return self.reconciliation.anomalies

    def notices(self) -> list[dict]:
        """Worth a look, not blocking: ink in the masked header outside the identity boxes (an
        answer started there would be hidden from the corrector), and the copies found blank or
        ABSENT from their pages alone (no one decided it: the secretary checks the sheets)."""
        found = []
        for copy in self.reconciliation.copies:
            if copy.read_from_pages:
                found.append(_read_from_pages_notice(copy.copy, copy.candidate, copy.status))
            for placed in copy.pages:
                analysis = placed.page.analysis
                if (
                    placed.number == 1
                    and analysis is not None
                    and analysis.header_ink
                    and copy.status != "absent"
                ):
                    found.append(
                        {
                            "kind": "header_ink",
                            "copy": copy.copy,
                            "source": placed.page.source,
                            "message": f"copy {copy.copy}: something is written in the header of page 1, "
                            "which correctors will not see; look at the sheet, and tell the exam office "
                            "if it is part of an answer",
                        }
                    )
        return found

    def blocking(self) -> list[str]:
        """What stops the seal besides anomalies, in plain words."""
        reasons = [
            f"file {source.split('#')[0]} could not be read ({reason}): look at it, then set it aside "
            f"(`massicot scan resolve discard DIR {source!r} --reason '...'`) or scan the sheets again"
            for source, reason, acknowledged in self.unreadable
            if not acknowledged
        ]
        reasons += [
            f"sheet {u.source}: {u.reason}. Scan the sheet again and import it, then set this one aside "
            f"(`massicot scan resolve discard DIR {u.source!r} --reason '...'`)"
            for u in self.grouping.unassigned
            if u.undecodable and not u.discarded
        ]
        reasons += [
            f"the import of {name} stopped before its end: run the same `massicot scan import` again "
            "(if that file is gone, scan those sheets again and discard the ones already in the lot)"
            for name in self.incomplete_files
        ]
        for copy in self.reconciliation.copies:
            for placed in copy.pages:
                if placed.page.image is None and placed.confirmed:
                    reasons.append(f"page {placed.page.source} of copy {copy.copy} has no corrector image")
        return reasons


def _read_from_pages_notice(copy: str, candidate: str | None, status: str) -> dict:
    undo = f"`massicot scan resolve mark-written DIR {copy}`"
    if status == "absent":
        message = (
            f"copy {copy} carries the label of candidate {candidate}, absent on the roll, and nothing is "
            "written in its answer areas: it is recorded as his ABSENT copy (mark AB). If the sheets do "
            f"carry answers, say so ({undo})"
        )
    else:
        message = (
            f"copy {copy} (candidate {candidate}) has nothing written in its answer areas: it is recorded "
            "as a blank copy; a corrector confirms its 00. If the sheets do carry answers, say so "
            f"({undo})"
        )
    return {"kind": f"{status}_copy", "copy": copy, "source": None, "message": message}


def build_view(state: LotState) -> LotView:
    pages, copy_decisions, acknowledged = fold_decisions(state)
    grouping = group_pages(pages, state.info.paper)
    info = state.info
    # Pages per booklet before extra booklets join their copies (a joined copy has more).
    expected = expected_page_count(grouping, info.pages_per_copy)
    joins = join_continuations(
        grouping,
        expected_pages=expected,
        decided=copy_decisions.joined,
        separate=copy_decisions.separate,
        labelled=set(copy_decisions.labels),
    )
    reconciliation = reconcile(
        grouping,
        info.roll,
        copy_decisions,
        recorded_copy_id=lambda candidate: recorded_copy_id(info.secret, info.paper, candidate),
        pages_per_copy=expected,
    )
    # An orphan extra booklet says it once, as an orphan, not again as a copy without a label.
    reconciliation.anomalies = [
        a for a in reconciliation.anomalies if not (a.kind == "no_label" and a.copy in joins.orphans)
    ]
    unreadable = [
        (u.source, u.reason, u.source in acknowledged)
        for u in sorted(state.unreadable.values(), key=lambda u: u.source)
    ]
    incomplete: dict[str, str] = {}
    settled = {p.key for p in pages if p.discarded or p.superseded}
    for record in state.pages_in_order():
        # a file whose import stopped half-way, unless the operator set its sheets aside (file gone)
        if record.file_sha256 not in state.files_done and record.key not in settled:
            incomplete.setdefault(record.file_sha256, record.source.rsplit("#", 1)[0])
    return LotView(state, grouping, reconciliation, unreadable, sorted(incomplete.values()))


def _unassigned_kind(entry: Unassigned) -> str:
    if entry.blank_verso:
        return "blank_verso"
    if entry.undecodable:
        return "unreadable"
    return "discarded" if entry.discarded else "set_aside"


def report_json(view: LotView) -> dict:
    info = view.state.info
    counts = view.reconciliation.counts
    copies = []
    for result in view.reconciliation.copies:
        copies.append(
            {
                "copy": result.copy,
                "candidate": result.candidate,
                "status": result.status,
                "pages": [
                    {
                        "number": placed.number,
                        "image": placed.page.image if placed.confirmed else None,
                        "source": placed.page.source,
                        "rotation": placed.page.rotation,
                        "blank": placed.page.blank,
                        "annex": placed.annex,
                        "skew_degrees": placed.page.analysis.skew_degrees if placed.page.analysis else 0.0,
                        "written": placed.page.analysis.written if placed.page.analysis else None,
                        "booklet": placed.booklet or (result.copy if placed.number is not None else None),
                        "insert": placed.insert,
                    }
                    for placed in result.pages
                ],
                "missing": result.missing,
                "read_from_pages": result.read_from_pages,
            }
        )
    unassigned = [
        {"source": u.source, "reason": u.reason, "kind": _unassigned_kind(u)}
        for u in sorted(view.grouping.unassigned, key=lambda u: u.source)
    ]
    unassigned += [
        {"source": source, "reason": reason, "kind": "discarded" if acknowledged else "unreadable"}
        for source, reason, acknowledged in view.unreadable
    ]
    return {
        "paper": info.paper,
        "centre": info.centre,
        "copies": copies,
        "anomalies": [
            {
                "kind": a.kind,
                "copy": a.copy,
                "candidate": a.candidate,
                "source": a.source,
                "message": a.message,
                "action": a.action,
            }
            for a in view.anomalies
        ],
        "unassigned": unassigned,
        "counts": asdict(counts),
        "sealed": bool(view.state.sealed),
        "blocking": view.blocking(),
        "notices": view.notices(),
        "warnings": view.state.warnings,
    }


KIND_WORDS = {
    "missing_page": "page missing",
    "duplicate_page": "page scanned twice",
    "unreadable_code": "code unreadable",
    "foreign_page": "page of another paper",
    "uncoded_page": "page without a code",
    "no_label": "whose copy? (no label)",
    "duplicate_label": "same label on two copies",
    "missing_copy": "copy missing",
    "unexpected_copy": "candidate not on the roll",
    "absent_with_copy": "absent, yet a copy",
    "continuation": "extra booklet joined (confirm)",
    "orphan_continuation": "extra booklet, copy unknown",
}


def summary_line(view: LotView) -> str:
    c = view.reconciliation.counts
    scanned = sum(1 for r in view.reconciliation.copies if not r.recorded)
    return (
        f"registered {c.registered} · present {c.present} · absent {c.absent} · blank {c.blank} · "
        f"copies found {scanned} · anomalies to resolve {len(view.anomalies) + len(view.blocking())}"
    )


def render_text(view: LotView, console: Console, directory: str = "DIR") -> None:
    """The report for a centre's secretary: the copies, then one line per problem saying what to do."""
    info = view.state.info
    title = f"Lot for paper {info.paper}" + (f", centre {info.centre}" if info.centre else "")
    if view.state.sealed:
        title += f" — SEALED by {view.state.sealed.get('by')} at {view.state.sealed.get('at')}"
    copies = Table(title=title, title_justify="left")
    for column in ("Copy", "Candidate", "State", "Pages"):
        copies.add_column(column)
    for result in view.reconciliation.copies:
        numbers = [str(p.number) if p.number is not None else "annex" for p in result.pages]
        state = {"ok": "complete", "blank": "blank copy", "absent": "ABSENT", "incomplete": "pages missing"}
        copies.add_row(result.copy, result.candidate or "?", state[result.status], " ".join(numbers) or "—")
    console.print(copies)

    def with_dir(text: str) -> str:
        return text.replace(" DIR ", f" {directory} ")

    if view.anomalies or view.blocking():
        console.print("[bold]To resolve before sealing[/] (one line each: what is wrong, then what to do)")
        number = 0
        for number, anomaly in enumerate(view.anomalies, start=1):
            where = ", ".join(
                part
                for part in (
                    anomaly.copy and f"copy {anomaly.copy}",
                    anomaly.candidate and f"candidate {anomaly.candidate}",
                    anomaly.source and f"sheet {anomaly.source}",
                )
                if part
            )
            what = KIND_WORDS[anomaly.kind]
            console.print(
                f"{number:3}. [bold]{what}[/] ({escape(where)}): {escape(anomaly.message)}. "
                f"[cyan]To do:[/] {escape(with_dir(anomaly.action))}",
                soft_wrap=True,
            )
        for extra, reason in enumerate(view.blocking(), start=number + 1):
            console.print(f"{extra:3}. [bold]to finish[/]: {escape(with_dir(reason))}", soft_wrap=True)
    else:
        console.print("Nothing left to resolve: the lot can be sealed (`massicot scan seal`).")
    for notice in view.notices():
        console.print(f"[yellow]Worth a look:[/] {escape(with_dir(notice['message']))}", soft_wrap=True)
    set_aside = [u for u in view.grouping.unassigned if not u.discarded and not u.blank_verso]
    versos = sum(1 for u in view.grouping.unassigned if u.blank_verso)
    discarded = sum(1 for u in view.grouping.unassigned if u.discarded)
    console.print(
        f"Sheets in no copy: {versos} blank versos, {discarded} discarded, {len(set_aside)} waiting for you."
    )
    for warning in view.state.warnings:
        console.print(f"[yellow]Note:[/] {escape(warning)}", soft_wrap=True)
    console.print(f"[bold]{summary_line(view)}[/]", soft_wrap=True)
