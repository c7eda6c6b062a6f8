"""A corrector in headless Chromium against a real server process on 127.0.0.1.

Marks a whole lot with the keyboard only, annotates, uses the comment bank, reloads and finds
everything, meets the conflict message from a second tab, and loses nothing when the server is
killed (SIGKILL) right after an acknowledged save.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.marking import comments
from correction_server.models import AnnotationLayer, Marking, QuestionMark, User
from correction_server.pages.store import LocalStore
from testkit.browser import CHROMIUM, PASSWORD, Server, log_in, served_in_chromium, shot
from testkit.missing import need
from testkit.worlds.marking import build_world, page_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.slow]


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
    with factory() as session, session.begin():
        coordinator = session.get(User, world.coordinator_id)
        comments.add(session, coordinator, world.paper_id, "Justifiez chaque étape du calcul.", shared=True)
        corrector = session.get(User, world.corrector_id)
        comments.add(session, corrector, world.paper_id, "Unités manquantes.")
    try:
        with served_in_chromium(url, tmp_path) as (server, browser):
            yield world, server, browser, factory
    finally:
        engine.dispose()


def login(browser, server: Server):
    return log_in(browser, server, "corrector1", "/marking")


def wait_saved(page) -> None:
    page.wait_for_function(
        "() => document.querySelector('#save-status').dataset.state === 'saved'", timeout=10_000
    )


def marking_of(factory, copy_id: str):
    with factory() as session:
        row = session.scalar(select(Marking).where(Marking.copy_id == copy_id))
        if row is None:
            return None, {}
        marks = {
            qm.question_id: qm.points
            for qm in session.scalars(select(QuestionMark).where(QuestionMark.marking_id == row.id))
        }
        return row, marks


def test_mark_a_whole_lot_with_the_keyboard_only(site):
    world, server, browser, factory = site
    context, page = login(browser, server)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Continuer la correction").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/marking/copies/{world.copies[0]}")
    typed = {
        world.copies[0]: ("3,5", "6", "7"),
        world.copies[1]: ("4", "0", "9,5"),
        world.copies[2]: ("1", "2", "3"),
    }
    for n, copy_id in enumerate(world.copies[:3]):
        page.wait_for_url(f"**/marking/copies/{copy_id}")
        # The first empty mark field has the focus: marks are typed straight away.
        for value in typed[copy_id]:
            page.keyboard.type(value)
            page.keyboard.press("Enter")  # next field; after the last one, the appreciation
        page.keyboard.type(f"Appréciation de la copie {n + 1}.")
        page.keyboard.press("Alt+C")  # the comment bank: filter, Enter inserts
        page.keyboard.type("Justifiez")
        page.keyboard.press("Enter")
        wait_saved(page)
        if n == 0:
            page.screenshot(path=str(shot("copy_view_marked.png")), full_page=False)
        page.keyboard.press("Alt+N")
    # Copy 4 was recorded blank and copy 5 absent: only a deliberate confirmation marks them.
    for copy_id, button in ((world.copies[3], "00"), (world.copies[4], "AB")):
        page.wait_for_url(f"**/marking/copies/{copy_id}")
        page.keyboard.press("Alt+1")
        page.keyboard.type("AB")  # typing AB in a mark field does nothing: the field is read-only
        confirm = page.locator("#confirm-special")
        assert confirm.get_attribute("data-mark") == button
        confirm.focus()
        page.keyboard.press("Enter")
        wait_saved(page)
        if copy_id == world.copies[3]:
            page.keyboard.press("Alt+N")
    page.goto("/marking")
    assert "5 copie(s) corrigée(s) sur 5" in page.content()
    q1, q2, q3 = world.question_ids
    for copy_id, values in typed.items():
        row, marks = marking_of(factory, copy_id)
        assert row.status.value == "marked"
        assert marks == {q: Decimal(v.replace(",", ".")) for q, v in zip((q1, q2, q3), values, strict=True)}
        assert row.appreciation.startswith("Appréciation de la copie")
    assert marking_of(factory, world.copies[0])[0].total == Decimal("16.5")
    assert marking_of(factory, world.copies[3])[0].special.value == "00"
    assert marking_of(factory, world.copies[4])[0].special.value == "AB"
    # Reload: everything typed is back in the page, with the bank comment under the appreciation.
    page.goto(f"/marking/copies/{world.copies[1]}")
    assert page.input_value(f"#q-{q3}") == "9,5"
    assert "Justifiez chaque étape du calcul." in page.locator("#copy-comments").inner_text()
    context.close()


def test_next_copy_pages_are_fetched_while_this_one_is_read(site):
    world, server, browser, _factory = site
    context, page = login(browser, server)
    first, second = world.copies[0], world.copies[1]
    wanted = {f"/marking/pages/{pid}/image" for pid in world.pages[second]}
    answers: dict[str, tuple[int, str]] = {}

    def seen(response) -> None:
        path = response.url.removeprefix(server.base).split("?")[0]
        if path in wanted:
            answers[path] = (response.status, response.headers.get("cache-control", ""))

    page.on("response", seen)
    page.goto(f"/marking/copies/{first}")
    deadline = time.monotonic() + 10
    while set(answers) != wanted and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    # Every page of the next copy was asked for while the first one is on screen, cacheable for good.
    assert set(answers) == wanted
    assert all(status == 200 and "immutable" in cache for status, cache in answers.values())
    page.keyboard.press("Alt+N")
    page.wait_for_url(f"**/marking/copies/{second}")
    page.locator("figure.page img").first.evaluate("img => img.decode()")
    transfers = page.evaluate(
        """() => performance.getEntriesByType('resource')
              .filter(e => e.name.includes('/marking/pages/'))
              .map(e => [new URL(e.name).pathname, e.transferSize])"""
    )
    shown = {path for path, _ in transfers}
    assert f"/marking/pages/{world.pages[second][0]}/image" in shown
    # Shown from the browser's cache: no byte of those images came over the network again.
    assert all(size == 0 for path, size in transfers if path in wanted), transfers
    context.close()


def _click_on_page(page, fig_index: int, fx: float, fy: float) -> None:
    image = page.locator("figure.page").nth(fig_index).locator("img")
    image.scroll_into_view_if_needed()
    image.evaluate("img => img.decode()")
    box = image.bounding_box()
    page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def test_annotate_undo_and_find_it_after_reload(site):
    world, server, browser, factory = site
    context, page = login(browser, server)
    copy_id = world.copies[0]
    page.goto(f"/marking/copies/{copy_id}")
    page.locator("figure.page img").first.evaluate("img => img.decode()")
    page.keyboard.press("Escape")  # leave the mark field that has the focus
    page.keyboard.press("v")
    _click_on_page(page, 0, 0.3, 0.2)
    page.keyboard.press("x")
    _click_on_page(page, 0, 0.6, 0.3)
    page.keyboard.press("t")
    _click_on_page(page, 0, 0.2, 0.5)
    page.keyboard.type("Unités ?")
    page.keyboard.press("Enter")
    page.keyboard.press("h")
    box = page.locator("figure.page").first.locator("img").bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 300)
    page.mouse.down()
    page.mouse.move(box["x"] + 400, box["y"] + 340, steps=5)
    page.mouse.up()
    page.keyboard.press("d")
    page.mouse.move(box["x"] + 150, box["y"] + 600)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + 650, steps=8)
    page.mouse.up()
    page.keyboard.press("Control+z")  # undo the pen stroke
    # A bank comment placed on the second page.
    page.locator("#bank-list li", has_text="Unités manquantes.").get_by_role(
        "button", name="Placer sur la page"
    ).click()
    _click_on_page(page, 1, 0.5, 0.5)
    page.keyboard.press("Escape")
    wait_saved(page)
    page.screenshot(path=str(shot("copy_view_annotated.png")))
    page.reload()
    page.locator("figure.page img").first.evaluate("img => img.decode()")
    page.wait_for_function(
        "() => document.querySelectorAll('figure.page')[0].querySelectorAll('g.item').length === 4"
    )
    kinds = (
        page.locator("figure.page")
        .first.locator("g.item")
        .evaluate_all("els => els.map(e => e.getAttribute('class'))")
    )
    assert sorted(kinds) == ["item item-cross", "item item-highlight", "item item-text", "item item-tick"]
    assert "Unités ?" in page.locator("figure.page").first.inner_html()
    second = page.locator("figure.page").nth(1)
    second.scroll_into_view_if_needed()
    second.locator("g.item-comment").wait_for()
    assert "Unités manquantes." in second.inner_html()
    with factory() as session:
        layers = {
            layer.page_id: [item["kind"] for item in layer.items]
            for layer in session.scalars(select(AnnotationLayer))
        }
    p1, p2 = world.pages[copy_id]
    assert sorted(layers[p1]) == ["cross", "highlight", "text", "tick"]
    assert layers[p2] == ["comment"]
    context.close()


def test_second_tab_is_told_and_shown_the_difference(site):
    world, server, browser, factory = site
    context, first = login(browser, server)
    copy_id = world.copies[1]
    q1 = world.question_ids[0]
    first.goto(f"/marking/copies/{copy_id}")
    second = context.new_page()
    second.goto(f"/marking/copies/{copy_id}")
    first.keyboard.type("2")
    wait_saved(first)
    second.keyboard.type("3,5")
    conflict = second.locator("#conflict")
    conflict.wait_for(state="visible", timeout=10_000)
    text = conflict.inner_text()
    assert "modifiée ailleurs" in text
    assert "Question 1" in text and "3,5" in text and "2" in text
    assert marking_of(factory, copy_id)[1] == {q1: Decimal(2)}  # nothing overwritten
    second.screenshot(path=str(shot("conflict.png")))
    second.get_by_role("button", name="Garder ma version").click()
    wait_saved(second)
    assert marking_of(factory, copy_id)[1] == {q1: Decimal("3.5")}
    context.close()


def test_acknowledged_mark_survives_a_killed_server(site):
    world, server, browser, factory = site
    context, page = login(browser, server)
    copy_id = world.copies[2]
    q2 = world.question_ids[1]
    page.goto(f"/marking/copies/{copy_id}")
    page.keyboard.press("Alt+2")
    page.keyboard.type("5,5")
    wait_saved(page)  # the server acknowledged the save
    server.kill()
    server.start()
    page.reload()
    assert page.input_value(f"#q-{q2}") == "5,5"
    assert marking_of(factory, copy_id)[1] == {q2: Decimal("5.5")}
    context.close()


def _layer(factory, page_id: int) -> dict[str, dict]:
    """The stored items of one page's layer, by kind (one item of each kind in these tests)."""
    with factory() as session:
        layer = session.scalar(select(AnnotationLayer).where(AnnotationLayer.page_id == page_id))
        return {item["kind"]: item for item in (layer.items if layer else [])}


