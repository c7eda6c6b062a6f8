"""Access letters: one page per candidate with his name, registration number, the space's address
and a one-time activation code.

The code is 16 characters from a 32-letter alphabet without look-alikes (80 random bits), printed
in groups of four. Only its SHA-256 is kept: with 80 random bits there is nothing to guess from the
hash, and activation attempts are rate-limited anyway. A new letter revokes every unused code of
the candidate. The audit log records who issued letters for whom, never a code.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.models import ActivationCode, Candidate, Centre, Paper, RollEntry
from massicot_core.errors import Refused
from massicot_core.words import translate

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: read from paper, typed on a phone
CODE_LENGTH = 16
DEFAULT_VALID_DAYS = 60
ISSUED = "candidate.letters_issued"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(typed: str) -> str:
    """What the candidate typed, as printed: spaces, dashes and case do not matter."""
    raw = "".join(ch for ch in (typed or "").upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


@dataclass(frozen=True)
class Letter:
    registration: str
    surname: str
    given_names: str
    code: str
    expires_at: datetime


def candidates_for(
    session: Session, paper_code: str | None = None, centre_uai: str | None = None
) -> list[Candidate]:
    """The candidates registered for a paper (by its code), or sitting at a centre (by its UAI)."""
    if bool(paper_code) == bool(centre_uai):
        raise Refused(400, "candidate.err.letters_which")
    if paper_code:
        code = paper_code.strip().upper()
        paper_ids = list(session.scalars(select(Paper.id).where(Paper.code == code)))
        if not paper_ids:
            raise Refused(404, "candidate.err.no_paper", paper=code)
        query = (
            select(Candidate)
            .join(RollEntry, RollEntry.candidate_id == Candidate.id)
            .where(RollEntry.paper_id.in_(paper_ids))
            .distinct()
        )
    else:
        uai = (centre_uai or "").strip().upper()
        centre_id = session.scalar(select(Centre.id).where(Centre.uai == uai))
        if centre_id is None:
            raise Refused(404, "candidate.err.no_centre", centre=uai)
        query = select(Candidate).where(Candidate.centre_id == centre_id)
    return list(
        session.scalars(query.order_by(Candidate.surname, Candidate.given_names, Candidate.registration))
    )


def issue_codes(
    session: Session,
    candidates: Sequence[Candidate],
    actor: audit.Actor,
    by_name: str,
    scope: str,
    valid_days: int = DEFAULT_VALID_DAYS,
    now: datetime | None = None,
) -> list[Letter]:
    """A fresh code for each candidate; their older unused codes stop working. Caller commits.

    `scope` says for whom in the audit log ("paper U3", "centre 0130040Y")."""
    if not candidates:
        raise Refused(400, "candidate.err.no_candidates")
    if not 1 <= valid_days <= 366:
        raise Refused(400, "candidate.err.valid_days")
    now = now or datetime.now(UTC)
    expires = now + timedelta(days=valid_days)
    ids = [c.id for c in candidates]
    # One statement per thousand candidates, not one per candidate.
    for start in range(0, len(ids), 1000):
        session.execute(
            update(ActivationCode)
            .where(
                ActivationCode.candidate_id.in_(ids[start : start + 1000]),
                ActivationCode.used_at.is_(None),
                ActivationCode.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    letters = []
    rows = []
    for candidate in candidates:
        code = new_code()
        rows.append(
            {
                "candidate_id": candidate.id,
                "code_sha256": code_hash(code),
                "issued_at": now,
                "expires_at": expires,
                "issued_by": by_name,
            }
        )
        letters.append(
            Letter(candidate.registration, candidate.surname, candidate.given_names, code, expires)
        )
    session.execute(ActivationCode.__table__.insert(), rows)
    audit.record(
        session,
        actor,
        ISSUED,
        "candidates",
        scope,
        {
            "registrations": [letter.registration for letter in letters],
            "expires_at": expires,
            "by": by_name,
        },
    )
    return letters


def letters_pdf(letters: Sequence[Letter], address: str, lang: str = "fr") -> bytes:
    """One A4 page per letter, in `lang` (French by default)."""
    out = io.BytesIO()
    pdf = Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(translate(lang, "candidate.letter.title"))
    pdf.setAuthor("Massicot")
    width, height = A4

    def say(key: str, **values: object) -> str:
        return translate(lang, f"candidate.letter.{key}", **values)

    for letter in letters:
        y = height - 80
        pdf.setFont("Helvetica-Bold", 18)
        pdf.drawString(60, y, say("title"))
        y -= 40
        pdf.setFont("Helvetica", 12)
        for text in (
            say("name", name=f"{letter.surname} {letter.given_names}"),
            say("registration", registration=letter.registration),
        ):
            pdf.drawString(60, y, text)
            y -= 20
        y -= 14
        pdf.drawString(60, y, say("address_intro"))
        y -= 22
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(80, y, address)
        y -= 34
        pdf.setFont("Helvetica", 12)
        pdf.drawString(60, y, say("code_intro"))
        y -= 30
        pdf.setFont("Courier-Bold", 22)
        pdf.drawString(80, y, letter.code)
        y -= 34
        pdf.setFont("Helvetica", 11)
        for key in ("expires", "steps", "once", "keep"):
            pdf.drawString(60, y, say(key, day=letter.expires_at.date().isoformat()))
            y -= 18
        pdf.showPage()
    pdf.save()
    return out.getvalue()
