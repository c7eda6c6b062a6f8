"""The slip (bordereau) as CSV: the pages of each copy in a last column, read back with the csv module
and compared with the pages the database holds for the lot's copies."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, insert, select

from correction_server.dispatch.planning import dispatch_paper
from correction_server.models import Page, Paper
from correction_server.models.dispatch import AssignmentState, LotCopy
from testkit.worlds.dispatch import generate_session, populate

# The columns outside tools already read, by name and by place: they stay first and unchanged.
OLD_COLUMNS = ["paper", "lot", "corrector", "position", "copy_id", "mark"]


def _add_pages(factory, copy_ids: list[str]) -> None:
    """0 to 5 pages per copy: annexes make booklets uneven, and a copy may have no page yet."""
    with factory() as s, s.begin():
        s.execute(
            insert(Page),
            [
                {"copy_id": c, "position": p, "number": p + 1, "image_sha256": f"{n:032x}{p:032x}"}
                for n, c in enumerate(copy_ids)
                for p in range((n * 5) % 6)
            ],
        )


def _pages_in_database(factory, lot_id: int) -> dict[str, int]:
    """Copy id → pages, for the copies the lot holds, counted from the tables (not from the slip)."""
    with factory() as s:
        held = s.scalars(
            select(LotCopy.copy_id).where(LotCopy.lot_id == lot_id, LotCopy.state == AssignmentState.ASSIGNED)
        ).all()
        counted = dict(
            s.execute(
                select(Page.copy_id, func.count()).where(Page.copy_id.in_(held)).group_by(Page.copy_id)
            ).all()
        )
    return {copy_id: counted.get(copy_id, 0) for copy_id in held}


def test_csv_slip_ends_with_the_pages_of_each_copy(db_url, session_factory, tmp_path) -> None:
    from testkit.worlds.office import office_client

    g = generate_session(90, 3, n_centres=2, n_establishments=5, seed=11)
    paper_id = populate(session_factory, g)
    _add_pages(session_factory, [c.copy_id for c in g.copies])
    with session_factory() as s:
        outcome = dispatch_paper(s, s.get(Paper, paper_id), seed=4)
    with office_client(session_factory, db_url, tmp_path / "store") as (client, _):
        for lot in outcome.lots:
            answer = client.get(f"/lots/{lot.lot_id}/slip.csv")
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
            rows = list(csv.reader(io.StringIO(answer.text)))
            assert rows[0] == [*OLD_COLUMNS, "pages"]
            lines = list(csv.DictReader(io.StringIO(answer.text)))
            expected = _pages_in_database(session_factory, lot.lot_id)
            # One line per copy and nothing else: no totals line for a reader to take for a copy.
            assert len(lines) == len(expected) == lot.copies
            assert all(len(row) == len(rows[0]) for row in rows)
            assert {line["copy_id"]: int(line["pages"]) for line in lines} == expected
            assert [line["copy_id"] for line in lines] == sorted(expected)
            assert [int(line["position"]) for line in lines] == list(range(1, len(lines) + 1))
            assert {line["paper"] for line in lines} == {"U3"} and {line["mark"] for line in lines} == {""}
    # The sample covers uneven booklets, a copy without pages among them.
    every = {c: n for lot in outcome.lots for c, n in _pages_in_database(session_factory, lot.lot_id).items()}
    assert 0 in every.values() and len(set(every.values())) == 6
