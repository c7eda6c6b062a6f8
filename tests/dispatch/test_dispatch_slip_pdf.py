"""The printable slip (bordereau de notation) of a correction lot as a PDF, its text read back with pypdf."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import insert, select

from correction_server.dispatch.lots import lot_slip
from correction_server.dispatch.planning import dispatch_paper
from correction_server.dispatch.slip_pdf import render_slip_pdf
from correction_server.models import Page, Paper
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from testkit.worlds.dispatch import generate_session, populate

# One row of the copies' table as pypdf reads it: position, copy id, pages received.
ROW = re.compile(r"^(\d+)\s+([A-Z]\d{7})\s+(\d+)\s*$", re.M)


def _add_pages(factory, copy_ids: list[str]) -> dict[str, int]:
    """1 to 4 pages per copy (annexes make booklets uneven); returns copy id → pages."""
    counts = {copy_id: 1 + (n * 7) % 4 for n, copy_id in enumerate(copy_ids)}
    with factory() as s, s.begin():
        s.execute(
            insert(Page),
            [
                {"copy_id": c, "position": p, "number": p + 1, "image_sha256": f"{n:032x}{p:032x}"}
                for n, (c, k) in enumerate(counts.items())
                for p in range(k)
            ],
        )
    return counts


def _text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_pdf_slip_lists_the_lot_in_increasing_order_with_pages_totals_and_page_numbers(
    session_factory,
) -> None:
    g = generate_session(400, 3, n_centres=3, n_establishments=6, seed=5)
    paper_id = populate(session_factory, g)
    pages = _add_pages(session_factory, [c.copy_id for c in g.copies])
    with session_factory() as s:
        outcome = dispatch_paper(s, s.get(Paper, paper_id), seed=7)
        biggest = max(outcome.lots, key=lambda lot: lot.copies)
        slip = lot_slip(s, biggest.lot_id)
        # What the lot holds, read from the tables rather than from the slip.
        held = set(
            s.scalars(
                select(LotCopy.copy_id).where(
                    LotCopy.lot_id == biggest.lot_id, LotCopy.state == AssignmentState.ASSIGNED
                )
            )
        )
        number = s.get(CorrectionLot, biggest.lot_id).number
    pdf = render_slip_pdf(slip)
    assert pdf.startswith(b"%PDF")
    texts = _text(pdf)
    assert len(texts) >= 3  # ~130 copies: several sheets
    for n, text in enumerate(texts, start=1):
        assert f"Page {n}/{len(texts)}" in text
        assert f"Bordereau de notation – U3 – Lot {number}" in text
        assert text.count("Numéro d'anonymat") == 1  # the table's head on every sheet
    whole = "\n".join(texts)
    rows = ROW.findall(whole)
    ids = [copy_id for _, copy_id, _ in rows]
    assert len(ids) == len(held) == biggest.copies
    assert set(ids) == held
    assert ids == sorted(ids)  # increasing order, across sheets
    assert [int(position) for position, _, _ in rows] == list(range(1, len(ids) + 1))
    assert {copy_id: int(k) for _, copy_id, k in rows} == {c: pages[c] for c in held}
    total_pages = sum(pages[c] for c in held)
    assert re.search(rf"Total\s+{len(held)} copie\(s\)\s+{total_pages}\b", whole)
    head = texts[0]
    assert slip.corrector_name in head and "U3 – Generated" in head
    assert re.search(rf"Nombre de copies\s+{len(held)}\s", head)
    assert re.search(rf"Pages\s+{total_pages}\s", head)
    assert "Date et signature du correcteur" in texts[-1]
    assert render_slip_pdf(slip) == pdf  # the same slip prints the same document
    english = "\n".join(_text(render_slip_pdf(slip, "en")))
    assert "Marking slip" in english and "Copy number" in english and f"Page 1/{len(texts)}" in english


def test_pdf_slip_route_follows_the_slip_authorisation(db_url, tmp_path) -> None:
    from correction_server.auth import sessions as auth
    from correction_server.auth.access import NOT_YOURS
    from correction_server.db import make_engine, make_session_factory
    from testkit.worlds.auth import SECRET, build_world, login_cookie, make_client

    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    world = build_world(factory, SECRET)
    own_lot, other_lot = world.objects["corrector"]["lot_id"]
    headers = {"accept": "application/json"}
    with make_client(db_url, tmp_path / "store") as client:
        assert client.get(f"/lots/{own_lot}/slip.pdf", headers=headers).status_code == 401
        for role in ("corrector", "coordinator", "office", "centre"):
            cookie, _ = login_cookie(factory, world.accounts[role].user_id, SECRET)
            client.cookies.set(auth.SESSION_COOKIE, cookie)
            own, other = world.objects[role]["lot_id"]
            answer = client.get(f"/lots/{own}/slip.pdf", headers=headers)
            if role == "centre":
                assert answer.status_code == 403  # no lot is a centre's business
                continue
            assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
            assert 'filename="bordereau-' in answer.headers["content-disposition"]
            ids = ROW.findall("\n".join(_text(answer.content)))
            assert [i for _, i, _ in ids] == sorted(world.copies_by_lot[own])
            page = client.get(f"/lots/{own}", headers={"accept": "text/html"})
            assert f'href="/lots/{own}/slip.pdf"' in page.text
            if role != "office":  # the office sees every lot
                refused = client.get(f"/lots/{other}/slip.pdf", headers=headers)
                assert refused.status_code == 404 and refused.json()["detail"] == NOT_YOURS
    engine.dispose()
