"""Finding 2: what a station says about copies and pages is checked before anything is stored.

Each lie is sealed consistently (the seal hash matches), as a broken or hostile station would
send it; the server answers 422 (409 for copies a candidate already handed in) with plain words,
and the database holds no lot, no copy and no changed roll afterwards.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from correction_server.db import make_engine, make_session_factory
from correction_server.models import Attendance, Copy, Page, RollEntry, ScanLot
from testkit.hostile import CENTRE_A, CENTRE_B, lie


def _nothing_changed(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(ScanLot)) == 0
            assert session.scalar(select(func.count()).select_from(Copy)) == 0
            assert session.scalar(select(func.count()).select_from(Page)) == 0
            attendance = set(session.scalars(select(RollEntry.attendance)))
            assert attendance == {Attendance.REGISTERED}
    finally:
        engine.dispose()


def _first_page(data: dict, **values) -> None:
    data["copies"][0]["pages"][0].update(values)


LIES = {
    "skew 1e308": (lambda d: _first_page(d, skew_degrees=1e308), None, "skew"),
    "skew NaN-like huge negative": (lambda d: _first_page(d, skew_degrees=-1e300), None, "skew"),
    "page number 2**70": (lambda d: _first_page(d, number=2**70), None, "page number"),
    "page number 0": (lambda d: _first_page(d, number=0), None, "page number"),
    "media type too long": (lambda d: _first_page(d, media_type="image/" + "x" * 200), None, "media type"),
    "negative counts": (
        lambda d: d["counts"].update(absent=-3, registered=d["counts"]["registered"] - 3),
        None,
        "count",
    ),
    "counts that do not add up": (lambda d: d["counts"].update(present=99), None, "add up"),
    "a room sheet served as a web page": (
        lambda d: d.update(
            room_report={
                "documents": [
                    {
                        "kind": "signing_sheet",
                        "file": "sheet.html",
                        "sha256": "a" * 64,
                        "media_type": "text/html",
                    }
                ],
                "written_by": "Mme Secrétaire",
                "written_at": "2026-06-01T18:00:00+02:00",
            }
        ),
        None,
        "room report's signing sheet",
    ),
    "more absent copies than absent candidates": (
        lambda d: d["copies"][0].update(status="absent"),
        None,
        "marked absent",
    ),
}


@pytest.mark.parametrize("name", list(LIES))
def test_lying_manifests_are_refused_before_anything_is_stored(pushing, name) -> None:
    change, identity, words = LIES[name]
    lot = pushing.lot("lot", pushing.exam.candidates[CENTRE_A][:2], pages_per_copy=2)
    lie(lot, change, identity)
    answer = pushing.announce(lot)
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["detail"]
    _nothing_changed(pushing.db_url)


def test_a_copy_linked_to_another_centres_candidate_is_refused(pushing) -> None:
    own = pushing.exam.candidates[CENTRE_A][:1]
    stranger = pushing.exam.candidates[CENTRE_B][0]
    lot = pushing.lot("lot", own + [stranger], pages_per_copy=1)
    answer = pushing.announce(lot)
    assert answer.status_code == 422, answer.text
    assert "not on centre" in answer.json()["detail"] and stranger in answer.json()["detail"]
    _nothing_changed(pushing.db_url)


def test_one_candidate_with_two_copies_is_refused(pushing) -> None:
    reg = pushing.exam.candidates[CENTRE_A][0]
    lot = pushing.lot("lot", [reg, reg], pages_per_copy=1)
    answer = pushing.announce(lot)
    assert answer.status_code == 422, answer.text
    assert "more than one copy" in answer.json()["detail"]
    _nothing_changed(pushing.db_url)


def test_a_candidate_whose_copy_was_received_gets_no_second_one(pushing) -> None:
    reg = pushing.exam.candidates[CENTRE_A][0]
    first = pushing.lot("first", [reg], pages_per_copy=1)
    assert pushing.announce(first).status_code == 200
    assert all(r.status_code == 200 for r in pushing.send_images(first))
    assert pushing.commit(first.seal).status_code == 201
    second = pushing.lot("second", [reg], pages_per_copy=1)
    answer = pushing.announce(second)
    assert answer.status_code == 409 and "already have a copy" in answer.json()["detail"]


def test_bytes_that_are_not_the_stated_image_are_refused_and_dropped(pushing) -> None:
    lot = pushing.lot("lot", pushing.exam.candidates[CENTRE_A][:1], pages_per_copy=1)
    page = lot.manifest.copies[0].pages[0]
    not_an_image = b"%PDF-1.4 this is no picture" * 100
    import hashlib

    sha = hashlib.sha256(not_an_image).hexdigest()
    (lot.folder / page.image).write_bytes(not_an_image)

    def swap(d: dict) -> None:
        _first_page(d, sha256=sha)
        for source in d["sources"]:
            if source["sha256"] == page.sha256:
                source["sha256"] = sha

    seal = lie(lot, swap)
    assert pushing.announce(lot).status_code == 200
    (sent,) = pushing.send_images(lot)
    assert sent.status_code == 422 and "not a readable image/jpeg" in sent.json()["detail"]
    commit = pushing.commit(seal)
    assert commit.status_code == 409  # the bytes were dropped: nothing to commit from
    _nothing_changed(pushing.db_url)


def test_an_image_of_another_type_than_stated_is_refused_at_commit_too(pushing) -> None:
    lot = pushing.lot("lot", pushing.exam.candidates[CENTRE_A][:1], pages_per_copy=1)
    seal = lie(lot, lambda d: _first_page(d, media_type="image/png"))
    assert pushing.announce(lot).status_code == 200
    (sent,) = pushing.send_images(lot)
    assert sent.status_code == 422 and "says image/png" in sent.json()["detail"]
    _nothing_changed(pushing.db_url)
    assert pushing.commit(seal).status_code == 409


def test_an_honest_lot_still_goes_in_and_records_the_roll(pushing) -> None:
    regs = pushing.exam.candidates[CENTRE_A][:2]
    lot = pushing.lot("lot", regs, pages_per_copy=2)
    assert pushing.announce(lot).status_code == 200
    assert all(r.status_code == 200 for r in pushing.send_images(lot))
    assert pushing.commit(lot.seal).status_code == 201
    engine = make_engine(pushing.db_url)
    try:
        with make_session_factory(engine)() as session:
            present = session.scalar(
                select(func.count()).select_from(RollEntry).where(RollEntry.attendance == Attendance.PRESENT)
            )
            assert present == 2  # the two candidates of the lot, and nobody else's line
    finally:
        engine.dispose()
