"""The operator's decisions on a lot: one service for the CLI and the review page.

Every decision is a journal entry with who and when; nothing is ever deleted: a discarded
or rescanned page stays in the lot's record with its reason. `fold_decisions` replays them
onto the received pages for grouping and reconciliation.

Actions:
  assign SOURCE COPY [--page N]   put a page in a copy (no --page: as an annex of that copy);
                                  the corrector-facing image is made then (masked when N is 1)
  discard SOURCE --reason TEXT    set a page (or an unreadable file) aside for good
  confirm-annex SOURCE            the page without a code attached to a copy really belongs to it
  label COPY CANDIDATE            record whose copy it is (label unreadable, missing, or wrong)
  mark-blank COPY|CANDIDATE       a blank copy (for a candidate: present, handed in nothing to scan)
  mark-absent COPY|CANDIDATE      an ABSENT copy (for a candidate: the roll was wrong, he was absent)
  mark-present CANDIDATE          the roll was wrong, he sat the paper
  mark-written COPY               the copy carries answers the scan did not see (not blank, not absent)
  join COPY [--to COPY]           an extra booklet (no label, no name) belongs to that copy: confirm
                                  the join the report proposes, or join an orphan booklet
  separate COPY                   that booklet is not an extra booklet: a copy on its own
  admit CANDIDATE --reason TEXT   a candidate not on the roll sat the paper here
  accept-incomplete COPY --reason the missing sheet really is not there
  rescan COPY                     set the copy's pages aside so that a new scan replaces them
  rescan-page COPY N              set one page aside so that a new scan of that sheet replaces it
                                  (the exam office's rescan request, `scanner.rescans`)
  history / undo ID --reason      list the decisions; cancel one (the undo is recorded too)
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass, replace

from massicot_core.errors import UserError
from massicot_core.identifiers import (
    COPY_ID_ALPHABET,
    COPY_ID_RANDOM_LENGTH,
    REGISTRATION_RE,
    check_character,
    is_copy_id,
)
from scanner.grouping import ScannedPage, group_pages
from scanner.lot import (
    Decision,
    Lot,
    LotState,
    PageRecord,
    now_utc,
    refuse_if_sealed,
    write_content_addressed,
)
from scanner.reconcile import CopyDecisions

ROTATIONS = (0, 90, 180, 270)


def default_actor() -> str:
    return os.environ.get("USER") or getpass.getuser() or "unknown"


def recorded_copy_id(secret: str, paper: str, candidate: str) -> str:
    """The id of a copy the lot records without a booklet (absent, blank).

    Keyed by the lot's secret so it is stable across runs yet cannot be guessed from the
    registration number (a copy id is an anonymity number).
    """
    digest = hmac.new(secret.encode(), f"{paper}/{candidate}".encode(), hashlib.sha256).digest()
    body = "".join(COPY_ID_ALPHABET[b % len(COPY_ID_ALPHABET)] for b in digest[:COPY_ID_RANDOM_LENGTH])
    return body + check_character(body)


# -- replaying decisions ----------------------------------------------------------------------


@dataclass
class _PageDecision:
    assigned_copy: str | None = None
    assigned_number: int | None = None
    assigned_rotation: int | None = None
    image: str | None = None
    image_sha256: str | None = None
    image_media_type: str | None = None
    discarded: str | None = None
    superseded: str | None = None


def fold_decisions(state: LotState) -> tuple[list[ScannedPage], CopyDecisions, dict[str, str]]:
    """Received pages with their decisions applied, copy decisions, and acknowledged unreadable files."""
    per_page: dict[str, _PageDecision] = {}
    copies = CopyDecisions()
    acknowledged: dict[str, str] = {}
    for decision in live_decisions(state):
        f = decision.fields
        action = decision.action
        if action in ("assign", "confirm-annex"):
            per_page[f["source"]] = _PageDecision(
                assigned_copy=f["copy"],
                assigned_number=f.get("number"),
                assigned_rotation=f.get("rotation"),
                image=f.get("image"),
                image_sha256=f.get("image_sha256"),
                image_media_type=f.get("media_type"),
            )
        elif action == "discard":
            if f.get("unreadable"):
                acknowledged[f["source"]] = f["reason"]
            else:
                per_page[f["source"]] = _PageDecision(discarded=f["reason"])
        elif action == "rescan":
            for key in f["sources"]:
                per_page[key] = _PageDecision(superseded=f"set aside: copy {f['copy']} was rescanned")
        elif action == "rescan-page":
            for key in f["sources"]:
                per_page[key] = _PageDecision(
                    superseded=f"set aside: page {f['number']} of copy {f['copy']} was rescanned"
                )
        elif action == "label":
            copies.labels[f["copy"]] = f["candidate"]
        elif action == "accept-incomplete":
            copies.accepted_incomplete[f["copy"]] = f["reason"]
        elif action == "admit":
            copies.admitted[f["candidate"]] = f["reason"]
        elif action == "join":
            copies.joined[f["copy"]] = f["to"]
            copies.separate.discard(f["copy"])
        elif action == "separate":
            copies.separate.add(f["copy"])
            copies.joined.pop(f["copy"], None)
        elif action in ("mark-blank", "mark-absent", "mark-present", "mark-written"):
            _fold_mark(copies, action, f)
    pages = [_scanned(record, per_page.get(record.key)) for record in state.pages_in_order()]
    return pages, copies, acknowledged


def _fold_mark(copies: CopyDecisions, action: str, f: dict) -> None:
    if "copy" in f:
        copy = f["copy"]
        chosen = {
            "mark-blank": copies.blank_copies,
            "mark-absent": copies.absent_copies,
            "mark-written": copies.written_copies,
        }[action]
        for marks in (copies.blank_copies, copies.absent_copies, copies.written_copies):
            marks.discard(copy)
        chosen.add(copy)
        return
    candidate = f["candidate"]
    copies.presence[candidate] = action != "mark-absent"
    if action == "mark-blank":
        copies.blank_candidates.add(candidate)
    else:
        copies.blank_candidates.discard(candidate)


def _scanned(record: PageRecord, decision: _PageDecision | None) -> ScannedPage:
    page = ScannedPage(
        source=record.source,
        order=record.order,
        analysis=record.analysis,
        key=record.key,
        image=record.image,
        image_sha256=record.image_sha256,
        image_media_type=record.image_media_type,
        error=record.error,
    )
    if decision is None:
        return page
    changes: dict = {"discarded": decision.discarded, "superseded": decision.superseded}
    if decision.assigned_copy:
        changes |= {
            "assigned_copy": decision.assigned_copy,
            "assigned_number": decision.assigned_number,
            "assigned_rotation": decision.assigned_rotation,
        }
        if decision.image:
            changes |= {
                "image": decision.image,
                "image_sha256": decision.image_sha256,
                "image_media_type": decision.image_media_type or "image/jpeg",
            }
    return replace(page, **changes)


# -- making decisions -------------------------------------------------------------------------


def _record(lot: Lot, action: str, by: str, **fields) -> None:
    entry = {"t": "decision", "action": action, "by": by or default_actor(), "at": now_utc(), **fields}
    entry["id"] = uuid.uuid4().hex[:8]  # what `scan resolve undo` names it by
    lot.append(entry)


def live_decisions(state: LotState) -> list[Decision]:
    """The decisions in force: every decision, less the undone ones (undo entries stay in the record)."""
    undone = {d.fields.get("decision") for d in state.decisions if d.action == "undo"}
    return [d for d in state.decisions if d.action != "undo" and d.fields.get("id") not in undone]


def decision_details(decision: Decision) -> str:
    """What a decision said, in `key=value` words (the image files it made left out)."""
    hidden = {"id", "image", "image_sha256", "media_type"}
    hidden |= {"source"} if "name" in decision.fields else set()
    return " ".join(f"{k}={v}" for k, v in decision.fields.items() if k not in hidden)


def undo(lot: Lot, decision_id: str, reason: str, by: str) -> str:
    if not reason.strip():
        raise UserError("say why the decision is undone (--reason): both stay in the lot's record")
    with lot.writing():
        state = _open_for_decision(lot)
        target = next((d for d in live_decisions(state) if d.fields.get("id") == decision_id), None)
        if target is None:
            raise UserError(
                f"no decision {decision_id!r} in force in this lot: `scan resolve history DIR` lists them"
            )
        _record(lot, "undo", by, decision=decision_id, reason=reason.strip())
    return f"decision {decision_id} ({target.action} by {target.by} at {target.at}) undone"


def _open_for_decision(lot: Lot) -> LotState:
    state = lot.state()
    refuse_if_sealed(state)
    return state


def _check_copy_id(copy: str) -> str:
    copy = copy.strip().upper()
    if not is_copy_id(copy):
        raise UserError(
            f"{copy!r} is not a copy number (9 characters, the last one a check character): "
            "copy it again from the sheet"
        )
    return copy


def _check_candidate(candidate: str) -> str:
    candidate = candidate.strip().upper()
    if not REGISTRATION_RE.match(candidate):
        raise UserError(f"{candidate!r} is not a registration number (4 to 16 letters or digits)")
    return candidate


def _copies_now(state: LotState) -> dict:
    pages, _, _ = fold_decisions(state)
    return group_pages(pages, state.info.paper).copies


def _corrector_image(lot: Lot, state: LotState, record: PageRecord, number: int | None, rotation: int):
    """Make and store the corrector-facing image of a page the operator identified."""
    if record.analysis is None or record.error:
        raise UserError(
            f"page {record.source} could not be analysed ({record.error or 'not analysed yet'}): "
            "rescan the sheet instead"
        )
    from paper.copy_model import load_model
    from scanner.masking import MaskingError
    from scanner.pages import corrector_image

    try:
        data, media_type = corrector_image(
            lot.source_page(record), record.analysis, number, rotation, load_model(state.info.model)
        )
    except MaskingError as exc:
        raise UserError(
            f"page {record.source} cannot be masked as a page 1 ({exc}): scan the sheet again"
        ) from None
    path, digest = write_content_addressed(lot.images_dir, data, media_type)
    return path, digest, media_type


def assign(lot: Lot, source: str, copy: str, number: int | None, rotation: int | None, by: str) -> str:
    copy = _check_copy_id(copy)
    if number is not None and not 1 <= number <= 999:
        raise UserError(f"page number {number} is not valid: give the number printed on the page")
    if rotation is not None and rotation not in ROTATIONS:
        raise UserError("rotation must be 0, 90, 180 or 270 (degrees clockwise to turn the page upright)")
    with lot.writing():
        state = _open_for_decision(lot)
        record = state.find_source(source)
        if number is not None:
            grouped = _copies_now(state).get(copy)
            taken = next((p for p in grouped.pages if p.number == number), None) if grouped else None
            if taken is not None and taken.page.key != record.key:
                raise UserError(
                    f"copy {copy} already has a page {number} ({taken.page.source}): "
                    "discard that one first if this one replaces it"
                )
        turn = rotation if rotation is not None else (record.analysis.rotation if record.analysis else 0)
        image, digest, media_type = _corrector_image(lot, state, record, number, turn)
        _record(
            lot,
            "assign",
            by,
            source=record.key,
            name=record.source,
            copy=copy,
            number=number,
            rotation=turn,
            image=image,
            image_sha256=digest,
            media_type=media_type,
        )
    where = f"page {number}" if number is not None else "an annex"
    return f"{record.source} is now {where} of copy {copy}"


def confirm_annex(lot: Lot, source: str, by: str) -> str:
    with lot.writing():
        state = _open_for_decision(lot)
        record = state.find_source(source)
        placed = next(
            (
                (copy_id, p)
                for copy_id, grouped in _copies_now(state).items()
                for p in grouped.pages
                if p.page.key == record.key
            ),
            None,
        )
        if placed is None or not placed[1].annex:
            raise UserError(
                f"{record.source} is not attached to any copy as an annex: "
                "use `scan resolve assign` to put it in a copy"
            )
        copy_id, page = placed
        image, digest, media_type = _corrector_image(lot, state, record, None, page.page.rotation)
        _record(
            lot,
            "confirm-annex",
            by,
            source=record.key,
            name=record.source,
            copy=copy_id,
            number=None,
            rotation=page.page.rotation,
            image=image,
            image_sha256=digest,
            media_type=media_type,
        )
    return f"{record.source} confirmed as an annex of copy {copy_id}"


def discard(lot: Lot, source: str, reason: str, by: str) -> str:
    reason = reason.strip()
    if not reason:
        raise UserError("say why the page is discarded (--reason), it is kept in the lot's record")
    with lot.writing():
        state = _open_for_decision(lot)
        if source in state.unreadable:
            _record(lot, "discard", by, source=source, unreadable=True, reason=reason)
            return f"{source} set aside: {reason}"
        record = state.find_source(source)
        _record(lot, "discard", by, source=record.key, name=record.source, reason=reason)
    return f"{record.source} discarded: {reason}"


def rescan(lot: Lot, copy: str, by: str) -> str:
    copy = _check_copy_id(copy)
    with lot.writing():
        state = _open_for_decision(lot)
        pages, _, _ = fold_decisions(state)
        grouping = group_pages(pages, state.info.paper)
        grouped = grouping.copies.get(copy)
        keys = [p.page.key for p in grouped.pages] if grouped else []
        # pages of this copy waiting as duplicates go too: the new scan replaces them all
        keys += [
            p.key
            for p in pages
            if p.analysis
            and p.analysis.copy_id == copy
            and p.key not in keys
            and not p.discarded
            and not p.superseded
            and not p.assigned_copy
        ]
        if not keys:
            raise UserError(f"copy {copy} has no page in this lot: nothing to rescan")
        _record(lot, "rescan", by, copy=copy, sources=keys)
    return (
        f"the {len(keys)} pages of copy {copy} are set aside (kept in the record); "
        "scan the copy again and import the new file"
    )


def label(lot: Lot, copy: str, candidate: str, by: str) -> str:
    copy, candidate = _check_copy_id(copy), _check_candidate(candidate)
    with lot.writing():
        state = _open_for_decision(lot)
        if copy not in _copies_now(state):
            raise UserError(f"copy {copy} has no page in this lot: check the number")
        _record(lot, "label", by, copy=copy, candidate=candidate)
    return f"copy {copy} recorded as the copy of candidate {candidate}"


def _copy_or_candidate(state: LotState, text: str) -> dict:
    text = text.strip().upper()
    if is_copy_id(text) and text in _copies_now(state):
        return {"copy": text}
    candidate = _check_candidate(text)
    known = {line.candidate for line in state.info.roll}
    if candidate not in known:
        raise UserError(f"{candidate} is neither a copy of this lot nor a candidate on its roll")
    return {"candidate": candidate}


def mark(lot: Lot, action: str, target: str, by: str, candidate: str | None = None) -> str:
    """mark-blank / mark-absent (a copy or a candidate), mark-present (a candidate),
    mark-written (a copy the scan read as blank or absent that does carry answers).

    `candidate` with a copy: whose copy it is, recorded with the mark (an ABSENT booklet has
    no label: the candidate's number is written on it by hand).
    """
    with lot.writing():
        state = _open_for_decision(lot)
        fields = _copy_or_candidate(state, target)
        if action == "mark-present" and "copy" in fields:
            raise UserError("mark-present takes a candidate's registration number, not a copy number")
        if action == "mark-written" and "copy" not in fields:
            raise UserError("mark-written takes a copy number of this lot (as the report shows it)")
        if candidate is not None:
            if "copy" not in fields:
                raise UserError("--candidate goes with a copy number, to say whose copy it is")
            _record(lot, "label", by, copy=fields["copy"], candidate=_check_candidate(candidate))
        _record(lot, action, by, **fields)
    what = fields.get("copy") and f"copy {fields['copy']}" or f"candidate {fields['candidate']}"
    whose = f" (candidate {candidate.strip().upper()})" if candidate else ""
    return f"{what}{whose}: {action.removeprefix('mark-')} recorded"


def accept_incomplete(lot: Lot, copy: str, reason: str, by: str) -> str:
    copy = _check_copy_id(copy)
    if not reason.strip():
        raise UserError("say why the copy is accepted with a page missing (--reason)")
    with lot.writing():
        state = _open_for_decision(lot)
        if copy not in _copies_now(state):
            raise UserError(f"copy {copy} has no page in this lot: check the number")
        _record(lot, "accept-incomplete", by, copy=copy, reason=reason.strip())
    return f"copy {copy} accepted as it is: {reason.strip()}"


def admit(lot: Lot, candidate: str, reason: str, by: str) -> str:
    candidate = _check_candidate(candidate)
    if not reason.strip():
        raise UserError("say why this candidate, not on the roll, sat the paper here (--reason)")
    with lot.writing():
        _open_for_decision(lot)
        _record(lot, "admit", by, candidate=candidate, reason=reason.strip())
    return f"candidate {candidate} recorded as having sat the paper here: {reason.strip()}"


def rescan_page(
    lot: Lot, copy: str, number: int, by: str, reason: str = "", new_files: frozenset[str] = frozenset()
) -> str:
    """Set page `number` of `copy` aside (kept in the record) so that a new scan of it replaces it.

    A page that came from one of `new_files` (file SHA-256s: the new scan itself, imported by an
    earlier run of the same rescan) is the replacement, and stays.
    """
    copy = _check_copy_id(copy)
    with lot.writing():
        state = _open_for_decision(lot)
        pages, _, _ = fold_decisions(state)
        grouping = group_pages(pages, state.info.paper)
        grouped = grouping.copies.get(copy)
        keys = (
            [
                p.page.key
                for p in grouped.pages
                if p.number == number and state.pages[p.page.key].file_sha256 not in new_files
            ]
            if grouped
            else []
        )
        if grouped is None:
            raise UserError(f"copy {copy} is not in this lot: check the lot folder and the copy number")
        # A page missing from the copy has nothing to set aside: the new scan simply adds it.
        _record(lot, "rescan-page", by, copy=copy, number=number, sources=keys, reason=reason)
    if keys:
        return (
            f"page {number} of copy {copy} set aside (kept in the record); import the new scan of that sheet"
        )
    return f"copy {copy} has no page {number} yet; import the scan of that sheet"


def proposed_joins(state: LotState):
    """The lot's continuation joins as the report shows them (scanner.continuation.Joins)."""
    from scanner.continuation import join_continuations
    from scanner.grouping import expected_page_count

    pages, decisions, _ = fold_decisions(state)
    grouping = group_pages(pages, state.info.paper)
    return join_continuations(
        grouping,
        expected_pages=expected_page_count(grouping, state.info.pages_per_copy),
        decided=decisions.joined,
        separate=decisions.separate,
        labelled=set(decisions.labels),
    )


def join(lot: Lot, copy: str, to: str | None, by: str) -> str:
    """Confirm an extra booklet's join to the copy the report proposes, or join it to `to`."""
    copy = _check_copy_id(copy)
    with lot.writing():
        state = _open_for_decision(lot)
        copies = _copies_now(state)
        if copy not in copies:
            raise UserError(f"booklet {copy} has no page in this lot: check the number")
        if to is None:
            to = proposed_joins(state).joined.get(copy)
            if to is None:
                raise UserError(
                    f"booklet {copy} is not proposed as an extra booklet of any copy: say which copy it "
                    f"belongs to (`massicot scan resolve join DIR {copy} --to COPY`)"
                )
        to = _check_copy_id(to)
        if to == copy or to not in copies:
            raise UserError(f"copy {to} has no page in this lot (or is the booklet itself): check the number")
        _record(lot, "join", by, copy=copy, to=to)
    return f"booklet {copy} joined to copy {to} as its extra booklet"


def separate(lot: Lot, copy: str, by: str) -> str:
    copy = _check_copy_id(copy)
    with lot.writing():
        state = _open_for_decision(lot)
        if copy not in _copies_now(state):
            raise UserError(f"booklet {copy} has no page in this lot: check the number")
        _record(lot, "separate", by, copy=copy)
    return f"booklet {copy} is a copy on its own (it still needs to say whose it is)"
