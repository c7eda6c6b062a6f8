"""A lot pushed again after the office asked for rescans: only the pages asked for change.

The push protocol refuses a copy received twice (`IngestService._check_copies_are_new`). The
one exception: a resealed lot that holds exactly the copies of a lot already received from the
same centre, for which the office has open rescan requests (`RescanRequest`). Then:

- every page not named by an open request must be the page the server received (its SHA-256,
  or the original a later office decision replaced: a masked or moved page), the copies the
  same, with the same status; anything else is refused, naming it (409);
- at the commit, in one transaction, each page named is replaced: the row as it was is kept as
  a `PageVersion` (its image stays in the store), the row takes the new image, the request is
  done, its flag decided, the copy back in its corrector's to-do, each replacement audited
  with both hashes and the new seal. A page that was missing is inserted at its place.
The new seal is recorded (`ScanLotRepush`), so pushing it again answers "already received".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.intake.refusals import Conflict, listing, plural
from correction_server.models import (
    Copy,
    CopyFlag,
    FlagDecision,
    FlagState,
    Page,
    PageVersion,
    RescanRequest,
    RescanState,
    ScanLot,
    ScanLotRepush,
)
from correction_server.office.flags import release_if_settled
from massicot_core.contract import Manifest, ManifestPage


@dataclass(frozen=True)
class Replacement:
    copy_id: str
    number: int
    page: ManifestPage
    position: int  # its position in the copy as the station sealed it (1-based)
    request_ids: tuple[int, ...]


@dataclass(frozen=True)
class RepushPlan:
    scan_lot_id: int
    replacements: tuple[Replacement, ...]


def _page_label(copy_id: str, number: int) -> str:
    return f"copy {copy_id} page {number}"


def plan_repush(session: Session, centre_id: int, paper_id: int, manifest: Manifest) -> RepushPlan | None:
    """The pages this manifest replaces, when it is a re-push answering open rescan requests.

    None when it is not a re-push at all (the ordinary checks then say what is wrong).
    """
    copy_ids = [c.copy for c in manifest.copies]
    if not copy_ids:
        return None
    lot_ids = set()
    found = 0
    for start in range(0, len(copy_ids), 500):
        for scan_lot_id in session.scalars(
            select(Copy.scan_lot_id).where(Copy.id.in_(copy_ids[start : start + 500]))
        ):
            lot_ids.add(scan_lot_id)
            found += 1
    if found != len(copy_ids) or len(lot_ids) != 1 or None in lot_ids:
        return None
    lot = session.get(ScanLot, lot_ids.pop())
    if lot is None or lot.centre_id != centre_id or lot.paper_id != paper_id:
        return None
    requests = list(
        session.scalars(
            select(RescanRequest).where(
                RescanRequest.scan_lot_id == lot.id, RescanRequest.state == RescanState.OPEN
            )
        )
    )
    if not requests:
        return None
    named: dict[tuple[str, int], list[int]] = {}
    for request in requests:
        named.setdefault((request.copy_id, request.page_number), []).append(request.id)
    in_lot = dict(session.execute(select(Copy.id, Copy.status).where(Copy.scan_lot_id == lot.id)).all())
    problems: list[str] = []
    if set(in_lot) != set(copy_ids):
        problems.append(
            f"it holds {plural(len(copy_ids), 'copy')} but the lot received held {len(in_lot)}: "
            "a re-pushed lot keeps the same copies"
        )
    current = _received_pages(session, lot.id)
    replacements: list[Replacement] = []
    for copy in manifest.copies:
        status = in_lot.get(copy.copy)
        if status is not None and status.value != copy.status:
            problems.append(f"copy {copy.copy} is now {copy.status}, it was received {status.value}")
        for position, page in enumerate(copy.pages, start=1):
            key = (copy.copy, page.number) if page.number is not None else None
            known = current.get(key, set()) if key else current.get((copy.copy, None), set())
            if page.sha256 in known:
                continue
            if key in named:
                replacements.append(Replacement(copy.copy, page.number, page, position, tuple(named[key])))
                continue
            label = (
                _page_label(copy.copy, page.number) if page.number else f"copy {copy.copy} sheet {position}"
            )
            problems.append(f"{label} differs from the page received, and no rescan of it was asked")
    if problems:
        raise Conflict(
            "this lot was already received; pushed again, it may only bring the pages the exam office asked "
            f"to rescan, but {listing(problems)}. Undo the other changes (or ask the exam office), "
            "seal again and push"
        )
    if not replacements:
        raise Conflict(
            "this lot was already received and brings none of the pages the exam office asked to rescan "
            f"({listing([_page_label(c, n) for c, n in sorted(named)])}): rescan them into the lot "
            "(`massicot scan rescan`), seal again and push"
        )
    return RepushPlan(lot.id, tuple(replacements))


def _received_pages(session: Session, scan_lot_id: int) -> dict[tuple[str, int | None], set[str]]:
    """(copy, page number) → every image the server holds or held for it (versions included)."""
    held: dict[tuple[str, int | None], set[str]] = {}
    rows = session.execute(
        select(Page.copy_id, Page.number, Page.image_sha256)
        .join(Copy, Copy.id == Page.copy_id)
        .where(Copy.scan_lot_id == scan_lot_id)
    ).all()
    rows += session.execute(
        select(PageVersion.copy_id, PageVersion.number, PageVersion.image_sha256)
        .join(Copy, Copy.id == PageVersion.copy_id)
        .where(Copy.scan_lot_id == scan_lot_id)
    ).all()
    for copy_id, number, sha in rows:
        held.setdefault((copy_id, number), set()).add(sha)
    return held


def apply_repush(session: Session, seal: str, plan: RepushPlan, now: datetime | None = None) -> int:
    """Replace the planned pages, close their requests, audit; in the caller's transaction."""
    now = now or datetime.now(UTC)
    released: set[str] = set()
    for item in plan.replacements:
        page = session.scalar(select(Page).where(Page.copy_id == item.copy_id, Page.number == item.number))
        before = None
        if page is not None:
            before = page.image_sha256
            session.add(
                PageVersion(
                    page_id=page.id,
                    copy_id=page.copy_id,
                    position=page.position,
                    number=page.number,
                    image_sha256=page.image_sha256,
                    media_type=page.media_type,
                    rotation=page.rotation,
                    skew_degrees=page.skew_degrees,
                    blank=page.blank,
                    reason="rescan",
                    flag_id=None,
                    replaced_at=now,
                )
            )
            page.image_sha256 = item.page.sha256
            page.media_type = item.page.media_type
            page.rotation = item.page.rotation
            page.skew_degrees = item.page.skew_degrees
            page.blank = item.page.blank
        else:
            page = _insert_missing(session, item)
        session.flush()
        requests = list(session.scalars(select(RescanRequest).where(RescanRequest.id.in_(item.request_ids))))
        for request in requests:
            request.state = RescanState.DONE
            request.done_at = now
            request.done_seal = seal
            flag = session.get(CopyFlag, request.flag_id)
            if flag is not None and flag.state == FlagState.RESCAN:
                flag.state = FlagState.DECIDED
                flag.decision = FlagDecision.RESCANNED
        released.add(item.copy_id)
        audit.record(
            session,
            audit.SYSTEM,
            "rescan.received",
            "copy",
            item.copy_id,
            {
                "page": item.number,
                "page_id": page.id,
                "before": before,
                "after": item.page.sha256,
                "seal": seal,
                "requests": list(item.request_ids),
            },
        )
    session.flush()
    for copy_id in sorted(released):
        release_if_settled(session, copy_id)
    session.add(
        ScanLotRepush(
            seal_sha256=seal,
            scan_lot_id=plan.scan_lot_id,
            received_at=now,
            pages_replaced=len(plan.replacements),
        )
    )
    return len(plan.replacements)


def _insert_missing(session: Session, item: Replacement) -> Page:
    """A page that was missing, put before the first page numbered after it."""
    pages = list(
        session.scalars(select(Page).where(Page.copy_id == item.copy_id).order_by(Page.position.desc()))
    )
    after = [p for p in pages if p.number is not None and p.number > item.number]
    position = min(p.position for p in after) if after else (max((p.position for p in pages), default=0) + 1)
    for page in pages:  # highest first: positions stay unique at every step
        if page.position >= position:
            session.execute(update(Page).where(Page.id == page.id).values(position=page.position + 1))
    session.expire_all()
    page = Page(
        copy_id=item.copy_id,
        position=position,
        number=item.number,
        image_sha256=item.page.sha256,
        media_type=item.page.media_type,
        rotation=item.page.rotation,
        skew_degrees=item.page.skew_degrees,
        blank=item.page.blank,
    )
    session.add(page)
    return page
