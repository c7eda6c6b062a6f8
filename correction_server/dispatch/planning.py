"""Dispatch: build correction lots from the copies of a paper.

The rules (DOMAIN.md rule 2, issue "Dispatch"):
- a corrector never gets a copy of a candidate from the établissement where he teaches
  (Candidate.establishment_id vs User.establishment_id, through IdentityLink: dispatch runs
  with office rights), nor a copy another conflict forbids him (`dispatch.conflicts`: the
  other établissements where he teaches, the office's recorded incompatibilities);
- copies are shuffled across centres (every lot mixes centres and établissements);
- lots follow each corrector's declared capacity (CorrectorPaper.capacity): each gets a share
  of the paper's copies proportional to it, never more than it;
- deterministic given a seed, which is recorded on every lot it creates;
- re-runnable: a new run only places copies that are in no lot yet; nothing already handed
  out moves;
- when the constraints cannot be met, nothing is written and the reasons say, in plain words,
  which copies cannot go anywhere and why.

The algorithm works on groups (copies sharing the same établissement have the same
constraint) and is a b-matching solved as a max-flow:
1. proportional targets per corrector (largest remainder), minus what he already holds;
2. a greedy fill, most constrained group first, each copy to the eligible corrector with the
   most room left relative to his target (ties in a seeded random order) — this spreads every
   group over many correctors, hence the mixing;
3. augmenting paths (Ford–Fulkerson from the greedy flow) place what the greedy left over,
   moving copies between correctors where needed; if targets are too tight for the
   constraint, the same is retried with the full declared capacities (and said so);
4. what still cannot be placed is explained with the residual graph's cut: the group's
   eligible correctors, all full.
`plan_dispatch` is pure (data in, plan out) so it is tested and benchmarked without a database.
"""

from __future__ import annotations

import heapq
import random
import secrets
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field, replace

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from correction_server.audit import log as audit
from correction_server.dispatch.conflicts import TEACHES, conflicts_for
from correction_server.models.accounts import CorrectorPaper, Role, User
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from correction_server.models.exam import Candidate, Centre, Establishment, ExamSession, Paper
from correction_server.models.scans import Copy, IdentityLink
from massicot_core.errors import Refused, UserError
from massicot_core.words import command_line_language, translate

MAX_SEED = 2**31 - 1


# --- plain data in and out -------------------------------------------------------------------


@dataclass(frozen=True)
class CopyToPlace:
    copy_id: str
    centre: str  # centre label, for explanations
    establishment_id: int | None  # the candidate's; None = no constraint (unknown établissement)
    # Correctors who may not mark it for another reason (dispatch.conflicts): user id → words key.
    excluded: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class CorrectorSeat:
    user_id: int
    name: str
    establishment_id: int | None  # where he teaches; None = may mark anyone
    capacity: int  # declared, for the whole paper
    already: int = 0  # copies of this paper he already holds from earlier runs


@dataclass
class DispatchPlan:
    seed: int
    assignments: dict[int, list[str]]  # corrector user id → copy ids, increasing
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reason:
    """One sentence of the words catalogue (dispatch/words.py), said in the reader's language.

    A value that is itself a Reason is said in the same language; a tuple of them is a list.
    """

    key: str
    values: dict[str, object] = field(default_factory=dict)

    def words(self, lang: str) -> str:
        return translate(lang, self.key, **{name: _said(value, lang) for name, value in self.values.items()})


def _said(value: object, lang: str) -> object:
    if isinstance(value, Reason):
        return value.words(lang)
    if isinstance(value, tuple):
        return ", ".join(str(_said(item, lang)) for item in value)
    return value


class DispatchImpossible(Refused):
    """The constraints cannot be met: one reason per problem, each a sentence of the catalogue."""

    status = 409

    def __init__(self, reasons: list[Reason]) -> None:
        self.reason_words = list(reasons)
        super().__init__(key="dispatch.impossible")

    @property
    def reasons(self) -> list[str]:
        """The reasons in the command line's language."""
        return self.reasons_in(command_line_language())

    def reasons_in(self, lang: str) -> list[str]:
        return [reason.words(lang) for reason in self.reason_words]

    def words(self, lang: str | None = None) -> str:
        lang = lang or command_line_language()
        return translate(lang, self.key, reasons=" ".join(self.reasons_in(lang)))


