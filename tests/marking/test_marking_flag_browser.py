"""In headless Chromium, keyboard only: the corrector opens the subject beside the copy (Alt+S)
and flags a copy; it leaves his to-do and he goes on with the next one."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pikepdf
import pytest
from sqlalchemy import select

from correction_server.audit.actors import Actor
from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.models import Copy, CopyFlag, DocumentKind, FlagKind
from correction_server.office.documents import upload
from correction_server.pages.store import LocalStore
from testkit.browser import CHROMIUM, PASSWORD, log_in, served_in_chromium, shot
from testkit.missing import need
from testkit.worlds.marking import build_world, page_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.fixture
def site(fresh_database, tmp_path):
    need(CHROMIUM)
    url = fresh_database("sqlite")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    store = LocalStore(tmp_path / "store")
    shas = [store.put(page_jpeg(f"Page {n}")) for n in (1, 2)]
    now = datetime.now(UTC)
    world = build_world(
        factory,
        window=(now - timedelta(days=1), now + timedelta(days=5)),
        password_hash=auth.hash_password(PASSWORD),
        image_shas=shas,
    )
    with factory() as session:
        upload(
            session,
            store,
            Actor(None, "office"),
            "office",
            world.paper_id,
            DocumentKind.SUBJECT,
            _pdf(),
            "sujet.pdf",
        )
    try:
        with served_in_chromium(url, tmp_path) as (server, browser):
            yield world, server, browser, factory
    finally:
        engine.dispose()


def test_subject_panel_and_flag_with_the_keyboard(site):
    world, server, browser, factory = site
    first, second = world.copies[0], world.copies[1]
    context, page = log_in(browser, server, "corrector1", f"/marking/copies/{first}")
    # Alt+S opens the subject panel and puts the focus in it.
    page.keyboard.press("Alt+s")
    page.wait_for_function("() => document.querySelector('#documents-panel').open")
    focused = page.evaluate("() => document.activeElement.className")
    assert "show-document" in focused
    page.keyboard.press("Enter")  # shows the subject beside the copy
    frame_src = page.get_attribute("#document-frame", "src")
    assert frame_src == f"/marking/papers/{world.paper_id}/documents/subject"
    assert page.is_visible("#document-frame")
    pdf = context.request.get(frame_src)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    page.screenshot(path=str(shot("subject-panel.png")))

    # The flag form, reached with Tab from the panel's summary: keyboard only.
    page.focus("#flag-panel summary")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#flag-panel').open")
    page.focus("#flag-unreadable_page")
    page.keyboard.press("Space")
    page.focus("#flag-page")
    page.keyboard.press("Control+a")
    page.keyboard.type("2")
    page.focus("#flag-note")
    page.keyboard.type("page 2 noire")
    page.focus("#flag-send")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.base}/marking/copies/{second}?flagged={first}")
    assert first in page.inner_text("#flag-sent")
    with factory() as session:
        flag = session.scalar(select(CopyFlag))
        assert (flag.copy_id, flag.kind, flag.page_number, flag.note) == (
            first,
            FlagKind.UNREADABLE_PAGE,
            2,
            "page 2 noire",
        )
        assert session.get(Copy, first).flagged is True
    page.goto("/marking")
    row = page.locator("tr.state-flagged")
    assert row.count() == 1 and first in row.inner_text()
    # The flagged copy opens read-only, saying it waits for the office.
    page.goto(f"/marking/copies/{first}")
    assert page.is_visible("#flag-waiting")
    assert page.locator("#flag-form").count() == 0
    assert page.get_attribute(f"#q-{world.question_ids[0]}", "readonly") is not None
    page.screenshot(path=str(shot("flagged-copy.png")))
    context.close()
