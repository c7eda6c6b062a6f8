"""Reconciliation of grouped copies against the roll, with page analyses built by hand."""

from __future__ import annotations

from massicot_core.identifiers import is_copy_id
from massicot_core.roll import RollLine
from scanner.grouping import group_pages
from scanner.reconcile import CopyDecisions, reconcile
from scanner.resolve import recorded_copy_id
from testkit.lot import PAPER, copy_ids, scanned

A, B, C = copy_ids(3)
ROLL = [RollLine("CAND001", "Ann", True), RollLine("CAND002", "Bob", True), RollLine("CAND003", "Cy", False)]


def booklet(start: int, copy: str, label: str | None, pages: int = 2, **kw) -> list:
    return [
        scanned(start + n - 1, copy, n, label=label if n == 1 else None, **kw) for n in range(1, pages + 1)
    ]


def check(pages, roll=ROLL, decisions=None, pages_per_copy=None):
    grouping = group_pages(pages, PAPER)
    return reconcile(
        grouping,
        roll,
        decisions or CopyDecisions(),
        recorded_copy_id=lambda c: recorded_copy_id("secret", PAPER, c),
        pages_per_copy=pages_per_copy,
    )


def kinds(result) -> list[str]:
    return sorted(a.kind for a in result.anomalies)


def by_copy(result) -> dict:
    return {r.copy: r for r in result.copies}


def test_every_present_candidate_one_copy_absent_recorded():
    result = check(booklet(0, A, "CAND001") + booklet(10, B, "CAND002"))
    assert result.anomalies == []
    copies = by_copy(result)
    assert copies[A].candidate == "CAND001" and copies[A].status == "ok"
    absent = [r for r in result.copies if r.status == "absent"]
    assert [(r.candidate, r.pages, r.recorded) for r in absent] == [("CAND003", [], True)]
    assert is_copy_id(absent[0].copy)
    assert absent[0].copy == recorded_copy_id("secret", PAPER, "CAND003")  # stable across runs
    assert absent[0].copy != recorded_copy_id("other secret", PAPER, "CAND003")  # not guessable
    c = result.counts
    assert (c.registered, c.present, c.absent, c.blank, c.copies, c.pages) == (3, 2, 1, 0, 3, 4)


def test_missing_page_in_the_middle_and_at_the_end():
    pages = booklet(0, A, "CAND001", pages=4) + [scanned(10, B, 1, label="CAND002"), scanned(11, B, 3)]
    result = check(pages)
    assert kinds(result) == ["missing_page"]
    assert by_copy(result)[B].missing == [2, 4] and by_copy(result)[B].status == "incomplete"


def test_accepting_an_incomplete_copy_closes_the_anomaly():
    pages = booklet(0, A, "CAND001", pages=2) + [scanned(10, B, 1, label="CAND002")]
    result = check(pages, decisions=CopyDecisions(accepted_incomplete={B: "sheet lost"}))
    assert result.anomalies == []
    assert by_copy(result)[B].status == "incomplete"


def test_declared_page_count_finds_a_missing_last_page():
    result = check(booklet(0, A, "CAND001", pages=3) + booklet(10, B, "CAND002", pages=3), pages_per_copy=4)
    assert kinds(result) == ["missing_page", "missing_page"]


def test_no_label_then_label_recorded_by_the_operator():
    pages = booklet(0, A, "CAND001") + booklet(10, B, None)
    assert kinds(check(pages)) == ["missing_copy", "no_label"]
    assert check(pages, decisions=CopyDecisions(labels={B: "CAND002"})).anomalies == []


def test_unreadable_label_says_so():
    pages = booklet(0, A, "CAND001") + [scanned(10, B, 1, label_unreadable=True), scanned(11, B, 2)]
    [no_label] = [a for a in check(pages).anomalies if a.kind == "no_label"]
    assert "could not be read" in no_label.message


def test_same_label_on_two_copies():
    result = check(booklet(0, A, "CAND001") + booklet(10, B, "CAND001"))
    assert kinds(result) == ["duplicate_label", "duplicate_label", "missing_copy"]
    assert {a.copy for a in result.anomalies if a.kind == "duplicate_label"} == {A, B}


def test_present_candidate_without_copy():
    result = check(booklet(0, A, "CAND001"))
    [missing] = result.anomalies
    assert missing.kind == "missing_copy" and missing.candidate == "CAND002" and missing.copy is None


def test_marking_a_missing_candidate_absent_records_an_absent_copy():
    result = check(booklet(0, A, "CAND001"), decisions=CopyDecisions(presence={"CAND002": False}))
    assert result.anomalies == []
    assert {r.candidate for r in result.copies if r.status == "absent"} == {"CAND002", "CAND003"}
    assert result.counts.absent == 2


def test_candidate_not_on_the_roll_then_admitted():
    pages = booklet(0, A, "CAND001") + booklet(10, B, "CAND002") + booklet(20, C, "STRANGER9")
    result = check(pages)
    assert kinds(result) == ["unexpected_copy"]
    admitted = check(pages, decisions=CopyDecisions(admitted={"STRANGER9": "moved from room 2"}))
    assert admitted.anomalies == [] and admitted.counts.registered == 4