# --- the algorithm ---------------------------------------------------------------------------


def proportional_targets(seats: list[CorrectorSeat], new_copies: int) -> dict[int, int]:
    """How many copies each corrector should hold in total after this run (largest remainder)."""
    total = sum(s.already for s in seats) + new_copies
    capacity = sum(s.capacity for s in seats)
    if capacity == 0:
        return {s.user_id: s.already for s in seats}
    exact = {s.user_id: total * s.capacity / capacity for s in seats}
    targets = {uid: int(v) for uid, v in exact.items()}
    leftover = total - sum(targets.values())
    # Ties broken by user id so the result does not depend on dict order.
    for uid in sorted(exact, key=lambda u: (-(exact[u] - targets[u]), u))[:leftover]:
        targets[uid] += 1
    return targets


def plan_dispatch(
    copies: list[CopyToPlace],
    seats: list[CorrectorSeat],
    seed: int,
    establishment_names: dict[int, str] | None = None,
) -> DispatchPlan:
    """Assign `copies` to `seats`. Raises DispatchImpossible with the reasons when it cannot."""
    names = establishment_names or {}
    seats = sorted((s for s in seats if s.capacity > 0), key=lambda s: s.user_id)
    if not copies:
        return DispatchPlan(seed=seed, assignments={})
    _check_totals(copies, seats)
    rng = random.Random(seed)
    copies = sorted(copies, key=lambda c: c.copy_id)
    # A group: the copies with the same constraint (the candidate's établissement, and the
    # correctors another conflict excludes).
    groups: dict[Group, list[str]] = defaultdict(list)
    for copy in copies:
        groups[(copy.establishment_id, tuple(sorted(copy.excluded)))].append(copy.copy_id)
    for ids in groups.values():
        rng.shuffle(ids)

    eligible = {g: _eligible(seats, g) for g in sorted(groups, key=_gkey)}
    targets = proportional_targets(seats, len(copies))
    room = [max(0, targets[s.user_id] - s.already) for s in seats]
    flow = _Flow(seats, groups, eligible, room)
    flow.greedy(rng)
    notes: list[str] = []
    if flow.unplaced_count():
        flow.augment()
    if flow.unplaced_count():
        # Exact proportions cannot hold with the établissement rule: use the full capacities.
        flow.raise_room([s.capacity - s.already for s in seats])
        flow.augment()
        if not flow.unplaced_count():
            notes.append(
                "Lots are not exactly proportional to the declared capacities: some correctors teach "
                "where many candidates come from, so others take more of the copies (never above "
                "their capacity)."
            )
    if flow.unplaced_count():
        raise DispatchImpossible(flow.explain(copies, names))
    assignments = {seats[i].user_id: sorted(ids) for i, ids in flow.by_seat().items() if ids}
    assert sum(len(v) for v in assignments.values()) == len(copies)
    return DispatchPlan(seed=seed, assignments=assignments, notes=notes)


Group = tuple[int | None, tuple[tuple[int, str], ...]]


def _eligible(seats: list[CorrectorSeat], group: Group) -> list[int]:
    establishment, excluded = group[0], {uid for uid, _ in group[1]}
    return [
        i
        for i, s in enumerate(seats)
        if (establishment is None or s.establishment_id != establishment) and s.user_id not in excluded
    ]


def _gkey(group: Group) -> tuple[int, tuple[tuple[int, str], ...]]:
    return (-1 if group[0] is None else group[0], group[1])


def _check_totals(copies: list[CopyToPlace], seats: list[CorrectorSeat]) -> None:
    if not seats:
        raise DispatchImpossible([Reason("dispatch.impossible.no_corrector", {"copies": len(copies)})])
    free = sum(s.capacity - s.already for s in seats)
    if free < len(copies):
        raise DispatchImpossible(
            [Reason("dispatch.impossible.capacity", {"copies": len(copies), "free": max(free, 0)})]
        )


