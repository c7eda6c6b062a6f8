"""From pages in scan order to copies: pure functions, no disk.

Rules (issue 4, "Grouping"):
- a page whose codes name our paper, a copy and a page number goes to that copy;
- a page without any code that is not blank (an annex, an answer sheet stapled in the copy)
  is attached to the copy scanned just before it, and flagged until the operator confirms it;
- a blank page without a code (the verso of a duplex scan) is kept in the lot's record,
  in no copy;
- the same page of the same copy seen twice: the first keeps its place, the other waits
  for the operator (duplicate_page);
- another paper's page is set aside (foreign_page); codes that disagree, or a page 1
  whose codes could not be read, are set aside too (unreadable_code): such a page could
  carry a candidate's identity, so it is never attached anywhere by guesswork.
Operator decisions (assign, discard, rescan) arrive already folded into each ScannedPage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scanner.pages import PageAnalysis

# Plain-words names of the anomaly kinds (the JSON report relies on the keys: never rename them).
ANOMALY_KINDS = (
    "missing_page",
    "duplicate_page",
    "unreadable_code",
    "foreign_page",
    "uncoded_page",
    "no_label",
    "duplicate_label",
    "missing_copy",
    "unexpected_copy",
    "absent_with_copy",
    "continuation",
    "orphan_continuation",
)


SCANNED_TWICE = "--reason 'scanned twice'"
OTHER_PAPER = "--reason 'other paper'"


def command(action: str, *args: str) -> str:
    """A resolve command as the operator types it (DIR is replaced by the lot folder when shown)."""
    return "`massicot scan resolve " + " ".join((action, "DIR", *args)) + "`"


@dataclass(frozen=True)
class Anomaly:
    kind: str
    copy: str | None
    candidate: str | None
    source: str | None
    message: str  # what is wrong, in plain words
    action: str = ""  # what to do about it, in plain words

    def sort_key(self) -> tuple:
        return (self.copy or "~", ANOMALY_KINDS.index(self.kind), self.source or "", self.candidate or "")


@dataclass(frozen=True)
class ScannedPage:
    """A received page as grouping sees it: its analysis plus the operator's decisions about it."""

    source: str  # "FILE#INDEX"
    order: int  # scan order
    analysis: PageAnalysis | None
    key: str = ""  # file sha256:index (defaults to the source name)
    image: str | None = None
    image_sha256: str | None = None
    image_media_type: str = "image/jpeg"
    error: str | None = None  # the analysis failed: why
    assigned_copy: str | None = None  # the operator placed this page in a copy...
    assigned_number: int | None = None  # ...as this page number (None: an annex)
    assigned_rotation: int | None = None
    discarded: str | None = None  # the operator discarded it: the reason
    superseded: str | None = None  # its copy is being rescanned: the reason

    @property
    def id(self) -> str:
        return self.key or self.source

    @property
    def blank(self) -> bool:
        return bool(self.analysis and self.analysis.blank)

    @property
    def rotation(self) -> int:
        if self.assigned_rotation is not None:
            return self.assigned_rotation
        return self.analysis.rotation if self.analysis else 0


@dataclass
class PlacedPage:
    page: ScannedPage
    number: int | None  # None: an annex
    annex: bool = False
    confirmed: bool = True  # an annex attached by position stays unconfirmed until the operator says so
    anchor: int = 0  # the page number it follows (annexes), for ordering
    # The printed booklet this page came from, when its copy holds several (a copie
    # supplémentaire joined to the first booklet); None for the first booklet's own pages.
    booklet: str | None = None
    insert: str | None = None  # a printed insert sheet's kind (intercalaire), None otherwise


@dataclass
class GroupedCopy:
    copy: str
    pages: list[PlacedPage] = field(default_factory=list)

    @property
    def numbers(self) -> set[int]:
        return {p.number for p in self.pages if p.number is not None}

    def first_page(self) -> PlacedPage | None:
        return next((p for p in self.pages if p.number == 1), None)

    @property
    def label_registration(self) -> str | None:
        first = self.first_page()
        return first.page.analysis.label_registration if first and first.page.analysis else None

    @property
    def label_unreadable(self) -> bool:
        first = self.first_page()
        return bool(first and first.page.analysis and first.page.analysis.label_unreadable)

    def ordered(self) -> list[PlacedPage]:
        """Numbered pages by number; each annex right after the page scanned before it."""
        return sorted(
            self.pages,
            key=lambda p: (p.number if p.number is not None else p.anchor, p.annex, p.page.order),
        )


@dataclass(frozen=True)
class Unassigned:
    source: str
    key: str
    reason: str
    blank_verso: bool = False
    discarded: bool = False  # by the operator (or superseded by a rescan): settled
    undecodable: bool = False  # could not be read or not analysed yet: blocks the seal until discarded


