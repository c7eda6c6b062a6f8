"""The barème lock and the shared comment bank through the real application (HTTP in-process),
on SQLite and PostgreSQL: confirmation, CSRF, who may, and what correctors then see."""

from __future__ import annotations

import html
import warnings

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from correction_server.app import create_app
from correction_server.auth import access
from correction_server.auth import sessions as auth
from correction_server.marking import comments
from correction_server.marking.rules import utcnow
from correction_server.marking.saving import SaveRequest, save
from correction_server.models import AuditEntry, Comment, Paper, User
from correction_server.settings import Settings
from testkit.worlds.marking import login_cookie

SECRET = "test-secret-key-for-standardisation"
HTML = {"accept": "text/html"}


@pytest.fixture
def site(db_url, session_factory, entente, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = create_app(Settings(database_url=db_url, store_path=tmp_path / "store", secret_key=SECRET))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield entente, client, session_factory
    app.state.session_factory.kw["bind"].dispose()


def as_user(client: TestClient, factory, user_id: int) -> str:
    client.cookies.clear()
    cookie, csrf = login_cookie(factory, user_id, SECRET)
    client.cookies.set(auth.SESSION_COOKIE, cookie)
    return csrf


def words(response) -> str:
    """The page's text as a reader sees it (apostrophes are escaped in the HTML)."""
    return html.unescape(response.text)


def locked_at(factory, paper_id: int):
    with factory() as session:
        return session.get(Paper, paper_id).scheme_locked_at


def test_the_coordinator_sees_the_bareme_confirms_and_locks_it(site):
    world, client, factory = site
    base = f"/coordination/papers/{world.paper_id}"
    csrf = as_user(client, factory, world.base.coordinator_id)
    page = client.get(base, headers=HTML)
    assert page.status_code == 200
    assert 'data-locked="no"' in words(page)
    assert "les correcteurs ne peuvent pas encore saisir de notes" in words(page)
    for label, points in (("Question 1", "4"), ("Question 2", "6"), ("Question 3", "10")):
        assert f'<th scope="row">{label}</th><td>{points}</td>' in words(page)
    assert f'href="{base}/scheme/lock"' in words(page)
    # The confirmation page says, in plain words, that there is no way back.
    confirm = client.get(f"{base}/scheme/lock", headers=HTML)
    assert confirm.status_code == 200
    assert "Une fois verrouillé, le barème ne peut plus changer" in words(confirm)
    assert 'name="confirm" value="yes"' in words(confirm) and 'name="csrf_token"' in words(confirm)
    assert locked_at(factory, world.paper_id) is None  # looking changes nothing
    # Without the confirmation, nothing is locked.
    refused = client.post(f"{base}/scheme/lock", data={"csrf_token": csrf}, headers=HTML)
    assert refused.status_code == 400 and "Rien n'a été verrouillé" in words(refused)
    assert locked_at(factory, world.paper_id) is None
    done = client.post(f"{base}/scheme/lock", data={"csrf_token": csrf, "confirm": "yes"}, headers=HTML)
    assert done.status_code == 200
    when = locked_at(factory, world.paper_id)
    assert when is not None
    assert f"verrouillé le {when:%Y-%m-%d %H:%M}" in words(done) and 'data-locked="yes"' in words(done)
    assert f'href="{base}/scheme/lock"' not in words(done)  # no lock button any more
    with factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "scheme.lock")).one()
        assert (entry.actor_id, entry.actor_role) == (world.base.coordinator_id, "coordinator")
    # Twice: refused in plain words, the first lock kept.
    again = client.post(f"{base}/scheme/lock", data={"csrf_token": csrf, "confirm": "yes"}, headers=HTML)
    assert again.status_code == 409 and "déjà verrouillé" in words(again)
    assert locked_at(factory, world.paper_id) == when
    # The corrector may now save marks.
    with factory() as session:
        state = save(
            session,
            world.base.corrector_id,
            world.base.copies[0],
            SaveRequest(version=0, marks={world.base.question_ids[0]: "2"}),
        )
    assert state.version == 1


def test_the_lock_needs_the_form_token(site):
    world, client, factory = site
    as_user(client, factory, world.base.coordinator_id)
    url = f"/coordination/papers/{world.paper_id}/scheme/lock"
    answer = client.post(url, data={"confirm": "yes", "csrf_token": "forged"}, headers=HTML)
    assert answer.status_code == 403
    assert locked_at(factory, world.paper_id) is None


@pytest.mark.parametrize("who", ["corrector", "other_coordinator"])
def test_a_corrector_or_another_papers_coordinator_cannot_lock(site, who):
    world, client, factory = site
    user_id = world.base.corrector_id if who == "corrector" else world.other_coordinator_id
    csrf = as_user(client, factory, user_id)
    url = f"/coordination/papers/{world.paper_id}/scheme/lock"
    answer = client.post(
        url, data={"confirm": "yes", "csrf_token": csrf}, headers={"accept": "application/json"}
    )
    if who == "corrector":
        assert answer.status_code == 403
    else:
        assert answer.status_code == 404 and answer.json()["detail"] == access.NOT_YOURS
    assert locked_at(factory, world.paper_id) is None
    bank = client.get(
        f"/coordination/papers/{world.paper_id}/comments", headers={"accept": "application/json"}
    )
    assert bank.status_code in (403, 404)


