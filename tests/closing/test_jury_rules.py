"""The jury rules of DOMAIN.md 18–24 through the services, on SQLite and PostgreSQL: a fraud
procedure keeps the mark for the jury (flagged) and the candidate waiting, with its report and
its outcome (released or void); a justified absence is 0 and goes to the replacement list; no
export before the harmonisation meeting, whose rules change marks (previewed, applied, audited,
seen by the corrector); the jury only raises (a lowering is a named material error) and its
deliberation freezes the marks until it reconvenes; the anonymised export with its statistics;
payment by level with the confirmation of the work. Then `audit verify` on the whole session."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from correction_server.audit import log as audit
from correction_server.closing.absence import justify_absence, replacement_csv, replacement_list
from correction_server.closing.anonymised import ANONYMISED_COLUMNS, anonymised_rows, export_anonymised
from correction_server.closing.attachments import Attachment
from correction_server.closing.candidates import find_candidate
from correction_server.closing.deliberation import record_jury_meeting
from correction_server.closing.export import EXPORT_COLUMNS, FRAUD, export_marks, export_rows
from correction_server.closing.fraud import declare_void, result_withheld
from correction_server.closing.holds import ReportIn, place_hold, release_hold
from correction_server.closing.jury import record_jury_decision
from correction_server.closing.payment import (
    configure_rates,
    confirm_work,
    payment_csv,
    payment_lines,
    set_paper_level,
)
from correction_server.closing.publication import consultation_open, publish_results
from correction_server.closing.refusals import ClosingRefused
from correction_server.coordination.harmonisation_meeting import HarmonisationRefused, record_meeting
from correction_server.coordination.harmonisation_rules import (
    RuleIn,
    apply_rule,
    changes_for_corrector,
    preview,
)
from correction_server.marking.frozen import MarksFrozen
from correction_server.marking.saving import SaveRequest, save
from correction_server.models import AuditEntry, FraudReport, HarmonisedMark, Marking
from correction_server.pages.store import LocalStore
from massicot_core.errors import Refused
from testkit.worlds.coordination import build_world

OFFICE = audit.Actor(None, "office")


def _rows(session, paper_id):
    return {r[0]: dict(zip(EXPORT_COLUMNS, r, strict=True)) for r in export_rows(session, paper_id)}


def _ok_copies(world):
    return [c for c, s in sorted(world.status.items()) if s.value == "ok"]


def _meeting(session, world):
    return record_meeting(
        session,
        world.paper_id,
        date(2026, 6, 12),
        "IA-IPR, 4 correcteurs",
        "Barème appliqué.",
        OFFICE,
        "IA-IPR",
    )


def test_fraud_keeps_the_mark_for_the_jury_and_the_candidate_waiting(session_factory, tmp_path):
    store = LocalStore(tmp_path / "store")
    world = build_world(session_factory, tmp_path)
    ok = _ok_copies(world)
    reg, other = world.copies[ok[0]], world.copies[ok[1]]
    with session_factory() as session:
        _meeting(session, world)
        stored = session.scalar(select(Marking.mark_20).where(Marking.copy_id == ok[0]))
        with pytest.raises(ClosingRefused, match="who drew up"):
            place_hold(
                session, reg, "fraude", OFFICE, "Office", report=ReportIn(" ", datetime.now(UTC)), store=store
            )
        report = ReportIn(
            "M. Surveillant, salle 3",
            datetime(2026, 6, 10, 9, 40, tzinfo=UTC),
            "antisèche manuscrite",
            world.paper_id,
            Attachment("pv-fraude.pdf", b"%PDF-1.4 pv"),
        )
        place_hold(session, reg, "suspicion de fraude", OFFICE, "Office", report=report, store=store)
        session.commit()
        row = session.scalar(select(FraudReport))
        assert store.has(row.file_sha256) and row.file_name == "pv-fraude.pdf"
        assert row.seized == "antisèche manuscrite"
        rows = _rows(session, world.paper_id)
        # The jury gets the mark, flagged; only the candidate waits.
        assert Decimal(rows[reg]["mark"]) == stored and rows[reg]["status"] == "marked"
        assert Decimal(rows[reg]["corrector_mark"]) == stored
        assert rows[reg]["procedure"] == FRAUD and rows[other]["procedure"] == ""
        cid = find_candidate(session, reg).id
        assert result_withheld(session, cid, world.paper_id)
        assert not result_withheld(session, find_candidate(session, other).id, world.paper_id)
        assert not result_withheld(session, cid, world.paper_id + 1000)  # the report names this paper
        publish_results(session, world.paper_id, datetime.now(UTC), OFFICE, "Office")
        with pytest.raises(ClosingRefused, match="held"):
            consultation_open(session, world.paper_id, cid, datetime.now(UTC))
        declare_void(session, reg, world.paper_id, "sanction : nullité de l'épreuve", OFFICE, "Commission")
        session.commit()
        rows = _rows(session, world.paper_id)
        assert rows[reg]["status"] == "void" and rows[reg]["mark"] == ""
        assert "deemed present" in rows[reg]["procedure"]
        assert not result_withheld(session, cid, world.paper_id)
        assert session.scalar(select(FraudReport.outcome)) == "void"
        # A second candidate: released, and his result is his again.
        place_hold(session, other, "doute", OFFICE, "Office")
        assert result_withheld(session, find_candidate(session, other).id, world.paper_id)
        release_hold(session, other, "classement sans suite", OFFICE, "Office")
        session.commit()
        assert not result_withheld(session, find_candidate(session, other).id, world.paper_id)
        actions = {e.action for e in session.scalars(select(AuditEntry))}
        assert {"closing.hold", "closing.paper_void", "closing.hold_release"} <= actions


def test_a_justified_absence_is_zero_and_goes_to_the_replacement_session(session_factory, tmp_path):
    store = LocalStore(tmp_path / "store")
    world = build_world(session_factory, tmp_path, absent_every=13)
    absent = [world.copies[c] for c, s in sorted(world.status.items()) if s.value == "absent"]
    present = world.copies[_ok_copies(world)[0]]
    with session_factory() as session:
        _meeting(session, world)
        with pytest.raises(ClosingRefused, match="not absent"):
            justify_absence(session, world.paper_id, present, "certificat", OFFICE, "Office")
        with pytest.raises(ClosingRefused, match="evidence"):
            justify_absence(session, world.paper_id, absent[0], "  ", OFFICE, "Office")
        justify_absence(
            session,
            world.paper_id,
            absent[0],
            "certificat médical du 10 juin",
            OFFICE,
            "Office",
            attachment=Attachment("certificat.jpg", b"\xff\xd8jpeg"),
            store=store,
        )
        session.commit()
        with pytest.raises(ClosingRefused, match="already"):
            justify_absence(session, world.paper_id, absent[0], "encore", OFFICE, "Office")
        rows = _rows(session, world.paper_id)
        assert rows[absent[0]]["mark"] == "0" and rows[absent[0]]["status"] == "justified_absence"
        assert rows[absent[1]]["mark"] == "AB"  # unjustified stays AB
        listed = replacement_list(session, world.paper_id)
        assert [x.registration for x in listed] == [absent[0]]
        data = replacement_csv(session, OFFICE, "Office", world.paper_id)
        session.commit()
        lines = list(csv.DictReader(io.StringIO(data.decode())))
        assert lines[0]["registration"] == absent[0] and "certificat" in lines[0]["evidence"]


def test_no_export_before_the_harmonisation_meeting_whose_rules_change_marks(session_factory, tmp_path):
    world = build_world(session_factory, tmp_path, absent_every=13)
    harsh = sorted(world.lots)[0]
    with session_factory() as session:
        with pytest.raises(HarmonisationRefused, match="harmonisation meeting"):
            export_marks(session, world.paper_id, "csv", OFFICE, "Office")
        with pytest.raises(HarmonisationRefused, match="harmonisation meeting"):
            export_anonymised(session, world.paper_id, "csv", OFFICE, "Office")
        rule = RuleIn("corrector", "lecture trop sévère de l'exercice 2", delta="1", corrector_id=harsh)
        with pytest.raises(HarmonisationRefused, match="harmonisation meeting"):
            apply_rule(session, world.paper_id, rule, OFFICE, "IA-IPR")
        with pytest.raises(HarmonisationRefused, match="attended"):
            record_meeting(session, world.paper_id, date(2026, 6, 12), " ", "cr", OFFICE, "IA-IPR")
        _meeting(session, world)
        session.commit()
        before = {
            c: m
            for c, m in session.execute(
                select(Marking.copy_id, Marking.mark_20).where(Marking.special.is_(None))
            )
        }
        his = [c for c in world.lots[harsh] if c in before]
        with pytest.raises(HarmonisationRefused, match="half points"):
            preview(session, world.paper_id, RuleIn("corrector", "x", delta="0.3", corrector_id=harsh))
        seen = preview(session, world.paper_id, rule)
        capped = [c for c in his if before[c] == 20]
        assert len(seen.changes) == len(his) - len(capped) and seen.unchanged == len(capped)
        assert all(c.after == min(Decimal(20), c.before + 1) for c in seen.changes)
        assert seen.after.pool_mean > seen.before.pool_mean
        assert "<svg" in seen.histogram_svg("x") and "<svg" in seen.means_svg("t", "d")
        # Capped at 20 and floored at 0, whatever the rule says.
        up = preview(session, world.paper_id, RuleIn("all", "x", delta="20"))
        assert up.changes and {c.after for c in up.changes} == {Decimal(20)}
        down = preview(session, world.paper_id, RuleIn("all", "x", delta="-20"))
        assert {c.after for c in down.changes} == {Decimal(0)}
        assert session.scalar(select(HarmonisedMark.id)) is None  # a preview writes nothing
        applied = apply_rule(session, world.paper_id, rule, OFFICE, "IA-IPR")
        session.commit()
        assert applied.changed == len(seen.changes)
        # The corrector's own mark stays; the jury gets the harmonised one.
        assert session.scalar(select(Marking.mark_20).where(Marking.copy_id == his[0])) == before[his[0]]
        rows = {r[5]: dict(zip(EXPORT_COLUMNS, r, strict=True)) for r in export_rows(session, world.paper_id)}
        changed = seen.changes[0]
        assert Decimal(rows[changed.copy_id]["mark"]) == changed.after
        assert Decimal(rows[changed.copy_id]["corrector_mark"]) == changed.before
        other = next(c for cid, ids in world.lots.items() if cid != harsh for c in ids if c in before)
        assert Decimal(rows[other]["mark"]) == before[other]
        # One copy set by the meeting, on top of the rule.
        apply_rule(
            session,
            world.paper_id,
            RuleIn("copy", "erreur de report du total", copy_id=other, new_mark="15.5"),
            OFFICE,
            "IA-IPR",
        )
        session.commit()
        assert export_rows(session, world.paper_id)
        # Each corrector sees what changed on his copies, and why; nobody else's.
        mine = changes_for_corrector(session, harsh)
        assert len(mine) == len(seen.changes) and mine[0].reason == "lecture trop sévère de l'exercice 2"
        owner = world.corrector_of(other)
        assert [c.copy_id for c in changes_for_corrector(session, owner)] == [other]
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "coordination.harmonised_mark")
        ).all()
        assert len(entries) == len(seen.changes) + 1
        assert {e.details["rule"] for e in entries} == {applied.id, applied.id + 1}


def test_the_jury_only_raises_and_its_deliberation_freezes_the_marks(session_factory, tmp_path):
    world = build_world(session_factory, tmp_path)
    ok = _ok_copies(world)
    copy_id = next(
        c
        for c in ok
        if 2 < session_factory().scalar(select(Marking.mark_20).where(Marking.copy_id == c)) < 18
    )
    reg = world.copies[copy_id]
    with session_factory() as session:
        _meeting(session, world)
        mark = session.scalar(select(Marking.mark_20).where(Marking.copy_id == copy_id))
        lower, higher = str(mark - 1), str(mark + 1)
        with pytest.raises(ClosingRefused, match="only raise"):
            record_jury_decision(session, world.paper_id, reg, lower, "points", OFFICE, "Président")
        with pytest.raises(ClosingRefused, match="names who"):
            record_jury_decision(
                session,
                world.paper_id,
                reg,
                lower,
                "total mal reporté",
                OFFICE,
                "Président",
                material_error=True,
            )
        record_jury_decision(session, world.paper_id, reg, higher, "points de jury", OFFICE, "Président")
        session.commit()
        record_meeting_day = date(2026, 6, 20)
        record_jury_meeting(
            session, world.paper_id, "deliberation", record_meeting_day, "", OFFICE, "Président"
        )
        session.commit()
        with pytest.raises(ClosingRefused, match="deliberated"):
            record_jury_decision(session, world.paper_id, reg, "20", "encore", OFFICE, "Président")
        with pytest.raises(HarmonisationRefused, match="deliberated"):
            apply_rule(session, world.paper_id, RuleIn("all", "x", delta="1"), OFFICE, "IA-IPR")
        corrector = world.corrector_of(copy_id)
        marking = session.scalar(select(Marking).where(Marking.copy_id == copy_id))
        with pytest.raises(MarksFrozen, match="deliberated"):
            save(session, corrector, copy_id, SaveRequest(version=marking.version, appreciation="Autre."))
        with pytest.raises(ClosingRefused, match="nothing to reopen|already recorded"):
            record_jury_meeting(session, world.paper_id, "deliberation", record_meeting_day, "", OFFICE, "P")
        with pytest.raises(ClosingRefused, match="why"):
            record_jury_meeting(session, world.paper_id, "reconvened", record_meeting_day, " ", OFFICE, "P")
        record_jury_meeting(
            session, world.paper_id, "reconvened", date(2026, 6, 22), "erreur de report", OFFICE, "Président"
        )
        session.commit()
        # Reconvened: a material error correction may now lower it, naming who found it.
        decision = record_jury_decision(
            session,
            world.paper_id,
            reg,
            lower,
            "total mal reporté",
            OFFICE,
            "Président",
            material_error=True,
            material_error_by="Mme Secrétaire du jury",
        )
        session.commit()
        assert decision.material_error and decision.original == f"{(mark + 1).normalize():f}"
        assert Decimal(_rows(session, world.paper_id)[reg]["mark"]) == mark - 1
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "closing.material_error")).one()
        assert entry.details["material_error_by"] == "Mme Secrétaire du jury"


def test_the_anonymised_export_has_copy_ids_marks_and_statistics_only(session_factory, tmp_path):
    world = build_world(session_factory, tmp_path, absent_every=13, blank_every=17)
    with session_factory() as session:
        _meeting(session, world)
        rows, stats = anonymised_rows(session, world.paper_id)
        export = export_anonymised(session, world.paper_id, "csv", OFFICE, "Office")
        xlsx = export_anonymised(session, world.paper_id, "xlsx", OFFICE, "Office")
        session.commit()
        marks = session.execute(select(Marking.copy_id, Marking.mark_20, Marking.special)).all()
        cands = {find_candidate(session, r).surname for r in world.copies.values()}
    text = export.data.decode()
    assert not any(reg in text for reg in world.copies.values())
    assert not any(name in text for name in cands)
    table, _blank, stats_part = text.partition("\n\n")
    lines = list(csv.DictReader(io.StringIO(table + "\n")))
    assert list(lines[0]) == ANONYMISED_COLUMNS and len(lines) == len(world.copies)
    real = [float(m) for _c, m, s in marks if s is None] + [
        0.0 for _c, _m, s in marks if s and s.value == "00"
    ]
    assert stats.count == len(real)
    assert stats.mean == pytest.approx(sum(real) / len(real))
    assert sum(stats.by_point) == stats.count
    assert sum(n for _u, n, _m in stats.centre_means) == stats.count
    assert "points_20" in stats_part and "centre_0130040Y_mean" in stats_part
    assert xlsx.data[:2] == b"PK"


def test_payment_by_level_is_payable_once_the_work_is_confirmed(session_factory, tmp_path):
    world = build_world(session_factory, tmp_path, absent_every=13)
    with session_factory() as session:
        lines = payment_lines(session, world.paper_id)
        assert all(x.amount is None and not x.payable for x in lines)  # no level yet
        with pytest.raises(ClosingRefused, match="Unknown level"):
            set_paper_level(session, world.paper_id, "bts", OFFICE, "Office")
        set_paper_level(session, world.paper_id, "iv", OFFICE, "Office")
        lines = {x.corrector_id: x for x in payment_lines(session, world.paper_id)}
        first = sorted(world.lots)[0]
        assert lines[first].rate == Decimal("1.10")
        assert lines[first].amount == Decimal("1.10") * len(world.lots[first])
        assert not lines[first].payable
        paper_session = session.scalar(select(Marking.id))  # any row: the world has one session
        assert paper_session
        from correction_server.models import Paper

        session_id = session.get(Paper, world.paper_id).session_id
        configure_rates(session, session_id, {"iv": "1,20"}, "0.5", OFFICE, "Office")
        with pytest.raises(Refused, match="head of centre or the coordinator"):
            confirm_work(session, world.paper_id, first, "friend", "X", OFFICE)
        confirm_work(session, world.paper_id, first, "coordinator", "Mme IA-IPR", OFFICE)
        with pytest.raises(Refused, match="already confirmed"):
            confirm_work(session, world.paper_id, first, "head_of_centre", "M. Proviseur", OFFICE)
        session.commit()
        lines = {x.corrector_id: x for x in payment_lines(session, world.paper_id)}
        assert lines[first].payable and lines[first].confirmed_by == "Mme IA-IPR"
        assert lines[first].amount == Decimal("1.20") * len(world.lots[first])
        assert not any(x.payable for cid, x in lines.items() if cid != first)
        data = payment_csv(session, OFFICE, "Office", world.paper_id)
        session.commit()
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(data.decode()))}
    name = next(u for u, i in world.correctors.items() if i == first)
    assert rows[name]["payable"] == "yes" and rows[name]["level"] == "iv" and rows[name]["rate"] == "1.20"
    assert sum(r["payable"] == "no" for r in rows.values()) == len(world.correctors) - 1
