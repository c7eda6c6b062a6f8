"""Dispatch on a real database (SQLite and PostgreSQL), from the CLI and from the office page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from correction_server.dispatch.lots import lot_slip, slip_csv
from correction_server.dispatch.planning import DispatchImpossible, dispatch_paper
from correction_server.models import Candidate, Copy, IdentityLink, Paper, User
from correction_server.models.dispatch import CorrectionLot, LotCopy
from testkit.worlds.dispatch import generate_session, populate

MASSICOT = str(Path(sys.executable).with_name("massicot"))


def assignment(factory: sessionmaker[Session]) -> dict[str, tuple[int, int]]:
    """copy id → (lot id, corrector id)."""
    with factory() as s:
        rows = s.execute(
            select(LotCopy.copy_id, CorrectionLot.id, CorrectionLot.corrector_id).join(
                CorrectionLot, CorrectionLot.id == LotCopy.lot_id
            )
        ).all()
    return {c: (lot, user) for c, lot, user in rows}


def check_database(factory: sessionmaker[Session], paper_id: int) -> None:
    """The rules, read back from the tables: nobody marks his own établissement; capacity held."""
    with factory() as s:
        clashes = s.execute(
            select(LotCopy.copy_id)
            .join(CorrectionLot, CorrectionLot.id == LotCopy.lot_id)
            .join(User, User.id == CorrectionLot.corrector_id)
            .join(IdentityLink, IdentityLink.copy_id == LotCopy.copy_id)
            .join(Candidate, Candidate.id == IdentityLink.candidate_id)
            .where(Candidate.establishment_id == User.establishment_id)
        ).all()
        assert clashes == []
        from correction_server.models import CorrectorPaper

        caps = dict(s.execute(select(CorrectorPaper.user_id, CorrectorPaper.capacity)).all())
        held: dict[int, int] = {}
        for _, user in assignment(factory).values():
            held[user] = held.get(user, 0) + 1
        assert all(held[u] <= caps[u] for u in held)
        for lot in s.scalars(select(CorrectionLot).where(CorrectionLot.paper_id == paper_id)):
            ids = [lc.copy_id for lc in lot.copies]
            assert ids == sorted(ids)


def _add_copies(factory, paper_id: int, start: int, n: int, linked: bool = True) -> list[str]:
    with factory() as s, s.begin():
        paper = s.get(Paper, paper_id)
        some = s.scalars(select(Candidate)).first()
        ids = [f"L{i:07d}" for i in range(start, start + n)]
        s.execute(insert(Copy), [{"id": c, "paper_id": paper.id, "centre_id": some.centre_id} for c in ids])
        if linked:
            for i, c in enumerate(ids):
                cand = Candidate(
                    registration=f"LATE{start + i:06d}",
                    surname="Late",
                    given_names="L",
                    establishment_id=some.establishment_id,
                    centre_id=some.centre_id,
                )
                s.add(cand)
                s.flush()
                s.add(IdentityLink(copy_id=c, candidate_id=cand.id))
    return ids


def test_dispatch_writes_lots_with_seed_and_reruns_only_new_copies(session_factory) -> None:
    g = generate_session(600, 8, n_centres=5, n_establishments=12, seed=5)
    paper_id = populate(session_factory, g)
    with session_factory() as s:
        outcome = dispatch_paper(s, s.get(Paper, paper_id), seed=77)
    assert outcome.copies_dispatched == 600 and outcome.seed == 77 and not outcome.held_back
    check_database(session_factory, paper_id)
    with session_factory() as s:
        assert set(s.scalars(select(CorrectionLot.seed))) == {77}
        numbers = sorted(s.scalars(select(CorrectionLot.number)))
    assert numbers == list(range(1, len(outcome.lots) + 1))
    before = assignment(session_factory)

    late = _add_copies(session_factory, paper_id, 1, 20)
    unknown = _add_copies(session_factory, paper_id, 500, 3, linked=False)
    with session_factory() as s:
        second = dispatch_paper(s, s.get(Paper, paper_id), seed=78)
    after = assignment(session_factory)
    assert {c: after[c] for c in before} == before, "copies already dispatched must not move"
    assert set(after) - set(before) == set(late)
    assert second.held_back == unknown
    assert min(lot.number for lot in second.lots) == len(outcome.lots) + 1
    check_database(session_factory, paper_id)
    with session_factory() as s:
        third = dispatch_paper(s, s.get(Paper, paper_id), seed=79)
    assert third.lots == [] and third.held_back == unknown


def test_same_seed_gives_the_same_lots_on_two_databases(fresh_database) -> None:
    from correction_server.db import make_engine, make_session_factory

    results = []
    for _ in range(2):
        engine = make_engine(fresh_database("sqlite"))
        factory = make_session_factory(engine)
        g = generate_session(300, 6, n_centres=3, n_establishments=8, seed=9)
        paper_id = populate(factory, g)
        with factory() as s:
            dispatch_paper(s, s.get(Paper, paper_id), seed=4242)
        with factory() as s:
            rows = s.execute(
                select(LotCopy.copy_id, User.username)
                .join(CorrectionLot, CorrectionLot.id == LotCopy.lot_id)
                .join(User, User.id == CorrectionLot.corrector_id)
            ).all()
        results.append(sorted(rows))
        engine.dispose()
    assert results[0] == results[1]


def test_impossible_dispatch_changes_nothing(session_factory) -> None:
    g = generate_session(40, 1, n_centres=1, n_establishments=1, seed=1)
    paper_id = populate(session_factory, g)  # the single corrector teaches where all candidates study
    with session_factory() as s, pytest.raises(DispatchImpossible) as caught:
        dispatch_paper(s, s.get(Paper, paper_id), seed=1)
    assert "no possible corrector" in str(caught.value) and "40 copies" in str(caught.value)
    assert assignment(session_factory) == {}


@pytest.mark.slow
def test_ten_thousand_copies_in_the_database(session_factory) -> None:
    g = generate_session(10_000, 60)
    paper_id = populate(session_factory, g)
    with session_factory() as s:
        outcome = dispatch_paper(s, s.get(Paper, paper_id), seed=1)
    assert outcome.copies_dispatched == 10_000
    assert len(assignment(session_factory)) == 10_000
    check_database(session_factory, paper_id)


def test_slip_lists_copy_numbers_in_increasing_order(session_factory) -> None:
    g = generate_session(120, 4, n_centres=3, n_establishments=6, seed=2)
    paper_id = populate(session_factory, g)
    with session_factory() as s:
        outcome = dispatch_paper(s, s.get(Paper, paper_id), seed=3)
        slip = lot_slip(s, outcome.lots[0].lot_id)
    assert slip.copy_ids == sorted(slip.copy_ids) and len(slip.copy_ids) == outcome.lots[0].copies
    lines = slip_csv(slip).splitlines()
    assert lines[0] == "paper,lot,corrector,position,copy_id,mark,pages"
    assert [line.split(",")[4] for line in lines[1:]] == slip.copy_ids


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MASSICOT_SECRET_KEY": "cli-test"}
    return subprocess.run([MASSICOT, *args], capture_output=True, text=True, timeout=300, env=env)


def test_cli_dispatch_and_its_plain_refusal(fresh_database) -> None:
    from correction_server.db import make_engine, make_session_factory

    url = fresh_database("sqlite")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    populate(factory, generate_session(200, 5, n_centres=3, n_establishments=6, seed=4), paper_code="U3")
    populate(factory, generate_session(30, 1, 1, 1, seed=1, id_prefix="M"), paper_code="U4")
    engine.dispose()
    done = _cli("office", "dispatch", "--paper", "U3", "--seed", "12", "--db", url)
    assert done.returncode == 0, done.stderr
    assert "200 copies dispatched" in done.stdout and "--seed 12" in done.stdout
    again = _cli("office", "dispatch", "--paper", "U3", "--db", url)
    assert again.returncode == 0 and "No new copy" in again.stdout
    refused = _cli("office", "dispatch", "--paper", "U4", "--db", url)
    assert refused.returncode == 2
    assert "no possible corrector" in refused.stderr and "Traceback" not in refused.stderr
    unknown = _cli("office", "dispatch", "--paper", "ZZ9", "--db", url)
    assert unknown.returncode == 2 and "No paper has the code" in unknown.stderr


def test_office_button_dispatches(db_url, tmp_path) -> None:
    from correction_server.db import make_engine, make_session_factory
    from testkit.worlds.office import office_client

    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    paper_id = populate(factory, generate_session(150, 4, n_centres=3, n_establishments=6, seed=8))
    with office_client(factory, db_url, tmp_path / "store") as (client, csrf):
        page = client.get("/office/dispatch")
        assert page.status_code == 200 and f'action="/office/dispatch/{paper_id}"' in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert token == csrf
        done = client.post(f"/office/dispatch/{paper_id}", data={"csrf_token": csrf, "seed": "5"})
        assert done.status_code == 200, done.text
        assert "150 copie(s) réparties" in done.text and "graine 5" in done.text
        forged = client.post(f"/office/dispatch/{paper_id}", data={"seed": "5"})
        assert forged.status_code == 403
    assert len(assignment(factory)) == 150
    engine.dispose()
