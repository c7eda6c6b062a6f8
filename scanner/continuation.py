"""Extra booklets (copies supplémentaires): a booklet joined to the copy it continues. Pure, no disk.

A candidate who needs more room is given another booklet; it is slid inside the first one (the
first copy, which carries the label, is the folder of the others) and gets no label. So a booklet
whose page 1 has neither a label nor a name in the identity boxes, scanned inside or right after
another booklet, is that copy's continuation: its pages join the copy, numbered after the first
booklet's (pages 5 to 8 after a 4-page booklet), each recording the printed booklet it came from.
The operator confirms the join once (`scan resolve join`), or says the booklet stands on its own
(`scan resolve separate`: it is then a copy without a label, as any other). Such a booklet with no
booklet before it is an orphan (`orphan_continuation`): the operator joins it to its copy.

A booklet whose label was forgotten still carries its candidate's name: it is not a continuation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.grouping import Anomaly, GroupedCopy, Grouping, command


@dataclass
class Joins:
    """What was joined: continuation → the copy it joined, and the orphans left on their own."""

    joined: dict[str, str] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)
    orphans: set[str] = field(default_factory=set)


def looks_like_continuation(grouped: GroupedCopy) -> bool:
    """Page 1 read, with no label (not even an unreadable one) and no name written."""
    first = grouped.first_page()
    if first is None or first.page.analysis is None or first.page.assigned_copy:
        return False
    a = first.page.analysis
    return a.label_registration is None and not a.label_unreadable and a.identity_written is False


def _booklet_before(grouping: Grouping, copy: str) -> str | None:
    """The copy of the last page scanned before this booklet's first-scanned page."""
    orders = [order for order, c in grouping.scan_order if c == copy]
    if not orders:
        return None
    start = min(orders)
    before = [c for order, c in grouping.scan_order if order < start and c != copy]
    return before[-1] if before else None


def join_continuations(
    grouping: Grouping,
    *,
    expected_pages: int | None,
    decided: dict[str, str],
    separate: set[str],
    labelled: set[str],
) -> Joins:
    """Join every continuation booklet to its copy, in place; the anomalies go to the grouping.

    `decided`: continuation → copy, as the operator joined it (confirmed); `separate`: booklets the
    operator said stand on their own; `labelled`: copies whose candidate the operator recorded."""
    joins = Joins()
    proposals: dict[str, str | None] = {}
    for copy, grouped in grouping.copies.items():
        if copy in decided:
            proposals[copy] = decided[copy]
        elif copy not in separate and copy not in labelled and looks_like_continuation(grouped):
            proposals[copy] = _booklet_before(grouping, copy)
    for copy, host in proposals.items():
        if host is None or host not in grouping.copies:
            joins.orphans.add(copy)
            continue
        seen = {copy}
        while host in proposals and proposals[host] is not None and host not in seen:
            seen.add(host)
            host = proposals[host]  # a third booklet slid in the second: all join the first
        if host in seen or host not in grouping.copies or host in joins.orphans:
            joins.orphans.add(copy)
            continue
        joins.joined[copy] = host
        if copy in decided:
            joins.confirmed.add(copy)
    # Booklets join in scan order, so a copy's booklets are numbered in the order they were fed.
    first_order = {c: min((o for o, cc in grouping.scan_order if cc == c), default=0) for c in joins.joined}
    for copy in sorted(joins.joined, key=first_order.__getitem__):
        host = grouping.copies[joins.joined[copy]]
        booklet = grouping.copies.pop(copy)
        offset = max([expected_pages or 0, *host.numbers])
        for placed in booklet.pages:
            placed.booklet = placed.booklet or copy
            if placed.number is not None:
                placed.number += offset
            placed.anchor += offset
        host.pages = sorted(
            host.pages + booklet.pages,
            key=lambda p: (p.number if p.number is not None else p.anchor, p.annex, p.page.order),
        )
        numbers = sorted(p.number for p in booklet.pages if p.number is not None)
        if copy not in joins.confirmed:
            span = f"pages {numbers[0]} to {numbers[-1]}" if numbers else "no numbered page"
            grouping.anomalies.append(
                Anomaly(
                    "continuation",
                    host.copy,
                    None,
                    booklet.pages[0].page.source if booklet.pages else None,
                    f"booklet {copy} has no label and no name; scanned inside or right after copy "
                    f"{host.copy}, it is joined to it as its extra booklet ({span})",
                    f"check the booklet was handed in with copy {host.copy} and confirm "
                    f"({command('join', copy)}); if it is a copy on its own, say so "
                    f"({command('separate', copy)})",
                )
            )
    for copy in sorted(joins.orphans):
        grouped = grouping.copies[copy]
        grouping.anomalies.append(
            Anomaly(
                "orphan_continuation",
                copy,
                None,
                grouped.pages[0].page.source if grouped.pages else None,
                f"booklet {copy} has no label and no name, and no copy was scanned before it: "
                "it looks like an extra booklet, but of which copy?",
                f"find the copy it was slid into and join it ({command('join', copy, '--to', 'COPY')}); "
                f"if it is a candidate's only booklet, record whose it is "
                f"(`massicot scan resolve label DIR {copy} REGISTRATION_NUMBER`)",
            )
        )
    return joins
