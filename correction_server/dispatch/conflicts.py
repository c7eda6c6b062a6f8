"""Who may not mark which copy: every conflict of interest the server knows (DOMAIN rules 2, 23).

A corrector may not mark a candidate of an établissement where he teaches (his own,
`User.establishment_id`, and every other one, `CorrectorEstablishment`), nor a candidate or an
établissement the office recorded as incompatible with him (`Incompatibility`: a professional
and his trainees, a relative...). Dispatch, reassignment and second reading all ask
`conflicts_for`, so the three honour the same rules; each conflict comes with its sentence of
the words catalogue. The candidate is reached through IdentityLink with service rights, to
refuse, never to show: the sentences for coordinators name the corrector and the copy only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from correction_server.models import (
    Candidate,
    CorrectorEstablishment,
    Establishment,
    IdentityLink,
    Incompatibility,
    User,
)

# Why a corrector may not mark a copy: the words key (dispatch/words.py) for each kind.
TEACHES = "conflict.teaches"
CANDIDATE = "conflict.candidate"
SCHOOL = "conflict.establishment"


def schools_of(session: Session, user_ids: Iterable[int]) -> dict[int, set[int]]:
    """Every établissement where each corrector teaches (his own and the others)."""
    ids = sorted(set(user_ids))
    found: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        for uid, est in session.execute(select(User.id, User.establishment_id).where(User.id.in_(batch))):
            if est is not None:
                found[uid].add(est)
        for uid, est in session.execute(
            select(CorrectorEstablishment.user_id, CorrectorEstablishment.establishment_id).where(
                CorrectorEstablishment.user_id.in_(batch)
            )
        ):
            found[uid].add(est)
    return found


def conflicts_for(
    session: Session, copy_ids: Iterable[str], corrector_ids: Iterable[int]
) -> dict[str, dict[int, str]]:
    """copy id → {corrector id: why he may not mark it (a words key)}; copies without conflict absent."""
    copies = sorted(set(copy_ids))
    correctors = sorted(set(corrector_ids))
    if not copies or not correctors:
        return {}
    candidate_of: dict[str, tuple[int, int | None]] = {}
    for start in range(0, len(copies), 500):
        for copy_id, cand_id, est in session.execute(
            select(IdentityLink.copy_id, Candidate.id, Candidate.establishment_id)
            .join(Candidate, Candidate.id == IdentityLink.candidate_id)
            .where(IdentityLink.copy_id.in_(copies[start : start + 500]))
        ):
            candidate_of[copy_id] = (cand_id, est)
    # Who teaches where, by établissement: asking every corrector for every copy is copies ×
    # correctors (minutes for a national paper).
    teachers_of: dict[int, list[int]] = defaultdict(list)
    teaches = schools_of(session, correctors)
    for uid in correctors:
        for est in teaches.get(uid, ()):
            teachers_of[est].append(uid)
    by_candidate: dict[int, dict[int, str]] = defaultdict(dict)
    by_school: dict[int, dict[int, str]] = defaultdict(dict)
    for row in session.scalars(select(Incompatibility).where(Incompatibility.corrector_id.in_(correctors))):
        if row.candidate_id is not None:
            by_candidate[row.candidate_id][row.corrector_id] = CANDIDATE
        elif row.establishment_id is not None:
            by_school[row.establishment_id][row.corrector_id] = SCHOOL
    found: dict[str, dict[int, str]] = {}
    for copy_id, (cand_id, est) in candidate_of.items():
        why: dict[int, str] = {}
        if est is not None:
            for uid in teachers_of.get(est, ()):
                why[uid] = TEACHES
            for uid, key in by_school.get(est, {}).items():
                why.setdefault(uid, key)
        for uid, key in by_candidate.get(cand_id, {}).items():
            why.setdefault(uid, key)
        if why:
            found[copy_id] = why
    return found


def establishment_label(session: Session, establishment_id: int) -> str:
    found = session.get(Establishment, establishment_id)
    return f"{found.name or 'établissement'} ({found.uai})" if found else f"#{establishment_id}"
