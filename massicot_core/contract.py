"""The seal of a lot: what the station promises the server, hashed so nothing can drift.

The manifest is JSON written by `massicot scan seal` and read by the server's ingest.
Its `manifest_sha256` is the SHA-256 of the canonical JSON of every other field
(keys sorted, no spaces, UTF-8), so both sides compute it the same way.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from typing import Literal

from pydantic import BaseModel, Field

# "copy" is the domain's word (a candidate's booklet); pydantic warns that it shadows the
# deprecated BaseModel.copy(), which nothing here uses.
warnings.filterwarnings("ignore", message='Field name "copy"', category=UserWarning)

MANIFEST_FORMAT = "massicot-lot/1"
MANIFEST_FILE = "manifest.json"
IDENTITY_FILE = "identity.json"


OPTIONAL_PAGE_FIELDS = ("written", "booklet", "insert")


class ManifestPage(BaseModel):
    number: int | None  # None: an annex sheet without a code, confirmed by the operator
    image: str  # path relative to the lot folder, of the masked corrector-facing image
    sha256: str
    media_type: str = "image/jpeg"
    rotation: Literal[0, 90, 180, 270] = 0
    skew_degrees: float = 0.0
    blank: bool = False
    source: str  # "FILE#INDEX"
    # Added fields (optional; left out of the seal's hash when unset, so lots sealed before them
    # keep their hash): whether anything is written in the page's answer zone (None: not
    # measured, a sheet without a code), the printed booklet the page came from when a copy
    # holds several (copie supplémentaire), and an insert sheet's kind (intercalaire).
    written: bool | None = None
    booklet: str | None = None
    insert: str | None = None


class ManifestCopy(BaseModel):
    copy: str
    status: Literal["ok", "blank", "absent", "incomplete"]
    pages: list[ManifestPage]


class ManifestSource(BaseModel):
    source: str  # "FILE#INDEX"
    sha256: str  # of the source page as received from the scanner
    use: Literal["page", "blank_verso", "discarded", "unreadable"]
    reason: str | None = None


class RollCounts(BaseModel):
    registered: int
    present: int
    absent: int
    blank: int
    copies: int
    pages: int


class RoomDocument(BaseModel):
    """A scanned sheet that travels with the lot: the room report itself, or the signed signing sheet."""

    kind: Literal["room_report_scan", "signing_sheet"]
    file: str  # path relative to the lot folder
    sha256: str
    media_type: str


class RoomReport(BaseModel):
    """The procès-verbal de salle, as the centre entered it (and/or scanned it). Office only.

    `registered` and `present` are None when the centre scanned a handwritten report instead.
    """

    room: str = ""
    registered: int | None = None
    present: int | None = None
    absent: list[str] = []  # names, as the room's supervisors wrote them
    late: list[str] = []  # late arrivals admitted
    left: list[str] = []  # candidates who left for good (with the time)
    incidents: str = ""
    documents: list[RoomDocument] = []
    written_by: str
    written_at: str


# Fields added to the manifest after format massicot-lot/1 was first sealed. Left out of the
# canonical hash while unset, so a manifest sealed before they existed keeps its seal.
OPTIONAL_FIELDS = frozenset({"room_report"})


class Manifest(BaseModel):
    format: str = MANIFEST_FORMAT
    paper: str
    centre: str
    sealed_at: str
    sealed_by: str
    counts: RollCounts
    copies: list[ManifestCopy]
    sources: list[ManifestSource]
    identity_sha256: str  # SHA-256 of identity.json (the office-only copy → candidate file)
    room_report: RoomReport | None = None  # optional: older stations send none
    manifest_sha256: str = Field(default="")

    def computed_sha256(self) -> str:
        body = self.model_dump(exclude={"manifest_sha256"})
        for name in OPTIONAL_FIELDS:
            if body.get(name) is None:
                body.pop(name, None)
        for copy in body["copies"]:
            for page in copy["pages"]:
                for name in OPTIONAL_PAGE_FIELDS:
                    if page.get(name) is None:
                        page.pop(name, None)
        return canonical_sha256(body)

    def sealed(self) -> Manifest:
        return self.model_copy(update={"manifest_sha256": self.computed_sha256()})

    def is_intact(self) -> bool:
        return self.manifest_sha256 == self.computed_sha256()


class IdentityLinkEntry(BaseModel):
    copy: str
    candidate: str  # registration number


class IdentityFile(BaseModel):
    """Copy → candidate, for the exam office alone. Never shipped to a corrector."""

    paper: str
    centre: str
    links: list[IdentityLinkEntry]


def canonical_json(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_sha256(data: object) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()
