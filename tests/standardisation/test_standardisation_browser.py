"""After the standardisation meeting, in headless Chromium against a real server process on 127.0.0.1:
the coordinator locks the barème (through its confirmation page) and adds a shared comment; the
corrector, who could only read his copies before, finds the comment in his bank and enters a mark.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.models import AuditEntry, Comment, Paper
from correction_server.pages.store import LocalStore
from testkit.browser import CHROMIUM, PASSWORD, Server, served_in_chromium, shot
from testkit.browser import log_in as log_in_with_form
from testkit.missing import need
from testkit.worlds.entente import build_entente_world
from testkit.worlds.marking import page_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHARED = "Justifiez chaque étape du calcul, même courte."


@pytest.fixture
def site(fresh_database, tmp_path):
    need(CHROMIUM)
    url = fresh_database("sqlite")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    store = LocalStore(tmp_path / "store")
    shas = [store.put(page_jpeg(f"Page {n}")) for n in (1, 2)]
    world = build_entente_world(factory, password_hash=auth.hash_password(PASSWORD), image_shas=shas)
    try:
        with served_in_chromium(url, tmp_path) as (server, browser):
            yield world, server, browser, factory
    finally:
        engine.dispose()


def log_in(browser, server: Server, username: str, next_path: str):
    return log_in_with_form(browser, server, username, next_path, viewport={"width": 1300, "height": 1000})


def test_coordinator_locks_the_bareme_and_shares_a_comment_the_corrector_then_uses(site):
    world, server, browser, factory = site
    copy_id = world.base.copies[0]
    reader, copy_page = log_in(browser, server, "corrector1", f"/marking/copies/{copy_id}")
    # Before the lock the corrector reads his copies but cannot mark them.
    assert "pas encore ouverte" in copy_page.locator("#closed-message").inner_text()

    context, page = log_in(browser, server, "coordinator", f"/coordination/papers/{world.paper_id}")
    state = page.locator("#scheme-state")
    assert state.get_attribute("data-locked") == "no"
    assert "ne peuvent pas encore saisir de notes" in state.inner_text()
    rows = page.locator("#scheme-table tbody tr")
    assert rows.count() == 3
    page.locator("#lock-scheme").click()
    page.wait_for_url(f"**/coordination/papers/{world.paper_id}/scheme/lock")
    page.get_by_text("Une fois verrouillé, le barème ne peut plus changer").wait_for()
    page.screenshot(path=str(shot("coordination_scheme_confirm.png")), full_page=True)
    with factory() as session:
        assert session.get(Paper, world.paper_id).scheme_locked_at is None  # not before confirming
    page.get_by_role("button", name="Oui, verrouiller le barème définitivement").click()
    page.locator("#scheme-state[data-locked=yes]").wait_for()
    assert "Barème verrouillé depuis le" in page.locator("#scheme-state").inner_text()
    assert page.locator("#lock-scheme").count() == 0
    page.locator("#scheme").screenshot(path=str(shot("coordination_scheme_locked.png")))

    page.locator("#shared-bank-link").click()
    page.wait_for_url(f"**/coordination/papers/{world.paper_id}/comments")
    page.fill("#shared-new", SHARED)
    page.get_by_role("button", name="Ajouter à la banque partagée").click()
    page.locator("#shared-bank li").first.wait_for()
    assert page.locator("#shared-bank textarea").first.input_value() == SHARED
    page.screenshot(path=str(shot("coordination_shared_bank.png")), full_page=True)
    context.close()

    # The corrector reloads his copy: the comment is in his bank, marked shared, and marks open.
    copy_page.reload()
    assert copy_page.locator("#closed-message").count() == 0
    entry = copy_page.locator("#bank-list li", has_text=SHARED)
    entry.wait_for()
    assert "partagé" in entry.inner_text()
    copy_page.locator(f"#q-{world.base.question_ids[0]}").fill("3,5")
    copy_page.keyboard.press("Tab")
    copy_page.wait_for_function(
        "() => document.querySelector('#save-status').dataset.state === 'saved'", timeout=10_000
    )
    copy_page.screenshot(path=str(shot("corrector_sees_shared_comment.png")), full_page=False)
    reader.close()
    with factory() as session:
        comment = session.scalars(select(Comment)).one()
        assert comment.shared and comment.owner_id == world.base.coordinator_id and comment.text == SHARED
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
        assert actions[:2] == ["scheme.lock", "comment.add"]