class _Flow:
    """Copies of each group held by each seat, with the room each seat has left."""

    def __init__(self, seats, groups, eligible, room):
        self.seats: list[CorrectorSeat] = seats
        self.eligible: dict[Group, list[int]] = eligible
        self.room: list[int] = list(room)
        self.left: list[int] = list(room)  # room not used yet
        # held[seat][group] = copy ids of that group the seat holds.
        self.held: list[dict[Group, list[str]]] = [defaultdict(list) for _ in seats]
        self.unplaced: dict[Group, list[str]] = {g: list(ids) for g, ids in groups.items()}

    def unplaced_count(self) -> int:
        return sum(len(v) for v in self.unplaced.values())

    def greedy(self, rng: random.Random) -> None:
        def slack(g):
            return sum(self.left[i] for i in self.eligible[g]) - len(self.unplaced[g])

        for g in sorted(self.unplaced, key=lambda g: (slack(g), _gkey(g))):
            order = list(self.eligible[g])
            rng.shuffle(order)
            ids = self.unplaced[g]
            # Each copy goes to the eligible seat with the most room left in proportion (the first
            # in the shuffled order among equals): a heap on (-score, place in the order), since
            # scanning every seat for every copy is copies × correctors (minutes for a national paper).
            heap = [(-self.left[i] / self.room[i], k, i) for k, i in enumerate(order) if self.left[i] > 0]
            heapq.heapify(heap)
            placed = 0
            for copy_id in ids:
                if not heap:
                    break
                _, k, best = heap[0]
                self.held[best][g].append(copy_id)
                self.left[best] -= 1
                placed += 1
                if self.left[best] > 0:
                    heapq.heapreplace(heap, (-self.left[best] / self.room[best], k, best))
                else:
                    heapq.heappop(heap)
            self.unplaced[g] = ids[placed:]

    def raise_room(self, room: list[int]) -> None:
        for i, value in enumerate(room):
            self.left[i] += max(0, value - self.room[i])
            self.room[i] = max(self.room[i], value)

    def augment(self) -> None:
        """Ford–Fulkerson on the group graph, one copy per augmenting path (BFS)."""
        while True:
            path = self._find_path()
            if path is None:
                return
            self._apply(path)

    def _find_path(self):
        # Nodes: ("g", group) and ("s", seat). Start from groups with unplaced copies.
        parent: dict[tuple, tuple | None] = {}
        queue: deque[tuple] = deque()
        for g, ids in self.unplaced.items():
            if ids:
                parent[("g", g)] = None
                queue.append(("g", g))
        self._reached = parent
        while queue:
            node = queue.popleft()
            if node[0] == "g":
                for i in self.eligible[node[1]]:
                    nxt = ("s", i)
                    if nxt not in parent:
                        parent[nxt] = node
                        if self.left[i] > 0:
                            return self._walk(parent, nxt)
                        queue.append(nxt)
            else:
                for g, ids in self.held[node[1]].items():
                    if ids and ("g", g) not in parent:
                        parent[("g", g)] = node
                        queue.append(("g", g))
        return None

    @staticmethod
    def _walk(parent, end):
        path = [end]
        while parent[path[-1]] is not None:
            path.append(parent[path[-1]])
        return list(reversed(path))  # group, seat, group, seat, ..., seat

    def _apply(self, path) -> None:
        # path = g0, s0, g1, s1, ..., gk, sk: a copy of g0 goes to s0; s0 hands a copy of g1 to s1...
        first_group = path[0][1]
        moving = self.unplaced[first_group].pop()
        for k in range(0, len(path), 2):
            g, seat = path[k][1], path[k + 1][1]
            self.held[seat][g].append(moving)
            if k + 2 < len(path):
                next_group = path[k + 2][1]
                moving = self.held[seat][next_group].pop()
        self.left[path[-1][1]] -= 1

    def by_seat(self) -> dict[int, list[str]]:
        return {i: [c for ids in by_group.values() for c in ids] for i, by_group in enumerate(self.held)}

    def explain(self, copies: list[CopyToPlace], names: dict[int, str]) -> list[Reason]:
        """Why the copies left cannot be placed: per group, its eligible correctors are full."""
        self._find_path()  # fills self._reached with the residual graph's source side
        centre_of = {c.copy_id: c.centre for c in copies}
        reasons = []
        for g, ids in sorted(self.unplaced.items(), key=lambda kv: _gkey(kv[0])):
            if not ids:
                continue
            group: object = Reason("dispatch.group.unknown")
            if g[0] is not None:
                group = names[g[0]] if g[0] in names else Reason("dispatch.group.number", {"id": g[0]})
            centres = Counter(centre_of[c] for c in ids)
            where = tuple(
                Reason("dispatch.from_centre", {"n": n, "centre": centre})
                for centre, n in sorted(centres.items())
            )
            sample = ", ".join(sorted(ids)[:5]) + (" …" if len(ids) > 5 else "")
            said = {"count": len(ids), "group": group, "where": where, "sample": sample}
            if not self.eligible[g] and g[1]:
                # Plain words for each corrector: why he may not take these copies.
                names_of = {s.user_id: s.name for s in self.seats}
                why = tuple(
                    Reason(key, {"corrector": names_of.get(uid, f"#{uid}"), "group": group})
                    for uid, key in g[1]
                    if uid in names_of
                ) + tuple(
                    Reason("conflict.teaches", {"corrector": s.name, "group": group})
                    for s in self.seats
                    if g[0] is not None and s.establishment_id == g[0] and s.user_id not in dict(g[1])
                )
                reasons.append(Reason("dispatch.impossible.incompatible", said | {"why": why}))
                continue
            if not self.eligible[g]:
                teachers = ", ".join(s.name for s in self.seats)
                reasons.append(
                    Reason("dispatch.impossible.no_possible_corrector", said | {"teachers": teachers})
                )
                continue
            reached = [i for (kind, i) in self._reached if kind == "s"]
            full = sorted({self.seats[i].name for i in reached})
            total = sum(self.room[i] for i in reached)
            reasons.append(
                Reason(
                    "dispatch.impossible.correctors_full",
                    said | {"correctors": ", ".join(full), "capacity": total},
                )
            )
        return reasons


