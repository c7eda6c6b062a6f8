"""Identifiers printed on paper: copy ids, candidate label numbers, page code payloads.

A copy id is the copy's anonymity number. It is random (unguessable) and ends
with an ISO 7064 MOD 37,36 check character, so a misread code or a mistyped
number is caught instead of silently landing in another copy.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

CHECK_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# No I, L, O, U in the random part: they are read as 1, 1, 0, V by people.
COPY_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
COPY_ID_RANDOM_LENGTH = 8
PAGE_CODE_VERSION = "MC1"
LABEL_CODE_VERSION = "ML1"
INSERT_CODE_VERSION = "MI1"
# Printed insert sheets (intercalaires): graph paper, a lined answer sheet, an answer sheet with
# an anonymity corner (the subject's own kind, masked like a booklet's header).
INSERT_KINDS = ("graph", "lined", "corner")
CORNERS = ("TL", "TR", "BL", "BR")
# A paper's code, as every page code carries it. Patterns that hold a paper code among other
# things (an accounts file's "U3:40") are built on PAPER_CODE, so the rule stays one.
PAPER_CODE = r"[A-Z0-9][A-Z0-9-]{0,11}"
PAPER_CODE_RE = re.compile(rf"^{PAPER_CODE}$")
REGISTRATION_RE = re.compile(r"^[A-Z0-9]{4,16}$")
# An establishment's or centre's UAI: 7 ASCII digits, then its check letter.
UAI_RE = re.compile(r"^[0-9]{7}[A-Z]$")


class CodeError(ValueError):
    """A printed identifier that does not parse or fails its check character."""


def check_character(text: str) -> str:
    """ISO 7064 MOD 37,36: catches every single substitution and adjacent swap."""
    modulus = 36
    product = modulus
    for char in text:
        if char not in CHECK_ALPHABET:
            raise CodeError(f"character {char!r} cannot appear in a code")
        total = (product + CHECK_ALPHABET.index(char)) % modulus
        product = ((total or modulus) * 2) % (modulus + 1)
    return CHECK_ALPHABET[(modulus + 1 - product) % modulus]


def has_valid_check(text: str) -> bool:
    if len(text) < 2:
        return False
    try:
        return check_character(text[:-1]) == text[-1]
    except CodeError:
        return False


def new_copy_id(rng: secrets.SystemRandom | None = None) -> str:
    chooser = rng.choice if rng is not None else secrets.choice
    body = "".join(chooser(COPY_ID_ALPHABET) for _ in range(COPY_ID_RANDOM_LENGTH))
    return body + check_character(body)


def is_copy_id(text: str) -> bool:
    return len(text) == COPY_ID_RANDOM_LENGTH + 1 and has_valid_check(text)


def validate_paper_code(code: str) -> str:
    if not PAPER_CODE_RE.match(code):
        raise CodeError(f"paper code {code!r} is not valid: use 1 to 12 capital letters, digits or '-'")
    return code


@dataclass(frozen=True)
class PageCode:
    """What the code in one corner of a printed page says.

    An insert sheet's code reads as a PageCode too, with `insert` set to its kind, its own id as
    `copy_id` and page 0, so that the corner codes are judged and placed the same way."""

    paper: str
    copy_id: str
    page: int
    corner: str
    insert: str | None = None

    def payload(self) -> str:
        return f"{PAGE_CODE_VERSION}/{self.paper}/{self.copy_id}/{self.page:02d}/{self.corner}"


@dataclass(frozen=True)
class InsertCode:
    """What the code in one corner of a printed insert sheet says: it is an insert, of which kind.

    It names no copy (the sheet is handed out blank, to whoever needs one) and carries its own
    id, so the same sheet scanned twice is caught."""

    paper: str
    insert_id: str
    kind: str
    corner: str

    def payload(self) -> str:
        return f"{INSERT_CODE_VERSION}/{self.paper}/{self.insert_id}/{self.kind}/{self.corner}"


def parse_insert_code(payload: str) -> InsertCode:
    parts = payload.split("/")
    if len(parts) != 5 or parts[0] != INSERT_CODE_VERSION:
        raise CodeError(f"not a Massicot insert code: {payload!r}")
    _, paper, insert_id, kind, corner = parts
    if not is_copy_id(insert_id):
        raise CodeError(f"insert id {insert_id!r} fails its check character")
    if kind not in INSERT_KINDS or corner not in CORNERS:
        raise CodeError(f"insert code {payload!r} has a bad kind or corner")
    return InsertCode(paper=paper, insert_id=insert_id, kind=kind, corner=corner)


@dataclass(frozen=True)
class LabelCode:
    """What the barcode of a candidate's anonymity label says."""

    paper: str
    registration: str

    def payload(self) -> str:
        return f"{LABEL_CODE_VERSION}/{self.paper}/{self.registration}{check_character(self.registration)}"


def parse_page_code(payload: str) -> PageCode:
    parts = payload.split("/")
    if len(parts) != 5 or parts[0] != PAGE_CODE_VERSION:
        raise CodeError(f"not a Massicot page code: {payload!r}")
    _, paper, copy_id, page, corner = parts
    if not is_copy_id(copy_id):
        raise CodeError(f"copy id {copy_id!r} fails its check character")
    if not page.isdigit() or int(page) < 1 or corner not in CORNERS:
        raise CodeError(f"page code {payload!r} has a bad page number or corner")
    return PageCode(paper=paper, copy_id=copy_id, page=int(page), corner=corner)


def parse_label_code(payload: str) -> LabelCode:
    parts = payload.split("/")
    if len(parts) != 3 or parts[0] != LABEL_CODE_VERSION:
        raise CodeError(f"not a Massicot label code: {payload!r}")
    _, paper, checked = parts
    if not has_valid_check(checked):
        raise CodeError(f"registration number {checked!r} fails its check character")
    return LabelCode(paper=paper, registration=checked[:-1])
