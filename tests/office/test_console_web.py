"""The office console through the real application (in-process): every page answers, every form
redirects (POST-redirect-GET), imports are checked first and imported only when clean, and
background actions run once however many times they are asked for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from correction_server.models import Candidate, Centre, OfficeAction, Paper, User
from correction_server.office import actions
from testkit.worlds.office import office_client

SAMPLES = Path(__file__).resolve().parents[2] / "massicot" / "samples"
HTML = {"accept": "text/html"}


@pytest.fixture
def office(session_factory, db_url, tmp_path):
    with office_client(session_factory, db_url, tmp_path / "store") as (client, csrf):
        yield client, csrf, session_factory


def _action_id(response) -> int:
    assert response.status_code == 303, response.text
    match = re.match(r"/office/actions/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def _upload(client, csrf, path: str, name: str, data: bytes, **fields):
    return client.post(
        path,
        data={"csrf_token": csrf, **fields},
        files={"file": (name, data)},
        headers=HTML,
        follow_redirects=False,
    )


def _finished(factory, response) -> OfficeAction:
    return actions.wait(factory, _action_id(response))


def test_candidates_with_errors_then_clean_then_again(office):
    client, csrf, factory = office
    paper = _finished(
        factory,
        _upload(client, csrf, "/office/imports/paper", "u3.yaml", (SAMPLES / "paper_u3.yaml").read_bytes()),
    )
    assert paper.succeeded and "rien n'est encore écrit" in paper.outcome
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Paper)) == 0  # a check writes nothing
    page = client.post(
        f"/office/actions/{paper.id}/import", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert _finished(factory, page).succeeded
    good = (SAMPLES / "candidates.csv").read_text(encoding="utf-8")
    lines = good.splitlines()
    bad = "\n".join([lines[0], lines[1].replace("0130040Y", "013004"), *lines[2:]]) + "\n"
    checked = _finished(
        factory, _upload(client, csrf, "/office/imports/candidates", "cands.csv", bad.encode())
    )
    assert not checked.succeeded
    assert "line 2: centre_uai “013004” is not a UAI code" in checked.outcome
    shown = client.get(f"/office/actions/{checked.id}", headers=HTML)
    assert "line 2: centre_uai" in shown.text and "import-now" not in shown.text
    refused = client.post(
        f"/office/actions/{checked.id}/import", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert refused.status_code == 303 and "check_first" in refused.headers["location"]
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Candidate)) == 0
    clean = _finished(
        factory, _upload(client, csrf, "/office/imports/candidates", "cands.csv", good.encode())
    )
    assert clean.succeeded and "rien n&#39;est encore écrit" in client.get(f"/office/actions/{clean.id}").text
    done = _finished(
        factory,
        client.post(f"/office/actions/{clean.id}/import", data={"csrf_token": csrf}, follow_redirects=False),
    )
    assert done.succeeded
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Candidate)) == len(lines) - 1
    again = _finished(
        factory, _upload(client, csrf, "/office/imports/candidates", "cands.csv", good.encode())
    )
    assert "Rien n'a changé" in again.outcome


def test_glance_shows_a_late_centre_with_its_contact(office):
    client, csrf, factory = office
    from correction_server.office.candidates import import_candidates
    from correction_server.office.papers import import_paper

    import_paper(factory, SAMPLES / "paper_u3.yaml")
    import_candidates(factory, SAMPLES / "candidates.csv")
    with factory() as s:
        paper_id = s.scalar(select(Paper.id))
        centre = s.scalars(select(Centre).order_by(Centre.uai)).first()
        centre_id, uai = centre.id, centre.uai
    assert (
        client.post(
            f"/office/centres/{centre_id}/contact",
            data={"csrf_token": csrf, "contact": "M. Martin 04 91 00 00 00"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    page = client.get("/office", headers=HTML)
    assert page.status_code == 200 and "M. Martin" not in page.text  # no deadline yet: nobody late
    sent = client.post(
        f"/office/papers/{paper_id}/deadline",
        data={"csrf_token": csrf, "deadline": "2024-05-16T23:59"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with factory() as s:
        stored = s.get(Paper, paper_id).scan_deadline
    assert stored.isoformat() == "2024-05-16T21:59:00+00:00"  # typed in Paris time (CEST), kept in UTC
    page = client.get("/office", headers=HTML)
    assert f"{uai}" in page.text and "M. Martin 04 91 00 00 00" in page.text
    assert "16/05/2024 23:59" in page.text


def test_a_second_click_does_not_start_the_action_twice(office):
    _client, _csrf, factory = office
    import threading

    gate = threading.Event()

    def slow(progress):
        progress(1, 2, force=True)
        gate.wait(10)
        return True, "fini"

    first = actions.start(factory, "audit_verify", "chain", slow, by_user_id=None, by_name="Test")
    second = actions.start(factory, "audit_verify", "chain", slow, by_user_id=None, by_name="Test")
    assert not first.already_running and second.already_running
    assert second.action_id == first.action_id
    gate.set()
    done = actions.wait(factory, first.action_id)
    assert done.outcome == "fini" and done.running_key is None
    third = actions.start(
        factory, "audit_verify", "chain", lambda p: (True, "encore"), by_user_id=None, by_name="T"
    )
    assert third.action_id != first.action_id


def test_every_console_page_answers(office):
    client, csrf, factory = office
    from correction_server.office.candidates import import_candidates
    from correction_server.office.papers import import_paper

    import_paper(factory, SAMPLES / "paper_u3.yaml")
    import_candidates(factory, SAMPLES / "candidates.csv")
    with factory() as s:
        paper_id = s.scalar(select(Paper.id))
        centre_id = s.scalar(select(Centre.id))
    for path in (
        "/office",
        "/office/imports",
        "/office/centres",
        f"/office/centres/{centre_id}",
        "/office/people",
        f"/office/papers/{paper_id}",
        "/office/housekeeping",
        "/office/settings",
        "/office/actions",
        "/office/once",
    ):
        page = client.get(path, headers=HTML)
        assert page.status_code == 200, (path, page.text[-2000:])
        assert 'lang="fr"' in page.text
    roll = client.get(f"/office/centres/{centre_id}/rolls/{paper_id}.csv")
    assert roll.status_code == 200
    assert roll.text.splitlines()[0] == "candidate,name,present,room,table,deadline"


def test_time_zone_setting_changes_what_pages_show(office):
    client, csrf, factory = office
    from correction_server.office.papers import import_paper

    import_paper(factory, SAMPLES / "paper_u3.yaml")
    with factory() as s:
        paper_id = s.scalar(select(Paper.id))
    refused = client.post(
        "/office/settings", data={"csrf_token": csrf, "time_zone": "Mars/Olympus"}, follow_redirects=False
    )
    assert "unknown_zone" in refused.headers["location"]
    client.post(
        "/office/settings", data={"csrf_token": csrf, "time_zone": "Indian/Reunion"}, follow_redirects=False
    )
    client.post(
        f"/office/papers/{paper_id}/deadline",
        data={"csrf_token": csrf, "deadline": "2024-05-16T23:59"},
        follow_redirects=False,
    )
    with factory() as s:
        assert s.get(Paper, paper_id).scan_deadline.isoformat() == "2024-05-16T19:59:00+00:00"
    page = client.get(f"/office/papers/{paper_id}", headers=HTML)
    assert 'value="2024-05-16T23:59"' in page.text and "Indian/Reunion" in page.text
    # window_opens 2024-05-22T08:00+02:00 is 10:00 in La Réunion.
    assert "22/05/2024 10:00" in page.text
    client.post(
        "/office/settings", data={"csrf_token": csrf, "time_zone": "Europe/Paris"}, follow_redirects=False
    )


def test_people_add_link_and_disable(office):
    client, csrf, factory = office
    from correction_server.office.papers import import_paper

    import_paper(factory, SAMPLES / "paper_u3.yaml")
    added = client.post(
        "/office/people/add",
        data={
            "csrf_token": csrf,
            "name": "Anne Prof",
            "email": "anne@ac.fr",
            "role": "corrector",
            "establishment_uai": "0130039X",
            "papers": "U3:40",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303 and added.headers["location"] == "/office/once"
    once = client.get("/office/once", headers=HTML)
    assert "/password/" in once.text and "anne@ac.fr" in once.text
    assert "/password/" not in client.get("/office/once", headers=HTML).text  # shown once
    with factory() as s:
        anne = s.scalar(select(User).where(User.username == "anne@ac.fr"))
    assert "jamais connecté" in client.get("/office/people", headers=HTML).text
    no = client.post(
        f"/office/people/{anne.id}/active", data={"csrf_token": csrf, "active": "no"}, follow_redirects=False
    )
    assert "confirm_disable" in no.headers["location"]
    client.post(
        f"/office/people/{anne.id}/active",
        data={"csrf_token": csrf, "active": "no", "confirm": "yes"},
        follow_redirects=False,
    )
    with factory() as s:
        assert s.get(User, anne.id).active is False
