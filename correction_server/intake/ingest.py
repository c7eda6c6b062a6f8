"""Receiving sealed lots from the scan stations: exactly once, verified against the seal.

The steps (the HTTP protocol in `correction_server.intake.web` maps one route to each):

1. `announce`: the station sends its manifest and identity file. Everything that can be
   checked without the images is checked here (seal hash, counts, identity hash, centre,
   paper, copy ids not already received; `intake.seal_checks`). The server keeps the announced
   lot as a `PushUpload` and answers which page images it does not hold yet.
2. `receive_chunk`: images arrive by SHA-256, in chunks appended to a partial file
   (`intake.uploads`, over the page store); the image becomes visible only when complete and
   verified.
3. `commit`: when every image is in the store, the copies, pages, identity links and the
   scan lot are created in ONE transaction, and the `PushUpload` is deleted in that same
   transaction: a lot is either fully received or not at all.

The seal's hash is the lot's identity: announcing or committing a lot already received
answers "already received" and changes nothing. Two stations committing the same lot at
once collide on the unique seal; the loser is told "already received".

A push abandoned half-way keeps its `PushUpload` and images until the office purges it
(`correction_server.intake.purge`). Every request of a push moves its `last_activity_at`
forward (`intake.announced`), so only pushes idle for days are purged; a push resuming while
its upload is purged either finishes (it was active again in time) or is told to push again,
which starts over.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import delete, false, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from correction_server.auth.tokens import Principal
from correction_server.intake.announced import Announced, AnnouncedLots
from correction_server.intake.refusals import (
    PUSH_DROPPED,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    listing,
    plural,
    require_centre,
)
from correction_server.intake.repush import Replacement, apply_repush, plan_repush
from correction_server.intake.roll_checks import check_links
from correction_server.intake.seal_checks import check_manifest, parse_identity, parse_manifest
from correction_server.intake.states import ChunkReceipt, LotState, received_state
from correction_server.intake.uploads import ChunkUploads
from correction_server.models import (
    Attendance,
    Candidate,
    Copy,
    CopyStatus,
    ExamSession,
    IdentityLink,
    Page,
    Paper,
    RollEntry,
    ScanLot,
)
from correction_server.models.pushes import PushUpload
from correction_server.models.room_reports import RoomReportRecord
from correction_server.pages.images import PageLook
from correction_server.pages.store import ObjectStore
from massicot_core.contract import IdentityFile, Manifest

# Taken shared by announces and commits, exclusive by the purge of abandoned uploads.
_PG_UPLOADS_LOCK = 7_461_226_003


class _UploadGone(Exception):
    """The PushUpload vanished under a commit: committed by a twin push, or purged."""


def lock_uploads(session: Session, *, exclusive: bool = False) -> None:
    """The uploads lock, held until the caller's transaction ends (first statement of it).

    A purge of abandoned uploads holds it exclusively while it deletes their rows and images;
    an announce and a commit hold it shared, so they never see the store half-purged and never
    count on an image a purge is about to delete. PostgreSQL: an advisory lock. SQLite has one
    writer at a time: a write that changes no row takes that lock (waiting for the writer
    before), and the reads that follow see what it committed.
    """
    if session.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(text(f"SELECT {function}(:key)"), {"key": _PG_UPLOADS_LOCK})
    else:
        session.execute(
            update(PushUpload).where(false()).values(last_activity_at=PushUpload.last_activity_at)
        )


class IngestService:
    """Called by the HTTP routes (and usable directly); holds no request state."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        store: ObjectStore,
        max_page_bytes: int,
        on_received: Callable[[list[PageLook]], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.store = store
        self.max_page_bytes = max_page_bytes
        # Told the pages of each lot once it is committed (the server renders their display images).
        self.on_received = on_received
        self.lots = AnnouncedLots(session_factory)
        self.uploads = ChunkUploads(self.lots, store, max_page_bytes)

    # --- 1. announce ---------------------------------------------------------------------

    def announce(self, principal: Principal | None, manifest_data: object, identity_raw: bytes) -> LotState:
        principal = require_centre(principal)
        manifest = parse_manifest(manifest_data)
        seal = manifest.manifest_sha256
        self._check_centre(principal, manifest)
        with self.session_factory() as session:
            received = received_state(session, seal)
            if received is not None:
                return received
            labels = check_manifest(manifest)
            identity = parse_identity(identity_raw, manifest)
            paper_id = self._paper_for(session, principal, manifest.paper)
            self._check_candidates(session, identity)
            repush = plan_repush(session, principal.centre_id, paper_id, manifest)
            # A re-push answering rescan requests carries copies the server already holds.
            check_links(session, principal, paper_id, manifest, identity, repush=repush is not None)
            try:
                if repush is None:
                    self._check_copies_are_new(session, [copy.copy for copy in manifest.copies])
            except Conflict:
                # Those copies may be this very lot, committed by a twin push since the check above.
                session.rollback()
                received = received_state(session, seal)
                if received is not None:
                    return received
                raise
            try:
                identity_text = identity_raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Invalid("identity.json is not UTF-8 text; seal the lot again") from None
            session.rollback()  # end the reads: the write below must be the transaction's first
            row = {
                "seal_sha256": seal,
                "centre_id": principal.centre_id,
                "paper_id": paper_id,
                "manifest_json": json.dumps(manifest.model_dump(mode="json")),
                "identity_json": identity_text,
                "replaces_scan_lot_id": repush.scan_lot_id if repush else None,
            }
            missing = self._keep_upload(session, row, list(labels))
            # A twin push may have committed the lot (deleting its PushUpload) just before
            # our row went in: then ours is stale and must not linger.
            received = received_state(session, seal)
            if received is not None:
                session.execute(delete(PushUpload).where(PushUpload.seal_sha256 == seal))
                session.commit()
                return received
            session.rollback()  # end the read transaction
            self.lots.remember(
                seal,
                Announced(
                    principal.centre_id,
                    paper_id,
                    manifest,
                    identity,
                    labels,
                    repush.scan_lot_id if repush else None,
                ),
            )
        return LotState(
            seal=seal,
            state="receiving",
            message=(
                f"lot announced: {plural(len(manifest.copies), 'copy')}, {plural(len(labels), 'image')}, "
                f"{len(missing)} still to send"
            ),
            missing=missing,
            copies=len(manifest.copies),
            pages=manifest.counts.pages,
            max_page_bytes=self.max_page_bytes,
        )

    def _refuse_if_missing(self, announced: Announced) -> None:
        """Conflict, naming the pages, when an image of the lot is not in the store."""
        missing = self.store.missing(list(announced.pages_by_hash))
        if missing:
            names = [announced.pages_by_hash[sha] for sha in missing]
            raise Conflict(
                f"{plural(len(missing), 'page image')} not received yet ({listing(names)}): send them, "
                "then commit again",
                missing=missing,
            )

    def _keep_upload(self, session: Session, row: dict[str, object], hashes: list[str]) -> list[str]:
        """Create the PushUpload (or mark it active again); returns the images still to send."""
        try:
            missing = self._claim_upload(session, row, hashes)
        except IntegrityError:
            # Another station announced the same lot at the same moment: its row (same content)
            # is there now, and is marked active instead.
            missing = self._claim_upload(session, row, hashes)
        self.lots.mark_touched(str(row["seal_sha256"]))
        return missing

    def _claim_upload(self, session: Session, row: dict[str, object], hashes: list[str]) -> list[str]:
        # Under the uploads lock: a purge deleting abandoned uploads' images right now has
        # finished before the store is asked what is missing, so no image counted as present
        # here vanishes afterwards (this upload, active again, is no purge's to take).
        with session.begin():
            lock_uploads(session)
            now = datetime.now(UTC)
            touched = session.execute(
                update(PushUpload)
                .where(PushUpload.seal_sha256 == row["seal_sha256"])
                .values(last_activity_at=now)
            ).rowcount
            if not touched:
                session.add(PushUpload(**row, last_activity_at=now))
                session.flush()
            return self.store.missing(hashes)

    def state(self, principal: Principal | None, seal: str) -> LotState:
        principal = require_centre(principal)
        with self.session_factory() as session:
            received = received_state(session, seal, principal)
            if received is not None:
                return received
        try:
            announced = self.lots.active(principal, seal)
        except NotFound:
            return LotState(seal=seal, state="unknown", message="this server has not heard of this lot")
        if announced is None:  # committed by a twin push meanwhile
            return self.state(principal, seal)
        missing = self.store.missing(list(announced.pages_by_hash))
        return LotState(
            seal=seal,
            state="receiving",
            message=f"{len(missing)} images still to send, then commit",
            missing=missing,
            copies=len(announced.manifest.copies),
            pages=announced.manifest.counts.pages,
            max_page_bytes=self.max_page_bytes,
        )

    # --- 2. images (intake.uploads) -----------------------------------------------------

    def upload_offset(self, principal: Principal | None, seal: str, sha256: str) -> ChunkReceipt:
        return self.uploads.upload_offset(principal, seal, sha256)

    def receive_chunk(
        self, principal: Principal | None, seal: str, sha256: str, offset: int, total: int, data: bytes
    ) -> ChunkReceipt:
        return self.uploads.receive_chunk(principal, seal, sha256, offset, total, data)

    # --- 3. commit -----------------------------------------------------------------------

    def commit(self, principal: Principal | None, seal: str) -> LotState:
        principal = require_centre(principal)
        with self.session_factory() as session:
            received = received_state(session, seal, principal)
            if received is not None:
                return received
        announced = self.lots.get(principal, seal)
        self._refuse_if_missing(announced)
        self.uploads.check_images(announced)
        damaged = self.store.make_durable(list(announced.pages_by_hash))
        if damaged:
            names = [announced.pages_by_hash[sha] for sha in damaged]
            raise Conflict(
                f"{plural(len(damaged), 'page image')} came back damaged from the server's disk "
                f"({listing(names)}) and were dropped: send them again, then commit",
                missing=damaged,
            )
        with self.session_factory() as session:
            try:
                with session.begin():
                    if announced.replaces_scan_lot_id is not None:
                        replaced = self._replace_pages(session, seal, announced)
                    else:
                        copies, pages = self._create_lot(session, seal, announced)
            except _UploadGone:
                session.rollback()
                received = received_state(session, seal, principal)
                if received is not None:
                    return received
                self.lots.forget(seal)
                raise Conflict(
                    PUSH_DROPPED, missing=self.store.missing(list(announced.pages_by_hash))
                ) from None
            except IntegrityError:
                session.rollback()
                received = received_state(session, seal, principal)
                if received is not None:
                    return received
                self._check_copies_are_new(session, [copy.copy for copy in announced.manifest.copies])
                raise
        self.lots.forget(seal)
        if announced.replaces_scan_lot_id is not None:
            if self.on_received is not None:
                self.on_received(
                    [PageLook(r.page.sha256, r.page.rotation, r.page.skew_degrees) for r in replaced]
                )
            return LotState(
                seal=seal,
                state="received",
                message=(
                    f"lot received again: {plural(len(replaced), 'page')} rescanned replaced, "
                    "nothing else changed"
                ),
                copies=len(announced.manifest.copies),
                pages=len(replaced),
            )
        if self.on_received is not None:
            self.on_received(
                [
                    PageLook(page.sha256, page.rotation, page.skew_degrees)
                    for copy in announced.manifest.copies
                    for page in copy.pages
                ]
            )
        return LotState(
            seal=seal,
            state="received",
            message=f"lot received: {plural(copies, 'copy')}, {plural(pages, 'page')}",
            copies=copies,
            pages=pages,
        )

    def _replace_pages(self, session: Session, seal: str, announced: Announced) -> list[Replacement]:
        """A re-push (intake.repush): the named pages replaced, checked again under the lock."""
        lock_uploads(session)
        if not session.execute(delete(PushUpload).where(PushUpload.seal_sha256 == seal)).rowcount:
            raise _UploadGone(seal)
        self._refuse_if_missing(announced)
        plan = plan_repush(session, announced.centre_id, announced.paper_id, announced.manifest)
        if plan is None or plan.scan_lot_id != announced.replaces_scan_lot_id:
            raise Conflict(
                "the rescan requests this lot answered were closed meanwhile (by another push of it?): "
                "ask the exam office what is still asked (`massicot scan rescan-requests`)"
            )
        apply_repush(session, seal, plan)
        return list(plan.replacements)

    def _create_lot(self, session: Session, seal: str, announced: Announced) -> tuple[int, int]:
        # The PushUpload goes first, under the uploads lock: if it is no longer there, a twin push
        # committed the lot or the office purged the upload (and perhaps images of it) meanwhile.
        lock_uploads(session)
        if not session.execute(delete(PushUpload).where(PushUpload.seal_sha256 == seal)).rowcount:
            raise _UploadGone(seal)
        # Checked again under the lock: an image that was there before it may have been purged
        # with an abandoned upload, and this upload announced again since; none can vanish now.
        self._refuse_if_missing(announced)
        manifest = announced.manifest
        lot = ScanLot(seal_sha256=seal, centre_id=announced.centre_id, paper_id=announced.paper_id)
        session.add(lot)
        session.flush()  # the unique seal collides here when another push committed first
        copy_rows = []
        page_rows = []
        for copy in manifest.copies:
            copy_rows.append(
                {
                    "id": copy.copy,
                    "paper_id": announced.paper_id,
                    "centre_id": announced.centre_id,
                    "scan_lot_id": lot.id,
                    "status": CopyStatus(copy.status),
                }
            )
            for position, page in enumerate(copy.pages, start=1):
                page_rows.append(
                    {
                        "copy_id": copy.copy,
                        "position": position,
                        "number": page.number,
                        "image_sha256": page.sha256,
                        "media_type": page.media_type,
                        "rotation": page.rotation,
                        "skew_degrees": page.skew_degrees,
                        "blank": page.blank,
                        "written": page.written,
                        "booklet": page.booklet,
                    }
                )
        if copy_rows:
            session.execute(insert(Copy), copy_rows)
        if page_rows:
            session.execute(insert(Page), page_rows)
        if announced.identity.links:
            ids = self._candidate_ids(session, [link.candidate for link in announced.identity.links])
            session.execute(
                insert(IdentityLink),
                [
                    {"copy_id": link.copy, "candidate_id": ids[link.candidate]}
                    for link in announced.identity.links
                ],
            )
            self._record_attendance(session, announced, ids)
        if manifest.room_report is not None:
            session.add(
                RoomReportRecord(scan_lot_id=lot.id, report_json=manifest.room_report.model_dump_json())
            )
        return len(copy_rows), len(page_rows)

    @staticmethod
    def _record_attendance(session: Session, announced: Announced, ids: dict[str, int]) -> None:
        """The roll as the centre closed it: an ABSENT copy means absent, any other copy present."""
        status = {copy.copy: copy.status for copy in announced.manifest.copies}
        for attendance in (Attendance.PRESENT, Attendance.ABSENT):
            candidate_ids = [
                ids[link.candidate]
                for link in announced.identity.links
                if (status.get(link.copy) == CopyStatus.ABSENT.value) == (attendance == Attendance.ABSENT)
            ]
            for start in range(0, len(candidate_ids), 500):
                session.execute(
                    update(RollEntry)
                    .where(
                        RollEntry.paper_id == announced.paper_id,
                        RollEntry.candidate_id.in_(candidate_ids[start : start + 500]),
                    )
                    .values(attendance=attendance)
                )

    # --- checks and lookups --------------------------------------------------------------

    @staticmethod
    def _check_centre(principal: Principal, manifest: Manifest) -> None:
        if manifest.centre != principal.centre_uai:
            raise Forbidden(
                f"this lot was sealed for centre {manifest.centre}, but the token is centre "
                f"{principal.centre_uai}'s: a centre pushes only its own lots"
            )

    @staticmethod
    def _paper_for(session: Session, principal: Principal, code: str) -> int:
        # The same code comes back each year: the lot belongs to the most recent session's paper.
        paper_id = session.scalar(
            select(Paper.id)
            .join(ExamSession)
            .where(Paper.code == code)
            .order_by(ExamSession.id.desc())
            .limit(1)
        )
        if paper_id is None:
            raise Invalid(f"paper {code} is unknown to this server: ask the exam office to import it first")
        sits_here = session.scalar(
            select(RollEntry.id)
            .join(Candidate, Candidate.id == RollEntry.candidate_id)
            .where(RollEntry.paper_id == paper_id, Candidate.centre_id == principal.centre_id)
            .limit(1)
        )
        if sits_here is None:
            raise Forbidden(
                f"no candidate of centre {principal.centre_uai} is registered for paper {code}: a centre "
                "pushes only the papers it hosts. Ask the exam office to check the roll"
            )
        return paper_id

    @staticmethod
    def _candidate_ids(session: Session, registrations: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        unique = sorted(set(registrations))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            rows = session.execute(
                select(Candidate.registration, Candidate.id).where(Candidate.registration.in_(batch))
            )
            found.update((registration, candidate_id) for registration, candidate_id in rows)
        return found

    def _check_candidates(self, session: Session, identity: IdentityFile) -> None:
        wanted = [link.candidate for link in identity.links]
        found = self._candidate_ids(session, wanted)
        unknown = sorted(set(wanted) - set(found))
        if unknown:
            raise Invalid(
                f"identity.json names {plural(len(unknown), 'candidate')} unknown to this server "
                f"({listing(unknown)}): ask the exam office to import them, then push again"
            )

    @staticmethod
    def _check_copies_are_new(session: Session, copy_ids: list[str]) -> None:
        taken: list[str] = []
        for start in range(0, len(copy_ids), 500):
            batch = copy_ids[start : start + 500]
            taken.extend(session.scalars(select(Copy.id).where(Copy.id.in_(batch))))
        if taken:
            raise Conflict(
                f"{plural(len(taken), 'copy')} of this lot were already received in another lot "
                f"({listing(sorted(taken))}): a copy is pushed once. Remove them from this lot (or tell the "
                "exam office), seal again and push",
                copies=sorted(taken),
            )
