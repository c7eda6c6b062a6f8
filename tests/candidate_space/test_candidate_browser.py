"""A candidate in headless Chromium against a real server process on 127.0.0.1, at a desktop
size and at a phone size (390×844): activates his account with the code of a real access letter
(read back from the letters PDF), meets a used and an expired code in plain words, logs in, sees
nothing of an unpublished paper, reads his published copy with its annotation layer, downloads the
consultation PDF (rendered with pdftoppm, annotation pixels checked), meets "résultats réservés"
under a hold and the end of the consultation year.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from correction_server.candidate_space import letters
from correction_server.closing.holds import place_hold, release_hold
from correction_server.db import make_engine, make_session_factory
from correction_server.models import Candidate
from testkit.browser import CHROMIUM, served_in_chromium, shot
from testkit.missing import missing, need
from testkit.worlds.candidate import (
    CROSS,
    OFFICE,
    birth_date_of,
    build_candidate_world,
    issue_letter,
    move_publication,
    publish,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "ma phrase de passe secrète"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def site(fresh_database, tmp_path):
    need(CHROMIUM)
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            missing(f"{tool} is missing (apt-get install poppler-utils)")
    url = fresh_database("sqlite")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    (tmp_path / "world").mkdir()
    world = build_candidate_world(factory, tmp_path / "world", tmp_path / "store")
    try:
        with served_in_chromium(url, tmp_path) as (server, browser):
            yield world, server, browser, factory, tmp_path
    finally:
        engine.dispose()


def _letter_code(factory, registration: str, folder) -> str:
    """The code as the candidate reads it: printed in the letters PDF, read back with pdftotext."""
    with factory() as session:
        from sqlalchemy import select

        candidate = session.scalar(select(Candidate).where(Candidate.registration == registration))
        issued = letters.issue_codes(session, [candidate], OFFICE, "Office", "test")
        pdf = letters.letters_pdf(issued, "http://127.0.0.1/candidate")
        session.commit()
    path = folder / f"letter-{registration}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    import re

    return re.search(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b", text).group(0)


def _activate(page, registration: str, born: str, code: str) -> None:
    page.goto("/candidate/activate")
    page.get_by_label("Numéro d'inscription (sur la lettre)").fill(registration)
    page.get_by_label("Date de naissance (jj/mm/aaaa)").fill(born)
    page.get_by_label("Code d'activation", exact=False).fill(code)
    page.get_by_label("Mot de passe choisi").fill(PASSWORD)
    page.get_by_label("Le même mot de passe, une seconde fois").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


def _fits_width(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, (width, inner)
    viewport = page.get_attribute("meta[name=viewport]", "content")
    assert "user-scalable=no" not in viewport and "maximum-scale=1" not in viewport


def _red_at_cross(png_path, box) -> bool:
    image = Image.open(png_path).convert("RGB")
    left, top, w, h = box
    cx, cy = round(left + CROSS[0] * w), round(top + CROSS[1] * h)
    near = [image.getpixel((cx + dx, cy + dy)) for dx in range(-3, 4) for dy in range(-3, 4)]
    return any(p[0] > 150 and p[1] < 90 and p[2] < 100 for p in near)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_candidate_activates_reads_his_copy_and_downloads_it(site, size):
    world, server, browser, factory, folder = site
    options = PHONE if size == "phone" else DESKTOP
    born = birth_date_of(factory, world.registration)
    context = browser.new_context(base_url=server.base, accept_downloads=True, **options)
    page = context.new_page()

    # A used code, and an expired one, are refused in plain words.
    old = issue_letter(factory, world.other_registration, now=datetime.now(UTC) - timedelta(days=90))
    _activate(page, world.other_registration, birth_date_of(factory, world.other_registration), old)
    assert "Ce code a expiré le" in page.locator(".flash.error").inner_text()

    code = _letter_code(factory, world.registration, folder)
    _activate(page, world.registration, born, code)
    page.wait_for_url(server.base + "/candidate?welcome=1")
    assert "Votre compte est activé" in page.inner_text("main")
    # Nothing before the results are published.
    card = page.locator("#paper-U3")
    assert card.inner_text().count("Résultats non encore publiés") == 1
    assert "/ 20" not in card.inner_text() and card.locator("a").count() == 0
    _fits_width(page)
    page.screenshot(path=str(shot(f"candidate-{size}-unpublished.png")))

    # Log out, the code again: already used.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login?bye=1")
    _activate(page, world.registration, born, code)
    assert "Ce code a déjà servi" in page.locator(".flash.error").inner_text()

    publish(factory, world.paper_id, days_ago=5)
    page.goto("/candidate/login")
    page.get_by_label("Numéro d'inscription").fill(world.registration)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(server.base + "/candidate")
    assert "10 / 20" in page.locator("#paper-U3 .result").inner_text()
    page.get_by_role("link", name="Voir ma copie de l'épreuve U3").click()
    page.wait_for_selector("#copy-pages figure")
    token = page.url.rsplit("/", 1)[1]
    assert world.copy_id not in page.url and len(token) == 32
    html = page.content()
    # Neither the anonymity number nor who marked it.
    assert world.copy_id not in html and "corrector0" not in html.lower()
    assert "Raisonnement clair" in page.inner_text("#appreciation")
    assert page.locator("#question-marks tbody tr").count() == len(world.coord.question_ids)
    assert page.locator("#page-1 svg .ann.cross").count() == 1
    assert page.locator("#page-1 svg text").text_content() == "Justifier ce calcul"
    page.wait_for_function("document.querySelector('#page-1 img').complete")
    _fits_width(page)
    # The layer is drawn where the corrector put it: a red pixel at the cross on the screenshot.
    frame = page.locator("#page-1 .page-frame")
    frame.scroll_into_view_if_needed()
    png = shot(f"candidate-{size}-copy-page1.png")
    frame.screenshot(path=str(png))
    box = frame.bounding_box()
    scale = options.get("device_scale_factor", 1)
    assert _red_at_cross(png, (0, 0, box["width"] * scale, box["height"] * scale))
    # Keyboard: the PDF link is reachable with Tab and downloads the copy.
    page.keyboard.press("Home")
    with page.expect_download() as caught:
        page.locator("#copy-pdf").focus()
        page.keyboard.press("Enter")
    pdf_path = folder / f"copy-{size}.pdf"
    caught.value.save_as(pdf_path)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf_path), str(folder / f"pdf-{size}")], check=True)
    pngs = sorted(folder.glob(f"pdf-{size}-*.png"))
    assert len(pngs) == 3  # two scanned pages and the marks page
    first = Image.open(pngs[0])
    w, h = first.size
    box_h = h * (842 - 22) / 842
    box_w = min(w, box_h * 1240 / 1754)
    assert _red_at_cross(pngs[0], ((w - box_w) / 2, 0, box_w, box_h))
    assert not _red_at_cross(pngs[1], ((w - box_w) / 2, 0, box_w, box_h))

    # Another candidate's copy, guessed: the same answer as one that does not exist.
    other = context.request.get(f"/candidate/copies/{'f' * 32}", headers={"accept": "application/json"})
    assert other.status == 404

    # A review request, answered on the office's side, shown to the candidate.
    page.get_by_label("Votre message").fill("Question 1 : 2 points sur la copie, le total ne les compte pas.")
    page.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_url("**sent=1*")
    assert "En attente de réponse" in page.inner_text("#my-requests")

    # Under a hold: "résultats réservés" and nothing else, and the copy answers like nothing.
    with factory() as session:
        place_hold(session, world.registration, "procédure en cours", OFFICE, "Office")
        session.commit()
    copy_url = page.url.split("?")[0]
    page.goto("/candidate")
    assert page.locator("#paper-U3 .result").inner_text() == "Résultats réservés."
    assert "/ 20" not in page.inner_text("main") and "fraude" not in page.inner_text("main").lower()
    assert page.locator("#paper-U3 a").count() == 0
    response = page.goto(copy_url)
    assert response.status == 404
    with factory() as session:
        release_hold(session, world.registration, "classement", OFFICE, "Office")
        session.commit()

    # After the consultation year: the page says when it closed, the copy is refused.
    move_publication(factory, world.paper_id, days_ago=400)
    page.goto("/candidate")
    text = page.locator("#paper-U3 .result").inner_text()
    assert text.startswith("La consultation de cette copie a pris fin le"), text
    assert page.goto(copy_url).status == 404
    page.screenshot(path=str(shot(f"candidate-{size}-closed.png")))
    context.close()
