"""The paper's subject and corrigé: uploaded by the office (page and CLI), checked to be a PDF,
read by the paper's correctors and coordinators only; SQLite and PostgreSQL."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pikepdf
from sqlalchemy import select

from correction_server.models import AuditEntry, PaperDocument, Role, User
from testkit.worlds.coordination import client_for, log_in
from testkit.worlds.marking import build_world

MASSICOT = str(Path(sys.executable).with_name("massicot"))


def _pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_office_uploads_a_pdf_and_only_the_papers_people_read_it(session_factory, db_url, tmp_path):
    world = build_world(session_factory)
    with session_factory() as s, s.begin():
        office = User(username="office", role=Role.OFFICE)
        outsider = User(username="outsider", role=Role.CORRECTOR)
        s.add_all([office, outsider])
        s.flush()
        office_id, outsider_id = office.id, outsider.id
    store = tmp_path / "store"
    store.mkdir()
    url = f"/marking/papers/{world.paper_id}/documents/subject"
    with client_for(db_url, store) as client:
        csrf = log_in(client, session_factory, office_id)
        refused = client.post(
            f"/office/papers/{world.paper_id}/documents",
            data={"kind": "subject", "csrf_token": csrf},
            files={"file": ("sujet.pdf", b"not a pdf at all", "application/pdf")},
        )
        assert refused.status_code == 409 and "is not a PDF file" in refused.text
        sent = client.post(
            f"/office/papers/{world.paper_id}/documents",
            data={"kind": "subject", "csrf_token": csrf},
            files={"file": ("sujet-U3.pdf", _pdf(), "application/pdf")},
            follow_redirects=False,
        )
        assert sent.status_code == 303
        page = client.get(sent.headers["location"])
        assert "sujet-U3.pdf" in page.text
        log_in(client, session_factory, world.corrector_id)
        got = client.get(url)
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        assert got.content.startswith(b"%PDF-")
        view = client.get(f"/marking/copies/{world.copies[0]}")
        assert f'href="{url}"' in view.text
        log_in(client, session_factory, world.coordinator_id)
        assert client.get(url).status_code == 200
        log_in(client, session_factory, outsider_id)
        denied = client.get(url)
        assert denied.status_code == 404 and denied.json()["detail"] == "Not found, or not yours."
        missing = log_in(client, session_factory, world.corrector_id) and client.get(
            f"/marking/papers/{world.paper_id}/documents/model_answer"
        )
        assert missing.status_code == 404 and "not uploaded" in missing.json()["detail"]
    with session_factory() as s:
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.action == "paper.document"))
    # The command line: the corrigé, and a file that is not a PDF refused.
    answer = tmp_path / "corrige.pdf"
    answer.write_bytes(_pdf())
    env = {**os.environ, "MASSICOT_SECRET_KEY": "x"}
    done = subprocess.run(
        [
            MASSICOT,
            "office",
            "paper-documents",
            "U3",
            "--model-answer",
            str(answer),
            "--db",
            db_url,
            "--store",
            str(store),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "model_answer" in done.stdout and "subject" in done.stdout
    bad = tmp_path / "corrige.docx"
    bad.write_bytes(b"PK\x03\x04 a word file")
    refused = subprocess.run(
        [
            MASSICOT,
            "office",
            "paper-documents",
            "U3",
            "--subject",
            str(bad),
            "--db",
            db_url,
            "--store",
            str(store),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert refused.returncode != 0 and "not a PDF" in refused.stderr + refused.stdout
    with session_factory() as s:
        assert len(s.scalars(select(PaperDocument)).all()) == 2
