"""The candidate space's pages through the real application (in-process): the office's letters
button and the answer to a request, the command line's letters, the staff login refusing a
candidate account, a guessed copy token answered like nothing."""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from correction_server.auth import sessions as auth
from correction_server.auth.access import NOT_YOURS
from correction_server.candidate_space import copies
from correction_server.db import make_engine, make_session_factory
from correction_server.models import ActivationCode, AuditEntry, JuryDecision, ReviewRequest, User
from massicot_core.errors import Refused
from testkit.worlds.candidate import birth_date_of, build_candidate_world, issue_letter, publish
from testkit.worlds.coordination import SECRET, client_for, log_in

PASSWORD = "une phrase assez longue"


@pytest.fixture
def site(fresh_database, tmp_path):
    url = fresh_database("sqlite")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    world = build_candidate_world(factory, tmp_path, tmp_path / "store")
    publish(factory, world.paper_id)
    with client_for(url, tmp_path / "store") as client:
        yield world, client, factory, url
    engine.dispose()


def _pre(client, path: str) -> str:
    page = client.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _activate(client, factory, world) -> None:
    code = issue_letter(factory, world.registration)
    form = {
        "registration": world.registration,
        "birth_date": birth_date_of(factory, world.registration),
        "code": code,
        "password": PASSWORD,
        "confirm": PASSWORD,
        "csrf_token": _pre(client, "/candidate/activate"),
    }
    done = client.post("/candidate/activate", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/candidate?welcome=1"


def test_the_office_issues_letters_from_its_page_and_answers_a_request(site, tmp_path):
    world, client, factory, _ = site
    with factory() as session:
        office = session.scalar(select(User).where(User.username == "office@rectorat.fr"))
    csrf = log_in(client, factory, office.id)
    page = client.get("/office/candidates")
    assert page.status_code == 200 and 'action="/office/candidates/letters"' in page.text
    pdf = client.post(
        "/office/candidates/letters", data={"paper": "U3", "csrf_token": csrf, "valid_days": "30"}
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    (tmp_path / "l.pdf").write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "l.pdf"), "-"], capture_output=True, text=True).stdout
    assert "http://testserver/candidate" in text and world.registration in text
    wrong = client.post("/office/candidates/letters", data={"paper": "ZZ9", "csrf_token": csrf})
    assert wrong.status_code == 404 and "le code ZZ9" in wrong.text
    with factory() as session:
        assert session.scalar(select(ActivationCode.id).limit(1)) is not None
    # The candidate asks; the office answers with a corrected mark; the candidate reads it.
    client.cookies.clear()
    _activate(client, factory, world)
    home = client.get("/candidate")
    token = re.search(r'href="/candidate/copies/([0-9a-f]{32})"', home.text).group(1)
    assert token == copies.copy_token(SECRET, world.copy_id)
    copy_page = client.get(f"/candidate/copies/{token}")
    candidate_csrf = re.search(r'name="csrf-token" content="([^"]+)"', copy_page.text).group(1)
    sent = client.post(
        f"/candidate/copies/{token}/requests",
        data={"message": "Question 3 : 2 points, le total en compte 0.", "csrf_token": candidate_csrf},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with factory() as session:
        request_id = session.scalar(select(ReviewRequest.id))
    csrf = log_in(client, factory, office.id)
    listed = client.get("/office/candidates")
    assert f"/office/candidates/requests/{request_id}" in listed.text
    shown = client.get(f"/office/candidates/requests/{request_id}")
    assert f"/marking/copies/{world.copy_id}" in shown.text and "Question 3" in shown.text
    answered = client.post(
        f"/office/candidates/requests/{request_id}",
        data={
            "answer": "Erreur de report corrigée.",
            "corrected_mark": "11",
            "by": "M. Martin",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert answered.status_code == 303
    with factory() as session:
        assert session.scalar(select(JuryDecision.by_name)) == "M. Martin"
        assert session.scalar(select(AuditEntry.id).where(AuditEntry.action == "candidate.review_answered"))
    client.cookies.clear()
    form = {
        "registration": world.registration,
        "password": PASSWORD,
        "csrf_token": _pre(client, "/candidate/login"),
    }
    assert client.post("/candidate/login", data=form, follow_redirects=False).status_code == 303
    again = client.get(f"/candidate/copies/{token}")
    assert "Erreur de report corrigée." in again.text and "Note corrigée : 11 / 20." in again.text
    assert "M. Martin" not in again.text  # who answered stays on the office's side
    home = client.get("/candidate")
    assert "11 / 20 (note du jury ; note du correcteur : 10 / 20)" in home.text


def test_staff_login_refuses_candidates_and_a_guessed_token_is_nothing(site):
    world, client, factory, _ = site
    _activate(client, factory, world)
    mine = client.get(f"/candidate/copies/{copies.copy_token(SECRET, world.copy_id)}")
    assert mine.status_code == 200
    answers = [
        client.get(f"/candidate/copies/{t}", headers={"accept": "application/json"})
        for t in (copies.copy_token(SECRET, world.other_copy_id), "0" * 32, world.copy_id)
    ]
    assert {(a.status_code, a.json()["detail"]) for a in answers} == {(404, NOT_YOURS)}
    client.cookies.clear()
    form = {"username": world.registration, "password": PASSWORD, "csrf_token": _pre(client, "/login")}
    refused = client.post("/login", data=form, follow_redirects=False)
    assert refused.status_code == 401 and auth.SESSION_COOKIE not in refused.cookies


def test_the_command_line_writes_the_letters(site, tmp_path, monkeypatch):
    world, _, factory, url = site
    from massicot.cli import app

    monkeypatch.setenv("MASSICOT_DATA", str(tmp_path / "data"))
    out = tmp_path / "letters.pdf"
    result = CliRunner().invoke(
        app, ["office", "candidate-access", "--centre", "0130040Y", "--out", str(out), "--db", url]
    )
    assert result.exit_code == 0, result.output
    assert "lettre(s) écrite(s)" in result.output or "letter(s) written" in result.output
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))
    with factory() as session:
        assert session.scalar(select(ActivationCode.id).order_by(ActivationCode.id.desc()).limit(1)) == pages
    both = CliRunner().invoke(
        app,
        [
            "office",
            "candidate-access",
            "--centre",
            "0130040Y",
            "--paper",
            "U3",
            "--out",
            str(out),
            "--db",
            url,
        ],
    )
    # `massicot` prints a refusal in words and exits with 2 (massicot.cli.main); here it is raised.
    assert isinstance(both.exception, Refused)
    assert "pas les deux" in str(both.exception) or "not both" in str(both.exception)
