"""The office decides on a corrector's flag (fiche 4; fiche 2 annexe 3; DOMAIN rules 15, 17).

- identifying sign → mask a zone on every image of that page (`pages.zones`: a new image
  object; the original stays in the store, its page row kept as a `PageVersion`, both named in
  the audit entry), or note it and change nothing;
- page of another copy → move it to the copy it belongs to (the row before the move kept),
  or note it;
- unreadable or missing page → a rescan request to the centre (`RescanRequest`), listed to its
  station; the flag stays open until the re-pushed lot brings the page
  (`correction_server.intake.repush`), or note it.

When no flag on the copy is waiting any more, the copy goes back to its corrector's to-do.
Every decision is audited in the transaction that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.marking.rules import utcnow
from correction_server.models import (
    Centre,
    Copy,
    CopyFlag,
    FlagDecision,
    FlagKind,
    FlagState,
    Page,
    PageVersion,
    Paper,
    RescanRequest,
    RescanState,
    User,
)
from correction_server.pages.store import ObjectStore
from correction_server.pages.zones import Zone, mask_zone
from massicot_core.errors import UserError

WAITING = (FlagState.OPEN, FlagState.RESCAN)
ALLOWED = {
    FlagKind.IDENTIFYING_SIGN: (FlagDecision.MASK, FlagDecision.NOTE),
    FlagKind.FOREIGN_PAGE: (FlagDecision.MOVE, FlagDecision.NOTE),
    FlagKind.UNREADABLE_PAGE: (FlagDecision.RESCAN, FlagDecision.NOTE),
}


@dataclass(frozen=True)
class WaitingFlag:
    id: int
    copy_id: str
    paper_code: str
    centre_uai: str
    kind: str
    page_number: int | None
    note: str
    state: str
    raised_by: str
    raised_at: datetime
    decisions: tuple[str, ...]


def waiting_flags(session: Session) -> list[WaitingFlag]:
    rows = session.execute(
        select(CopyFlag, Paper.code, Centre.uai, User.display_name, User.username)
        .join(Copy, Copy.id == CopyFlag.copy_id)
        .join(Paper, Paper.id == Copy.paper_id)
        .join(Centre, Centre.id == Copy.centre_id)
        .join(User, User.id == CopyFlag.raised_by_id)
        .where(CopyFlag.state.in_(WAITING))
        .order_by(CopyFlag.id)
    ).all()
    return [
        WaitingFlag(
            f.id,
            f.copy_id,
            code,
            uai,
            f.kind.value,
            f.page_number,
            f.note,
            f.state.value,
            name or username,
            f.raised_at,
            tuple(d.value for d in ALLOWED[f.kind]) if f.state == FlagState.OPEN else (),
        )
        for f, code, uai, name, username in rows
    ]


def _flag(session: Session, flag_id: int) -> CopyFlag:
    flag = session.get(CopyFlag, flag_id)
    if flag is None:
        raise UserError(f"There is no flag {flag_id}.")
    if flag.state != FlagState.OPEN:
        raise UserError(
            f"Flag {flag_id} is already decided "
            f"({flag.decision.value if flag.decision else flag.state.value})."
        )
    return flag


def release_if_settled(session: Session, copy_id: str) -> bool:
    """The copy back in its corrector's to-do when no flag on it waits; True if released."""
    waiting = session.scalar(
        select(func.count())
        .select_from(CopyFlag)
        .where(CopyFlag.copy_id == copy_id, CopyFlag.state.in_(WAITING))
    )
    if waiting:
        return False
    session.execute(update(Copy).where(Copy.id == copy_id).values(flagged=False))
    return True


def _keep_version(session: Session, page: Page, reason: str, flag_id: int) -> PageVersion:
    version = PageVersion(
        page_id=page.id,
        copy_id=page.copy_id,
        position=page.position,
        number=page.number,
        image_sha256=page.image_sha256,
        media_type=page.media_type,
        rotation=page.rotation,
        skew_degrees=page.skew_degrees,
        blank=page.blank,
        reason=reason,
        flag_id=flag_id,
    )
    session.add(version)
    return version


