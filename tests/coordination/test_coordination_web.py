"""The second reader's pages are blind to the first mark; a hold changes nothing the corrector sees;
the CLI commands of the office work on a generated session (real app in-process, real database)."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select
from typer.testing import CliRunner

from correction_server.audit import log as audit
from correction_server.closing.holds import place_hold
from correction_server.coordination.refusals import CoordinationRefused
from correction_server.coordination.second_reading import request_second_reading
from correction_server.models import Marking, SecondReading
from massicot.cli import app as massicot_app
from testkit.worlds.coordination import build_world, client_for, log_in


def _csrf_free(html: str) -> str:
    return re.sub(r'(csrf[-_]token"? (?:content|value)=")[^"]+', r"\1", html)


def test_the_second_reader_never_sees_the_first_mark(db_url, session_factory, tmp_path):
    world = build_world(session_factory, tmp_path)
    first = min(world.lots)
    copy_id = next(c for c in world.lots[first] if world.status[c].value == "ok")
    with session_factory() as session:
        mark = session.scalar(select(Marking).where(Marking.copy_id == copy_id))
        appreciation = mark.appreciation
        for reader_id in sorted(world.correctors.values()):
            if reader_id == first:
                continue
            try:
                reading = request_second_reading(
                    session, copy_id, reader_id, audit.Actor(world.coordinator_id, "coordinator")
                )
                break
            except CoordinationRefused:
                continue
        session.commit()
        reading_id, reader = reading.id, reading.reader_id
    with client_for(db_url, tmp_path / "store") as client:
        csrf = log_in(client, session_factory, reader)
        page = client.get(f"/second-readings/{reading_id}", headers={"accept": "text/html"})
        assert page.status_code == 200 and copy_id in page.text
        assert appreciation not in page.text
        assert f"/marking/copies/{copy_id}" not in page.text
        # His marking API refuses the copy: it is not in his lots.
        assert client.get(f"/api/marking/copies/{copy_id}").status_code == 404
        form = {f"q-{q}": "1" for q in world.question_ids} | {
            "appreciation": "Lecture 2.",
            "csrf_token": csrf,
        }
        saved = client.post(f"/second-readings/{reading_id}", data=form, headers={"accept": "text/html"})
        assert saved.status_code == 200
        csrf = log_in(client, session_factory, world.coordinator_id)
        page = client.get(f"/coordination/papers/{world.paper_id}", headers={"accept": "text/html"})
        assert copy_id in page.text and "à décider" in page.text
        for registration in world.copies.values():
            assert registration not in page.text
    with session_factory() as session:
        assert session.get(SecondReading, reading_id).mark_20 == 5


def test_a_hold_changes_nothing_on_the_correctors_pages(db_url, session_factory, tmp_path):
    world = build_world(session_factory, tmp_path)
    copy_id = next(c for c, s in sorted(world.status.items()) if s.value == "ok")
    corrector = world.corrector_of(copy_id)
    with client_for(db_url, tmp_path / "store") as client:
        log_in(client, session_factory, corrector)
        before = [
            client.get(p, headers={"accept": "text/html"}).text
            for p in ("/marking", f"/marking/copies/{copy_id}")
        ]
        api_before = client.get(f"/api/marking/copies/{copy_id}").json()
        with session_factory() as session:
            place_hold(
                session, world.copies[copy_id], "procédure", audit.Actor(world.office_id, "office"), "O"
            )
            session.commit()
        after = [
            client.get(p, headers={"accept": "text/html"}).text
            for p in ("/marking", f"/marking/copies/{copy_id}")
        ]
        assert [_csrf_free(h) for h in after] == [_csrf_free(h) for h in before]
        assert client.get(f"/api/marking/copies/{copy_id}").json() == api_before


def test_office_commands_reconcile_export_jury_and_purge(fresh_database, tmp_path, monkeypatch):
    from correction_server.db import make_engine, make_session_factory

    url = fresh_database("sqlite")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    world = build_world(factory, tmp_path, missing_every=31)
    engine.dispose()
    monkeypatch.setenv("MASSICOT_DATA", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(massicot_app, [*args, "--db", url])

    result = run("office", "reconcile", "--paper", "U3")
    assert result.exit_code == 0, result.output
    assert "BLOCKS EXPORT" in result.output and "no copy was received" in result.output
    result = run("office", "export", "--paper", "U3", "--out", str(tmp_path / "marks.csv"))
    assert result.exit_code != 0 and "harmonisation meeting" in str(result.exception)
    missing = [
        line.split("\t")[2].split()[0]
        for line in run("office", "reconcile", "--paper", "U3").output.splitlines()
        if line.startswith("BLOCKS EXPORT")
    ]
    assert (
        run(
            "office",
            "declare-missing",
            "--paper",
            "U3",
            "--candidate",
            missing[0],
            "--reason",
            "perdue",
            "--by",
            "Office",
        ).exit_code
        == 0
    )
    result = run("office", "export", "--paper", "U3", "--out", str(tmp_path / "marks.csv"))
    assert result.exit_code != 0 and "harmonisation meeting" in str(result.exception)
    result = run(
        "office",
        "harmonisation-meeting",
        "--paper",
        "U3",
        "--on",
        "2026-06-12",
        "--attendees",
        "IA-IPR, correcteurs",
        "--minutes",
        "Barème appliqué",
        "--by",
        "IA-IPR",
    )
    assert result.exit_code == 0, result.output
    result = run("office", "export", "--paper", "U3", "--out", str(tmp_path / "marks.csv"))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "marks.csv").read_text())))
    assert len(rows) == 60
    reg = next(r["registration"] for r in rows if r["status"] == "marked" and r["mark"] not in ("AB", "00"))
    result = run(
        "office",
        "jury-mark",
        "--paper",
        "U3",
        "--candidate",
        reg,
        "--mark",
        "20",
        "--reason",
        "délibération",
        "--by",
        "Président",
    )
    assert result.exit_code == 0, result.output
    result = run("office", "export", "--paper", "U3", "--out", str(tmp_path / "marks.xlsx"))
    assert result.exit_code == 0 and (tmp_path / "marks.xlsx").stat().st_size > 0
    assert run("office", "payment", "--out", str(tmp_path / "pay.csv")).exit_code == 0
    assert run("office", "publish", "--paper", "U3", "--on", "2020-07-04").exit_code == 0
    result = run("office", "purge", "--before", "2021-01-01", "--store", str(tmp_path / "store"))
    assert result.exit_code == 0, result.output
    assert f"Deleted the pages of {len(world.copies)} copies" in result.output
    assert run("audit", "verify").exit_code == 0
    assert "Audit log intact" in run("audit", "verify").output
    result = run("office", "progress", "--paper", "U3")
    assert result.exit_code == 0 and "Holm" in result.output
