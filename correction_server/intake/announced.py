"""The lots announced and not committed yet, as one server process knows them.

A lot's announce is kept in the database (`PushUpload`) and, parsed, in a small cache per
process: a seal's content never changes, and every image chunk of the lot needs it. Each request
of a push moves the upload's last activity forward (at most every `TOUCH_EVERY_SECONDS`), so
the office's purge of abandoned uploads takes only pushes idle for days.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from correction_server.auth.tokens import Principal
from correction_server.intake.refusals import NOT_IN_PROGRESS, NotFound
from correction_server.intake.seal_checks import check_manifest
from correction_server.intake.states import received_state
from correction_server.models.pushes import PushUpload
from massicot_core.contract import IdentityFile, Manifest

# A push's last activity is written at most this often per lot and server process: the purge
# of abandoned uploads counts in days, and a write per chunk would cost every image a commit.
TOUCH_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Announced:
    """A parsed announced lot, cached per process: a seal's content never changes."""

    centre_id: int
    paper_id: int
    manifest: Manifest
    identity: IdentityFile
    pages_by_hash: dict[str, str]  # sha256 → "copy X page N", for messages
    # A re-push answering rescan requests (intake.repush): the received lot it updates.
    replaces_scan_lot_id: int | None = None

    @property
    def media_types(self) -> dict[str, str]:
        """sha256 → the media type the manifest states for that image (pages and room sheets)."""
        types = {page.sha256: page.media_type for copy in self.manifest.copies for page in copy.pages}
        report = self.manifest.room_report
        for document in report.documents if report else []:
            types.setdefault(document.sha256, document.media_type)
        return types


class AnnouncedLots:
    """The announced lots this process has read, and when it last wrote each one's activity."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self._cache: OrderedDict[str, Announced] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._touched: OrderedDict[str, float] = OrderedDict()  # seal → monotonic time last written

    def get(self, principal: Principal, seal: str) -> Announced:
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
                cached = Announced(
                    row.centre_id,
                    row.paper_id,
                    manifest,
                    identity,
                    check_manifest(manifest),
                    row.replaces_scan_lot_id,
                )
            self.remember(seal, cached)
        if cached.centre_id != principal.centre_id:
            raise NotFound(NOT_IN_PROGRESS)
        return cached

    def active(self, principal: Principal, seal: str) -> Announced | None:
        """The announced lot, its last activity moved forward; None when a twin push committed it."""
        announced = self._announced_or_received(principal, seal)
        if announced is None or self._touch(seal):
            return announced
        # Gone since this process cached it: committed by a twin push, or purged by the office.
        return self._announced_or_received(principal, seal)

    def _announced_or_received(self, principal: Principal, seal: str) -> Announced | None:
        """The announced lot; None when a twin push has committed it meanwhile (nothing left to send)."""
        try:
            return self.get(principal, seal)
        except NotFound:
            with self.session_factory() as session:
                if received_state(session, seal, principal) is not None:
                    return None
            raise

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
            self.mark_touched(seal)
            return True
        self.forget(seal)
        return False

    def mark_touched(self, seal: str) -> None:
        with self._cache_lock:
            self._touched[seal] = time.monotonic()
            self._touched.move_to_end(seal)
            while len(self._touched) > 1024:
                self._touched.popitem(last=False)

    def remember(self, seal: str, announced: Announced) -> None:
        with self._cache_lock:
            self._cache[seal] = announced
            self._cache.move_to_end(seal)
            while len(self._cache) > 64:
                self._cache.popitem(last=False)

    def forget(self, seal: str) -> None:
        with self._cache_lock:
            self._cache.pop(seal, None)
            self._touched.pop(seal, None)