# --- database side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedLot:
    lot_id: int
    number: int
    corrector_name: str
    copies: int


@dataclass(frozen=True)
class DispatchOutcome:
    paper_code: str
    seed: int
    lots: list[CreatedLot]
    held_back: list[str]  # copies not dispatched because their candidate is not known yet
    notes: list[str]

    @property
    def copies_dispatched(self) -> int:
        return sum(lot.copies for lot in self.lots)


def find_paper(session: Session, code: str, session_name: str | None = None) -> Paper:
    query = select(Paper).join(ExamSession).where(Paper.code == code.strip())
    if session_name:
        query = query.where(ExamSession.name == session_name)
    papers = list(session.scalars(query))
    if not papers:
        known = ", ".join(sorted(set(session.scalars(select(Paper.code))))) or "none yet"
        raise UserError(f"No paper has the code {code!r} (papers known: {known}).")
    if len(papers) > 1:
        raise UserError(f"Several sessions have a paper {code!r}: say which one with --session.")
    return papers[0]


def dispatch_paper(
    session: Session, paper: Paper, seed: int | None = None, actor: audit.Actor = audit.SYSTEM
) -> DispatchOutcome:
    """Dispatch the copies of `paper` that are in no lot yet, and commit the new lots.

    Copies whose candidate is not known (no IdentityLink) are held back: the établissement
    rule cannot be checked for them. They are placed by a later run once identified.
    """
    if seed is None:
        seed = secrets.randbelow(MAX_SEED)
    if not 0 <= seed <= MAX_SEED:
        raise UserError(f"The seed must be a whole number between 0 and {MAX_SEED}.")
    copies, held_back = _copies_to_place(session, paper.id)
    seats = _seats(session, paper.id)
    copies = _with_conflicts(session, copies, seats)
    names = {
        e.id: f"{e.name or 'établissement'} ({e.uai})".strip() for e in session.scalars(select(Establishment))
    }
    plan = plan_dispatch(copies, seats, seed, names)
    seat_names = {s.user_id: s.name for s in seats}
    next_number = (
        session.scalar(select(func.max(CorrectionLot.number)).where(CorrectionLot.paper_id == paper.id)) or 0
    ) + 1
    created: list[CreatedLot] = []
    try:
        lots: list[tuple[CorrectionLot, int, list[str]]] = []
        for user_id in sorted(plan.assignments, key=lambda u: (seat_names[u], u)):
            lot = CorrectionLot(paper_id=paper.id, corrector_id=user_id, number=next_number, seed=seed)
            session.add(lot)
            lots.append((lot, user_id, plan.assignments[user_id]))
            next_number += 1
        session.flush()  # every lot in one go (their ids come back together)
        # One bulk INSERT for every copy of every lot, batched by the driver: a statement, or a
        # database round trip, per copy or per lot would take minutes for a national paper.
        rows = [
            {"lot_id": lot.id, "copy_id": cid, "position": pos, "state": AssignmentState.ASSIGNED}
            for lot, _, ids in lots
            for pos, cid in enumerate(ids, start=1)
        ]
        if rows:  # an empty list would be one INSERT of nothing but defaults
            session.execute(insert(LotCopy).returning(LotCopy.id), rows)
        for lot, user_id, ids in lots:
            created.append(CreatedLot(lot.id, lot.number, seat_names[user_id], len(ids)))
            # Every assignment is traced, in the transaction that makes it.
            audit.record(
                session,
                actor,
                "dispatch.lot",
                "lot",
                lot.id,
                {
                    "paper": paper.code,
                    "number": lot.number,
                    "corrector_id": user_id,
                    "seed": seed,
                    "copies": ids,
                },
            )
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise UserError(
            f"Another dispatch of paper {paper.code} ran at the same time; nothing was changed by this one. "
            "Look at the lots, then run it again if copies are still waiting."
        ) from exc
    return DispatchOutcome(paper.code, seed, created, held_back, plan.notes)


