"""Purging pushes abandoned half-way: their `PushUpload` and the images only they refer to.

A station that stopped in the middle of a push (gone, or its lot sealed again differently)
leaves its announced lot and the images it sent; nothing else ever removes them. The office
runs `massicot office purge-uploads --older-than DAYS` to drop those idle longer than DAYS.

What may go, and what never goes:
- the `PushUpload` rows whose last request is older than the threshold (never a received lot:
  a committed lot has no `PushUpload` any more, and nothing here touches its tables);
- the images those uploads list, minus every image a committed page uses (the store is
  addressed by SHA-256, so a page sent for an abandoned push may be the very bytes of a lot
  received since, e.g. the same lot sealed again) and minus every image another upload still
  kept lists. Partial uploads of those images go with them.

Safe against pushes arriving at the same moment: the whole purge is ONE transaction under the
uploads lock taken exclusively (`correction_server.intake.ingest.lock_uploads`); announces and commits
take it shared, so an announce sees the store before or after the purge, never half-way, and a
commit that finds its upload purged refuses (the station starts over by itself). The files are
deleted before the transaction commits: a crash in between leaves stale rows whose images are
gone, which the next purge finishes, never an image deleted while something counts on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from correction_server.audit import log as audit
from correction_server.audit.actors import SYSTEM
from correction_server.intake.ingest import lock_uploads
from correction_server.models import Centre, Page, Paper
from correction_server.models.pushes import PushUpload
from correction_server.pages.store import ObjectStore
from massicot_core.errors import UserError

# A centre may push the day after its paper (a scanner down, a late evening): never sooner.
MIN_DAYS = 2
_BATCH = 500


@dataclass(frozen=True)
class StaleUpload:
    seal: str
    centre: str  # UAI
    paper: str
    started_at: datetime
    last_activity_at: datetime
    images: int  # distinct images its manifest lists


@dataclass
class UploadPurgeReport:
    older_than_days: int
    cutoff: datetime
    dry_run: bool
    uploads: list[StaleUpload] = field(default_factory=list)
    images_deleted: int = 0  # images whose files (whole or partial) were deleted
    images_kept: int = 0  # images of those uploads that a received lot or a kept upload uses
    images_never_sent: int = 0  # listed by those uploads, never received
    bytes_freed: int = 0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"{u.seal[:16]}…  centre {u.centre}  paper {u.paper}  {u.images} images  started "
            f"{u.started_at:%Y-%m-%d %H:%M} UTC  last activity {u.last_activity_at:%Y-%m-%d %H:%M} UTC"
            for u in self.uploads
        ]
        since = f"no request since {self.cutoff:%Y-%m-%d %H:%M} UTC ({self.older_than_days} days)"
        verb = "Would delete" if self.dry_run else "Deleted"
        files = "image files that would be deleted" if self.dry_run else "image files deleted"
        out.append(
            f"{verb} {len(self.uploads)} unfinished pushes with {since}: {self.images_deleted} {files} "
            f"({self.bytes_freed / 1e6:.1f} MB), {self.images_kept} images kept (a received lot or a "
            f"push still under way uses them), {self.images_never_sent} never sent. Received lots are "
            "not touched."
        )
        if self.dry_run:
            out.append("Nothing was deleted (--dry-run).")
        out.extend(self.problems)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def check_threshold(days: int) -> None:
    if days < MIN_DAYS:
        raise UserError(
            f"--older-than {days}: a centre may push the day after its paper, so a push idle for less than "
            f"{MIN_DAYS} days is never purged; give {MIN_DAYS} days or more"
        )


def purge_uploads(
    factory: sessionmaker[Session],
    store: ObjectStore,
    older_than_days: int,
    by_name: str,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> UploadPurgeReport:
    """Delete the pushes idle for `older_than_days` and the images only they used (or say what would go)."""
    check_threshold(older_than_days)
    cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
    report = UploadPurgeReport(older_than_days, cutoff, dry_run)
    with factory() as session:
        if dry_run:
            doomed = _plan(session, cutoff, report, lock=False)
            report.images_deleted = sum(1 for sha in doomed if store.upload_offset(sha) > 0)
            report.bytes_freed = sum(store.upload_offset(sha) for sha in doomed)
            report.images_never_sent = len(doomed) - report.images_deleted
            return report
        with session.begin():
            lock_uploads(session, exclusive=True)
            doomed = _plan(session, cutoff, report, lock=True)
            if not report.uploads:
                return report
            _delete_files(store, doomed, report)
            audit.record(
                session,
                SYSTEM,
                "push.purge_uploads",
                "push_upload",
                f"idle since {cutoff:%Y-%m-%d %H:%M} UTC",
                {
                    "uploads": len(report.uploads),
                    "images_deleted": report.images_deleted,
                    "images_kept": report.images_kept,
                    "images_never_sent": report.images_never_sent,
                    "bytes_freed": report.bytes_freed,
                    "older_than_days": older_than_days,
                    "by": by_name,
                },
            )
    return report


def _plan(session: Session, cutoff: datetime, report: UploadPurgeReport, *, lock: bool) -> list[str]:
    """Fill `report.uploads` (deleting their rows when `lock`); return the images only they use."""
    query = (
        select(PushUpload, Centre.uai, Paper.code)
        .join(Centre, Centre.id == PushUpload.centre_id)
        .join(Paper, Paper.id == PushUpload.paper_id)
        .where(PushUpload.last_activity_at < cutoff)
        .order_by(PushUpload.last_activity_at, PushUpload.seal_sha256)
    )
    if lock:
        # A request of one of these pushes arriving now waits for the purge, then finds it gone.
        query = query.with_for_update(of=PushUpload)
    listed: dict[str, None] = {}
    seals = []
    for upload, uai, paper in session.execute(query):
        images = _images(upload.manifest_json)
        listed.update(dict.fromkeys(images))
        seals.append(upload.seal_sha256)
        report.uploads.append(
            StaleUpload(
                upload.seal_sha256, uai, paper, upload.started_at, upload.last_activity_at, len(images)
            )
        )
    if lock:
        for start in range(0, len(seals), _BATCH):
            session.execute(
                delete(PushUpload).where(PushUpload.seal_sha256.in_(seals[start : start + _BATCH]))
            )
    kept = _used_by_received_pages(session, list(listed))
    remaining = select(PushUpload.manifest_json)
    if not lock:  # nothing was deleted: the uploads kept are the others
        remaining = remaining.where(PushUpload.last_activity_at >= cutoff)
    for manifest_json in session.scalars(remaining):
        kept.update(_images(manifest_json))
    doomed = [sha for sha in listed if sha not in kept]
    report.images_kept = len(listed) - len(doomed)
    return doomed


def images_of_pushes_in_progress(session: Session) -> set[str]:
    """Every image a push not yet committed lists: another purge (closing.purge) must keep them,
    the push counts on those it has already sent."""
    listed: set[str] = set()
    for manifest_json in session.scalars(select(PushUpload.manifest_json)):
        listed.update(_images(manifest_json))
    return listed


def _images(manifest_json: str) -> list[str]:
    """The distinct image hashes a stored manifest lists (it was validated when announced)."""
    manifest = json.loads(manifest_json)
    return list(dict.fromkeys(page["sha256"] for copy in manifest["copies"] for page in copy["pages"]))


def _used_by_received_pages(session: Session, hashes: list[str]) -> set[str]:
    used: set[str] = set()
    for start in range(0, len(hashes), _BATCH):
        batch = hashes[start : start + _BATCH]
        used.update(session.scalars(select(Page.image_sha256).where(Page.image_sha256.in_(batch)).distinct()))
    return used


def _delete_files(store: ObjectStore, doomed: list[str], report: UploadPurgeReport) -> None:
    for sha in doomed:
        try:
            freed = store.discard(sha)
        except OSError as exc:
            report.problems.append(f"Could not delete the image {sha[:12]}…: {exc}. Delete it by hand.")
            continue
        if freed:
            report.images_deleted += 1
            report.bytes_freed += freed
        else:
            report.images_never_sent += 1
