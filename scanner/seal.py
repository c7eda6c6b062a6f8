"""Sealing a lot (manifest.json + identity.json) and checking a sealed lot byte for byte.

The seal is refused while anything is open: an anomaly, an unreadable file not set aside,
an import that stopped half-way. Once sealed, the lot refuses imports and decisions until
`massicot scan unseal` (journaled, with a reason) — then it must be sealed again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from massicot_core.contract import (
    IdentityFile,
    IdentityLinkEntry,
    Manifest,
    ManifestCopy,
    ManifestPage,
    ManifestSource,
    RollCounts,
)
from massicot_core.errors import UserError
from massicot_core.files import sha256_bytes, sha256_file, write_atomic
from scanner.lot import Lot, check_centre, now_utc, refuse_if_sealed
from scanner.report import LotView, build_view


class SealRefused(UserError):
    """The lot is not ready: `problems` lists why, one plain-words line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"the lot cannot be sealed: {len(problems)} thing(s) to resolve first "
            "(`massicot scan report DIR` shows them)"
        )


def open_problems(view: LotView) -> list[str]:
    problems = [f"{a.kind}: {a.message}" for a in view.anomalies]
    return problems + view.blocking()


def _identity(view: LotView, centre: str) -> IdentityFile:
    links = [
        IdentityLinkEntry(copy=r.copy, candidate=r.candidate)
        for r in view.reconciliation.copies
        if r.candidate is not None
    ]
    return IdentityFile(paper=view.state.info.paper, centre=centre, links=links)


def _manifest_pages(lot: Lot, result) -> list[ManifestPage]:
    pages = []
    for placed in result.pages:
        page = placed.page
        data = (lot.folder / page.image).read_bytes()
        digest = sha256_bytes(data)
        if page.image_sha256 and digest != page.image_sha256:
            raise UserError(
                f"the image {page.image} of page {page.source} changed on disk since it was made: "
                f"assign the page again (`massicot scan resolve assign`) to remake it"
            )
        pages.append(
            ManifestPage(
                number=placed.number,
                image=page.image,
                sha256=digest,
                media_type=page.image_media_type,
                rotation=page.rotation,
                skew_degrees=page.analysis.skew_degrees if page.analysis else 0.0,
                blank=page.blank,
                source=page.source,
                written=page.analysis.written if page.analysis else None,
                booklet=placed.booklet,
                insert=placed.insert,
            )
        )
    return pages


def _sources(view: LotView) -> list[ManifestSource]:
    records = view.state.pages
    sources: list[ManifestSource] = []
    in_copies = {p.page.key for r in view.reconciliation.copies for p in r.pages}
    for key in in_copies:
        sources.append(ManifestSource(source=records[key].source, sha256=records[key].sha256, use="page"))
    for entry in view.grouping.unassigned:
        record = records[entry.key]
        use = "blank_verso" if entry.blank_verso else "discarded"
        sources.append(
            ManifestSource(source=record.source, sha256=record.sha256, use=use, reason=entry.reason)
        )
    for source, reason, _ in view.unreadable:
        digest = view.state.unreadable[source].sha256
        sources.append(ManifestSource(source=source, sha256=digest, use="unreadable", reason=reason))
    return sorted(sources, key=lambda s: (s.source, s.use))


def seal(lot: Lot, by: str, centre: str | None = None) -> Manifest:
    with lot.writing():
        state = lot.state()
        refuse_if_sealed(state)
        view = build_view(state)
        problems = open_problems(view)
        if problems:
            raise SealRefused(problems)
        centre = check_centre(centre) or state.info.centre
        if not centre:
            raise UserError(
                "the lot does not say which centre it comes from: give --centre UAI (e.g. 0130040Y)"
            )
        from scanner import room_report

        room = room_report.read(lot)
        if room is not None:
            problems = room_report.check_documents(lot.folder, room)
            if problems:
                raise SealRefused(problems)
        identity = _identity(view, centre)
        identity_bytes = (json.dumps(identity.model_dump(), indent=2, ensure_ascii=False) + "\n").encode()
        counts = view.reconciliation.counts
        manifest = Manifest(
            paper=state.info.paper,
            centre=centre,
            sealed_at=now_utc(),
            sealed_by=by,
            counts=RollCounts(
                registered=counts.registered,
                present=counts.present,
                absent=counts.absent,
                blank=counts.blank,
                copies=counts.copies,
                pages=counts.pages,
            ),
            copies=[
                ManifestCopy(copy=r.copy, status=r.status, pages=_manifest_pages(lot, r))  # type: ignore[arg-type]
                for r in view.reconciliation.copies
            ],
            sources=_sources(view),
            identity_sha256=sha256_bytes(identity_bytes),
            room_report=room,
        ).sealed()
        write_atomic(lot.identity_path, identity_bytes)
        write_atomic(lot.manifest_path, (manifest.model_dump_json(indent=2) + "\n").encode())
        lot.append(
            {"t": "sealed", "by": by, "at": manifest.sealed_at, "manifest_sha256": manifest.manifest_sha256}
        )
    return manifest


def unseal(lot: Lot, by: str, reason: str) -> str:
    if not reason.strip():
        raise UserError("say why the sealed lot must change (--reason): it is kept in the lot's record")
    with lot.writing():
        state = lot.state()
        if not state.sealed:
            raise UserError("this lot is not sealed")
        stamp = now_utc().replace(":", "")
        for path in (lot.manifest_path, lot.identity_path):
            if path.exists():  # the old seal is kept beside, never overwritten
                path.rename(path.with_name(f"{path.stem}.unsealed-{stamp}{path.suffix}"))
        lot.append({"t": "unsealed", "by": by, "at": now_utc(), "reason": reason.strip()})
    return "the lot is unsealed: resolve, then seal it again (`massicot scan seal`)"


@dataclass
class VerifyResult:
    problems: list[str]
    checked_images: int

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(lot: Lot) -> VerifyResult:
    """Re-check a sealed lot byte for byte; every difference is named."""
    try:
        raw = lot.manifest_path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{lot.folder} has no {lot.manifest_path.name}: the lot is not sealed") from None
    try:
        manifest = Manifest.model_validate_json(raw)
    except (ValidationError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        return VerifyResult([f"manifest.json cannot be read as a manifest any more ({first})"], 0)
    problems: list[str] = []
    if not manifest.is_intact():
        problems.append("manifest.json was changed after the seal: its manifest_sha256 no longer matches")
    state = lot.state()
    if not state.sealed or state.sealed.get("manifest_sha256") != manifest.manifest_sha256:
        problems.append("manifest.json is not the one the journal recorded at the seal")
    try:
        if sha256_file(lot.identity_path) != manifest.identity_sha256:
            problems.append("identity.json differs from the one sealed (its SHA-256 does not match)")
    except FileNotFoundError:
        problems.append("identity.json is missing")
    if manifest.room_report is not None:
        from scanner.room_report import check_documents

        problems += check_documents(lot.folder, manifest.room_report)
    checked = 0
    for copy in manifest.copies:
        for page in copy.pages:
            path = lot.folder / page.image
            checked += 1
            try:
                if sha256_file(path) != page.sha256:
                    problems.append(f"image {page.image} (copy {copy.copy}, page {page.number}) was changed")
            except FileNotFoundError:
                problems.append(f"image {page.image} (copy {copy.copy}, page {page.number}) is missing")
    return VerifyResult(problems, checked)