def test_absent_candidate_with_a_copy():
    pages = booklet(0, A, "CAND001") + booklet(10, B, "CAND002") + booklet(20, C, "CAND003")
    result = check(pages)
    assert kinds(result) == ["absent_with_copy"]
    present = check(pages, decisions=CopyDecisions(presence={"CAND003": True}))
    assert present.anomalies == [] and present.counts.present == 3
    absent_copy = check(pages, decisions=CopyDecisions(absent_copies={C}))
    assert absent_copy.anomalies == [] and by_copy(absent_copy)[C].status == "absent"
    assert absent_copy.counts.absent == 1 and len(absent_copy.copies) == 3  # no second ABSENT copy


def test_blank_copy_all_pages_blank_and_blank_without_booklet():
    pages = booklet(0, A, "CAND001") + [
        scanned(10, B, 1, label="CAND002", blank=True),
        scanned(11, B, 2, blank=True),
    ]
    result = check(pages)
    assert result.anomalies == [] and by_copy(result)[B].status == "blank" and result.counts.blank == 1
    only_a = check(booklet(0, A, "CAND001"), decisions=CopyDecisions(blank_candidates={"CAND002"}))
    assert only_a.anomalies == []
    assert [r.candidate for r in only_a.copies if r.status == "blank"] == ["CAND002"]


def test_copy_marked_blank_by_the_operator():
    pages = booklet(0, A, "CAND001") + booklet(10, B, "CAND002")
    result = check(pages, decisions=CopyDecisions(blank_copies={B}))
    assert by_copy(result)[B].status == "blank"


def test_page_level_anomalies_come_through_sorted():
    pages = booklet(0, A, "CAND001") + booklet(10, B, "CAND002") + [scanned(20, C, 1, paper="U41")]
    result = check(pages)
    assert kinds(result) == ["foreign_page"]


# -- what the pages show: nothing written --------------------------------------------------------


def test_absent_candidates_labelled_booklet_with_nothing_written_is_his_absent_copy():
    pages = booklet(0, A, "CAND001") + booklet(10, B, "CAND002") + booklet(20, C, "CAND003", written=False)
    result = check(pages)
    assert result.anomalies == []
    absent = [r for r in result.copies if r.status == "absent"]
    assert [(r.copy, r.candidate, r.read_from_pages, r.recorded) for r in absent] == [
        (C, "CAND003", True, False)
    ]
    c = result.counts
    assert (c.registered, c.present, c.absent, c.blank, c.copies) == (3, 2, 1, 0, 3)


def test_absent_candidates_booklet_with_writing_keeps_the_anomaly():
    pages = booklet(0, A, "CAND001") + booklet(10, B, "CAND002") + booklet(20, C, "CAND003", written=True)
    result = check(pages)
    assert kinds(result) == ["absent_with_copy"] and by_copy(result)[C].status == "ok"
    # one written page is enough: the roll may be wrong
    mixed = booklet(0, A, "CAND001") + booklet(10, B, "CAND002")
    mixed += [scanned(20, C, 1, label="CAND003", written=False), scanned(21, C, 2, written=True)]
    assert kinds(check(mixed)) == ["absent_with_copy"]


def test_present_candidates_booklet_with_nothing_written_is_blank():
    pages = booklet(0, A, "CAND001") + booklet(10, B, "CAND002", written=False)
    result = check(pages)
    assert result.anomalies == []
    copy = by_copy(result)[B]
    assert (copy.status, copy.read_from_pages, result.counts.blank) == ("blank", True, 1)
    assert by_copy(result)[A].status == "ok" and not by_copy(result)[A].read_from_pages


def test_nothing_written_is_not_read_when_unsure():
    # a page not measured (no code read, an old lot), an annex, a sheet missing, no label
    unmeasured = booklet(0, A, "CAND001") + [
        scanned(10, B, 1, label="CAND002", written=False),
        scanned(11, B, 2, written=None),
    ]
    assert by_copy(check(unmeasured))[B].status == "ok"
    annex = booklet(0, A, "CAND001") + booklet(10, B, "CAND002", written=False) + [scanned(12)]
    assert by_copy(check(annex))[B].status == "ok"
    short = booklet(0, A, "CAND001", pages=3) + booklet(10, B, "CAND002", pages=2, written=False)
    result = check(short)
    assert by_copy(result)[B].status == "incomplete" and kinds(result) == ["missing_page"]
    nameless = booklet(0, A, "CAND001") + booklet(10, B, None, written=False)
    result = check(nameless)
    assert by_copy(result)[B].status == "ok" and "no_label" in kinds(result)
    # once the secretary reads the label, the copy is what its pages show
    labelled = check(nameless, decisions=CopyDecisions(labels={B: "CAND003"}))
    assert by_copy(labelled)[B].status == "absent"
    assert kinds(labelled) == ["missing_copy"]  # CAND002, present, still has no copy


def test_the_operator_overrides_what_the_pages_show():
    pages = booklet(0, A, "CAND001") + booklet(10, B, "CAND002", written=False)
    pages += booklet(20, C, "CAND003", written=False)
    written = check(pages, decisions=CopyDecisions(written_copies={B, C}))
    assert by_copy(written)[B].status == "ok" and by_copy(written)[C].status == "ok"
    assert kinds(written) == ["absent_with_copy"]  # the roll says absent: now it is a question again
    # the roll was wrong: he sat the paper and handed in nothing
    present = check(pages, decisions=CopyDecisions(presence={"CAND003": True}))
    assert by_copy(present)[C].status == "blank" and present.anomalies == []
