"""Checking what a station announces against its seal: the manifest and the identity file.

Everything that can be checked without the database or the images is checked here; a lot that
fails is refused with what to do (most often: seal the lot again).
"""

from __future__ import annotations

import base64
import hashlib

from pydantic import ValidationError

from correction_server.intake.page_checks import check_facts
from correction_server.intake.refusals import Invalid, plural
from correction_server.pages.store import check_sha256
from massicot_core.contract import MANIFEST_FORMAT, IdentityFile, Manifest
from massicot_core.identifiers import is_copy_id


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
    check_facts(manifest)
    pages = sum(len(copy.pages) for copy in manifest.copies)
    if manifest.counts.copies != len(manifest.copies):
        raise Invalid(
            f"the manifest's counts say {plural(manifest.counts.copies, 'copy')} but it lists "
            f"{len(manifest.copies)}; the lot is inconsistent: seal it again"
        )
    if manifest.counts.pages != pages:
        raise Invalid(
            f"the manifest's counts say {plural(manifest.counts.pages, 'page')} but its copies hold "
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
    # The room report's scanned sheets (optional) are sent and stored as the page images are.
    for document in manifest.room_report.documents if manifest.room_report else []:
        label = f"the room report's {document.kind.replace('_', ' ')}"
        try:
            check_sha256(document.sha256)
        except ValueError:
            raise Invalid(
                f"{label}: its SHA-256 {document.sha256!r} is not 64 lowercase hex digits"
            ) from None
        labels.setdefault(document.sha256, label)
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


def decode_identity(text: str) -> bytes:
    """The identity file travels base64-encoded so its exact bytes (and hash) survive JSON."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise Invalid("the identity file must be sent base64-encoded in the field `identity`") from None
