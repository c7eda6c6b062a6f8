"""The station console driven in Chromium through whole evenings, against a real server process.

- a hot-folder evening: start → watch the folder → resolve every anomaly → room report → seal →
  send while the server is down (the lot stays queued and says so) → the server comes back and the
  console's sender delivers it → the server holds the lot and its room report;
- the console killed in the middle of an evening and started again: the lot is offered first,
  nothing is lost, nothing is taken twice;
- a SANE evening on the `test` device with a jam and an empty feeder, answered with "Continue".

Screenshots of each step (French) go to docs/screenshots/station-*.png when MASSICOT_DOC_SHOTS=1.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from massicot_core.roll import RollLine
from testkit.browser import ARGS, CHROMIUM
from testkit.console import ConsoleProcess
from testkit.missing import need
from testkit.push_helpers import CENTRE_A
from testkit.push_setup import ServerProcess, seed_exam
from testkit.station import journal_entries, write_roll

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(400)]
DOC_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WAIT_MS = 120_000


def _shot(page, name: str) -> None:
    if os.environ.get("MASSICOT_DOC_SHOTS") == "1":
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_SHOTS / f"station-{name}.png"), full_page=True)


@pytest.fixture
def browser():
    need(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def evening(db_url: str, tmp_path: Path):
    """A seeded server, the room's roll with the server's candidates, and the room's scans."""
    from testkit.samples.defects import DefectPlan
    from testkit.samples.session import generate_session

    exam = seed_exam(db_url, {CENTRE_A: 5})
    regs = exam.candidates[CENTRE_A]
    roll_lines = [RollLine(reg, f"Candidat {i}", present=i != 3) for i, reg in enumerate(regs)]
    roll = write_roll(tmp_path / "roll.csv", roll_lines)
    pile = tmp_path / "pile"
    generate_session(
        pile, "U3", roll_lines, pages=4, dpi=150, seed=11,
        defects=DefectPlan.parse("annex=1,upside_down=1"), formats=("jpeg",),
    )  # fmt: skip
    token = tmp_path / "token"
    token.write_text(exam.tokens[CENTRE_A] + "\n")
    server = ServerProcess(db_url, tmp_path / "store", tmp_path / "server-data").start()
    yield {"db_url": db_url, "roll": roll, "pile": pile, "token": token, "server": server, "tmp": tmp_path}
    server.stop()


def _console(evening, *extra: str) -> ConsoleProcess:
    return ConsoleProcess(
        evening["tmp"] / "station",
        "--server", evening["server"].url, "--token-file", str(evening["token"]),
        "--settle", "0.3", "--retry-first", "0.5", "--send-patience", "2", *extra,
    )  # fmt: skip


def _stop(console: ConsoleProcess) -> None:
    # Printed, so that a failing test shows what the console said (pytest shows it only then).
    console.stop()
    if console.log.exists():
        print(console.log.read_text(errors="replace")[-4000:])


def _start_lot(page, console: ConsoleProcess, roll: Path) -> str:
    page.goto(console.url + "/start")
    page.fill("input[name=paper]", "U3")
    page.fill("input[name=centre]", CENTRE_A)
    page.set_input_files("input[name=roll_file]", str(roll))
    _shot(page, "1-start")
    page.click("#new-lot button[type=submit]")
    page.wait_for_url("**/scan")
    return page.url.rsplit("/lots/", 1)[1].split("/")[0]


def _pages_shown(page) -> int:
    return int(page.text_content("#count-pages") or 0)


def _resolve_everything(page) -> Counter:
    """Take the decision that fits each anomaly, as the secretary would with the sheets in hand."""
    kinds: Counter = Counter()
    for _ in range(40):
        articles = page.locator("article.anomaly")
        if articles.count() == 0:
            return kinds
        first = articles.first
        kind = first.get_attribute("data-kind")
        kinds[kind] += 1
        if kind == "uncoded_page":
            form = first.locator("form[data-action=confirm-annex]")
            if first.get_attribute("data-copy") == "":
                form = first.locator("form[data-action=discard]")
                form.locator("input[name=reason]").fill("mire du scanner")
        elif kind in ("duplicate_page", "foreign_page"):
            form = first.locator("form[data-action=discard]")
            form.locator("input[name=reason]").fill("en double")
        elif kind == "missing_copy":
            form = first.locator("form[data-action=mark-absent]")
        else:
            raise AssertionError(f"no decision planned for {kind}")
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("#error").count() == 0, page.text_content("#error")
    raise AssertionError("anomalies keep coming")


def _room_report_and_seal(page, console: ConsoleProcess, name: str, sheet: Path) -> None:
    page.goto(f"{console.url}/lots/{name}/seal")
    page.click("#seal-button")
    assert "procès-verbal de salle n'est pas encore dans le lot" in page.text_content("#error")
    page.goto(f"{console.url}/lots/{name}/room")
    page.fill("input[name=room]", "Salle B12")
    page.fill("textarea[name=late]", "Candidat 2 (9 h 20)")
    page.fill("textarea[name=incidents]", "Coupure de courant de 5 minutes à 10 h.")
    page.set_input_files("input[name=signing_sheet]", str(sheet))
    _shot(page, "4-room-report")
    page.click("#save-room")
    page.wait_for_url("**/seal?*")
    _shot(page, "5-seal")
    page.click("#seal-button")
    page.wait_for_url("**/send?*")