def _drag(page, locator, dx: float, dy: float) -> None:
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=6)
    page.mouse.up()


def test_move_and_edit_annotations_undo_a_move_and_find_them_after_reload(site):
    world, server, browser, factory = site
    context, page = login(browser, server)
    copy_id = world.copies[2]
    p1 = world.pages[copy_id][0]
    page.goto(f"/marking/copies/{copy_id}")
    first = page.locator("figure.page").first
    first.locator("img").evaluate("img => img.decode()")
    page.keyboard.press("Escape")  # leave the mark field that has the focus
    page.keyboard.press("t")
    _click_on_page(page, 0, 0.2, 0.5)
    page.keyboard.type("Unités ?")
    page.keyboard.press("Enter")
    page.keyboard.press("v")
    _click_on_page(page, 0, 0.6, 0.3)
    wait_saved(page)
    created = _layer(factory, p1)
    text0, tick0 = created["text"], created["tick"]
    assert text0["x"] == pytest.approx(0.2, abs=0.01) and tick0["x"] == pytest.approx(0.6, abs=0.01)

    # The mouse: the select tool's button, then drag the text box 150 px right and 120 px down.
    page.get_by_role("button", name="Sélectionner, déplacer").click()
    image = first.locator("img").bounding_box()
    _drag(page, first.locator("g.item-text"), 150, 120)
    wait_saved(page)
    dragged = _layer(factory, p1)["text"]
    assert dragged["x"] == pytest.approx(text0["x"] + 150 / image["width"], abs=0.003)
    assert dragged["y"] == pytest.approx(text0["y"] + 120 / image["height"], abs=0.003)
    assert first.locator("g.item-text").get_attribute("data-selected") == "true"
    assert "Unités ?" in page.locator("#selection-status").inner_text()

    # The keyboard: two small steps right, one big step down; undo that one, redo it, undo again.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    wait_saved(page)
    stepped = _layer(factory, p1)["text"]
    assert stepped["x"] == pytest.approx(dragged["x"] + 0.01, abs=1e-4)
    assert stepped["y"] == pytest.approx(dragged["y"] + 0.05, abs=1e-4)
    page.keyboard.press("Control+z")
    wait_saved(page)
    assert _layer(factory, p1)["text"]["y"] == pytest.approx(dragged["y"], abs=1e-4)
    page.keyboard.press("Control+y")
    wait_saved(page)
    assert _layer(factory, p1)["text"]["y"] == pytest.approx(dragged["y"] + 0.05, abs=1e-4)
    page.keyboard.press("Control+z")
    wait_saved(page)
    moved = _layer(factory, p1)["text"]
    assert (moved["x"], moved["y"]) == pytest.approx((dragged["x"] + 0.01, dragged["y"]), abs=1e-4)

    # Its text: Enter on the selected box, then a double click on it.
    page.keyboard.press("Enter")
    entry = page.locator("input.text-entry")
    assert entry.input_value() == "Unités ?"
    page.keyboard.type("Unités manquantes")  # the field opens with its text selected: typing replaces it
    page.keyboard.press("Enter")
    wait_saved(page)
    assert _layer(factory, p1)["text"]["text"] == "Unités manquantes"
    first.locator("g.item-text").dblclick()
    entry.wait_for()
    page.keyboard.press("End")
    page.keyboard.type(" ?")
    page.keyboard.press("Enter")
    wait_saved(page)

    # S again walks to the next annotation, the tick: a big step left.
    page.keyboard.press("s")
    assert first.locator("g.item-tick").get_attribute("data-selected") == "true"
    page.keyboard.press("Shift+ArrowLeft")
    wait_saved(page)
    stored = _layer(factory, p1)
    assert stored["text"]["text"] == "Unités manquantes ?"
    assert (stored["text"]["x"], stored["text"]["y"]) == pytest.approx((moved["x"], moved["y"]), abs=1e-4)
    assert (stored["tick"]["x"], stored["tick"]["y"]) == pytest.approx(
        (tick0["x"] - 0.05, tick0["y"]), abs=1e-4
    )
    page.screenshot(path=str(shot("copy_view_moved.png")))

    # Reload: the page draws the stored positions and text.
    page.reload()
    first.locator("img").evaluate("img => img.decode()")
    first.locator("g.item-text").wait_for()
    drawn = first.locator("svg.layer").evaluate(
        """svg => {
            const vb = svg.viewBox.baseVal;
            const text = svg.querySelector('g.item-text text');
            return {x: Number(text.getAttribute('x')) / vb.width,
                    y: Number(text.getAttribute('y')) / vb.height, text: text.textContent};
        }"""
    )
    assert drawn["text"] == "Unités manquantes ?"
    assert (drawn["x"], drawn["y"]) == pytest.approx((moved["x"], moved["y"]), abs=1e-3)
    context.close()
