"""The jury rules through the pages (real app in-process, SQLite and PostgreSQL): the office
holds a candidate with his report and its scan, the export waits for the harmonisation meeting,
the coordinator previews and applies a change that the corrector then reads on his home and copy
view, the jury's deliberation freezes marks in plain words, a justified absence goes to the
replacement list, the anonymised export names no one, payment lines become payable once confirmed;
then the command line: the same rules, and `audit verify` after a session that used them all."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from typer.testing import CliRunner

from correction_server.models import (
    AbsenceJustification,
    FraudReport,
    HarmonisedMark,
    Marking,
    WorkConfirmation,
)
from massicot.cli import app as massicot_app
from testkit.worlds.coordination import build_world, client_for, log_in

HTML = {"accept": "text/html"}


def _ok(world):
    return [c for c, s in sorted(world.status.items()) if s.value == "ok"]


def test_the_jury_rules_through_the_office_and_coordination_pages(db_url, session_factory, tmp_path):
    world = build_world(session_factory, tmp_path, absent_every=13)
    ok = _ok(world)
    held_reg = world.copies[ok[0]]
    absent_reg = next(world.copies[c] for c, s in sorted(world.status.items()) if s.value == "absent")
    harsh = sorted(world.lots)[0]
    pid = world.paper_id
    with client_for(db_url, tmp_path / "store") as client:
        csrf = log_in(client, session_factory, world.office_id)
        page = client.post(
            "/office/holds",
            data={
                "csrf_token": csrf,
                "registration": held_reg,
                "reason": "suspicion de fraude",
                "report_by": "M. Surveillant",
                "report_at": "2026-06-10T09:40",
                "seized": "téléphone",
                "paper_id": str(pid),
            },
            files={"report_file": ("pv.pdf", b"%PDF-1.4 pv", "application/pdf")},
            headers=HTML,
        )
        assert page.status_code == 200, page.text[:400]
        assert "M. Surveillant" in page.text and "pv.pdf" in page.text
        refused = client.get(f"/office/closing/papers/{pid}/export.csv")
        assert refused.status_code == 409 and "réunion d'harmonisation" in refused.text
        assert client.get(f"/office/closing/papers/{pid}/export-anonymised.csv").status_code == 409
        # The coordinator records the meeting, previews +1 on one corrector, applies it.
        csrf = log_in(client, session_factory, world.coordinator_id)
        posted = client.post(
            f"/coordination/papers/{pid}/harmonisation/meeting",
            data={
                "csrf_token": csrf,
                "on": "2026-06-12",
                "attendees": "IA-IPR, correcteurs",
                "minutes": "Revue.",
            },
            headers=HTML,
            follow_redirects=False,
        )
        assert posted.status_code == 303
        rule = {
            "kind": "corrector",
            "corrector_id": str(harsh),
            "delta": "1",
            "reason": "exercice 2 trop sévère",
        }
        preview = client.get(f"/coordination/papers/{pid}/harmonisation", params=rule, headers=HTML)
        assert (
            preview.status_code == 200 and 'id="preview-histogram"' in preview.text and "<svg" in preview.text
        )
        bad = client.get(
            f"/coordination/papers/{pid}/harmonisation", params=rule | {"delta": "0,3"}, headers=HTML
        )
        assert bad.status_code == 409 and "demi-points" in bad.text
        with session_factory() as session:
            assert session.scalar(select(HarmonisedMark.id)) is None
        applied = client.post(
            f"/coordination/papers/{pid}/harmonisation/apply",
            data=rule | {"csrf_token": csrf},
            headers=HTML,
            follow_redirects=False,
        )
        assert applied.status_code == 303 and "applied=" in applied.headers["location"]
        confirm = client.post(
            f"/coordination/papers/{pid}/confirm-work",
            data={"csrf_token": csrf, "corrector_id": str(harsh)},
            headers=HTML,
            follow_redirects=False,
        )
        assert confirm.status_code == 303
        with session_factory() as session:
            changed = session.scalars(select(HarmonisedMark)).all()
            assert changed and {h.corrector_id for h in changed} == {harsh}
            assert session.scalar(select(WorkConfirmation.capacity)) == "coordinator"
        # The corrector reads what changed on his copies, and why.
        log_in(client, session_factory, harsh)
        home = client.get("/marking", headers=HTML)
        assert "exercice 2 trop sévère" in home.text and changed[0].copy_id in home.text
        copy_page = client.get(f"/marking/copies/{changed[0].copy_id}", headers=HTML)
        assert "exercice 2 trop sévère" in copy_page.text
        other = next(c for c in world.lots if c != harsh)
        log_in(client, session_factory, other)
        assert "exercice 2 trop sévère" not in client.get("/marking", headers=HTML).text
        # The office: justified absence, exports, the jury's deliberation freezes the marks.
        csrf = log_in(client, session_factory, world.office_id)
        page = client.post(
            f"/office/closing/papers/{pid}/absence",
            data={"csrf_token": csrf, "registration": absent_reg, "evidence": "certificat médical"},
            files={"file": ("certificat.jpg", b"\xff\xd8jpeg", "image/jpeg")},
            headers=HTML,
        )
        assert page.status_code == 200 and "certificat médical" in page.text
        replacement = client.get(f"/office/closing/papers/{pid}/replacement.csv")
        assert absent_reg in replacement.text
        named = client.get(f"/office/closing/papers/{pid}/export.csv")
        assert named.status_code == 200
        rows = {r["registration"]: r for r in csv.DictReader(io.StringIO(named.text))}
        assert rows[held_reg]["mark"] != "" and rows[held_reg]["procedure"] == "under fraud procedure"
        assert rows[absent_reg]["mark"] == "0"
        anonymised = client.get(f"/office/closing/papers/{pid}/export-anonymised.csv")
        assert anonymised.status_code == 200 and "points_10" in anonymised.text
        assert not any(reg in anonymised.text for reg in world.copies.values())
        page = client.post(
            f"/office/closing/papers/{pid}/jury-meeting",
            data={"csrf_token": csrf, "kind": "deliberation", "on": "2026-06-20", "minutes": ""},
            headers=HTML,
        )
        assert page.status_code == 200 and "les notes sont arrêtées" in page.text
        mark = None
        with session_factory() as session:
            mark = session.scalar(select(Marking.mark_20).where(Marking.copy_id == ok[1]))
        page = client.post(
            f"/office/closing/papers/{pid}/jury",
            data={
                "csrf_token": csrf,
                "registration": world.copies[ok[1]],
                "mark": "20",
                "reason": "x",
                "by": "P",
            },
            headers=HTML,
        )
        assert page.status_code == 409 and "nouvelle réunion du jury" in page.text
        assert mark is not None
        # Payment: a level, and the head of centre's confirmation for another corrector.
        for path, data in (
            ("pay-level", {"level": "bac"}),
            ("pay-rates", {"bac": "5", "iv": "1,10", "v": "0,75", "second_reading": "1"}),
            ("confirm-work", {"corrector_id": str(other), "by": "M. le Proviseur"}),
        ):
            page = client.post(
                f"/office/closing/papers/{pid}/{path}", data={"csrf_token": csrf} | data, headers=HTML
            )
            assert page.status_code == 200, (path, page.text[:300])
        payment = list(csv.DictReader(io.StringIO(client.get("/office/payment.csv").text)))
        payable = {r["payable"] for r in payment if r["confirmed_by"]}
        assert payable == {"yes"} and sum(r["payable"] == "yes" for r in payment) == 2
        assert all(r["rate"] == "5.00" for r in payment)
    with session_factory() as session:
        assert session.scalar(select(FraudReport.file_name)) == "pv.pdf"
        assert session.scalar(select(AbsenceJustification.file_name)) == "certificat.jpg"


def test_the_jury_rules_on_the_command_line_and_the_audit_chain_after_them(
    fresh_database, tmp_path, monkeypatch
):
    from correction_server.db import make_engine, make_session_factory

    url = fresh_database("sqlite")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    world = build_world(factory, tmp_path, absent_every=13)
    engine.dispose()
    monkeypatch.setenv("MASSICOT_DATA", str(tmp_path / "data"))
    (tmp_path / "store").mkdir()
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(massicot_app, [*args, "--db", url])
        return result

    def ok(*args: str) -> str:
        result = run(*args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output

    ok_copies = _ok(world)
    held = world.copies[ok_copies[0]]
    raised = world.copies[ok_copies[1]]
    absent = next(world.copies[c] for c, s in sorted(world.status.items()) if s.value == "absent")
    corrector = next(u for u, i in world.correctors.items() if i == sorted(world.lots)[0])
    pv = tmp_path / "pv.pdf"
    pv.write_bytes(b"%PDF-1.4 pv")
    ok(
        "office",
        "hold",
        "--candidate",
        held,
        "--reason",
        "fraude",
        "--by",
        "Office",
        "--report-by",
        "M. Surveillant",
        "--report-at",
        "2026-06-10T09:40+02:00",
        "--seized",
        "notes",
        "--report-file",
        str(pv),
        "--paper",
        "U3",
        "--store",
        str(tmp_path / "store"),
    )
    result = run("office", "export", "--paper", "U3", "--anonymised", "--out", str(tmp_path / "a.csv"))
    assert result.exit_code != 0 and "harmonisation meeting" in str(result.exception)
    ok(
        "office",
        "harmonisation-meeting",
        "--paper",
        "U3",
        "--on",
        "2026-06-12",
        "--attendees",
        "IA",
        "--minutes",
        "ok",
        "--by",
        "IA",
    )
    preview = ok(
        "office", "harmonise", "--paper", "U3", "--corrector", corrector, "--delta", "0.5", "--reason", "r"
    )
    assert "Preview only" in preview
    applied = ok(
        "office",
        "harmonise",
        "--paper",
        "U3",
        "--corrector",
        corrector,
        "--delta",
        "0.5",
        "--reason",
        "r",
        "--apply",
    )
    assert "Applied" in applied
    ok(
        "office",
        "justify-absence",
        "--paper",
        "U3",
        "--candidate",
        absent,
        "--evidence",
        "certificat",
        "--by",
        "Office",
    )
    listed = tmp_path / "replacement.csv"
    ok("office", "replacement-list", "--paper", "U3", "--out", str(listed))
    assert absent in listed.read_text()
    ok("office", "export", "--paper", "U3", "--anonymised", "--out", str(tmp_path / "a.csv"))
    text = (tmp_path / "a.csv").read_text()
    assert "copy_id,mark,status,procedure" in text and held not in text
    ok(
        "office",
        "jury-mark",
        "--paper",
        "U3",
        "--candidate",
        raised,
        "--mark",
        "20",
        "--reason",
        "points",
        "--by",
        "P",
    )
    lowered = run(
        "office",
        "jury-mark",
        "--paper",
        "U3",
        "--candidate",
        raised,
        "--mark",
        "1",
        "--reason",
        "x",
        "--by",
        "P",
    )
    assert lowered.exit_code != 0 and "only raise" in str(lowered.exception)
    ok("office", "jury-meeting", "--paper", "U3", "--kind", "deliberation", "--on", "2026-06-20", "--by", "P")
    frozen = run(
        "office",
        "jury-mark",
        "--paper",
        "U3",
        "--candidate",
        raised,
        "--mark",
        "20",
        "--reason",
        "x",
        "--by",
        "P",
    )
    assert frozen.exit_code != 0 and "deliberated" in str(frozen.exception)
    ok(
        "office",
        "jury-meeting",
        "--paper",
        "U3",
        "--kind",
        "reconvened",
        "--on",
        "2026-06-22",
        "--minutes",
        "erreur",
        "--by",
        "P",
    )
    ok(
        "office",
        "jury-mark",
        "--paper",
        "U3",
        "--candidate",
        raised,
        "--mark",
        "12",
        "--reason",
        "total mal reporté",
        "--by",
        "P",
        "--material-error",
        "--found-by",
        "Secrétaire",
    )
    ok("office", "void", "--paper", "U3", "--candidate", held, "--decision", "nullité", "--by", "Commission")
    ok("office", "pay-level", "--paper", "U3", "--level", "v")
    ok("office", "pay-rates", "--paper", "U3", "--v", "0.80", "--second-reading", "1")
    ok(
        "office",
        "confirm-work",
        "--paper",
        "U3",
        "--corrector",
        corrector,
        "--as",
        "head_of_centre",
        "--by",
        "M. Proviseur",
    )
    ok("office", "payment", "--out", str(tmp_path / "pay.csv"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "pay.csv").read_text())))
    assert {r["payable"] for r in rows if r["email"] == corrector} == {"yes"}
    assert {r["rate"] for r in rows} == {"0.80"}
    named = tmp_path / "named.csv"
    ok("office", "export", "--paper", "U3", "--out", str(named))
    by_reg = {r["registration"]: r for r in csv.DictReader(io.StringIO(named.read_text()))}
    assert (
        by_reg[held]["status"] == "void" and by_reg[absent]["mark"] == "0" and by_reg[raised]["mark"] == "12"
    )
    verified = ok("audit", "verify")
    assert "Audit log intact" in verified
    from sqlalchemy import create_engine

    from correction_server.models import AuditEntry

    engine = create_engine(url)
    with engine.connect() as conn:
        actions = set(conn.scalars(select(AuditEntry.action)))
    engine.dispose()
    assert {
        "closing.hold",
        "coordination.harmonisation_meeting",
        "coordination.harmonisation_rule",
        "coordination.harmonised_mark",
        "closing.absence_justified",
        "closing.jury_mark",
        "closing.jury_deliberation",
        "closing.jury_reconvened",
        "closing.material_error",
        "closing.paper_void",
        "closing.pay_level",
        "closing.pay_rates",
        "closing.work_confirmed",
        "closing.export_anonymised",
        "closing.replacement_export",
    } <= actions
