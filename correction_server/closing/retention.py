"""Retention: after the legal year (one year after results), a paper's page images go; marks,
appreciations, identities and the audit log stay."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.closing.publication import one_year_after, publication_of
from correction_server.closing.refusals import Phrase
from correction_server.intake.ingest import lock_uploads
from correction_server.intake.purge import images_of_pushes_in_progress
from correction_server.models import (
    AnnotationLayer,
    CommentUse,
    Copy,
    Hold,
    IdentityLink,
    Page,
    Paper,
    PurgeRecord,
)
from correction_server.pages.store import ObjectStore
from massicot_core.words import command_line_language, translate


@dataclass
class PurgeReport:
    papers: list[str] = field(default_factory=list)
    copies: int = 0
    pages: int = 0
    images_deleted: int = 0
    bytes_freed: int = 0
    kept_within_year: list[Phrase] = field(default_factory=list)  # papers whose consultation year is on
    kept_held: list[str] = field(default_factory=list)  # copy ids kept: candidate under a hold
    not_published: list[str] = field(default_factory=list)
    problems: list[Phrase] = field(default_factory=list)

    def words(self, lang: str | None = None) -> str:
        """What was deleted and what was kept, in `lang` (the command line's language when None)."""
        lang = lang or command_line_language()
        papers = ", ".join(self.papers) or translate(lang, "closing.purge.no_paper")
        lines = [
            translate(
                lang,
                "closing.purge.deleted",
                copies=self.copies,
                pages=self.pages,
                images=self.images_deleted,
                mb=self.bytes_freed / 1e6,
                papers=papers,
            )
        ]
        lines.extend(kept.words(lang) for kept in self.kept_within_year)
        if self.kept_held:
            held = ", ".join(self.kept_held[:10])
            lines.append(translate(lang, "closing.purge.kept_held", n=len(self.kept_held), copies=held))
        lines.extend(translate(lang, "closing.purge.not_published", paper=p) for p in self.not_published)
        lines.extend(problem.words(lang) for problem in self.problems)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.words()


def purge(
    session: Session,
    store: ObjectStore,
    derived_dir: Path | None,
    before: date,
    actor: audit.Actor,
    by_name: str,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete the page images of papers whose results were published before `before` and whose
    consultation year is over. The database change (pages, annotation layers, purge records,
    audit entry) is committed first; only then are files deleted, so a crash can leave an
    unreferenced file behind, never a page pointing at nothing. An image a push in progress
    lists is kept (the push may have sent it already); a push announced after the commit that
    counts on an image deleted next is told at its commit to send it again.
    dry_run: the same counts (images: those that would be deleted), then rolled back."""
    # Pushes in progress count on the images they have sent: none may go while one announces or
    # commits (the uploads lock), and none a push lists is deleted.
    lock_uploads(session, exclusive=True)
    now = now or datetime.now(UTC)
    limit = datetime.combine(before, time(0, 0), tzinfo=UTC)
    report = PurgeReport()
    candidates_held = set(session.scalars(select(Hold.candidate_id).where(Hold.released_at.is_(None))))
    purged = set(session.scalars(select(PurgeRecord.copy_id)))
    freed: set[str] = set()
    records: dict[str, PurgeRecord] = {}
    shas_of_copy: dict[str, set[str]] = defaultdict(set)
    for paper in session.scalars(select(Paper).order_by(Paper.code)):
        published = publication_of(session, paper.id)
        if published is None:
            if session.scalar(select(func.count()).select_from(Copy).where(Copy.paper_id == paper.id)):
                report.not_published.append(paper.code)
            continue
        if published.published_at >= limit:
            continue
        until = one_year_after(published.published_at)
        if until > now:
            report.kept_within_year.append(
                Phrase(
                    "closing.purge.kept_within_year",
                    {"paper": paper.code, "published": published.published_at, "until": until},
                )
            )
            continue
        rows = session.execute(
            select(Copy.id, IdentityLink.candidate_id)
            .outerjoin(IdentityLink, IdentityLink.copy_id == Copy.id)
            .where(Copy.paper_id == paper.id)
            .order_by(Copy.id)
        ).all()
        copies = []
        for copy_id, candidate_id in rows:
            if copy_id in purged:
                continue
            if candidate_id in candidates_held:
                report.kept_held.append(copy_id)
                continue
            copies.append(copy_id)
        if not copies:
            continue
        pages_done = 0
        for chunk_start in range(0, len(copies), 500):
            chunk = copies[chunk_start : chunk_start + 500]
            pages = session.execute(
                select(Page.id, Page.copy_id, Page.image_sha256).where(Page.copy_id.in_(chunk))
            ).all()
            page_ids = [p.id for p in pages]
            per_copy: dict[str, int] = defaultdict(int)
            for p in pages:
                per_copy[p.copy_id] += 1
                shas_of_copy[p.copy_id].add(p.image_sha256)
                freed.add(p.image_sha256)
            if page_ids:
                session.execute(delete(CommentUse).where(CommentUse.page_id.in_(page_ids)))
                session.execute(delete(AnnotationLayer).where(AnnotationLayer.page_id.in_(page_ids)))
                session.execute(delete(Page).where(Page.id.in_(page_ids)))
            for copy_id in chunk:
                records[copy_id] = PurgeRecord(
                    copy_id=copy_id, purged_at=now, pages=per_copy[copy_id], images_deleted=0, by_name=by_name
                )
                session.add(records[copy_id])
            pages_done += len(page_ids)
        report.papers.append(paper.code)
        report.copies += len(copies)
        report.pages += pages_done
        audit.record(
            session,
            actor,
            "closing.purge",
            "paper",
            paper.id,
            {
                "paper": paper.code,
                "copies": len(copies),
                "pages": pages_done,
                "before": before.isoformat(),
                "by": by_name,
            },
        )
    session.flush()
    # Images still used by a page that stays (the same bytes in another copy) are kept.
    still_used = set(
        session.scalars(select(Page.image_sha256).where(Page.image_sha256.in_(list(freed) or [""])))
    )
    still_used |= freed & images_of_pushes_in_progress(session)
    report_files = [sha for sha in sorted(freed) if sha not in still_used]
    for copy_id, record in records.items():
        record.images_deleted = len(shas_of_copy[copy_id] - still_used)
    if dry_run:  # what would go (the office console's first step), then nothing is kept
        session.rollback()
        report.images_deleted = len(report_files)
        return report
    session.commit()
    for sha in report_files:
        try:
            # Through the store's interface: the local folder or the bucket alike.
            size = store.discard(sha)
            if size:
                report.images_deleted += 1
                report.bytes_freed += size
            if derived_dir is not None:
                for derived in (derived_dir / sha[:2]).glob(f"{sha}-*"):
                    derived.unlink(missing_ok=True)
        except OSError as exc:
            report.problems.append(Phrase("closing.purge.problem", {"sha": sha[:12], "error": exc}))
    return report
