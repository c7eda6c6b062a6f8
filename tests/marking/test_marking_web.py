"""The marking routes through the real application (HTTP in-process), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select, update

from correction_server.app import create_app
from correction_server.auth import sessions as auth
from correction_server.models import Marking, Page, Paper
from correction_server.pages.store import LocalStore
from correction_server.settings import Settings
from testkit.worlds.marking import build_world, login_cookie, page_jpeg

SECRET = "test-secret-key-for-marking"


@pytest.fixture
def site(db_url, session_factory, tmp_path):
    store = LocalStore(tmp_path / "store")
    shas = [store.put(page_jpeg(f"page {n}")) for n in (1, 2)]
    now = datetime.now(UTC)
    world = build_world(
        session_factory, window=(now - timedelta(days=1), now + timedelta(days=5)), image_shas=shas
    )
    app = create_app(Settings(database_url=db_url, store_path=tmp_path / "store", secret_key=SECRET))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield world, client, session_factory
    app.state.session_factory.kw["bind"].dispose()


def logged_in(client: TestClient, factory, user_id: int) -> str:
    cookie, csrf = login_cookie(factory, user_id, SECRET)
    client.cookies.set(auth.SESSION_COOKIE, cookie)
    return csrf


def test_home_lists_the_lot_with_progress(site):
    world, client, factory = site
    logged_in(client, factory, world.corrector_id)
    page = client.get("/marking")
    assert page.status_code == 200
    for copy_id in world.copies:
        assert copy_id in page.text
    assert world.other_copy not in page.text
    assert "0 copie(s) corrigée(s) sur 5" in page.text


def test_copy_view_has_one_labelled_field_per_question_and_no_identity(site):
    world, client, factory = site
    logged_in(client, factory, world.corrector_id)
    page = client.get(f"/marking/copies/{world.copies[0]}")
    assert page.status_code == 200
    for qid in world.question_ids:
        assert f'<label for="q-{qid}">' in page.text and f'id="q-{qid}"' in page.text
    assert "Raccourcis clavier" in page.text
    assert "Surname" not in page.text and "REG" not in page.text
    # An absent copy offers the deliberate AB button and no editable mark field.
    absent = client.get(f"/marking/copies/{world.copies[4]}").text
    assert 'id="confirm-special" data-mark="AB"' in absent
    assert absent.count("readonly") >= len(world.question_ids)


def test_shortcut_list_names_the_annotation_moves_in_french_and_english(site):
    world, client, factory = site
    logged_in(client, factory, world.corrector_id)
    french = client.get(f"/marking/copies/{world.copies[0]}").text
    assert 'data-tool="select"' in french and 'aria-keyshortcuts="S"' in french
    assert "<kbd>Maj</kbd>+flèche" in french and "déplacer l&#39;annotation sélectionnée" in french
    assert "modifier le texte de la zone de texte sélectionnée" in french
    client.cookies.set("massicot_lang", "en")
    english = client.get(f"/marking/copies/{world.copies[0]}").text
    assert "<kbd>Shift</kbd>+arrow" in english and "move the selected annotation" in english
    assert "edit the text of the selected text box" in english and "<kbd>Delete</kbd>" in english


def test_page_image_is_display_sized_cached_and_rotated(site):
    world, client, factory = site
    logged_in(client, factory, world.corrector_id)
    page_id = world.pages[world.copies[0]][0]
    first = client.get(f"/marking/pages/{page_id}/image?w=900")
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert "immutable" in first.headers["cache-control"]
    image = Image.open(io.BytesIO(first.content))
    assert image.size[0] == 900 and image.size[1] > image.size[0]
    again = client.get(
        f"/marking/pages/{page_id}/image?w=900", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    with factory() as session, session.begin():
        session.execute(update(Page).where(Page.id == page_id).values(rotation=90))
    turned = client.get(f"/marking/pages/{page_id}/image?w=900")
    assert turned.headers["etag"] != first.headers["etag"]
    width, height = Image.open(io.BytesIO(turned.content)).size
    assert width == 900 and height < width  # the portrait scan is shown turned


def test_a_copy_of_another_lot_is_not_found_everywhere(site):
    world, client, factory = site
    csrf = logged_in(client, factory, world.corrector_id)
    other = world.other_copy
    assert client.get(f"/marking/copies/{other}").status_code == 404
    assert client.get(f"/api/marking/copies/{other}").status_code == 404
    assert client.get(f"/marking/pages/{world.pages[other][0]}/image").status_code == 404
    put = client.put(
        f"/api/marking/copies/{other}",
        json={"version": 0, "appreciation": "x"},
        headers={"X-CSRF-Token": csrf},
    )
    assert put.status_code == 404
    with factory() as session:
        assert session.scalars(select(Marking)).all() == []


def test_save_stale_invalid_and_csrf(site):
    world, client, factory = site
    csrf = logged_in(client, factory, world.corrector_id)
    q1, q2, _ = world.question_ids
    url = f"/api/marking/copies/{world.copies[0]}"
    headers = {"X-CSRF-Token": csrf}
    assert client.put(url, json={"version": 0, "marks": {str(q1): "3"}}).status_code == 403  # no CSRF
    ok = client.put(url, json={"version": 0, "marks": {str(q1): "3,5"}}, headers=headers)
    assert ok.status_code == 200 and ok.json()["version"] == 1 and ok.json()["marks"][str(q1)] == 3.5
    stale = client.put(url, json={"version": 0, "marks": {str(q1): "1"}}, headers=headers)
    assert stale.status_code == 409
    assert stale.json()["current"]["marks"][str(q1)] == 3.5
    assert "modifiée ailleurs" in stale.json()["message"]
    bad = client.put(url, json={"version": 1, "marks": {str(q2): "6.5"}}, headers=headers)
    assert bad.status_code == 422 and "6,5 est hors de 0 à 6" in bad.json()["message"]
    client.cookies.set("massicot_lang", "en")
    bad = client.put(url, json={"version": 1, "marks": {str(q2): "AB"}}, headers=headers)
    assert bad.status_code == 422 and "is not a mark" in bad.json()["message"]


def test_closed_window_answers_423_with_plain_words(site):
    world, client, factory = site
    csrf = logged_in(client, factory, world.corrector_id)
    with factory() as session, session.begin():
        session.execute(update(Paper).values(window_closes=datetime.now(UTC) - timedelta(hours=1)))
    answer = client.put(
        f"/api/marking/copies/{world.copies[0]}",
        json={"version": 0, "marks": {str(world.question_ids[0]): "1"}},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 423
    assert "est close depuis" in answer.json()["message"]
    assert "est close depuis" in client.get(f"/marking/copies/{world.copies[0]}").text


def test_the_home_says_why_marks_are_closed_in_the_readers_language(site):
    world, client, factory = site
    logged_in(client, factory, world.corrector_id)
    with factory() as session, session.begin():
        session.execute(update(Paper).values(window_closes=datetime.now(UTC) - timedelta(hours=1)))
    assert "est close depuis" in client.get("/marking").text
    client.cookies.set("massicot_lang", "en")
    home = client.get("/marking").text
    assert "closed on" in home and "est close depuis" not in home


def test_comment_bank_routes(site):
    world, client, factory = site
    csrf = logged_in(client, factory, world.corrector_id)
    headers = {"X-CSRF-Token": csrf}
    base = f"/api/marking/papers/{world.paper_id}/comments"
    made = client.post(base, json={"text": "Units missing."}, headers=headers)
    assert made.status_code == 201
    cid = made.json()["id"]
    assert client.post(base, json={"text": "For all", "shared": True}, headers=headers).status_code == 403
    assert client.post(base, json={"text": "  "}, headers=headers).status_code == 422
    assert [e["text"] for e in client.get(base).json()["entries"]] == ["Units missing."]
    client.put(
        f"/api/marking/copies/{world.copies[0]}", json={"version": 0, "comments": [cid]}, headers=headers
    )
    assert (
        client.put(f"/api/marking/comments/{cid}", json={"text": "Units!"}, headers=headers).status_code
        == 200
    )
    state = client.get(f"/api/marking/copies/{world.copies[0]}").json()
    assert state["comments"] == [cid]
    assert "Units!" in client.get(f"/marking/copies/{world.copies[0]}").text
    gone = client.delete(f"/api/marking/comments/{cid}", headers=headers).json()
    assert gone["deleted"] is False and gone["entry"]["retired"] is True
    # The other corrector can neither see nor change it.
    csrf2 = logged_in(client, factory, world.other_corrector_id)
    assert client.get(base).json()["entries"] == []
    denied = client.put(f"/api/marking/comments/{cid}", json={"text": "x"}, headers={"X-CSRF-Token": csrf2})
    assert denied.status_code == 403


def test_lot_page_links_open_the_copy_view(site):
    world, client, factory = site
    logged_in(client, factory, world.corrector_id)
    lot = client.get(f"/lots/{world.lot_id}")
    assert lot.status_code == 200
    links = re.findall(r'<a href="([^"]+)">([A-Z0-9]+)</a>', lot.text)
    assert [copy_id for _href, copy_id in links] == world.copies
    for href, copy_id in links:
        page = client.get(href, headers={"accept": "text/html"})
        assert page.status_code == 200, href
        assert f'<span class="mono">{copy_id}</span>' in page.text  # the copy view of that copy
