"""Closing a paper on generated sessions: reconciliation, the jury export and its gate, jury
marks beside the original, holds, the consultation PDF (rendered with pdftoppm and its pixels
checked), payment, and the retention purge."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from correction_server.audit import log as audit
from correction_server.closing.candidates import find_candidate
from correction_server.closing.consultation import consultation_pdf
from correction_server.closing.export import EXPORT_COLUMNS, export_marks, export_rows
from correction_server.closing.holds import open_holds, place_hold, release_hold
from correction_server.closing.jury import record_jury_decision
from correction_server.closing.missing import declare_missing
from correction_server.closing.payment import payment_csv, payment_lines
from correction_server.closing.publication import consultation_open, publish_results
from correction_server.closing.reconcile import reconcile
from correction_server.closing.refusals import ClosingRefused
from correction_server.closing.retention import purge
from correction_server.coordination.harmonisation_meeting import record_meeting
from correction_server.coordination.refusals import CoordinationRefused
from correction_server.marking.reading import state_for
from correction_server.marking.saving import SaveRequest, save
from correction_server.models import (
    AnnotationLayer,
    AuditEntry,
    Copy,
    JuryDecision,
    Marking,
    Page,
    PurgeRecord,
    QuestionMark,
)
from correction_server.models.pushes import PushUpload
from correction_server.pages.store import LocalStore
from testkit.missing import missing
from testkit.worlds.coordination import build_world

OFFICE = audit.Actor(None, "office")


def _reg_of_status(world, status: str) -> tuple[str, str]:
    copy_id = next(c for c, s in sorted(world.status.items()) if s.value == status)
    return copy_id, world.copies[copy_id]


def test_reconciliation_lists_every_difference_and_the_export_waits_for_them(session_factory, tmp_path):
    world = build_world(
        session_factory, tmp_path, absent_every=13, blank_every=17, missing_every=29, leave_unmarked=1
    )
    with session_factory() as session:
        recon = reconcile(session, world.paper_id)
        assert recon.total.registered == 60
        assert recon.total.scanned == len(world.copies) == 58
        assert recon.total.absent_copies == 4 and recon.total.blank == 3
        assert recon.total.missing == 2 and recon.total.marked == 57
        blocking = [d for d in recon.differences if d.blocking]
        assert len(blocking) == 3  # two copies never received, one not marked
        assert sum("no copy was received" in d.problem for d in blocking) == 2
        assert sum("not marked yet" in d.problem for d in blocking) == 1
        record_meeting(session, world.paper_id, date(2026, 6, 12), "IA-IPR", "Barème appliqué.", OFFICE, "IA")
        with pytest.raises(ClosingRefused, match="3 line"):
            export_marks(session, world.paper_id, "csv", OFFICE, "Office")
        unmarked = min(world.lots)
        last = world.lots[unmarked][-1]
        save(
            session,
            unmarked,
            last,
            SaveRequest(version=0, marks={q: "1" for q in world.question_ids}, appreciation="Faible.")
            if world.status[last].value == "ok"
            else SaveRequest(
                version=0, special="AB" if world.status[last].value == "absent" else "00"
            ),
        )
        missing = [d.registration for d in blocking if "no copy" in d.problem]
        declare_missing(
            session, world.paper_id, missing[0], "copie égarée au centre", OFFICE, "Office"
        )
        with pytest.raises(ClosingRefused, match="1 line"):
            export_marks(session, world.paper_id, "csv", OFFICE, "Office")
        declare_missing(session, world.paper_id, missing[1], "enveloppe non reçue", OFFICE, "Office")
        session.commit()
        export = export_marks(session, world.paper_id, "csv", OFFICE, "Office")
        session.commit()
        rows = list(csv.DictReader(io.StringIO(export.data.decode())))
        assert len(rows) == 60
        by_reg = {r["registration"]: r for r in rows}
        absent_copy, absent_reg = _reg_of_status(world, "absent")
        blank_copy, blank_reg = _reg_of_status(world, "blank")
        assert by_reg[absent_reg]["mark"] == "AB" and by_reg[blank_reg]["mark"] == "00"
        assert by_reg[missing[0]]["status"] == "missing" and by_reg[missing[0]]["mark"] == ""
        ok_copy = next(c for c, s in sorted(world.status.items()) if s.value == "ok")
        stored = session.scalar(select(Marking.mark_20).where(Marking.copy_id == ok_copy))
        assert Decimal(by_reg[world.copies[ok_copy]]["mark"]) == stored
        candidate = find_candidate(session, world.copies[ok_copy])
        assert by_reg[candidate.registration]["surname"] == candidate.surname
        assert by_reg[candidate.registration]["given_names"] == candidate.given_names
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "closing.export")).all()[-1]
        assert entry.details["rows"] == 60 and len(entry.details["sha256"]) == 64
        xlsx = export_marks(session, world.paper_id, "xlsx", OFFICE, "Office")
        sheet = load_workbook(io.BytesIO(xlsx.data)).active
        values = list(sheet.iter_rows(values_only=True))
        assert list(values[0]) == EXPORT_COLUMNS and len(values) == 61
        marks = {row[0]: row[6] for row in values[1:]}
        assert marks[absent_reg] == "AB" and float(marks[world.copies[ok_copy]]) == float(stored)


def test_the_jury_mark_is_kept_beside_the_original_with_who_and_why(session_factory, tmp_path):
    world = build_world(session_factory, tmp_path, absent_every=13)
    ok_copy = next(c for c, s in sorted(world.status.items()) if s.value == "ok")
    registration = world.copies[ok_copy]
    with session_factory() as session:
        original = session.scalar(select(Marking.mark_20).where(Marking.copy_id == ok_copy))
        with pytest.raises(ClosingRefused, match="reason"):
            record_jury_decision(
                session, world.paper_id, registration, "15", " ", OFFICE, "Président"
            )
        _absent_copy, absent_reg = _reg_of_status(world, "absent")
        with pytest.raises(ClosingRefused, match="not a mark the jury can change"):
            record_jury_decision(session, world.paper_id, absent_reg, "10", "x", OFFICE, "Président")
        with pytest.raises(CoordinationRefused, match="half points"):
            record_jury_decision(
                session, world.paper_id, registration, "20,25", "x", OFFICE, "Président"
            )
        record_meeting(session, world.paper_id, date(2026, 6, 12), "IA-IPR", "Barème appliqué.", OFFICE, "IA")
        record_jury_decision(
            session, world.paper_id, registration, "20", "harmonisation du jury", OFFICE, "M. Président"
        )
        session.commit()
        assert session.scalar(select(Marking.mark_20).where(Marking.copy_id == ok_copy)) == original
        decision = session.scalar(select(JuryDecision))
        assert decision.original == f"{original.normalize():f}" and decision.mark_20 == Decimal("20")
        rows = {r[0]: r for r in export_rows(session, world.paper_id)}
        row = dict(zip(EXPORT_COLUMNS, rows[registration], strict=True))
        assert row["mark"] == "20" and row["status"] == "jury"
        assert Decimal(row["corrector_mark"]) == original
        assert row["jury_by"] == "M. Président" and row["jury_reason"] == "harmonisation du jury"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "closing.jury_mark")).one()
        assert entry.details["original"] == decision.original and entry.details["mark_20"] == "20.00"


def test_a_hold_keeps_the_mark_for_the_jury_withholds_consultation_and_the_corrector_sees_nothing(
    session_factory, tmp_path
):
    world = build_world(session_factory, tmp_path)
    ok_copy = next(c for c, s in sorted(world.status.items()) if s.value == "ok")
    registration = world.copies[ok_copy]
    corrector = world.corrector_of(ok_copy)
    with session_factory() as session:
        before = state_for(session, corrector, ok_copy).to_json()
        place_hold(session, registration, "procédure disciplinaire", OFFICE, "Office")
        session.commit()
        with pytest.raises(ClosingRefused, match="already held"):
            place_hold(session, registration, "encore", OFFICE, "Office")
        assert state_for(session, corrector, ok_copy).to_json() == before
        record_meeting(session, world.paper_id, date(2026, 6, 12), "IA-IPR", "Barème appliqué.", OFFICE, "IA")
        rows = {
            r[0]: dict(zip(EXPORT_COLUMNS, r, strict=True))
            for r in export_rows(session, world.paper_id)
        }
        # The jury deliberates on his mark (fiche 11), flagged; only the candidate waits.
        stored = session.scalar(select(Marking.mark_20).where(Marking.copy_id == ok_copy))
        assert rows[registration]["status"] == "marked" and Decimal(rows[registration]["mark"]) == stored
        assert rows[registration]["procedure"] == "under fraud procedure"
        publish_results(
            session, world.paper_id, datetime.now(UTC) - timedelta(days=3), OFFICE, "Office"
        )
        with pytest.raises(ClosingRefused, match="held"):
            consultation_open(
                session, world.paper_id, _candidate_id(session, registration), datetime.now(UTC)
            )
        release_hold(session, registration, "classement sans suite", OFFICE, "Office")
        session.commit()
        consultation_open(
            session, world.paper_id, _candidate_id(session, registration), datetime.now(UTC)
        )
        assert open_holds(session) == []
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
        assert "closing.hold" in actions and "closing.hold_release" in actions


def _candidate_id(session, registration: str) -> int:
    return find_candidate(session, registration).id


def _white_page(width: int = 1240, height: int = 1754) -> bytes:
    image = Image.new("L", (width, height), 250)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _need_pdftoppm() -> None:
    if shutil.which("pdftoppm") is None:
        missing("pdftoppm is missing (apt-get install poppler-utils)")


def test_consultation_pdf_draws_the_annotation_layer_over_the_scan(session_factory, tmp_path):
    _need_pdftoppm()
    store = LocalStore(tmp_path / "store")
    sha = store.put(_white_page())
    world = build_world(session_factory, tmp_path, mark="none", image_shas=[sha, sha])
    ok_copy = next(c for c, s in sorted(world.status.items()) if s.value == "ok")
    corrector = world.corrector_of(ok_copy)
    first_page = world.page_ids[ok_copy][0]
    with session_factory() as session:
        save(
            session,
            corrector,
            ok_copy,
            SaveRequest(
                version=0,
                marks={q: "2" for q in world.question_ids},
                appreciation="Raisonnement clair, conclusion à justifier.",
                layers={
                    first_page: [
                        {"id": "tick1", "kind": "cross", "x": 0.30, "y": 0.40, "colour": "red"},
                        {
                            "id": "hl",
                            "kind": "highlight",
                            "x": 0.6,
                            "y": 0.7,
                            "w": 0.2,
                            "h": 0.05,
                            "colour": "blue",
                        },
                    ]
                },
            ),
        )
        registration = world.copies[ok_copy]
        with pytest.raises(ClosingRefused, match="not published"):
            consultation_pdf(
                session, store, tmp_path / "derived", world.paper_id, registration, OFFICE, "O"
            )
        published = datetime.now(UTC) - timedelta(days=30)
        publish_results(session, world.paper_id, published, OFFICE, "Office")
        session.commit()
        pdf = consultation_pdf(
            session, store, tmp_path / "derived", world.paper_id, registration, OFFICE, "O"
        )
        session.commit()
        late = published + timedelta(days=366)
        with pytest.raises(ClosingRefused, match="consultation year ended"):
            consultation_pdf(
                session, store, tmp_path / "derived", world.paper_id, registration, OFFICE, "O", now=late
            )
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == 3  # two scanned pages and the marks page
    first = Image.open(pngs[0]).convert("RGB")
    second = Image.open(pngs[1]).convert("RGB")
    w, h = first.size
    # The page image fills the A4 page above a 22 pt footer; fractions map onto that box.
    box_h = h * (842 - 22) / 842
    box_w = min(w, box_h * 1240 / 1754)
    left = (w - box_w) / 2

    def at(fx: float, fy: float) -> tuple[int, int]:
        return round(left + fx * box_w), round(fy * box_h)

    def reddish(p):
        return p[0] > 150 and p[1] < 90 and p[2] < 100

    cx, cy = at(0.30, 0.40)
    near = [first.getpixel((cx + dx, cy + dy)) for dx in range(-2, 3) for dy in range(-2, 3)]
    assert any(reddish(p) for p in near), near
    assert not any(reddish(second.getpixel((cx + dx, cy + dy))) for dx in range(-2, 3) for dy in range(-2, 3))
    hx, hy = at(0.70, 0.725)
    r, g, b = first.getpixel((hx, hy))
    assert b > r + 40, (r, g, b)  # the blue highlight, translucent over the white page
    assert first.getpixel(at(0.1, 0.1)) == second.getpixel(at(0.1, 0.1))  # elsewhere: the scan itself
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "Raisonnement clair" in text and "Exercice 1" in text and "10 / 20" in text


def test_payment_counts_who_marked_each_copy(session_factory, tmp_path):
    world = build_world(session_factory, tmp_path, absent_every=13)
    with session_factory() as session:
        lines = payment_lines(session, world.paper_id)
        data = payment_csv(session, OFFICE, "Office", world.paper_id)
        session.commit()
    assert sum(x.copies_marked for x in lines) == len(world.copies)
    by_email = {x.email: x for x in lines}
    for username, uid in world.correctors.items():
        assert by_email[username].copies_marked == len(world.lots[uid])
    assert sum(x.of_which_ab_00 for x in lines) == 4
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert {r["email"]: int(r["copies_marked"]) for r in rows} == {
        u: len(world.lots[i]) for u, i in world.correctors.items()
    }


def test_purge_deletes_pages_after_the_legal_year_and_keeps_marks_and_audit(session_factory, tmp_path):
    store = LocalStore(tmp_path / "store")
    shas = [store.put(_white_page(600 + k, 800)) for k in range(2)]
    world = build_world(session_factory, tmp_path, image_shas=shas)
    held_copy = sorted(world.copies)[0]
    with session_factory() as session:
        corrector = world.corrector_of(held_copy)
        page = world.page_ids[held_copy][0]
        state = state_for(session, corrector, held_copy)
        place_hold(session, world.copies[held_copy], "procédure", OFFICE, "Office")
        session.commit()
        marks_before = len(session.scalars(select(QuestionMark)).all())
        now = datetime.now(UTC)
        # Results published 10 months ago: within the legal year, nothing goes.
        publish_results(session, world.paper_id, now - timedelta(days=300), OFFICE, "Office")
        session.commit()
        report = purge(session, store, tmp_path / "derived", date.today(), OFFICE, "Office")
        assert report.copies == 0 and "consultation year is not over" in str(report)
        assert all(store.has(s) for s in shas)
        # Thirteen months later it does, except the held candidate's copy.
        later = now + timedelta(days=100)
        report = purge(
            session, store, tmp_path / "derived", date.today(), OFFICE, "Office", now=later
        )
    assert report.copies == len(world.copies) - 1 and report.kept_held == [held_copy]
    assert report.pages == 2 * (len(world.copies) - 1)
    # The held copy still uses both images: the files stay until its pages go too.
    assert report.images_deleted == 0 and all(store.has(s) for s in shas)
    with session_factory() as session:
        assert session.scalar(select(Page.id).where(Page.copy_id != held_copy)) is None
        assert session.scalar(select(Page.id).where(Page.id == page)) is not None
        assert len(session.scalars(select(QuestionMark)).all()) == marks_before
        assert len(session.scalars(select(PurgeRecord)).all()) == len(world.copies) - 1
        assert audit.verify_chain(session).intact
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "closing.purge")).one()
        release_hold(session, world.copies[held_copy], "fin de procédure", OFFICE, "Office")
        session.commit()
        report = purge(
            session, store, tmp_path / "derived", date.today(), OFFICE, "Office", now=later
        )
        assert report.copies == 1 and report.images_deleted == 2
        assert not any(store.has(s) for s in shas)
        assert session.scalar(select(AnnotationLayer.id)) is None
        assert state.version >= 1
        with pytest.raises(ClosingRefused, match="consultation year ended"):
            consultation_pdf(
                session,
                store,
                tmp_path / "derived",
                world.paper_id,
                world.copies[held_copy],
                OFFICE,
                "O",
                now=later,
            )


def test_purge_keeps_an_image_a_push_in_progress_lists(session_factory, tmp_path):
    """The same bytes may be on their way in another lot: a push counts on the images it sent."""
    store = LocalStore(tmp_path / "store")
    shas = [store.put(_white_page(610 + k, 800)) for k in range(2)]
    world = build_world(session_factory, tmp_path, image_shas=shas)
    with session_factory() as session:
        now = datetime.now(UTC)
        publish_results(session, world.paper_id, now - timedelta(days=400), OFFICE, "Office")
        manifest = {"copies": [{"pages": [{"sha256": shas[0]}]}]}
        centre_id = session.scalar(select(Copy.centre_id).where(Copy.paper_id == world.paper_id).limit(1))
        session.add(
            PushUpload(
                seal_sha256="e" * 64,
                centre_id=centre_id,
                paper_id=world.paper_id,
                manifest_json=json.dumps(manifest),
                identity_json="{}",
            )
        )
        session.commit()
        report = purge(session, store, tmp_path / "derived", date.today(), OFFICE, "Office")
    assert report.copies == len(world.copies) and report.images_deleted == 1
    assert store.has(shas[0]) and not store.has(shas[1])
