"""What the office console's background actions do: each calls the same service as its command
(`massicot office import candidates|paper`, `dispatch`, `purge-uploads`, `closing purge`,
`audit verify`) and says how it ended in the same words.

A work function is made here from what the page was given: by kind, from JSON parameters and
the process's own parts (`WorkContext`), so that the same action can run in a thread of the server
or in `massicot worker` on another host (`build`).
Imports run in two steps: a check (a dry run: every bad line with its number, and what the import
would change, nothing written), then, once the file is clean, the import itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from correction_server import i18n
from correction_server.audit.actors import Actor
from correction_server.office.actions import Progress, Work
from correction_server.office.candidates import REGISTRATION_DIGITS_OPTION, import_candidates
from correction_server.office.import_report import ImportRejected
from correction_server.office.papers import import_paper
from correction_server.office.uploads import upload_path
from correction_server.pages.objects import ObjectStore
from correction_server.settings import Settings

CHECK_CANDIDATES, IMPORT_CANDIDATES = "check_candidates", "import_candidates"
CHECK_PAPER, IMPORT_PAPER = "check_paper", "import_paper"
DISPATCH = "dispatch"
PURGE_UPLOADS_DRY, PURGE_UPLOADS = "purge_uploads_dry", "purge_uploads"
RETENTION_DRY, RETENTION = "retention_dry", "retention"
AUDIT_VERIFY = "audit_verify"
CHECKS = {CHECK_CANDIDATES: IMPORT_CANDIDATES, CHECK_PAPER: IMPORT_PAPER}


def candidates_target(upload_id: str, digits: int | None) -> str:
    return f"{upload_id}:{digits or ''}"


def parse_target(target: str) -> tuple[str, int | None]:
    upload_id, _, digits = target.partition(":")
    return upload_id, int(digits) if digits.isdigit() else None


def offers_digits(outcome: str) -> bool:
    """The check refused numbers a spreadsheet stored without their zeros: offer the choice."""
    return REGISTRATION_DIGITS_OPTION in outcome


def candidates_work(
    factory: sessionmaker[Session], path: Path, digits: int | None, dry_run: bool, lang: str
) -> Work:
    def work(progress: Progress) -> tuple[bool, str]:
        try:
            summary = import_candidates(factory, path, digits, dry_run=dry_run, progress=progress)
        except ImportRejected as exc:
            return False, str(exc)
        progress(1, 1, force=True)
        return True, _said(lang, dry_run, summary.changed, str(summary))

    return work


def paper_work(factory: sessionmaker[Session], path: Path, dry_run: bool, lang: str) -> Work:
    def work(progress: Progress) -> tuple[bool, str]:
        try:
            summary = import_paper(factory, path, dry_run=dry_run)
        except ImportRejected as exc:
            return False, str(exc)
        progress(1, 1, force=True)
        return True, _said(lang, dry_run, summary.changed, str(summary))

    return work


def _said(lang: str, dry_run: bool, changed: bool, summary: str) -> str:
    if not changed:
        return i18n.translate(lang, "office.import.nothing_changed") + "\n" + summary
    key = "office.import.clean" if dry_run else "office.import.done"
    return i18n.translate(lang, key) + "\n" + summary


def dispatch_work(factory: sessionmaker[Session], paper_id: int, seed: str, actor: Actor, lang: str) -> Work:
    from correction_server.office.console import dispatch_from_page

    def work(progress: Progress) -> tuple[bool, str]:
        with factory() as session:
            run = dispatch_from_page(session, paper_id, seed, actor, lang)
        if run is None:
            return False, i18n.translate(lang, "office.err.no_paper")
        lines = [m["text"] for m in run.messages]
        if run.problem:
            lines = [i18n.translate(lang, "dispatch.failed"), *run.problem]
        progress(1, 1, force=True)
        return run.status == 200, "\n".join(lines)

    return work


def purge_uploads_work(factory: sessionmaker[Session], store, days: int, by_name: str, dry_run: bool) -> Work:
    from correction_server.intake.purge import purge_uploads

    def work(progress: Progress) -> tuple[bool, str]:
        report = purge_uploads(factory, store, days, by_name, dry_run=dry_run)
        return not report.problems, str(report)

    return work


def retention_work(
    factory: sessionmaker[Session],
    store,
    derived: Path,
    before: date,
    actor: Actor,
    by_name: str,
    lang: str,
    dry_run: bool,
) -> Work:
    from correction_server.closing.retention import purge

    def work(progress: Progress) -> tuple[bool, str]:
        with factory() as session:
            report = purge(session, store, derived, before, actor, by_name, dry_run=dry_run)
        head = i18n.translate(lang, "office.retention.would" if dry_run else "office.retention.done")
        return not report.problems, head + "\n" + report.words(lang)

    return work


def audit_work(factory: sessionmaker[Session], lang: str) -> Work:
    from correction_server.audit.log import verify_chain

    def work(progress: Progress) -> tuple[bool, str]:
        with factory() as session:
            check = verify_chain(session)
        if check.intact:
            return True, i18n.translate(lang, "office.audit.intact", entries=check.entries)
        return False, i18n.translate(
            lang,
            "office.audit.broken",
            entries=check.entries,
            seq=check.first_broken_seq,
            reason=check.reason,
        )

    return work


Maker = Callable[..., Work]


@dataclass(frozen=True)
class WorkContext:
    """The parts of the process that runs the action (a server process or a worker)."""

    session_factory: sessionmaker[Session]
    store: ObjectStore
    settings: Settings


def actor_params(actor: Actor) -> list[Any]:
    return [actor.user_id, actor.role]


def _actor(params: dict[str, Any]) -> Actor:
    user_id, role = params["actor"]
    return Actor(user_id, role)


def _candidates(dry_run: bool) -> Callable[[WorkContext, dict[str, Any], str], Work]:
    def make(ctx: WorkContext, params: dict[str, Any], lang: str) -> Work:
        path = upload_path(ctx.settings.store_path, params["upload_id"])
        return candidates_work(ctx.session_factory, path, params.get("digits"), dry_run, lang)

    return make


def _paper(dry_run: bool) -> Callable[[WorkContext, dict[str, Any], str], Work]:
    def make(ctx: WorkContext, params: dict[str, Any], lang: str) -> Work:
        path = upload_path(ctx.settings.store_path, params["upload_id"])
        return paper_work(ctx.session_factory, path, dry_run, lang)

    return make


def _dispatch(ctx: WorkContext, params: dict[str, Any], lang: str) -> Work:
    return dispatch_work(ctx.session_factory, params["paper_id"], params["seed"], _actor(params), lang)


def _purge_uploads(dry_run: bool) -> Callable[[WorkContext, dict[str, Any], str], Work]:
    def make(ctx: WorkContext, params: dict[str, Any], lang: str) -> Work:
        return purge_uploads_work(ctx.session_factory, ctx.store, params["days"], params["by_name"], dry_run)

    return make


def _retention(dry_run: bool) -> Callable[[WorkContext, dict[str, Any], str], Work]:
    def make(ctx: WorkContext, params: dict[str, Any], lang: str) -> Work:
        before = date.fromisoformat(params["before"])
        derived = ctx.settings.derived_path
        actor, by_name = _actor(params), params["by_name"]
        return retention_work(ctx.session_factory, ctx.store, derived, before, actor, by_name, lang, dry_run)

    return make


def _audit(ctx: WorkContext, params: dict[str, Any], lang: str) -> Work:
    return audit_work(ctx.session_factory, lang)


# Every kind of action, with what makes its work from its JSON parameters.
WORKS: dict[str, Callable[[WorkContext, dict[str, Any], str], Work]] = {
    CHECK_CANDIDATES: _candidates(True),
    IMPORT_CANDIDATES: _candidates(False),
    CHECK_PAPER: _paper(True),
    IMPORT_PAPER: _paper(False),
    DISPATCH: _dispatch,
    PURGE_UPLOADS_DRY: _purge_uploads(True),
    PURGE_UPLOADS: _purge_uploads(False),
    RETENTION_DRY: _retention(True),
    RETENTION: _retention(False),
    AUDIT_VERIFY: _audit,
}


def build(kind: str, ctx: WorkContext, params: dict[str, Any], lang: str) -> Work:
    """The work of an action of this kind (a KeyError for a kind no version of the server knows)."""
    return WORKS[kind](ctx, params, lang)
