"""A whole session as the exam office, in headless Chromium against a real `massicot serve`
process, from an empty database (one office account): papers and candidates imported (a file
with an error first, then the corrected one), centres' station tokens issued, a corrector's
account added and its set-password link opened by him, two centres push real sealed lots with
`massicot push` while a third is late, dispatch, barème lock, progress watched, what is missing
declared, the closing page and the export. Each step is also checked in the database.
Screenshots of the main pages go to $MASSICOT_SCREENSHOTS (the README's docs/screenshots).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.marking.saving import SaveRequest, save
from correction_server.models import (
    Candidate,
    Centre,
    Copy,
    CorrectionLot,
    LotCopy,
    Paper,
    Question,
    Role,
    User,
)
from correction_server.web import clock
from testkit.browser import CHROMIUM, log_in, served_in_chromium, shot
from testkit.missing import need
from testkit.push_helpers import run_push
from testkit.push_setup import make_sealed_lot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a long office password"
CORRECTOR_PASSWORD = "a long corrector password"
CENTRES = {"0130040Y": "Lycée Thiers", "0130041Z": "Lycée Périer", "0130042A": "Lycée Daumier"}
COLUMNS = (
    "registration,surname,given_names,birth_date,establishment_uai,establishment_name,"
    "centre_uai,centre_name,papers,room,table"
)


def _paper_yaml(now: datetime) -> str:
    paris = clock.zone()

    def at(moment: datetime) -> str:
        return moment.astimezone(paris).isoformat(timespec="seconds")

    return (
        "session: BTS 2026 normale\ncode: U3\ntitle: Mathématiques\nmax_mark: 20\npages: 2\n"
        f"window_opens: {at(now - timedelta(hours=2))}\nwindow_closes: {at(now + timedelta(days=10))}\n"
        'questions:\n  - {label: "Exercice 1", max: 12}\n  - {label: "Exercice 2", max: 8}\n'
    )


def _candidates() -> tuple[str, dict[str, list[str]]]:
    lines, by_centre = [COLUMNS], {}
    n = 0
    for uai, name in CENTRES.items():
        for k in range(4):
            n += 1
            registration = f"0241{n:07d}"
            by_centre.setdefault(uai, []).append(registration)
            lines.append(
                f"{registration},NOM{n},Prénom,2005-03-0{1 + k},0130039X,Lycée Montgrand,{uai},{name},U3,"
                f"Salle {1 + k % 2},{k + 1}"
            )
    return "\n".join(lines) + "\n", by_centre


@pytest.fixture
def site(fresh_database, tmp_path):
    need(CHROMIUM)
    url = fresh_database("sqlite")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as s, s.begin():
        s.add(
            User(
                username="diec@ac-aix-marseille.fr",
                display_name="Claire Diec",
                role=Role.OFFICE,
                password_hash=auth.hash_password(PASSWORD),
            )
        )
    try:
        with served_in_chromium(url, tmp_path) as (server, browser):
            yield server, browser, factory, tmp_path
    finally:
        engine.dispose()


def _wait_done(page) -> str:
    """The action page until its outcome shows (it polls and reloads itself)."""
    page.wait_for_selector("#action[data-state=done]", timeout=60_000)
    return page.inner_text("#action")


def _upload_and_check(page, form_input: str, button: str, path: Path) -> str:
    page.goto("/office/imports")
    page.set_input_files(form_input, str(path))
    page.click(button)
    page.wait_for_url(re.compile(r".*/office/actions/\d+"))
    return _wait_done(page)


def test_a_session_at_the_office(site):
    server, browser, factory, folder = site
    now = datetime.now(UTC)
    context, page = log_in(browser, server, "diec@ac-aix-marseille.fr", "/office", password=PASSWORD)
    assert "Aucune épreuve" in page.inner_text("#glance")

    # 1. The paper: checked (nothing written), then imported.
    paper_file = folder / "u3.yaml"
    paper_file.write_text(_paper_yaml(now), encoding="utf-8")
    outcome = _upload_and_check(page, "#paper-file", "#check-paper", paper_file)
    assert "Le fichier est correct" in outcome
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Paper)) == 0
    page.click("#import-now")
    assert "created" in _wait_done(page)
    with factory() as s:
        paper = s.scalar(select(Paper))
        assert paper.code == "U3" and len(paper.questions) == 2

    # 2. Candidates: a file with a bad line first (nothing imported), then the corrected one.
    good, by_centre = _candidates()
    bad_file = folder / "candidats.csv"
    bad_file.write_text(good.replace("0130041Z", "013004", 1), encoding="utf-8")
    outcome = _upload_and_check(page, "#candidates-file", "#check-candidates", bad_file)
    assert "line 6: centre_uai “013004” is not a UAI code" in outcome
    assert page.locator("#import-now").count() == 0
    page.screenshot(path=str(shot("office-import-errors.png")), full_page=True)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Candidate)) == 0
    good_file = folder / "candidats-corrige.csv"
    good_file.write_text(good, encoding="utf-8")
    assert "Le fichier est correct" in _upload_and_check(
        page, "#candidates-file", "#check-candidates", good_file
    )
    page.click("#import-now")
    assert "12 candidates read: 12 created" in _wait_done(page)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Candidate)) == 12
        assert (
            s.scalar(select(Candidate.room).where(Candidate.registration == by_centre["0130040Y"][1]))
            == "Salle 2"
        )
    assert "Rien n'a changé" in _upload_and_check(page, "#candidates-file", "#check-candidates", good_file)

    # 3. The scan deadline (an hour ago, typed in Paris time) and the centres' contacts and tokens.
    page.goto(f"/office/papers/{paper.id}")
    page.fill("#deadline", (now - timedelta(hours=1)).astimezone(clock.zone()).strftime("%Y-%m-%dT%H:%M"))
    page.click("text=Enregistrer la date limite")
    page.wait_for_selector("text=Date limite de numérisation enregistrée.")
    with factory() as s:
        deadline = s.get(Paper, paper.id).scan_deadline
        assert abs((deadline - (now - timedelta(hours=1))).total_seconds()) < 60
        centre_ids = {c.uai: c.id for c in s.scalars(select(Centre))}
    tokens = {}
    for uai in ("0130040Y", "0130041Z"):
        page.goto(f"/office/centres/{centre_ids[uai]}")
        page.check("input[name=confirm]")
        page.click("#issue-token")
        page.wait_for_url(server.base + "/office/once")
        tokens[uai] = page.inner_text("#secret").strip()
        assert tokens[uai].startswith("mct_")
        if uai == "0130040Y":
            page.screenshot(path=str(shot("office-token-sheet.png")), full_page=True)
        page.reload()
        assert "Rien à afficher" in page.inner_text("main")  # shown once
    page.goto(f"/office/centres/{centre_ids['0130042A']}")
    page.fill("#contact", "Mme Roux, 04 91 00 00 42")
    page.click("text=Enregistrer le contact")
    page.wait_for_selector("text=Contact enregistré.")
    roll = page.request.get(f"/office/centres/{centre_ids['0130040Y']}/rolls/{paper.id}.csv?room=Salle 1")
    rows = list(csv.DictReader(io.StringIO(roll.text())))
    assert [r["candidate"] for r in rows] == by_centre["0130040Y"][0::2]
    assert {r["room"] for r in rows} == {"Salle 1"} and rows[0]["deadline"].endswith(("+01:00", "+02:00"))

    # 4. A corrector's account; he opens his set-password link and logs in.
    page.goto("/office/people")
    page.fill("#pa-name", "Anne Prof")
    page.fill("#pa-email", "anne.prof@ac-aix-marseille.fr")
    page.fill("#pa-uai", "0130999K")
    page.fill("#pa-papers", "U3:50")
    page.click("#add-person")
    page.wait_for_url(server.base + "/office/once")
    link = page.inner_text("td.secret").strip()
    assert "/password/" in link
    page.goto("/office/people")
    assert "jamais connecté" in page.inner_text("tr[data-username='anne.prof@ac-aix-marseille.fr']")
    page.screenshot(path=str(shot("office-people.png")), full_page=True)
    anne_context = browser.new_context()
    anne = anne_context.new_page()
    anne.goto(link)
    anne.fill("#password", CORRECTOR_PASSWORD)
    anne.fill("#confirm", CORRECTOR_PASSWORD)
    anne.keyboard.press("Enter")
    anne.wait_for_url(re.compile(r".*/login\?next=/home"))
    anne_context.close()
    log_in(browser, server, "anne.prof@ac-aix-marseille.fr", "/marking", password=CORRECTOR_PASSWORD)[
        0
    ].close()
    with factory() as s:
        anne_user = s.scalar(select(User).where(User.username == "anne.prof@ac-aix-marseille.fr"))
        assert anne_user.last_login_at is not None and anne_user.role is Role.CORRECTOR

    # 5. Two centres push real sealed lots to the server; the third is late.
    for uai in ("0130040Y", "0130041Z"):
        lot = make_sealed_lot(folder / f"lot-{uai}", uai, "U3", by_centre[uai], pages_per_copy=2)
        pushed = run_push(lot.folder, server.base, tokens[uai])
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    page.goto("/office")
    row = page.locator("tr[data-paper=U3]")
    assert row.locator(".centres").inner_text().strip() == "3 / 2"
    assert row.locator(".copies").inner_text().strip() == "8"
    late = row.locator(".late-centres").inner_text()
    assert "0130042A" in late and "Mme Roux, 04 91 00 00 42" in late and "0130040Y" not in late
    page.goto(f"/office/centres/{centre_ids['0130040Y']}")
    assert "centre-0130040Y" in page.inner_text("main")  # the push, by that centre's station

    # 6. Dispatch in the background, then the barème lock (confirmed).
    page.goto(f"/office/papers/{paper.id}")
    page.click("#dispatch")
    page.wait_for_url(re.compile(r".*/office/actions/\d+"))
    assert "8 copies" in _wait_done(page) or "8" in page.inner_text("#outcome")
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(LotCopy)) == 8
    page.goto(f"/office/papers/{paper.id}")
    page.check("input[name=confirm]")
    page.click("#lock")
    page.wait_for_selector("text=Barème verrouillé.")
    with factory() as s:
        assert s.get(Paper, paper.id).scheme_locked_at is not None

    # 7. Marking happens (the corrector's saves), the glance follows it by itself.
    page.goto("/office")
    with factory() as s:
        lots = list(s.scalars(select(CorrectionLot)))
        question_ids = list(s.scalars(select(Question.id).order_by(Question.position)))
        copies = list(s.scalars(select(LotCopy.copy_id)))
    assert {lot.corrector_id for lot in lots} == {anne_user.id}
    for copy_id in copies:
        with factory() as s:
            save(
                s,
                anne_user.id,
                copy_id,
                SaveRequest(version=0, marks={q: "4" for q in question_ids}, appreciation="Bien."),
            )
    page.wait_for_function(
        "() => document.querySelector('tr[data-paper=U3] .marked').textContent.trim() === '8 / 8'",
        timeout=60_000,
    )
    assert "point(s) à régler" in page.inner_text("tr[data-paper=U3] .jury")
    page.screenshot(path=str(shot("office-glance.png")), full_page=True)

    # 8. Closing: the late centre's copies declared missing, then ready for the jury; the export.
    page.goto(f"/office/closing/papers/{paper.id}")
    for registration in by_centre["0130042A"]:
        page.fill("#missing-reg", registration)
        page.fill("#missing-reason", "Centre inondé, copies perdues")
        page.click("#missing-form button[type=submit]")
        page.wait_for_load_state()
    page.goto("/office")
    assert "réunion d'harmonisation" in page.inner_text("tr[data-paper=U3] .jury")
    assert page.request.get(f"/office/closing/papers/{paper.id}/export.csv").status == 409
    page.goto(f"/office/closing/papers/{paper.id}")
    page.fill("#harmo-attendees", "Mme Inspectrice, M. Coordonnateur")
    page.fill("#harmo-minutes", "Barème appliqué sans changement")
    page.click("#harmonisation-form button[type=submit]")
    page.wait_for_selector("#harmonisation-held")
    page.goto("/office")
    assert "prête pour le jury" in page.inner_text("tr[data-paper=U3] .jury")
    export = page.request.get(f"/office/closing/papers/{paper.id}/export.csv")
    assert export.status == 200
    marks = list(csv.DictReader(io.StringIO(export.text())))
    assert len(marks) == 12
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Copy)) == 8

    # 9. Housekeeping: the audit log checked, in plain words.
    page.goto("/office/housekeeping")
    page.click("#verify-audit")
    page.wait_for_url(re.compile(r".*/office/actions/\d+"))
    assert "Journal d'audit intact" in _wait_done(page)
    page.goto("/office/imports")
    page.screenshot(path=str(shot("office-imports.png")), full_page=True)
    page.goto(f"/office/papers/{paper.id}")
    page.screenshot(path=str(shot("office-paper.png")), full_page=True)
    context.close()
