"""The coordinator's page and the office's exports in headless Chromium, against a real server
process on 127.0.0.1 (the `Server` helper of the marking browser tests).

A generated session of 10 correctors, one of them harsh: the coordinator sees progress move
live, the flag in plain words and the chart, asks a second reading and reassigns a lot; no
candidate identity ever appears on his pages. The office then finds the export blocked, declares
what is missing, downloads the CSV and the XLSX, holds a candidate and downloads the payment CSV.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.marking.saving import SaveRequest, save
from correction_server.models import Marking
from correction_server.pages.store import LocalStore
from testkit.browser import CHROMIUM, SCREENSHOT_DIR, Server, log_in, served_in_chromium
from testkit.missing import need
from testkit.worlds.coordination import build_world

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a long coordinator password"


@pytest.fixture
def site(fresh_database, tmp_path):
    need(CHROMIUM)
    url = fresh_database("sqlite")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    store = LocalStore(tmp_path / "store")
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (620, 877), 245).save(buffer, "JPEG")
    sha = store.put(buffer.getvalue())
    world = build_world(
        factory,
        tmp_path,
        candidates=400,
        correctors=10,
        bias={3: -3.0},
        mark="direct",
        leave_unmarked=3,
        absent_every=23,
        image_shas=[sha, sha],
        password_hash=auth.hash_password(PASSWORD),
    )
    try:
        with served_in_chromium(url, tmp_path) as (server, browser):
            yield world, server, browser, factory
    finally:
        engine.dispose()


def login(browser, server: Server, username: str, next_path: str):
    return log_in(browser, server, username, next_path, PASSWORD, accept_downloads=True)


def test_the_coordinator_follows_harmonises_and_acts_without_seeing_identities(site):
    world, server, browser, factory = site
    context, page = login(browser, server, "coordinator@ac.fr", "/coordination")
    page.get_by_role("link", name="U3").first.click()
    page.wait_for_url(f"**/coordination/papers/{world.paper_id}")
    harsh_name = "Corrector03"
    summary = page.locator("#flag-summary")
    assert harsh_name in summary.inner_text()
    flagged_rows = page.locator("#correctors-table tr.flagged th").all_inner_texts()
    assert [r.strip("⚠ ").strip() for r in flagged_rows] == [harsh_name]
    assert page.locator("svg.chart circle[fill='#a4000f']").count() == 1
    assert "permutation" in page.locator("details").inner_text()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "coordinator_page.png"), full_page=True)
    html = page.content()
    for registration in world.copies.values():
        assert registration not in html  # never an identity on the coordinator's page

    # Live progress: a corrector finishes a copy; the block refreshes without reloading the page.
    first = min(world.lots)
    row = page.locator(f"#progress-correctors tr[data-corrector='{first}'] .marked")
    before = int(row.inner_text())
    todo = world.lots[first][-1]
    with factory() as session:
        request = (
            SaveRequest(version=0, special="AB")
            if world.status[todo].value == "absent"
            else SaveRequest(
                version=0, marks={q: "1" for q in world.question_ids}, appreciation="Ok."
            )
        )
        save(session, first, todo, request)
    page.evaluate("document.getElementById('progress').dispatchEvent(new Event('massicot:refresh'))")
    page.wait_for_function(
        f"() => document.querySelector(\"#progress-correctors tr[data-corrector='{first}'] .marked\")"
        f".textContent.trim() === '{before + 1}'"
    )

    # Second reading of a copy of the harsh corrector, by someone else.
    harsh = sorted(world.correctors.values())[3]
    copy_id = next(c for c in world.lots[harsh] if world.status[c].value == "ok")
    page.fill("#second-copy", copy_id)
    readers = page.locator("#second-reader option").all()
    for option in readers:
        value = option.get_attribute("value")
        if int(value) in (harsh,):
            continue
        page.select_option("#second-reader", value)
        page.fill("#second-copy", copy_id)
        page.click("#second-form button")
        page.wait_for_load_state()
        if page.locator("#readings-table").count():
            break
    assert copy_id in page.locator("#readings-table").inner_text()

    # Reassign the first corrector's lot (the copies not yet marked) to two others.
    page.select_option("#lot_id", index=1)
    boxes = page.locator("#reassign-form input[name=to]")
    boxes.nth(5).check()
    boxes.nth(6).check()
    page.fill("#reassign-reason", "arrêt maladie")
    page.click("#reassign-form button")
    page.wait_for_load_state()
    assert page.locator(".flash.ok").count() == 1, page.locator(".flash").all_inner_texts()
    context.close()


def test_the_office_exports_for_the_jury_and_the_payment(site):
    world, server, browser, factory = site
    context, page = login(browser, server, "office@rectorat.fr", "/office/closing")
    page.get_by_role("link", name="U3").first.click()
    page.wait_for_url(f"**/office/closing/papers/{world.paper_id}")
    # No export before the harmonisation meeting; the office records it on the page.
    assert page.locator("#export-needs-meeting").count() == 1
    page.fill("#harmo-attendees", "IA-IPR, correcteurs")
    page.fill("#harmo-minutes", "Barème appliqué, pas de modification.")
    page.click("#harmonisation-form button")
    page.wait_for_load_state()
    assert page.locator("#harmonisation-held").count() == 1
    assert page.locator("#export-blocked").count() == 1
    # Mark the three copies left unmarked, as their corrector would.
    first = min(world.lots)
    with factory() as session:
        for copy_id in world.lots[first][-3:]:
            if session.scalar(select(Marking.id).where(Marking.copy_id == copy_id)):
                continue
            request = (
                SaveRequest(version=0, special="AB")
                if world.status[copy_id].value == "absent"
                else SaveRequest(
                    version=0, marks={q: "2" for q in world.question_ids}, appreciation="Ok."
                )
            )
            save(session, first, copy_id, request)
    page.reload()
    assert page.locator("#export-blocked").count() == 0
    with page.expect_download() as download:
        page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 400
    assert {r["registration"] for r in rows} == set(world.copies.values())
    absent = {world.copies[c] for c, s in world.status.items() if s.value == "absent"}
    assert {r["registration"] for r in rows if r["mark"] == "AB"} == absent
    with page.expect_download() as download:
        page.click("#export-xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert sheet.max_row == 401 and sheet["A1"].value == "registration"
    page.screenshot(path=str(SCREENSHOT_DIR / "office_paper.png"), full_page=True)

    # A fraud hold: listed for the office; the jury still gets the mark, flagged.
    held = sorted(world.copies.values())[0]
    page.goto("/office/closing")
    page.fill("#hold-reg", held)
    page.fill("#hold-reason", "procédure disciplinaire")
    page.click("#hold-form button")
    page.wait_for_load_state()
    assert held in page.locator("#holds-table").inner_text()
    with page.expect_download() as download:
        page.click("#payment-csv")
    payment = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert sum(int(r["copies_marked"]) for r in payment) == len(world.copies)
    response = page.request.get(f"/office/closing/papers/{world.paper_id}/export.csv")
    rows = {r["registration"]: r for r in csv.DictReader(io.StringIO(response.text()))}
    assert rows[held]["status"] == "marked" and rows[held]["mark"] != ""
    assert rows[held]["procedure"] == "under fraud procedure"
    with page.expect_download() as download:
        page.goto(f"/office/closing/papers/{world.paper_id}")
        page.click("#export-anonymised")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "copy_id,mark,status,procedure" in text and held not in text
    context.close()


def test_the_coordinator_previews_a_harmonisation_change_then_applies_it(site):
    """The preview shows the distributions before and after (table, histogram, each corrector's
    average) and writes nothing; applying it changes the harsh corrector's copies only, and he
    reads on his home what was changed and why."""
    world, server, browser, factory = site
    harsh = sorted(world.correctors.values())[3]
    harsh_name = next(u for u, i in world.correctors.items() if i == harsh)
    context, page = login(browser, server, "coordinator@ac.fr", f"/coordination/papers/{world.paper_id}")
    page.click("#harmonisation-meeting-link")
    page.wait_for_url(f"**/coordination/papers/{world.paper_id}/harmonisation")
    assert page.locator("#meeting-none").count() == 1
    page.fill("#meeting-attendees", "IA-IPR, 10 correcteurs")
    page.fill("#meeting-minutes", "Lecture trop sévère de l'exercice 2 par un correcteur.")
    page.click("#meeting-form button")
    page.wait_for_url("**/harmonisation?done=1")
    assert page.locator("#meeting-held").count() == 1
    # Keyboard: the change form is reached and filled without the mouse.
    page.focus("#kind-corrector")
    page.keyboard.press("Space")
    page.select_option("#rule-corrector", str(harsh))
    page.fill("#rule-delta", "1,5")
    page.fill("#rule-reason", "exercice 2 lu trop sévèrement")
    page.focus("#preview-go")
    page.keyboard.press("Enter")
    page.wait_for_selector("#preview")
    before = page.locator("#stats-before td").all_inner_texts()
    after = page.locator("#stats-after td").all_inner_texts()
    assert before[0] == after[0]  # the same copies
    mean_before, mean_after = (float(x[1].replace(",", ".")) for x in (before, after))
    assert mean_after > mean_before
    assert page.locator("#preview-histogram svg").count() == 1
    assert page.locator("#preview-means svg").count() == 1
    rows = {r.split("\t")[0]: r for r in page.locator("#preview-correctors tbody tr").all_inner_texts()}
    assert len(rows) == 10
    page.screenshot(path=str(SCREENSHOT_DIR / "harmonisation_preview.png"), full_page=True)
    from correction_server.models import HarmonisedMark

    with factory() as session:
        assert session.scalar(select(HarmonisedMark.id)) is None  # the preview wrote nothing
        marks = {c: m for c, m in session.execute(select(Marking.copy_id, Marking.mark_20))}
    changed_expected = page.locator("#preview-changes tbody tr").count()
    page.click("#apply-go")
    page.wait_for_url("**/harmonisation?applied=*")
    assert page.locator(".flash.ok").count() == 1
    with factory() as session:
        changed = session.scalars(select(HarmonisedMark)).all()
    assert len(changed) == changed_expected > 0
    assert {h.corrector_id for h in changed} == {harsh}
    assert all(h.after == min(Decimal(20), marks[h.copy_id] + Decimal("1.5")) for h in changed)
    context.close()
    context, page = login(browser, server, harsh_name, "/marking")
    assert "exercice 2 lu trop sévèrement" in page.locator("#harmonised").inner_text()
    context.close()
