"""Grouping pages into copies, with page analyses built by hand (no images)."""

from __future__ import annotations

from dataclasses import replace

from scanner.grouping import expected_page_count, group_pages
from testkit.lot import PAPER, copy_ids, scanned

A, B = copy_ids(2)


def kinds(grouping) -> list[str]:
    return sorted(a.kind for a in grouping.anomalies)


def numbers(grouping, copy: str) -> list[int | None]:
    return [p.number for p in grouping.copies[copy].pages]


def test_pages_grouped_by_copy_and_ordered_by_number_whatever_the_scan_order():
    pages = [
        scanned(0, A, 3),
        scanned(1, B, 2),
        scanned(2, A, 1, label="AB1234"),
        scanned(3, B, 1),
        scanned(4, A, 2),
    ]
    grouping = group_pages(pages, PAPER)
    assert numbers(grouping, A) == [1, 2, 3]
    assert numbers(grouping, B) == [1, 2]
    assert grouping.copies[A].label_registration == "AB1234"
    assert grouping.anomalies == [] and grouping.unassigned == []


def test_uncoded_page_is_attached_to_the_copy_scanned_before_it_and_flagged():
    pages = [scanned(0, A, 1), scanned(1, A, 2), scanned(2), scanned(3, B, 1)]
    grouping = group_pages(pages, PAPER)
    assert numbers(grouping, A) == [1, 2, None]
    annex = grouping.copies[A].pages[2]
    assert annex.annex and not annex.confirmed
    assert kinds(grouping) == ["uncoded_page"]
    assert grouping.anomalies[0].copy == A and grouping.anomalies[0].source == "scan.pdf#2"


def test_annex_sits_after_the_page_it_was_scanned_after():
    pages = [scanned(0, A, 1), scanned(1), scanned(2, A, 2)]
    grouping = group_pages(pages, PAPER)
    assert numbers(grouping, A) == [1, None, 2]


def test_confirmed_annex_raises_no_anomaly():
    pages = [scanned(0, A, 1), scanned(1, assigned_copy=A, assigned_number=None)]
    grouping = group_pages(pages, PAPER)
    assert numbers(grouping, A) == [1, None]
    assert grouping.copies[A].pages[1].confirmed
    assert grouping.anomalies == []


def test_uncoded_page_before_any_copy_is_set_aside():
    grouping = group_pages([scanned(0), scanned(1, A, 1)], PAPER)
    assert kinds(grouping) == ["uncoded_page"]
    assert grouping.anomalies[0].copy is None
    assert [u.source for u in grouping.unassigned] == ["scan.pdf#0"]


def test_blank_verso_is_kept_in_the_record_not_in_a_copy():
    pages = [scanned(0, A, 1), scanned(1, blank=True), scanned(2, A, 2)]
    grouping = group_pages(pages, PAPER)
    assert numbers(grouping, A) == [1, 2]
    assert grouping.anomalies == []
    [verso] = grouping.unassigned
    assert verso.blank_verso and verso.source == "scan.pdf#1"


def test_blank_booklet_page_stays_in_its_copy():
    grouping = group_pages([scanned(0, A, 1), scanned(1, A, 2, blank=True)], PAPER)
    assert numbers(grouping, A) == [1, 2]


def test_same_page_of_same_copy_twice_is_a_duplicate():
    pages = [scanned(0, A, 1), scanned(1, A, 2), scanned(2, A, 2)]
    grouping = group_pages(pages, PAPER)
    assert numbers(grouping, A) == [1, 2]
    assert kinds(grouping) == ["duplicate_page"]
    assert grouping.anomalies[0].source == "scan.pdf#2"
    assert [u.source for u in grouping.unassigned] == ["scan.pdf#2"]


def test_discarding_the_duplicate_resolves_it():
    pages = [scanned(0, A, 1), scanned(1, A, 2), scanned(2, A, 2, discarded="scanned twice")]
    grouping = group_pages(pages, PAPER)
    assert grouping.anomalies == []
    assert grouping.unassigned[0].discarded


def test_page_of_another_paper_is_foreign():
    grouping = group_pages([scanned(0, A, 1), scanned(1, B, 2, paper="U41")], PAPER)
    assert kinds(grouping) == ["foreign_page"]
    assert B not in grouping.copies
    assert "U41" in grouping.anomalies[0].message


def test_codes_that_disagree_are_unreadable():
    grouping = group_pages([scanned(0, A, 1), scanned(1, disagree=True)], PAPER)
    assert kinds(grouping) == ["unreadable_code"]
    assert numbers(grouping, A) == [1]


def test_a_label_without_page_codes_is_never_made_an_annex():
    # a page 1 with its codes smudged: attaching it unmasked would show the candidate's name
    grouping = group_pages([scanned(0, A, 2), scanned(1, label="AB1234")], PAPER)
    assert kinds(grouping) == ["unreadable_code"]
    assert numbers(grouping, A) == [2]


def test_undecodable_page_is_set_aside_without_anomaly():
    page = replace(scanned(1, A, 1), analysis=None, error="the page could not be read: truncated")
    grouping = group_pages([scanned(0, B, 1), page], PAPER)
    assert grouping.anomalies == []
    [entry] = grouping.unassigned
    assert entry.undecodable and "truncated" in entry.reason


def test_rescanned_pages_are_set_aside_and_the_new_scan_takes_their_place():
    old = [scanned(0, A, 1, superseded="copy rescanned"), scanned(1, A, 2, superseded="copy rescanned")]
    new = [scanned(2, A, 1), scanned(3, A, 2)]
    grouping = group_pages(old + new, PAPER)
    assert [p.page.order for p in grouping.copies[A].pages] == [2, 3]
    assert grouping.anomalies == []
    assert all(u.discarded for u in grouping.unassigned)


def test_operator_assignment_places_an_unreadable_page():
    page = scanned(1, disagree=True, assigned_copy=A, assigned_number=2)
    grouping = group_pages([scanned(0, A, 1), page], PAPER)
    assert numbers(grouping, A) == [1, 2]
    assert grouping.anomalies == []


def test_expected_page_count_is_the_most_common_last_page_unless_declared():
    pages = [scanned(i, c, n) for i, (c, n) in enumerate([(A, 1), (A, 2), (A, 3), (A, 4), (B, 1), (B, 2)])]
    pages += [scanned(10 + n, C, n) for n in range(1, 5)]
    grouping = group_pages(pages, PAPER)
    assert expected_page_count(grouping, None) == 4
    assert expected_page_count(grouping, 6) == 6


C = copy_ids(3, seed=99)[2]


def test_uncoded_page_after_a_foreign_copy_is_not_given_to_ours():
    grouping = group_pages([scanned(0, A, 1), scanned(1, B, 1, paper="U41"), scanned(2)], PAPER)
    assert numbers(grouping, A) == [1]
    assert kinds(grouping) == ["foreign_page", "uncoded_page"]
    [uncoded] = [a for a in grouping.anomalies if a.kind == "uncoded_page"]
    assert uncoded.copy is None and "U41" in uncoded.message
    assert "scan.pdf#2" in {u.source for u in grouping.unassigned}