def held_back_text(copy_ids: list[str]) -> str:
    sample = ", ".join(copy_ids[:10]) + (" …" if len(copy_ids) > 10 else "")
    return (
        f"{len(copy_ids)} copies were not dispatched because their candidate is not known yet ({sample}): "
        "the établissement rule cannot be checked for them. Resolve them, then dispatch again."
    )


def _copies_to_place(session: Session, paper_id: int) -> tuple[list[CopyToPlace], list[str]]:
    in_lots = select(LotCopy.copy_id)
    rows = session.execute(
        select(Copy.id, Centre.uai, IdentityLink.candidate_id, Candidate.establishment_id)
        .join(Centre, Centre.id == Copy.centre_id)
        .outerjoin(IdentityLink, IdentityLink.copy_id == Copy.id)
        .outerjoin(Candidate, Candidate.id == IdentityLink.candidate_id)
        .where(Copy.paper_id == paper_id)
        .where(Copy.id.not_in(in_lots))
        .order_by(Copy.id)
    ).all()
    copies, held_back = [], []
    for copy_id, centre_uai, candidate_id, establishment_id in rows:
        if candidate_id is None:
            held_back.append(copy_id)
        else:
            copies.append(CopyToPlace(copy_id, centre_uai, establishment_id))
    return copies, held_back


def _with_conflicts(
    session: Session, copies: list[CopyToPlace], seats: list[CorrectorSeat]
) -> list[CopyToPlace]:
    """Each copy with the correctors another conflict excludes (dispatch.conflicts)."""
    found = conflicts_for(session, [c.copy_id for c in copies], [s.user_id for s in seats])
    own = {s.user_id: s.establishment_id for s in seats}
    placed = []
    for copy in copies:
        why = found.get(copy.copy_id, {})
        # His own établissement is the plan's own rule already: only the other conflicts here.
        extra = tuple(
            sorted(
                (uid, key)
                for uid, key in why.items()
                if not (key == TEACHES and own.get(uid) is not None and own[uid] == copy.establishment_id)
            )
        )
        placed.append(replace(copy, excluded=extra) if extra else copy)
    return placed


def _seats(session: Session, paper_id: int) -> list[CorrectorSeat]:
    held = dict(
        session.execute(
            select(CorrectionLot.corrector_id, func.count(LotCopy.id))
            .join(LotCopy, LotCopy.lot_id == CorrectionLot.id)
            .where(CorrectionLot.paper_id == paper_id)
            .where(LotCopy.state == AssignmentState.ASSIGNED)
            .group_by(CorrectionLot.corrector_id)
        ).all()
    )
    rows = session.execute(
        select(User, CorrectorPaper.capacity)
        .join(CorrectorPaper, CorrectorPaper.user_id == User.id)
        .where(CorrectorPaper.paper_id == paper_id)
        .where(User.role == Role.CORRECTOR)
        .where(User.active.is_(True))
    ).all()
    return [
        CorrectorSeat(u.id, u.display_name or u.username, u.establishment_id, capacity, held.get(u.id, 0))
        for u, capacity in rows
    ]
