"""The rescan loop end to end: a real station run, a real server process (SQLite and PostgreSQL).

The station imports drawn booklets and seals; the lot is pushed; a corrector flags an unreadable
page; the office asks for a rescan; the station lists the request, the secretary scans the sheet
again into the lot, which is resealed and pushed again; the server replaces that page only
(every other page hash compared), keeps the old version, and the corrector sees the new page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from correction_server.audit.actors import Actor
from correction_server.audit.log import verify_chain
from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from correction_server.dispatch.planning import dispatch_paper
from correction_server.marking.flags import raise_flag
from correction_server.models import (
    AuditEntry,
    Copy,
    CorrectorPaper,
    FlagKind,
    Page,
    PageVersion,
    Paper,
    RescanRequest,
    RescanState,
    User,
)
from correction_server.office.flags import decide
from correction_server.pages import images
from correction_server.pages.store import LocalStore
from massicot_core.contract import Manifest
from testkit.lot import Sheet, booklet, copy_ids, run, write_pdf, write_roll
from testkit.push_helpers import CENTRE_A, Site, run_push

pytestmark = pytest.mark.slow


def _manifest(lot: Path) -> Manifest:
    return Manifest.model_validate_json((lot / "manifest.json").read_bytes())


def _pages(manifest: Manifest) -> dict[tuple[str, int | None], str]:
    return {(c.copy, p.number): p.sha256 for c in manifest.copies for p in c.pages}


def _server_pages(factory) -> dict[tuple[str, int | None], str]:
    with factory() as session:
        return {(p.copy_id, p.number): p.image_sha256 for p in session.scalars(select(Page))}


def test_flag_rescan_reseal_push_and_the_corrector_sees_the_new_page(site: Site, tmp_path: Path):
    regs = site.exam.candidates[CENTRE_A][:3]
    ids = copy_ids(3, seed=11)
    sheets = [
        s
        for n, (copy, reg) in enumerate(zip(ids, regs, strict=True))
        for s in booklet(copy, reg, 4)
    ]
    scans = write_pdf(tmp_path / "evening.pdf", sheets)
    roll = write_roll(tmp_path / "roll.csv", [(reg, True) for reg in regs])
    lot = tmp_path / "lot"
    run(
        "scan",
        "import",
        str(scans),
        "--paper",
        "U3",
        "--roll",
        str(roll),
        "--lot",
        str(lot),
        "--centre",
        CENTRE_A,
        "--pages",
        "4",
        "--workers",
        "1",
        "--quiet",
    )
    run("scan", "seal", str(lot), "--by", "secretariat")
    first = _manifest(lot)
    pushed = run_push(lot, site.server.url, site.exam.tokens[CENTRE_A])
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.startswith("received: 3 copies, 12 pages")

    engine = make_engine(site.db_url)
    factory = make_session_factory(engine)
    try:
        with factory() as session, session.begin():
            paper = session.scalar(select(Paper).where(Paper.code == "U3"))
            corrector = session.scalar(select(User).where(User.username == "corrector1"))
            session.add(CorrectorPaper(user_id=corrector.id, paper_id=paper.id, capacity=10))
            corrector_id = corrector.id
        with factory() as session:
            dispatch_paper(session, session.get(Paper, paper.id), seed=5)
        target = ids[1]
        with factory() as session:
            flag = raise_flag(
                session,
                session.get(User, corrector_id),
                target,
                FlagKind.UNREADABLE_PAGE,
                3,
                "page 3 illisible",
            )
            flag_id = flag.id
        with factory() as session:
            decide(session, Actor(None, "office"), flag_id, "rescan", "page trop pâle")
        before = _server_pages(factory)

        token_file = tmp_path / "token"
        token_file.write_text(site.exam.tokens[CENTRE_A])
        listed = run(
            "scan",
            "rescan-requests",
            "--server",
            site.server.url,
            "--token-file",
            str(token_file),
            "--lot",
            str(lot),
        ).stdout
        assert f"copy {target}  page 3" in listed
        other_lot_listing = run(
            "scan", "rescan-requests", "--server", site.server.url, "--token-file", str(token_file)
        ).stdout
        assert f"copy {target}" in other_lot_listing

        new_scan = write_pdf(tmp_path / "rescan.pdf", [Sheet(target, 3, None, seed=99)])
        said = run(
            "scan", "rescan", str(lot), str(new_scan), "--copy", target, "--page", "3", "--by", "secretariat"
        ).stdout
        assert "sealed again" in said
        second = _manifest(lot)
        assert second.manifest_sha256 != first.manifest_sha256
        old, new = _pages(first), _pages(second)
        changed = {key for key in old if old[key] != new.get(key)}
        assert changed == {(target, 3)}, "the lot changed only by the page rescanned"
        assert set(new) == set(old)

        again = run_push(lot, site.server.url, site.exam.tokens[CENTRE_A])
        assert again.returncode == 0, again.stderr
        assert "rescanned replaced" in again.stderr + again.stdout
        after = _server_pages(factory)
        assert after[(target, 3)] == new[(target, 3)]
        assert {k: v for k, v in after.items() if k != (target, 3)} == {
            k: v for k, v in before.items() if k != (target, 3)
        }, "nothing else of the lot changed on the server"
        with factory() as session:
            kept = session.scalars(select(PageVersion).where(PageVersion.reason == "rescan")).all()
            assert [(v.copy_id, v.number, v.image_sha256) for v in kept] == [(target, 3, old[(target, 3)])]
            assert session.scalar(select(RescanRequest.state)) == RescanState.DONE
            assert session.get(Copy, target).flagged is False
            assert "rescan.received" in session.scalars(select(AuditEntry.action)).all()
            assert verify_chain(session).intact
            page_id = session.scalar(select(Page.id).where(Page.copy_id == target, Page.number == 3))
        assert LocalStore(site.store).has(old[(target, 3)]), "the old image stays in the store"

        # Pushed a third time, the same seal changes nothing.
        third = run_push(lot, site.server.url, site.exam.tokens[CENTRE_A])
        assert third.stdout.startswith("already received"), third.stdout

        # The corrector has the copy back, and its page 3 is the new scan.
        secret = (site.root / "server-data" / "secret_key").read_text().strip()
        with factory() as session:
            opened = auth.open_session(session, session.get(User, corrector_id), secret)
            session.commit()
        cookies = {auth.SESSION_COOKIE: opened.cookie_value}
        home = httpx.get(f"{site.server.url}/marking", cookies=cookies)
        assert home.status_code == 200 and "state-flagged" not in home.text
        view = httpx.get(f"{site.server.url}/marking/copies/{target}", cookies=cookies)
        assert view.status_code == 200 and 'id="flag-waiting"' not in view.text
        assert f'data-page-id="{page_id}"' in view.text
        image = httpx.get(
            f"{site.server.url}/marking/pages/{page_id}/image?w={images.DEFAULT_WIDTH}", cookies=cookies
        )
        assert image.status_code == 200
        row = next(p for c in second.copies if c.copy == target for p in c.pages if p.number == 3)
        expected = images.etag_of(
            images.derivative_name(row.sha256, row.rotation, row.skew_degrees, images.DEFAULT_WIDTH)
        )
        assert image.headers["etag"] == expected
        assert (
            json.loads(httpx.get(f"{site.server.url}/api/marking/copies/{target}", cookies=cookies).text)[
                "copy_id"
            ]
            == target
        )
        assert re.search(r"copy \w+  page", listed)
    finally:
        engine.dispose()


def test_a_repush_changing_a_page_nobody_asked_for_is_refused(site: Site, tmp_path: Path):
    regs = site.exam.candidates[CENTRE_A][:2]
    ids = copy_ids(2, seed=12)
    sheets = [
        s
        for n, (copy, reg) in enumerate(zip(ids, regs, strict=True))
        for s in booklet(copy, reg, 4)
    ]
    roll = write_roll(tmp_path / "roll.csv", [(reg, True) for reg in regs])
    lot = tmp_path / "lot"
    run(
        "scan",
        "import",
        str(write_pdf(tmp_path / "a.pdf", sheets)),
        "--paper",
        "U3",
        "--roll",
        str(roll),
        "--lot",
        str(lot),
        "--centre",
        CENTRE_A,
        "--pages",
        "4",
        "--workers",
        "1",
        "--quiet",
    )
    run("scan", "seal", str(lot), "--by", "secretariat")
    assert run_push(lot, site.server.url, site.exam.tokens[CENTRE_A]).returncode == 0
    engine = make_engine(site.db_url)
    factory = make_session_factory(engine)
    try:
        with factory() as session, session.begin():
            paper = session.scalar(select(Paper).where(Paper.code == "U3"))
            corrector = session.scalar(select(User).where(User.username == "corrector1"))
            session.add(CorrectorPaper(user_id=corrector.id, paper_id=paper.id, capacity=10))
            corrector_id = corrector.id
        with factory() as session:
            dispatch_paper(session, session.get(Paper, paper.id), seed=5)
        with factory() as session:
            flag = raise_flag(
                session, session.get(User, corrector_id), ids[0], FlagKind.UNREADABLE_PAGE, 2, ""
            )
        with factory() as session:
            decide(session, Actor(None, "office"), flag.id, "rescan")
        before = _server_pages(factory)
        # The secretary rescans page 4 of the other copy instead: not what was asked.
        run(
            "scan",
            "rescan",
            str(lot),
            str(write_pdf(tmp_path / "b.pdf", [Sheet(ids[1], 4, None, seed=77)])),
            "--copy",
            ids[1],
            "--page",
            "4",
            "--by",
            "secretariat",
        )
        refused = run_push(lot, site.server.url, site.exam.tokens[CENTRE_A])
        assert refused.returncode != 0
        assert f"copy {ids[1]} page 4 differs from the page received" in refused.stderr + refused.stdout
        assert _server_pages(factory) == before
        with factory() as session:
            assert session.scalar(select(RescanRequest.state)) == RescanState.OPEN
    finally:
        engine.dispose()
