"""A corrector flags a copy; the office decides (note, mask, move, rescan); SQLite and PostgreSQL.

Through the services (the pages and the command line call the same ones): the copy leaves the
corrector's to-do and refuses marks until every flag on it is decided; a masked page gets a new
image with the zone whited out while the original object and row stay; each step is audited.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from correction_server.audit.actors import Actor
from correction_server.audit.log import verify_chain
from correction_server.auth.tokens import Principal
from correction_server.intake.rescans import open_requests
from correction_server.marking.flags import raise_flag
from correction_server.marking.rules import MarkingClosed
from correction_server.marking.saving import SaveRequest, save
from correction_server.marking.views import lots_of
from correction_server.models import (
    AuditEntry,
    Centre,
    Copy,
    CopyFlag,
    FlagKind,
    FlagState,
    Page,
    PageVersion,
    RescanRequest,
    Role,
    ScanLot,
    User,
)
from correction_server.office.flags import decide
from correction_server.pages.store import LocalStore
from correction_server.pages.zones import Zone, parse_zone
from massicot_core.errors import UserError
from testkit.worlds.marking import NOW, build_world, page_jpeg

OFFICE = Actor(None, "office")


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture
def flagged_world(session_factory, store):
    shas = [store.put(page_jpeg(f"Page {n}")) for n in (1, 2)]
    world = build_world(session_factory, image_shas=shas)
    return world


def _user(session, user_id: int) -> User:
    return session.get(User, user_id)


def _flag(factory, world, copy_id: str, kind: FlagKind, page: int | None = 1, note: str = "") -> int:
    with factory() as session:
        return raise_flag(session, _user(session, world.corrector_id), copy_id, kind, page, note, NOW).id


def _actions(factory) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_a_flagged_copy_leaves_the_to_do_and_refuses_marks_until_the_office_decides(
    session_factory, flagged_world
):
    world = flagged_world
    first, second = world.copies[0], world.copies[1]
    flag_id = _flag(session_factory, world, first, FlagKind.IDENTIFYING_SIGN, 2, "un prénom en marge")
    with session_factory() as session:
        lot = lots_of(session, _user(session, world.corrector_id), NOW, "fr")[0]
        states = {row.copy_id: row.status for row in lot.rows}
        assert states[first] == "flagged"
        assert lot.next_copy == second  # he goes on with the rest of his lot
    with session_factory() as session, pytest.raises(MarkingClosed):
        save(session, world.corrector_id, first, SaveRequest(version=0, appreciation="x"), NOW)
    with session_factory() as session:  # the rest of the lot is marked as before
        assert (
            save(session, world.corrector_id, second, SaveRequest(version=0, appreciation="ok"), NOW).version
            == 1
        )
    said = None
    with session_factory() as session:
        said = decide(session, OFFICE, flag_id, "note", "rien d'identifiant")
    assert "back with its corrector" in said
    with session_factory() as session:
        assert session.get(Copy, first).flagged is False
        assert session.get(CopyFlag, flag_id).state == FlagState.DECIDED
        lot = lots_of(session, _user(session, world.corrector_id), NOW, "fr")[0]
        assert lot.next_copy == first
    with session_factory() as session:
        assert (
            save(session, world.corrector_id, first, SaveRequest(version=0, appreciation="x"), NOW).version
            == 1
        )
    actions = _actions(session_factory)
    assert "flag.raise" in actions and "flag.note" in actions
    with session_factory() as session:
        assert verify_chain(session).intact


def test_only_the_copy_holder_flags_it(session_factory, flagged_world):
    from correction_server.marking.reading import NotYourCopy

    with session_factory() as session, pytest.raises(NotYourCopy):
        raise_flag(
            session,
            _user(session, flagged_world.corrector_id),
            flagged_world.other_copy,
            FlagKind.FOREIGN_PAGE,
            1,
            "",
        )


def test_mask_makes_a_new_image_and_keeps_the_original(session_factory, flagged_world, store):
    world = flagged_world
    copy_id = world.copies[0]
    flag_id = _flag(session_factory, world, copy_id, FlagKind.IDENTIFYING_SIGN, 1, "nom en bas de page")
    with session_factory() as session:
        page = session.scalar(select(Page).where(Page.copy_id == copy_id, Page.number == 1))
        original = page.image_sha256
    with session_factory() as session, pytest.raises(UserError):
        decide(session, OFFICE, flag_id, "rescan")  # not a decision for an identifying sign
    with session_factory() as session:
        decide(session, OFFICE, flag_id, "mask", "masqué", store=store, zone=parse_zone("0,0,50,20"))
    with session_factory() as session:
        page = session.scalar(select(Page).where(Page.copy_id == copy_id, Page.number == 1))
        assert page.image_sha256 != original
        kept = session.scalars(select(PageVersion).where(PageVersion.page_id == page.id)).all()
        assert [v.image_sha256 for v in kept] == [original]
        masked_sha = page.image_sha256
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "flag.mask"))
        assert entry.details["images"][0] == {"page_id": page.id, "original": original, "masked": masked_sha}
    assert store.has(original), "the original image stays in the store"
    with store.open(masked_sha) as handle:
        pixels = np.asarray(Image.open(io.BytesIO(handle.read())).convert("L"))
    with store.open(original) as handle:
        before = np.asarray(Image.open(io.BytesIO(handle.read())).convert("L"))
    height, width = pixels.shape
    zone = pixels[: int(height * 0.2) - 2, : int(width * 0.5) - 2]
    assert zone.min() >= 250, "the zone is whited out"
    assert before[: int(height * 0.2), : int(width * 0.5)].min() < 100, "the original had ink there"
    outside = np.abs(pixels[int(height * 0.3) :].astype(int) - before[int(height * 0.3) :].astype(int))
    assert outside.mean() < 3, "the rest of the page is unchanged"


def test_a_zone_is_turned_onto_a_sideways_stored_image():
    from correction_server.pages.zones import mask_zone

    image = Image.new("L", (200, 100), 0)  # stored sideways: upright it is 100 wide, 200 high
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    masked = np.asarray(Image.open(io.BytesIO(mask_zone(out.getvalue(), 90, Zone(0, 0, 1, 0.25)))))
    upright = np.rot90(masked, k=-1)  # rotation 90: turned clockwise it is upright
    assert upright[:45, :].min() >= 240 and upright[60:, :].max() < 30


def test_move_puts_the_page_in_its_copy(session_factory, flagged_world):
    world = flagged_world
    source, target = world.copies[0], world.copies[2]
    flag_id = _flag(session_factory, world, source, FlagKind.FOREIGN_PAGE, 2)
    with session_factory() as session, pytest.raises(UserError):
        decide(session, OFFICE, flag_id, "move", target_copy="NOSUCHCOPY")
    with session_factory() as session:
        decide(session, OFFICE, flag_id, "move", "page de la copie voisine", target_copy=target)
    with session_factory() as session:
        assert [p.number for p in session.scalars(select(Page).where(Page.copy_id == source))] == [1]
        moved = session.scalars(select(Page).where(Page.copy_id == target).order_by(Page.position)).all()
        assert [p.number for p in moved] == [1, 2, 2]
        assert session.scalar(select(PageVersion.copy_id).where(PageVersion.reason == "move")) == source


def test_rescan_request_keeps_the_copy_flagged_and_is_listed_to_its_centre_only(
    session_factory, flagged_world
):
    world = flagged_world
    copy_id = world.copies[1]
    with session_factory() as session, session.begin():
        copy = session.get(Copy, copy_id)
        lot = ScanLot(seal_sha256="a" * 64, centre_id=copy.centre_id, paper_id=copy.paper_id)
        session.add(lot)
        session.flush()
        copy.scan_lot_id = lot.id
        other = Centre(uai="0130041Z", name="Autre")
        session.add(other)
        session.flush()
        centre = session.get(Centre, copy.centre_id)
        mine = Principal(0, "centre", Role.CENTRE, centre.id, centre.uai)
        theirs = Principal(0, "centre", Role.CENTRE, other.id, other.uai)
    flag_id = _flag(session_factory, world, copy_id, FlagKind.UNREADABLE_PAGE, 2, "page 2 noire")
    with session_factory() as session:
        said = decide(session, OFFICE, flag_id, "rescan", "page trop sombre")
    assert "Rescan asked of centre 0130040Y" in said
    with session_factory() as session:
        assert session.get(Copy, copy_id).flagged is True  # until the new page arrives
        assert session.get(CopyFlag, flag_id).state == FlagState.RESCAN
        listed = open_requests(session, mine)
        assert [(r["copy"], r["page"], r["seals"]) for r in listed] == [(copy_id, 2, ["a" * 64])]
        assert open_requests(session, theirs) == []
        assert session.scalar(select(RescanRequest.reason)) == "page trop sombre"
    assert "flag.rescan" in _actions(session_factory)