def decide(
    session: Session,
    actor: audit.Actor,
    flag_id: int,
    decision: str,
    note: str = "",
    *,
    store: ObjectStore | None = None,
    zone: Zone | None = None,
    target_copy: str | None = None,
    page_number: int | None = None,
    now: datetime | None = None,
) -> str:
    """Apply the office's decision on one flag and commit; returns what was done, in plain words."""
    now = now or utcnow()
    flag = _flag(session, flag_id)
    try:
        chosen = FlagDecision(decision.strip())
    except ValueError:
        chosen = None
    if chosen not in ALLOWED[flag.kind]:
        allowed = ", ".join(d.value for d in ALLOWED[flag.kind])
        raise UserError(f"A flag of kind {flag.kind.value} is decided with: {allowed}.")
    details: dict[str, object] = {
        "flag": flag.id,
        "kind": flag.kind.value,
        "decision": chosen.value,
        "note": note,
    }
    if chosen == FlagDecision.MASK:
        said = _mask(session, flag, store, zone, details)
    elif chosen == FlagDecision.MOVE:
        said = _move(session, flag, target_copy, details)
    elif chosen == FlagDecision.RESCAN:
        said = _request_rescan(session, flag, page_number, note, details)
    else:
        said = f"Flag {flag.id} on copy {flag.copy_id} noted; the copy is unchanged."
    flag.decision = chosen
    flag.decision_note = note.strip()
    flag.decided_by_id = actor.user_id
    flag.decided_at = now
    flag.state = FlagState.RESCAN if chosen == FlagDecision.RESCAN else FlagState.DECIDED
    session.flush()
    released = release_if_settled(session, flag.copy_id)
    details["released"] = released
    audit.record(session, actor, f"flag.{chosen.value}", "copy", flag.copy_id, details)
    session.commit()
    if released:
        said += f" Copy {flag.copy_id} is back with its corrector."
    return said


def _pages_numbered(session: Session, copy_id: str, number: int | None) -> list[Page]:
    if number is None:
        raise UserError("This flag names no page: it cannot be masked or moved; note it instead.")
    pages = list(session.scalars(select(Page).where(Page.copy_id == copy_id, Page.number == number)))
    if not pages:
        raise UserError(f"Copy {copy_id} has no page {number} any more.")
    return pages


def _mask(
    session: Session, flag: CopyFlag, store: ObjectStore | None, zone: Zone | None, details: dict
) -> str:
    if zone is None or store is None:
        raise UserError(
            "Say which zone to mask: LEFT,TOP,WIDTH,HEIGHT in percent of the page (e.g. 10,80,30,10)."
        )
    changed = []
    # Every image of that page: a sheet scanned as several images (an annex stapled on it) too.
    for page in _pages_numbered(session, flag.copy_id, flag.page_number):
        with store.open(page.image_sha256) as handle:
            original = handle.read()
        masked = store.put(mask_zone(original, page.rotation, zone))
        _keep_version(session, page, "mask", flag.id)
        changed.append({"page_id": page.id, "original": page.image_sha256, "masked": masked})
        page.image_sha256 = masked
        page.media_type = "image/jpeg"
    details["zone"] = zone.to_json()
    details["images"] = changed
    return (
        f"Page {flag.page_number} of copy {flag.copy_id} masked ({len(changed)} image(s)); the original "
        "images are kept."
    )


def _move(session: Session, flag: CopyFlag, target_copy: str | None, details: dict) -> str:
    target_id = (target_copy or "").strip().upper()
    target = session.get(Copy, target_id) if target_id else None
    source = session.get(Copy, flag.copy_id)
    if target is None or target.paper_id != source.paper_id or target.id == source.id:
        raise UserError(
            "Say which copy of the same paper the page belongs to (its copy id, as printed on the page)."
        )
    last = session.scalar(select(func.max(Page.position)).where(Page.copy_id == target.id)) or 0
    moved = []
    for offset, page in enumerate(_pages_numbered(session, flag.copy_id, flag.page_number), start=1):
        _keep_version(session, page, "move", flag.id)
        moved.append(page.id)
        page.copy_id = target.id
        page.position = last + offset
    details["to_copy"] = target.id
    details["pages"] = moved
    return f"Page {flag.page_number} of copy {flag.copy_id} moved to copy {target.id}."


def _request_rescan(
    session: Session, flag: CopyFlag, page_number: int | None, note: str, details: dict
) -> str:
    number = page_number if page_number is not None else flag.page_number
    if number is None or number < 1:
        raise UserError("Say which page number the centre must scan again.")
    copy = session.get(Copy, flag.copy_id)
    if copy.scan_lot_id is None:
        raise UserError(f"Copy {copy.id} came in no scan lot: there is no centre lot to rescan it into.")
    request = RescanRequest(
        flag_id=flag.id,
        copy_id=copy.id,
        page_number=number,
        scan_lot_id=copy.scan_lot_id,
        centre_id=copy.centre_id,
        reason=note.strip() or flag.note,
        state=RescanState.OPEN,
    )
    session.add(request)
    session.flush()
    details["rescan_request"] = request.id
    details["page"] = number
    centre = session.get(Centre, copy.centre_id)
    return (
        f"Rescan asked of centre {centre.uai}: copy {copy.id}, page {number} (request {request.id}). "
        "The copy comes back to its corrector with the new page."
    )