def test_hot_folder_evening_to_the_server_through_a_network_cut(browser, evening):
    console = _console(evening).start()
    hot = evening["tmp"] / "scanner-exports"
    hot.mkdir()
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        name = _start_lot(page, console, evening["roll"])
        page.fill("input[name=folder]", str(hot))
        page.click("#source-watch button")
        page.wait_for_selector("text=Numérisation en cours")
        scans = sorted((evening["pile"] / "jpeg").iterdir())
        for path in scans:
            shutil.copy(path, hot / path.name)
        page.wait_for_function(
            f"Number(document.getElementById('count-pages').textContent) >= {len(scans)}", timeout=WAIT_MS
        )
        page.wait_for_selector("#last-pages img")
        _shot(page, "2-scan")
        page.click("#finish")
        page.wait_for_url("**/check", timeout=WAIT_MS)
        page.fill("#operator input[name=name]", "Mme Secrétaire")
        page.click("#save-operator")
        page.wait_for_selector("#decided-by")
        _shot(page, "3-check")
        kinds = _resolve_everything(page)
        assert kinds["uncoded_page"] >= 1, kinds  # the annex, confirmed
        page.wait_for_selector("#nothing-left")
        envelope = page.text_content("#envelope-line")
        assert "5 copies" in envelope and "1 absents" in envelope, envelope

        _room_report_and_seal(page, console, name, scans[0])
        evening["server"].stop()  # the network goes away just before sending
        page.click("#send-button")
        page.wait_for_function(
            "document.getElementById('send-state').dataset.state === 'waiting'", timeout=WAIT_MS
        )
        assert "reste en attente" in page.text_content("#send-state")
        _shot(page, "6-send-waiting")
        evening["server"].start()  # back: the console's sender delivers it on its own
        page.wait_for_function(
            "document.getElementById('send-state').dataset.state === 'sent'", timeout=WAIT_MS
        )
        assert "Le serveur a bien reçu le lot : 5 copies" in page.text_content("#send-state")
        _shot(page, "7-sent")
    finally:
        _stop(console)

    engine = create_engine(evening["db_url"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM scan_lot")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM copy")).scalar() == 5
        report = json.loads(conn.execute(text("SELECT report_json FROM room_report")).scalar())
    engine.dispose()
    assert report["room"] == "Salle B12" and report["incidents"].startswith("Coupure de courant")
    assert report["late"] == ["Candidat 2 (9 h 20)"] and report["absent"] == ["Candidat 3"]
    (sheet,) = report["documents"]
    assert sheet["kind"] == "signing_sheet"
    from correction_server.pages.store import LocalStore

    with LocalStore(evening["tmp"] / "store").open(sheet["sha256"]) as handle:
        assert handle.read() == scans[0].read_bytes()


def test_console_killed_mid_evening_offers_the_lot_again_and_loses_nothing(browser, evening):
    console = _console(evening).start()
    hot = evening["tmp"] / "scanner-exports"
    hot.mkdir()
    scans = sorted((evening["pile"] / "jpeg").iterdir())
    half = len(scans) // 2
    try:
        page = browser.new_page()
        name = _start_lot(page, console, evening["roll"])
        page.fill("input[name=folder]", str(hot))
        page.click("#source-watch button")
        page.wait_for_selector("text=Numérisation en cours")
        for path in scans[:half]:
            shutil.copy(path, hot / path.name)
        page.wait_for_function(
            f"Number(document.getElementById('count-pages').textContent) >= {half // 2}", timeout=WAIT_MS
        )
        console.kill()  # in the middle of taking the files
        for path in scans[half:]:
            shutil.copy(path, hot / path.name)
        console.start()
        page.goto(console.url + "/start")
        resume = page.locator(f"#resume li[data-lot='{name}'] a")
        assert resume.count() == 1, "the unfinished lot is not offered first"
        resume.click()
        page.wait_for_url(f"**/lots/{name}/scan")
        page.fill("input[name=folder]", str(hot))
        page.click("#source-watch button")
        lot = evening["tmp"] / "station" / "lots" / name
        page.wait_for_function("document.getElementById('count-pages') !== null", timeout=WAIT_MS)
        import time

        deadline = time.monotonic() + 120
        while len(journal_entries(lot, "received")) < len(scans) and time.monotonic() < deadline:
            time.sleep(0.3)
        page.click("#finish")
        page.wait_for_url("**/check", timeout=WAIT_MS)
    finally:
        _stop(console)
    received = journal_entries(lot, "received")
    assert len(received) == len(scans), "a page was lost or taken twice"
    assert max(Counter(e["sha256"] for e in received).values()) == 1
    done = {p.name for p in (hot / ".massicot-done").iterdir()}
    assert done == {p.name for p in scans}


def test_sane_evening_with_a_jam_and_an_empty_feeder(browser, evening, sane_test_device):
    """The test device: 3 pages, a jam, Continue; then the feeder's 10 sheets and empty; finished."""
    console = _console(evening, "--test-faults", "jammed@3", "--stall-seconds", "20").start()
    try:
        page = browser.new_page()
        name = _start_lot(page, console, evening["roll"])
        page.select_option("#source-sane select[name=device]", sane_test_device)
        page.click("#source-sane button")
        page.wait_for_selector("#question:not([hidden])", timeout=WAIT_MS)
        assert "Bourrage papier" in page.text_content("#question")
        _shot(page, "2b-scan-jam")
        page.click("#continue")
        page.wait_for_function(
            "document.getElementById('question').textContent.includes('chargeur est vide')", timeout=WAIT_MS
        )
        assert _pages_shown(page) == 13
        page.click("#finish")
        page.wait_for_url("**/check", timeout=WAIT_MS)
        page.fill("#operator input[name=name]", "M. Secrétaire")
        page.click("#save-operator")
        page.wait_for_selector("#decided-by")
        kinds = _resolve_everything(page)
        assert kinds["uncoded_page"] == 13 and kinds["missing_copy"] == 4, kinds
        page.wait_for_selector("#nothing-left")
    finally:
        _stop(console)
    lot = evening["tmp"] / "station" / "lots" / name
    assert len(journal_entries(lot, "received")) == 13
