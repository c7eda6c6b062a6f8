"""`massicot scan review DIR` in headless Chromium: anomalies with thumbnails, resolved from the page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from testkit.browser import ARGS, CHROMIUM
from testkit.missing import need
from testkit.station import journal_entries, report_of, run_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def review(sample_pile, tmp_path):
    """A lot imported from the sample pile, and its review page served by the real command."""
    need(CHROMIUM)
    from playwright.sync_api import sync_playwright

    lot = tmp_path / "lot"
    done = run_cli(
        "scan",
        "import",
        str(sample_pile.jpeg),
        "--paper",
        "U3",
        "--roll",
        str(sample_pile.roll),
        "--lot",
        str(lot),
        "--quiet",
        "--workers",
        "1",
    )
    assert done.returncode == 0, done.stderr
    command = [
        str(Path(sys.executable).with_name("massicot")),
        "scan",
        "review",
        str(lot),
        "--no-open",
        "--by",
        "reviewer",
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("Review page: http://127.0.0.1:"), line + server.stderr.read()
        url = line.split()[2]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                page = browser.new_page()
                page.set_default_timeout(30_000)
                yield lot, url, page
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def _kinds(page) -> list[str]:
    return page.locator("article.anomaly").evaluate_all("els => els.map(e => e.dataset.kind)")


def test_review_page_shows_anomalies_with_thumbnails_and_resolves_them(review, sample_pile):
    lot, url, page = review
    page.goto(url)
    kinds = _kinds(page)
    expected = sorted(a["kind"] for a in report_of(lot)["anomalies"])
    assert sorted(kinds) == expected
    assert {"duplicate_page", "no_label", "uncoded_page", "missing_copy"} <= set(kinds)
    # every thumbnail is a real image of the page
    images = page.locator("article.anomaly img")
    assert images.count() >= len(
        [k for k in kinds if k in ("duplicate_page", "uncoded_page", "foreign_page")]
    )
    widths = images.evaluate_all("imgs => Promise.all(imgs.map(i => i.decode().then(() => i.naturalWidth)))")
    assert all(width > 100 for width in widths)

    # 1. a page scanned twice: set the second scan aside (the reason is offered)
    duplicate = page.locator("article[data-kind=duplicate_page]").first
    source = duplicate.get_attribute("data-source")
    duplicate.locator("form[data-action=discard] button").click()
    page.wait_for_load_state()
    assert f"{source} discarded: scanned twice" in page.locator(".said").inner_text()
    assert page.locator(f"article[data-kind=duplicate_page][data-source='{source}']").count() == 0

    # 2. a wrong copy number is refused in plain words, nothing recorded
    decisions_before = len(journal_entries(lot, "decision"))
    uncoded = page.locator("article[data-kind=uncoded_page]").first
    assign = uncoded.locator("form[data-action=assign]")
    assign.locator("input[name=copy]").fill("NOTACOPY1")
    assign.locator("button").click()
    page.wait_for_load_state()
    assert "is not a copy number" in page.locator(".error").inner_text()
    assert len(journal_entries(lot, "decision")) == decisions_before

    # 3. the annex attached to the copy before it: confirmed
    uncoded = page.locator("article[data-kind=uncoded_page]").first
    annex_source = uncoded.get_attribute("data-source")
    uncoded.locator("form[data-action=confirm-annex] button").click()
    page.wait_for_load_state()
    assert "confirmed as an annex of copy" in page.locator(".said").inner_text()

    # 4. a copy whose label is missing: the secretary reads it on the sheet and records it
    no_label = page.locator("article[data-kind=no_label]").first
    copy = no_label.get_attribute("data-copy")
    truth = next(c for c in sample_pile.truth.copies if c.copy_id == copy)
    no_label.locator("input[name=candidate]").fill(truth.candidate)
    no_label.locator("form[data-action=label] button").click()
    page.wait_for_load_state()
    assert (
        f"copy {copy} recorded as the copy of candidate {truth.candidate}"
        in page.locator(".said").inner_text()
    )

    # 5. a present candidate without a copy: the roll was wrong, he was absent
    missing = page.locator("article[data-kind=missing_copy]").first
    candidate = missing.get_attribute("data-candidate")
    missing.locator("form[data-action=mark-absent] button").click()
    page.wait_for_load_state()
    assert f"candidate {candidate}: absent recorded" in page.locator(".said").inner_text()
    assert page.locator(f"article[data-kind=missing_copy][data-candidate='{candidate}']").count() == 0

    # 6. a copy with a page missing: rescan it (its pages are set aside, kept in the record)
    incomplete = page.locator("article[data-kind=missing_page]").first
    copy_missing = incomplete.get_attribute("data-copy")
    incomplete.locator("form[data-action=rescan] button").click()
    page.wait_for_load_state()
    assert f"of copy {copy_missing} are set aside" in page.locator(".said").inner_text()

    # the same journal as the CLI: who decided, and the report agrees with the page
    decisions = journal_entries(lot, "decision")
    assert [d["action"] for d in decisions[-5:]] == [
        "discard",
        "confirm-annex",
        "label",
        "mark-absent",
        "rescan",
    ]
    assert {d["by"] for d in decisions} == {"reviewer"}
    report = report_of(lot)
    assert sorted(_kinds(page)) == sorted(a["kind"] for a in report["anomalies"])
    assert not any(a["source"] == annex_source for a in report["anomalies"])
    assert (
        page.locator("#summary")
        .inner_text()
        .endswith(f"anomalies to resolve {len(report['anomalies']) + len(report['blocking'])}")
    )


def test_review_page_shows_what_is_worth_a_look_and_undoes_decisions(review):
    lot, url, page = review
    page.goto(url)
    # every notice of the report is on the page, with the sheets to look at
    notices = report_of(lot)["notices"]
    shown = page.locator("article.notice").evaluate_all(
        "els => els.map(e => [e.dataset.kind, e.dataset.copy])"
    )
    assert sorted(shown) == sorted([n["kind"], n["copy"] or ""] for n in notices)
    read_from_pages = [n for n in notices if n["kind"] in ("blank_copy", "absent_copy")]
    assert read_from_pages, "the sample pile has copies with nothing written"
    target = read_from_pages[0]
    notice = page.locator(f"article.notice[data-copy='{target['copy']}'][data-kind={target['kind']}]")
    assert notice.locator("img").count() >= 1
    assert "mark-written" in notice.inner_text() and str(lot) in notice.inner_text()

    # the secretary looks at the sheets: they do carry answers
    notice.locator("form[data-action=mark-written] button").click()
    page.wait_for_load_state()
    assert f"copy {target['copy']}: written recorded" in page.locator(".said").inner_text()
    assert (
        page.locator(f"article.notice[data-copy='{target['copy']}'][data-kind={target['kind']}]").count() == 0
    )
    status = {c["copy"]: c["status"] for c in report_of(lot)["copies"]}
    assert status[target["copy"]] not in ("blank", "absent")
    written = journal_entries(lot, "decision")[-1]
    assert (written["action"], written["copy"], written["by"]) == ("mark-written", target["copy"], "reviewer")

    # a decision taken by mistake is undone from the list; without a reason nothing happens
    row = page.locator(f"#decisions tr[data-decision='{written['id']}']")
    assert row.get_attribute("data-action") == "mark-written"
    decisions_before = len(journal_entries(lot, "decision"))
    row.locator("input[name=reason]").fill("   ")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "fill in 'reason' to undo" in page.locator(".error").inner_text()
    assert len(journal_entries(lot, "decision")) == decisions_before
    row = page.locator(f"#decisions tr[data-decision='{written['id']}']")
    row.locator("input[name=reason]").fill("wrong copy")
    row.locator("button").click()
    page.wait_for_load_state()
    assert f"decision {written['id']} (mark-written by reviewer" in page.locator(".said").inner_text()
    assert page.locator(f"#decisions tr[data-decision='{written['id']}']").count() == 0
    assert (
        page.locator(f"article.notice[data-copy='{target['copy']}'][data-kind={target['kind']}]").count() == 1
    )
    undo = journal_entries(lot, "decision")[-1]
    assert (undo["action"], undo["decision"], undo["reason"]) == ("undo", written["id"], "wrong copy")


def test_review_page_refuses_other_hosts_and_forged_forms(review):
    import httpx

    lot, url, _ = review
    port = url.rsplit(":", 1)[1].strip("/")
    other_host = httpx.get(url, headers={"Host": f"evil.example:{port}"})
    assert other_host.status_code == 403
    forged = httpx.post(url + "decide", data={"action": "mark-absent", "target": "C1000", "csrf": "guess"})
    assert forged.status_code == 403
    assert journal_entries(lot, "decision") == []


def test_review_of_a_folder_that_is_not_a_lot(tmp_path):
    done = run_cli("scan", "review", str(tmp_path), "--no-open")
    assert done.returncode == 2 and "is not a scan lot" in done.stderr


def test_review_port_taken_is_said_in_plain_words(review):
    lot, url, _ = review
    port = url.rsplit(":", 1)[1].strip("/")
    done = run_cli("scan", "review", str(lot), "--no-open", "--port", port)
    assert done.returncode == 2 and "is not free" in done.stderr
