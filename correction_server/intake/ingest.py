"""Receiving sealed lots from the scan stations: exactly once, verified against the seal.

The steps (the HTTP protocol in `correction_server.api.ingest` maps one route to each):

1. `announce`: the station sends its manifest and identity file. Everything that can be
   checked without the images is checked here (seal hash, counts, identity hash, centre,
   paper, copy ids not already received). The server keeps the announced lot as a
   `PushUpload` and answers which page images it does not hold yet.
2. `receive_chunk`: images arrive by SHA-256, in chunks appended to a partial file
   (`correction_server.storage`); the image becomes visible only when complete and
   verified.
3. `commit`: when every image is in the store, the copies, pages, identity links and the
   scan lot are created in ONE transaction, and the `PushUpload` is deleted in that same
   transaction: a lot is either fully received or not at all.

The seal's hash is the lot's identity: announcing or committing a lot already received
answers "already received" and changes nothing. Two stations committing the same lot at
once collide on the unique seal; the loser is told "already received".

A push abandoned half-way keeps its `PushUpload` and images until the office purges it
(`correction_server.upload_purge`). Every request of a push moves its `last_activity_at`
forward, so only pushes idle for days are purged; a push resuming while its upload is purged
either finishes (it was active again in time) or is told to push again, which starts over.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import delete, false, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from correction_server.auth.tokens import Principal
from correction_server.models import (
    Attendance,
    Candidate,
    Copy,
    CopyStatus,
    ExamSession,
    IdentityLink,
    Page,
    Paper,
    Role,
    RollEntry,
    ScanLot,
)
from correction_server.models.pushes import PushUpload
from correction_server.pages.images import PageLook
from correction_server.pages.store import HashMismatch, ObjectStore, OffsetMismatch, StoreError, check_sha256
from massicot_core.contract import MANIFEST_FORMAT, IdentityFile, Manifest
from massicot_core.errors import Refused
from massicot_core.identifiers import is_copy_id

# One chunk held in memory at a time per request; the station sends 1 MiB by default.
MAX_CHUNK_BYTES = 16 * 1024 * 1024
_LISTED = 8  # how many names an error message lists before "and N more"
# A push's last activity is written at most this often per lot and server process: the purge
# of abandoned uploads counts in days, and a write per chunk would cost every image a commit.
TOUCH_EVERY_SECONDS = 60.0
# Taken shared by announces and commits, exclusive by the purge of abandoned uploads.
_PG_UPLOADS_LOCK = 7_461_226_003
NOT_IN_PROGRESS = (
    "no push of this lot is in progress on this server: it was never announced, or it stayed "
    "unfinished so long that the exam office dropped it. Push the lot again (`massicot push` sends "
    "its manifest first)"
)
PUSH_DROPPED = (
    "this push stayed unfinished so long that the exam office dropped it while it resumed, with the "
    "images it had sent: push the lot again (`massicot push` starts over by itself)"
)


class IngestError(Refused):
    """A refusal of the push API, with its HTTP status and plain words saying what to do.

    The station prints `detail` as it is (its operator reads it in the station's language);
    `extra` is what the station acts on (e.g. the images to send again).
    """

    status = 400

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(message=detail, extra=extra)
        self.detail = detail


class NotAuthenticated(IngestError):
    status = 401


class Forbidden(IngestError):
    status = 403


class NotFound(IngestError):
    status = 404


class Conflict(IngestError):
    status = 409


class TooLarge(IngestError):
    status = 413


class Invalid(IngestError):
    status = 422


@dataclass(frozen=True)
class LotState:
    """What the server says about one lot: all the station may ever read back."""

    seal: str
    state: str  # "receiving" | "received" | "already received" | "unknown"
    message: str
    missing: list[str] = field(default_factory=list)
    copies: int = 0
    pages: int = 0
    max_page_bytes: int = 0


@dataclass(frozen=True)
class ChunkReceipt:
    offset: int
    complete: bool


@dataclass(frozen=True)
class _Announced:
    """A parsed announced lot, cached per process: a seal's content never changes."""

    centre_id: int
    paper_id: int
    manifest: Manifest
    identity: IdentityFile
    pages_by_hash: dict[str, str]  # sha256 → "copy X page N", for messages


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


def require_centre(principal: Principal | None) -> Principal:
    if principal is None:
        raise NotAuthenticated(
            "no valid centre token was sent: the scan station needs the token issued by the exam "
            "office (`massicot office centre-token UAI`)"
        )
    if principal.role != Role.CENTRE or principal.centre_id is None:
        raise Forbidden(
            f"only a centre's scan station may push lots; this token belongs to the {principal.role} "
            f"account {principal.username!r}"
        )
    return principal


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    more = len(names) - _LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _page_label(copy: str, position: int, number: int | None) -> str:
    return f"copy {copy} page {number}" if number is not None else f"copy {copy} sheet {position} (annex)"


def parse_manifest(data: object) -> Manifest:
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the manifest"
        raise Invalid(
            f"the manifest is not a valid seal manifest ({where}: {first['msg']}); seal the lot again "
            "with `massicot scan seal`"
        ) from None
    if manifest.format != MANIFEST_FORMAT:
        raise Invalid(
            f"manifest format {manifest.format!r} is not understood by this server (it reads "
            f"{MANIFEST_FORMAT!r}); update the scan station or the server so they match"
        )
    if not manifest.is_intact():
        raise Invalid(
            "the manifest's own SHA-256 does not match its content: it was changed after sealing. "
            "Seal the lot again with `massicot scan seal`"
        )
    return manifest


def check_manifest(manifest: Manifest) -> dict[str, str]:
    """Counts, copy ids and hashes that the seal promises; returns sha256 → page label."""
    pages = sum(len(copy.pages) for copy in manifest.copies)
    if manifest.counts.copies != len(manifest.copies):
        raise Invalid(
            f"the manifest's counts say {_plural(manifest.counts.copies, 'copy')} but it lists "
            f"{len(manifest.copies)}; the lot is inconsistent: seal it again"
        )
    if manifest.counts.pages != pages:
        raise Invalid(
            f"the manifest's counts say {_plural(manifest.counts.pages, 'page')} but its copies hold "
            f"{pages}; the lot is inconsistent: seal it again"
        )
    seen: set[str] = set()
    labels: dict[str, str] = {}
    for copy in manifest.copies:
        if not is_copy_id(copy.copy):
            raise Invalid(f"{copy.copy!r} is not a valid copy id (its check character is wrong)")
        if copy.copy in seen:
            raise Invalid(
                f"copy {copy.copy} appears twice in the manifest; resolve the duplicate and seal again"
            )
        seen.add(copy.copy)
        for position, page in enumerate(copy.pages, start=1):
            label = _page_label(copy.copy, position, page.number)
            try:
                check_sha256(page.sha256)
            except ValueError:
                raise Invalid(
                    f"{label}: its SHA-256 {page.sha256!r} is not 64 lowercase hex digits"
                ) from None
            labels.setdefault(page.sha256, label)
    return labels


def parse_identity(raw: bytes, manifest: Manifest) -> IdentityFile:
    actual = hashlib.sha256(raw).hexdigest()
    if actual != manifest.identity_sha256:
        raise Invalid(
            "identity.json does not match the seal (its SHA-256 differs from the manifest's "
            "identity_sha256): it was changed after sealing. Seal the lot again"
        )
    try:
        identity = IdentityFile.model_validate_json(raw)
    except ValidationError as exc:
        raise Invalid(f"identity.json is not valid: {exc.errors()[0]['msg']}") from None
    if identity.paper != manifest.paper or identity.centre != manifest.centre:
        raise Invalid("identity.json names another paper or centre than the manifest; seal the lot again")
    copies = {copy.copy for copy in manifest.copies}
    linked: set[str] = set()
    for link in identity.links:
        if link.copy not in copies:
            raise Invalid(
                f"identity.json links copy {link.copy}, which is not in the lot; seal the lot again"
            )
        if link.copy in linked:
            raise Invalid(f"identity.json links copy {link.copy} twice; seal the lot again")
        linked.add(link.copy)
    return identity


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
        self._cache: OrderedDict[str, _Announced] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._touched: OrderedDict[str, float] = OrderedDict()  # seal → monotonic time last written

    # --- 1. announce ---------------------------------------------------------------------

    def announce(self, principal: Principal | None, manifest_data: object, identity_raw: bytes) -> LotState:
        principal = require_centre(principal)
        manifest = parse_manifest(manifest_data)
        seal = manifest.manifest_sha256
        self._check_centre(principal, manifest)
        with self.session_factory() as session:
            received = self._received(session, seal)
            if received is not None:
                return received
            labels = check_manifest(manifest)
            identity = parse_identity(identity_raw, manifest)
            paper_id = self._paper_for(session, principal, manifest.paper)
            self._check_candidates(session, identity)
            try:
                self._check_copies_are_new(session, [copy.copy for copy in manifest.copies])
            except Conflict:
                # Those copies may be this very lot, committed by a twin push since the check above.
                session.rollback()
                received = self._received(session, seal)
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
            }
            missing = self._keep_upload(session, row, list(labels))
            # A twin push may have committed the lot (deleting its PushUpload) just before
            # our row went in: then ours is stale and must not linger.
            received = self._received(session, seal)
            if received is not None:
                session.execute(delete(PushUpload).where(PushUpload.seal_sha256 == seal))
                session.commit()
                return received
            session.rollback()  # end the read transaction
            self._remember(seal, _Announced(principal.centre_id, paper_id, manifest, identity, labels))
        return LotState(
            seal=seal,
            state="receiving",
            message=(
                f"lot announced: {_plural(len(manifest.copies), 'copy')}, {_plural(len(labels), 'image')}, "
                f"{len(missing)} still to send"
            ),
            missing=missing,
            copies=len(manifest.copies),
            pages=manifest.counts.pages,
            max_page_bytes=self.max_page_bytes,
        )

    def _refuse_if_missing(self, announced: _Announced) -> None:
        """Conflict, naming the pages, when an image of the lot is not in the store."""
        missing = self.store.missing(list(announced.pages_by_hash))
        if missing:
            names = [announced.pages_by_hash[sha] for sha in missing]
            raise Conflict(
                f"{_plural(len(missing), 'page image')} not received yet ({_listing(names)}): send them, "
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
        self._mark_touched(str(row["seal_sha256"]))
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
            received = self._received(session, seal, principal)
            if received is not None:
                return received
        try:
            announced = self._active(principal, seal)
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

    # --- 2. images -----------------------------------------------------------------------

    def upload_offset(self, principal: Principal | None, seal: str, sha256: str) -> ChunkReceipt:
        principal = require_centre(principal)
        announced = self._active(principal, seal)
        if announced is None:
            return ChunkReceipt(offset=0, complete=True)
        self._image_label(announced, sha256)
        if self.store.has(sha256):
            return ChunkReceipt(offset=self.store.upload_offset(sha256), complete=True)
        return ChunkReceipt(offset=self.store.upload_offset(sha256), complete=False)

    def receive_chunk(
        self, principal: Principal | None, seal: str, sha256: str, offset: int, total: int, data: bytes
    ) -> ChunkReceipt:
        principal = require_centre(principal)
        announced = self._active(principal, seal)
        if announced is None:
            return ChunkReceipt(offset=0, complete=True)
        label = self._image_label(announced, sha256)
        if total > self.max_page_bytes:
            raise TooLarge(
                f"{label}: the image is {total / 1e6:.1f} MB, more than this server accepts per page "
                f"({self.max_page_bytes / 1e6:.1f} MB). Scan that page again at a lower resolution, then "
                "seal the lot again"
            )
        try:
            result = self.store.append_chunk(sha256, offset, data, total)
        except OffsetMismatch as exc:
            raise Conflict(
                f"{label}: this chunk starts at byte {offset} but the server holds {exc.expected} bytes; "
                "continue from there",
                offset=exc.expected,
            ) from None
        except HashMismatch as exc:
            raise Invalid(
                f"{label}: the image received does not match its SHA-256 in the seal (it hashes to "
                f"{exc.actual[:12]}…); it was damaged on the way and was dropped: send it again"
            ) from None
        except StoreError as exc:
            raise Invalid(f"{label}: {exc}") from None
        return ChunkReceipt(offset=result.offset, complete=result.complete)

    # --- 3. commit -----------------------------------------------------------------------

    def commit(self, principal: Principal | None, seal: str) -> LotState:
        principal = require_centre(principal)
        with self.session_factory() as session:
            received = self._received(session, seal, principal)
            if received is not None:
                return received
        announced = self._announced(principal, seal)
        self._refuse_if_missing(announced)
        damaged = self.store.make_durable(list(announced.pages_by_hash))
        if damaged:
            names = [announced.pages_by_hash[sha] for sha in damaged]
            raise Conflict(
                f"{_plural(len(damaged), 'page image')} came back damaged from the server's disk "
                f"({_listing(names)}) and were dropped: send them again, then commit",
                missing=damaged,
            )
        with self.session_factory() as session:
            try:
                with session.begin():
                    copies, pages = self._create_lot(session, seal, announced)
            except _UploadGone:
                session.rollback()
                received = self._received(session, seal, principal)
                if received is not None:
                    return received
                self._forget(seal)
                raise Conflict(
                    PUSH_DROPPED, missing=self.store.missing(list(announced.pages_by_hash))
                ) from None
            except IntegrityError:
                session.rollback()
                received = self._received(session, seal, principal)
                if received is not None:
                    return received
                self._check_copies_are_new(session, [copy.copy for copy in announced.manifest.copies])
                raise
        self._forget(seal)
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
            message=f"lot received: {_plural(copies, 'copy')}, {_plural(pages, 'page')}",
            copies=copies,
            pages=pages,
        )

    def _create_lot(self, session: Session, seal: str, announced: _Announced) -> tuple[int, int]:
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
        return len(copy_rows), len(page_rows)

    @staticmethod
    def _record_attendance(session: Session, announced: _Announced, ids: dict[str, int]) -> None:
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

    def _received(self, session: Session, seal: str, principal: Principal | None = None) -> LotState | None:
        lot = session.scalar(select(ScanLot).where(ScanLot.seal_sha256 == seal))
        if lot is None:
            return None
        if principal is not None and lot.centre_id != principal.centre_id:
            return None  # another centre's lot: not even its existence is told
        copies = session.scalar(select(func.count()).select_from(Copy).where(Copy.scan_lot_id == lot.id)) or 0
        pages = (
            session.scalar(
                select(func.count())
                .select_from(Page)
                .join(Copy, Copy.id == Page.copy_id)
                .where(Copy.scan_lot_id == lot.id)
            )
            or 0
        )
        return LotState(
            seal=seal,
            state="already received",
            message=f"already received on {lot.received_at:%Y-%m-%d %H:%M} UTC; nothing changed",
            copies=copies,
            pages=pages,
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
                f"identity.json names {_plural(len(unknown), 'candidate')} unknown to this server "
                f"({_listing(unknown)}): ask the exam office to import them, then push again"
            )

    @staticmethod
    def _check_copies_are_new(session: Session, copy_ids: list[str]) -> None:
        taken: list[str] = []
        for start in range(0, len(copy_ids), 500):
            batch = copy_ids[start : start + 500]
            taken.extend(session.scalars(select(Copy.id).where(Copy.id.in_(batch))))
        if taken:
            raise Conflict(
                f"{_plural(len(taken), 'copy')} of this lot were already received in another lot "
                f"({_listing(sorted(taken))}): a copy is pushed once. Remove them from this lot (or tell the "
                "exam office), seal again and push",
                copies=sorted(taken),
            )

    def _image_label(self, announced: _Announced, sha256: str) -> str:
        label = announced.pages_by_hash.get(sha256)
        if label is None:
            raise NotFound(f"image {sha256[:12]}… is not a page of this lot")
        return label

    def _announced_or_received(self, principal: Principal, seal: str) -> _Announced | None:
        """The announced lot; None when a twin push has committed it meanwhile (nothing left to send)."""
        try:
            return self._announced(principal, seal)
        except NotFound:
            with self.session_factory() as session:
                if self._received(session, seal, principal) is not None:
                    return None
            raise

    def _announced(self, principal: Principal, seal: str) -> _Announced:
        with self._cache_lock:
            cached = self._cache.get(seal)
            if cached is not None:
                self._cache.move_to_end(seal)
        if cached is None:
            with self.session_factory() as session:
                row = session.get(PushUpload, seal)
                if row is None:
                    raise NotFound(NOT_IN_PROGRESS)
                manifest = Manifest.model_validate_json(row.manifest_json)
                identity = IdentityFile.model_validate_json(row.identity_json)
                cached = _Announced(row.centre_id, row.paper_id, manifest, identity, check_manifest(manifest))
            self._remember(seal, cached)
        if cached.centre_id != principal.centre_id:
            raise NotFound(NOT_IN_PROGRESS)
        return cached

    def _active(self, principal: Principal, seal: str) -> _Announced | None:
        """The announced lot, its last activity moved forward; None when a twin push committed it."""
        announced = self._announced_or_received(principal, seal)
        if announced is None or self._touch(seal):
            return announced
        # Gone since this process cached it: committed by a twin push, or purged by the office.
        return self._announced_or_received(principal, seal)

    def _touch(self, seal: str) -> bool:
        """Write the push's last activity (at most every TOUCH_EVERY_SECONDS); False if its row is gone."""
        with self._cache_lock:
            last = self._touched.get(seal)
        if last is not None and time.monotonic() - last < TOUCH_EVERY_SECONDS:
            return True
        with self.session_factory() as session:
            touched = session.execute(
                update(PushUpload)
                .where(PushUpload.seal_sha256 == seal)
                .values(last_activity_at=datetime.now(UTC))
            ).rowcount
            session.commit()
        if touched:
            self._mark_touched(seal)
            return True
        self._forget(seal)
        return False

    def _mark_touched(self, seal: str) -> None:
        with self._cache_lock:
            self._touched[seal] = time.monotonic()
            self._touched.move_to_end(seal)
            while len(self._touched) > 1024:
                self._touched.popitem(last=False)

    def _remember(self, seal: str, announced: _Announced) -> None:
        with self._cache_lock:
            self._cache[seal] = announced
            self._cache.move_to_end(seal)
            while len(self._cache) > 64:
                self._cache.popitem(last=False)

    def _forget(self, seal: str) -> None:
        with self._cache_lock:
            self._cache.pop(seal, None)
            self._touched.pop(seal, None)


def decode_identity(text: str) -> bytes:
    """The identity file travels base64-encoded so its exact bytes (and hash) survive JSON."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise Invalid("the identity file must be sent base64-encoded in the field `identity`") from None