@dataclass
class Grouping:
    copies: dict[str, GroupedCopy]
    unassigned: list[Unassigned]
    anomalies: list[Anomaly]
    scan_order: list[tuple[int, str]] = field(default_factory=list)  # (order, copy) of placed pages


def _set_aside(page: ScannedPage, reason: str, unassigned: list[Unassigned], **flags: bool) -> None:
    unassigned.append(Unassigned(source=page.source, key=page.id, reason=reason, **flags))


class _Grouper:
    def __init__(self, paper: str):
        self.paper = paper
        self.copies: dict[str, GroupedCopy] = {}
        self.unassigned: list[Unassigned] = []
        self.anomalies: list[Anomaly] = []
        self.taken: dict[tuple[str, int], ScannedPage] = {}
        self.last_copy: str | None = None
        self.last_foreign: str | None = None  # the other paper, when the sheet before was a foreign page
        self.scan_order: list[tuple[int, str]] = []  # (order, copy) of every placed page

    def anomaly(self, kind: str, page: ScannedPage, message: str, action: str, copy: str | None = None):
        self.anomalies.append(Anomaly(kind, copy, None, page.source, message, action))

    def place(
        self,
        page: ScannedPage,
        copy: str,
        number: int | None,
        *,
        annex: bool,
        confirmed: bool,
        insert: str | None = None,
    ) -> None:
        grouped = self.copies.setdefault(copy, GroupedCopy(copy))
        if insert is not None and page.analysis is not None and page.analysis.insert_id:
            seen = self.taken.get((page.analysis.insert_id, 0))
            if seen is not None:
                _set_aside(
                    page, f"insert sheet {page.analysis.insert_id} was already scanned", self.unassigned
                )
                self.anomaly(
                    "duplicate_page",
                    page,
                    f"insert sheet {page.analysis.insert_id} was scanned twice: {seen.source} and "
                    f"{page.source}",
                    "compare the two scans and discard one "
                    f"({command('discard', repr(page.source), SCANNED_TWICE)})",
                    copy,
                )
                return
            self.taken[(page.analysis.insert_id, 0)] = page
        if number is not None:
            first = self.taken.get((copy, number))
            if first is not None:
                same = (
                    " (the same image)"
                    if first.image_sha256 and first.image_sha256 == page.image_sha256
                    else ""
                )
                _set_aside(
                    page,
                    f"page {number} of copy {copy} was already scanned ({first.source})",
                    self.unassigned,
                )
                self.anomaly(
                    "duplicate_page",
                    page,
                    f"page {number} of copy {copy} was scanned twice: {first.source} and {page.source}{same}",
                    "compare the two scans and discard one "
                    f"({command('discard', repr(page.source), SCANNED_TWICE)})",
                    copy,
                )
                return
            self.taken[(copy, number)] = page
        anchor = max((p.number for p in grouped.pages if p.number is not None), default=0)
        if annex:
            before = [p.number for p in grouped.pages if p.number is not None and p.page.order < page.order]
            anchor = before[-1] if before else 0
        grouped.pages.append(
            PlacedPage(page, number, annex=annex, confirmed=confirmed, anchor=anchor, insert=insert)
        )
        self.scan_order.append((page.order, copy))
        self.last_copy = copy
        self.last_foreign = None

    def add(self, page: ScannedPage) -> None:
        if page.superseded:
            _set_aside(page, page.superseded, self.unassigned, discarded=True)
            return
        if page.discarded:
            _set_aside(page, f"discarded: {page.discarded}", self.unassigned, discarded=True)
            return
        if page.assigned_copy:
            self.place(
                page,
                page.assigned_copy,
                page.assigned_number,
                annex=page.assigned_number is None,
                confirmed=True,
            )
            return
        if page.error:  # the image itself cannot be decoded: like an unreadable file, not an anomaly
            _set_aside(page, page.error, self.unassigned, undecodable=True)
            return
        if page.analysis is None:
            _set_aside(
                page,
                "not analysed yet: run the same import again to finish it",
                self.unassigned,
                undecodable=True,
            )
            return
        self.add_analysed(page, page.analysis)

    def unreadable(self, page: ScannedPage, why: str) -> None:
        _set_aside(page, why, self.unassigned)
        self.anomaly(
            "unreadable_code",
            page,
            f"the code of page {page.source} could not be read: {why}",
            "look at the sheet, then assign it to its copy and page number "
            f"(`massicot scan resolve assign DIR {page.source!r} COPY --page N`) or discard it",
        )

    def add_analysed(self, page: ScannedPage, analysis: PageAnalysis) -> None:
        if analysis.paper is not None and analysis.paper != self.paper:
            _set_aside(page, f"a page of paper {analysis.paper}, not {self.paper}", self.unassigned)
            self.anomaly(
                "foreign_page",
                page,
                f"page {page.source} belongs to paper {analysis.paper}, not to paper {self.paper}",
                "take the sheet out and give it to the centre of that paper; "
                f"then discard it here ({command('discard', repr(page.source), OTHER_PAPER)})",
                analysis.copy_id,
            )
            self.last_foreign = analysis.paper
            return
        if analysis.codes_disagree:
            self.unreadable(page, "its corner codes name different copies or pages")
            return
        if analysis.copy_id and analysis.number:
            self.place(page, analysis.copy_id, analysis.number, annex=False, confirmed=True)
            return
        if analysis.insert:
            self.printed_insert(page, analysis.insert)
            return
        if analysis.copy_id or analysis.codes_read:
            self.unreadable(page, "only part of its code could be read")
            return
        if analysis.label_registration or analysis.label_unreadable:
            # A label without a page code: a first page whose codes are damaged. It carries an
            # identity, so it must not become an annex (annexes are not masked).
            self.unreadable(page, "it has a candidate label but no readable page code")
            return
        if analysis.blank:
            _set_aside(
                page,
                "blank page without a code (a verso): kept in the lot's record",
                self.unassigned,
                blank_verso=True,
            )
            return
        self.uncoded(page)

    def printed_insert(self, page: ScannedPage, kind: str) -> None:
        """A printed insert sheet (intercalaire) joins the copy scanned before it, with no question
        asked: its code says what it is, and it carries no identity."""
        if self.last_copy is None:
            _set_aside(page, "an insert sheet scanned before any copy", self.unassigned)
            self.anomaly(
                "uncoded_page",
                page,
                f"insert sheet {page.source} was scanned before any copy: whose is it?",
                f"find its copy and assign it ({command('assign', repr(page.source), 'COPY')}), "
                "or discard it",
            )
            return
        self.place(page, self.last_copy, None, annex=True, confirmed=True, insert=kind)

    def uncoded(self, page: ScannedPage) -> None:
        if self.last_foreign is not None:
            # Stapled to the other paper's copy scanned just before, most likely: never attach
            # it to one of ours by position.
            _set_aside(
                page,
                f"a page without a code, scanned right after a copy of paper {self.last_foreign}",
                self.unassigned,
            )
            self.anomaly(
                "uncoded_page",
                page,
                f"page {page.source} has no code and was scanned right after a copy of paper "
                f"{self.last_foreign}",
                "if it belongs to that copy, take it out with it and discard it here; otherwise assign it "
                f"({command('assign', repr(page.source), 'COPY')})",
            )
            return
        if self.last_copy is None:
            _set_aside(page, "a page without a code, scanned before any copy", self.unassigned)
            self.anomaly(
                "uncoded_page",
                page,
                f"page {page.source} has no code and no copy was scanned before it",
                f"find its copy, assign it ({command('assign', repr(page.source), 'COPY')}), or discard it",
            )
            return
        copy = self.last_copy
        self.place(page, copy, None, annex=True, confirmed=False)
        self.anomalies.append(
            Anomaly(
                "uncoded_page",
                copy,
                None,
                page.source,
                f"page {page.source} has no code; scanned right after copy {copy}, it is attached to it",
                f"check the sheet is an annex of copy {copy} and confirm "
                f"(`massicot scan resolve confirm-annex DIR {page.source!r}`), or assign it elsewhere",
            )
        )


def group_pages(pages: Sequence[ScannedPage], paper: str) -> Grouping:
    """Group pages (any order given; scan order is `order`) into copies for `paper`."""
    grouper = _Grouper(paper)
    for page in sorted(pages, key=lambda p: p.order):
        grouper.add(page)
    for grouped in grouper.copies.values():
        grouped.pages = grouped.ordered()
    return Grouping(
        copies=grouper.copies,
        unassigned=grouper.unassigned,
        anomalies=grouper.anomalies,
        scan_order=sorted(grouper.scan_order),
    )


def expected_page_count(grouping: Grouping, declared: int | None) -> int | None:
    """Pages per booklet: as declared for the lot, else the most common last page number.

    Every booklet of a paper is printed with the same number of pages, so the most common
    last page tells a copy that lost its last sheet; ties go to the larger count.
    """
    if declared:
        return declared
    lasts = [max(c.numbers) for c in grouping.copies.values() if c.numbers]
    if not lasts:
        return None
    return max(set(lasts), key=lambda n: (lasts.count(n), n))
