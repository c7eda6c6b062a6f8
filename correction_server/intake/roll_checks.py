"""A lot's copy → candidate links, checked against the server's own roll before anything changes.

The station's identity file says which candidate wrote which copy; the server believes it only
for candidates of the pushing centre registered for the paper, once each (a candidate hands in
one copy of a paper, in one lot). Otherwise a station could link a copy to another centre's
candidate, give one candidate two copies, or record candidates of another centre present or
absent: the commit records attendance from these links (`ingest._record_attendance`).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correction_server.auth.tokens import Principal
from correction_server.intake.refusals import Conflict, Invalid, listing, plural
from correction_server.models import Candidate, Copy, IdentityLink, RollEntry
from massicot_core.contract import IdentityFile, Manifest

_BATCH = 500


def check_links(
    session: Session,
    principal: Principal,
    paper_id: int,
    manifest: Manifest,
    identity: IdentityFile,
    *,
    repush: bool = False,
) -> None:
    """Invalid (or Conflict for copies already received) naming what does not fit the roll."""
    twice = sorted(reg for reg, n in Counter(link.candidate for link in identity.links).items() if n > 1)
    if twice:
        raise Invalid(
            f"identity.json gives {plural(len(twice), 'candidate')} more than one copy ({listing(twice)}): "
            "a candidate hands in one copy (extra booklets go inside it). Resolve it at the station and "
            "seal again"
        )
    wanted = sorted({link.candidate for link in identity.links})
    on_roll: set[str] = set()
    already: set[str] = set()
    for start in range(0, len(wanted), _BATCH):
        batch = wanted[start : start + _BATCH]
        on_roll.update(
            session.scalars(
                select(Candidate.registration)
                .join(RollEntry, RollEntry.candidate_id == Candidate.id)
                .where(
                    Candidate.registration.in_(batch),
                    Candidate.centre_id == principal.centre_id,
                    RollEntry.paper_id == paper_id,
                )
            )
        )
        already.update(
            session.scalars(
                select(Candidate.registration)
                .join(IdentityLink, IdentityLink.candidate_id == Candidate.id)
                .join(Copy, Copy.id == IdentityLink.copy_id)
                .where(Candidate.registration.in_(batch), Copy.paper_id == paper_id)
            )
        )
    strangers = [reg for reg in wanted if reg not in on_roll]
    if strangers:
        raise Invalid(
            f"identity.json links copies to {plural(len(strangers), 'candidate')} not on centre "
            f"{principal.centre_uai}'s roll for paper {manifest.paper} ({listing(strangers)}): check the "
            "roll the station used (ask the exam office for the current one), then seal again"
        )
    if already and not repush:
        names = sorted(already)
        raise Conflict(
            f"{plural(len(names), 'candidate')} of this lot already have a copy of paper {manifest.paper} "
            f"received ({listing(names)}): a candidate hands in one copy. Tell the exam office",
            candidates=names,
        )
    registered = session.scalar(
        select(func.count(RollEntry.id))
        .join(Candidate, Candidate.id == RollEntry.candidate_id)
        .where(RollEntry.paper_id == paper_id, Candidate.centre_id == principal.centre_id)
    )
    if manifest.counts.registered > (registered or 0):
        raise Invalid(
            f"the manifest counts {manifest.counts.registered} registered candidates but centre "
            f"{principal.centre_uai} has {registered} on its roll for paper {manifest.paper}: check the "
            "roll the station used, then seal again"
        )