def test_the_office_locks_too(site):
    world, client, factory = site
    csrf = as_user(client, factory, world.office_id)
    url = f"/coordination/papers/{world.paper_id}/scheme/lock"
    assert client.post(url, data={"confirm": "yes", "csrf_token": csrf}, headers=HTML).status_code == 200
    with factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "scheme.lock")).one()
        assert (entry.actor_id, entry.actor_role) == (world.office_id, "office")


def test_shared_bank_add_edit_retire_and_what_correctors_see(site):
    world, client, factory = site
    with factory() as session, session.begin():
        session.get(Paper, world.paper_id).scheme_locked_at = utcnow()
    base = f"/coordination/papers/{world.paper_id}/comments"
    csrf = as_user(client, factory, world.base.coordinator_id)
    page = client.get(base, headers=HTML)
    assert page.status_code == 200 and "Aucun commentaire partagé" in words(page)
    assert "change son texte partout où il est déjà utilisé" in words(page)
    added = client.post(base, data={"csrf_token": csrf, "text": "Justifiez chaque étape."}, headers=HTML)
    assert added.status_code == 200 and "Justifiez chaque étape." in words(added)
    with factory() as session:
        shared = session.scalars(select(Comment).where(Comment.shared.is_(True))).one()
    # An empty wording is refused in plain words, in the page's language.
    empty = client.post(base, data={"csrf_token": csrf, "text": "  "}, headers=HTML)
    assert empty.status_code == 422 and "Un commentaire doit avoir un texte." in words(empty)
    # The corrector finds it in his bank, marked shared, and uses it on two copies.
    csrf_corrector = as_user(client, factory, world.base.corrector_id)
    entries = client.get(f"/api/marking/papers/{world.paper_id}/comments").json()["entries"]
    assert [(e["id"], e["text"], e["shared"]) for e in entries] == [
        (shared.id, "Justifiez chaque étape.", True)
    ]
    for copy_id in world.base.copies[:2]:
        saved = client.put(
            f"/api/marking/copies/{copy_id}",
            json={"version": 0, "comments": [shared.id]},
            headers={auth.CSRF_HEADER: csrf_corrector},
        )
        assert saved.status_code == 200, saved.text
    # The corrector cannot reach the coordinator's page.
    assert client.get(base, headers={"accept": "application/json"}).status_code == 403
    # The coordinator rewords it: every copy using it shows the new wording.
    csrf = as_user(client, factory, world.base.coordinator_id)
    edited = client.post(
        f"{base}/{shared.id}",
        data={"csrf_token": csrf, "text": "Justifiez chaque étape du calcul."},
        headers=HTML,
    )
    assert edited.status_code == 200 and "les 2 copie(s) qui utilisent ce commentaire" in words(edited)
    as_user(client, factory, world.base.corrector_id)
    for copy_id in world.base.copies[:2]:
        view = client.get(f"/marking/copies/{copy_id}")
        assert "Justifiez chaque étape du calcul." in words(view)
        assert 'Justifiez chaque étape."' not in words(view)
    # Retired: out of the bank, kept on the two copies.
    csrf = as_user(client, factory, world.second_coordinator_id)  # any coordinator of the paper
    retired = client.post(f"{base}/{shared.id}/retire", data={"csrf_token": csrf}, headers=HTML)
    assert retired.status_code == 200 and "les 2 copie(s) qui l'utilisent le gardent" in words(retired)
    as_user(client, factory, world.base.corrector_id)
    assert client.get(f"/api/marking/papers/{world.paper_id}/comments").json()["entries"] == []
    assert "Justifiez chaque étape du calcul." in client.get(f"/marking/copies/{world.base.copies[0]}").text
    with factory() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == str(shared.id)).order_by(AuditEntry.seq)
        ).all()
    assert actions == ["comment.add", "comment.edit", "comment.retire"]


def test_the_shared_bank_pages_never_reach_a_correctors_own_entry(site):
    world, client, factory = site
    with factory() as session, session.begin():
        corrector = session.get(User, world.base.corrector_id)
        private = comments.add(session, corrector, world.paper_id, "Mine only.")
    for who in (world.base.coordinator_id, world.office_id):
        csrf = as_user(client, factory, who)
        base = f"/coordination/papers/{world.paper_id}/comments"
        assert "Mine only." not in client.get(base, headers=HTML).text
        answer = client.post(
            f"{base}/{private.id}", data={"csrf_token": csrf, "text": "Changed"}, headers=HTML
        )
        assert answer.status_code == 404 and "pas de commentaire partagé numéro" in words(answer)
        answer = client.post(f"{base}/{private.id}/retire", data={"csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 404
    with factory() as session:
        assert session.get(Comment, private.id).text == "Mine only."
        assert not session.get(Comment, private.id).retired


def test_the_office_adds_a_shared_comment(site):
    world, client, factory = site
    csrf = as_user(client, factory, world.office_id)
    base = f"/coordination/papers/{world.paper_id}/comments"
    added = client.post(base, data={"csrf_token": csrf, "text": "Unités attendues."}, headers=HTML)
    assert added.status_code == 200
    with factory() as session:
        comment = session.scalars(select(Comment)).one()
        assert comment.shared and comment.owner_id == world.office_id
    # The coordinator of another paper does not see this paper's bank at all.
    as_user(client, factory, world.other_coordinator_id)
    other = client.get(base, headers={"accept": "application/json"})
    assert other.status_code == 404 and other.json()["detail"] == access.NOT_YOURS
