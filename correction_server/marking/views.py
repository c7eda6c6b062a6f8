"""What the corrector's pages show, read for them: the home's lots, the copy view, a page to draw.

Read models only: the routes of correction_server.marking.web ask these and render. The copy
view and the page image are the hot routes (bench/marking_load.py): a handful of queries built
once with bound parameters, the corrector's visibility checked in the query that reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from correction_server.marking import comments
from correction_server.marking.flags import FlagView, open_flags_of
from correction_server.marking.reading import MarkingState, load_copy, read_state, scheme_of, state_of
from correction_server.marking.rules import MarkingClosed, Scheme, closed_refusal, fmt
from correction_server.models import Copy, Marking, Page, Paper, Role, User
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from correction_server.office.documents import kinds_of
from correction_server.pages import images as page_images

# ---------------------------------------------------------------- the corrector's home


@dataclass
class LotCopyRow:
    copy_id: str
    status: str  # "todo", "draft", "marked", or "flagged" (waiting for the office: out of the to-do)
    mark_20: str


@dataclass
class LotView:
    lot_id: int
    number: int
    paper_id: int
    paper_code: str
    paper_title: str
    closes: datetime | None
    closed_reason: str | None
    rows: list[LotCopyRow]

    @property
    def marked(self) -> int:
        return sum(1 for r in self.rows if r.status == "marked")

    @property
    def next_copy(self) -> str | None:
        return next((r.copy_id for r in self.rows if r.status not in ("marked", "flagged")), None)


def lots_of(session: Session, user: User, now: datetime, lang: str) -> list[LotView]:
    """The corrector's lots, each with its copies' states, and why marks are closed (in `lang`)."""
    lots = session.execute(
        select(CorrectionLot, Paper)
        .join(Paper, Paper.id == CorrectionLot.paper_id)
        .where(CorrectionLot.corrector_id == user.id)
        .order_by(Paper.code, CorrectionLot.number)
    ).all()
    views = []
    for lot, paper in lots:
        rows = session.execute(
            select(LotCopy.copy_id, Marking.status, Marking.mark_20, Marking.special, Copy.flagged)
            .join(Copy, Copy.id == LotCopy.copy_id)
            .outerjoin(Marking, Marking.copy_id == LotCopy.copy_id)
            .where(LotCopy.lot_id == lot.id, LotCopy.state == AssignmentState.ASSIGNED)
            .order_by(LotCopy.position)
        ).all()
        closed = closed_refusal(paper, now)
        views.append(
            LotView(
                lot_id=lot.id,
                number=lot.number,
                paper_id=paper.id,
                paper_code=paper.code,
                paper_title=paper.title,
                closes=paper.window_closes,
                closed_reason=closed.words(lang) if closed else None,
                rows=[
                    LotCopyRow(
                        copy_id,
                        "flagged" if flagged else "todo" if status is None else status.value,
                        special.value if special else fmt(mark_20) if mark_20 is not None else "",
                    )
                    for copy_id, status, mark_20, special, flagged in rows
                ],
            )
        )
    return views


# ---------------------------------------------------------------- the copy view


@dataclass(frozen=True)
class PageRef:
    id: int
    position: int
    written: bool | None = None  # False: the station found nothing written on it ("page left blank")


# Built once, with bound parameters (see correction_server.marking.reading: building them costs
# more than running them).
_LOT_OF_COPY = (
    select(LotCopy.lot_id)
    .where(LotCopy.copy_id == bindparam("copy_id"), LotCopy.state == AssignmentState.ASSIGNED)
    .scalar_subquery()
)
_NEIGHBOURS = (
    select(LotCopy.copy_id, LotCopy.lot_id)
    .where(LotCopy.lot_id == _LOT_OF_COPY, LotCopy.state == AssignmentState.ASSIGNED)
    .order_by(LotCopy.position)
)
_PAGES = (
    select(Page.copy_id, Page.id, Page.position, Page.written)
    .where(Page.copy_id.in_(bindparam("copy_ids", expanding=True)))
    .order_by(Page.copy_id, Page.position)
)
_PAGE = select(Page).where(Page.id == bindparam("page_id"))
_OWN_PAGE = _PAGE.where(
    exists()
    .where(LotCopy.copy_id == Page.copy_id, LotCopy.state == AssignmentState.ASSIGNED)
    .where(CorrectionLot.id == LotCopy.lot_id, CorrectionLot.corrector_id == bindparam("corrector_id"))
)


def _lot_neighbours(session: Session, copy_id: str) -> tuple[list[str], int | None]:
    """The copies of the lot holding `copy_id`, in slip order, and the lot id (one query)."""
    rows = session.execute(_NEIGHBOURS, {"copy_id": copy_id}).all()
    if not rows:
        return [copy_id], None
    return [r.copy_id for r in rows], rows[0].lot_id


def _pages_of(session: Session, copy_ids: list[str]) -> dict[str, list[PageRef]]:
    """Pages of a few copies (this one and the next, pre-fetched), in order, in one query."""
    found: dict[str, list[PageRef]] = {c: [] for c in copy_ids}
    for copy_id, page_id, position, written in session.execute(_PAGES, {"copy_ids": copy_ids}):
        found[copy_id].append(PageRef(page_id, position, written))
    return found


def marking_owner(session: Session, copy_id: str) -> int:
    """Whose comment bank a copy's comments come from, for a coordinator reading it."""
    return session.scalar(select(Marking.corrector_id).where(Marking.copy_id == copy_id)) or 0


def image_url(page_id: int, width: int) -> str:
    return f"/marking/pages/{page_id}/image?w={width}"


@dataclass
class CopyPage:
    """Everything the copy view shows, read before the session is given back."""

    copy: Copy
    paper: Paper
    scheme: Scheme
    state: MarkingState
    mine: bool  # the corrector holding the copy (anyone else only reads it)
    closed: MarkingClosed | None  # why marks are not accepted now
    lot_copies: list[str]  # the lot's copies in slip order
    lot_id: int | None
    pages: list[PageRef]
    next_pages: list[PageRef]  # the next copy's, for the browser to fetch ahead
    bank: list[comments.BankEntry]
    texts: dict[int, str]  # every comment the copy may show, retired ones included
    documents: tuple[str, ...] = ()  # the paper's subject / model answer, when uploaded
    flags: list[FlagView] = field(default_factory=list)  # waiting for the office (a flagged copy)
    width: int = page_images.DEFAULT_WIDTH

    @property
    def flagged(self) -> bool:
        return bool(self.copy.flagged)

    @property
    def index(self) -> int:
        return self.lot_copies.index(self.copy.id)

    @property
    def prev_id(self) -> str | None:
        return self.lot_copies[self.index - 1] if self.index > 0 else None

    @property
    def next_id(self) -> str | None:
        index = self.index
        return self.lot_copies[index + 1] if index + 1 < len(self.lot_copies) else None

    @property
    def editable(self) -> bool:
        return self.mine and self.closed is None and not self.copy.flagged

    def boot(self, lang: str) -> dict[str, object]:
        """What the page's script starts from."""
        return {
            "copy_id": self.copy.id,
            "copy_status": self.copy.status.value,
            "paper_id": self.paper.id,
            "editable": self.editable,
            "state": self.state.to_json(),
            "questions": [
                {"id": q.id, "label": q.label, "max": float(q.max_points), "step": float(q.step)}
                for q in self.scheme.questions
            ],
            "scheme_total": float(self.scheme.total),
            "bank": [e.to_json() for e in self.bank],
            "texts": {str(k): v for k, v in self.texts.items()},
            "pages": [{"id": p.id, "position": p.position} for p in self.pages],
            "prev": self.prev_id,
            "next": self.next_id,
            "next_images": [image_url(p.id, self.width) for p in self.next_pages],
            "home": "/marking" if self.mine else "/home",
            "lang": lang,
        }


def copy_page(session: Session, user: User, copy_id: str, now: datetime) -> CopyPage | None:
    """The copy view's content; for a corrector, None unless the copy is in his lots now (his
    visibility is checked in the query that reads the copy). Others' access is the route's check."""
    mine = user.role == Role.CORRECTOR
    found = load_copy(session, copy_id, user.id if mine else None)
    if found is None:
        return None
    copy, paper, row = found
    scheme = scheme_of(session, paper)
    state = state_of(session, copy, row, scheme)
    ids, lot_id = _lot_neighbours(session, copy_id)
    index = ids.index(copy_id)
    next_id = ids[index + 1] if index + 1 < len(ids) else None
    pages_by_copy = _pages_of(session, [copy_id] + ([next_id] if next_id else []))
    if mine:
        # Retired entries too: copies keep showing the comments they use.
        entries = comments.bank(session, user, paper.id, include_retired=True)
        bank = [e for e in entries if not e.retired]
        texts = {e.id: e.text for e in entries}
    else:
        bank = []
        texts = comments.texts(session, marking_owner(session, copy_id), paper.id)
    return CopyPage(
        copy=copy,
        paper=paper,
        scheme=scheme,
        state=state,
        mine=mine,
        closed=closed_refusal(paper, now),
        lot_copies=ids,
        lot_id=lot_id,
        pages=pages_by_copy[copy_id],
        next_pages=pages_by_copy[next_id] if next_id else [],
        bank=bank,
        texts=texts,
        documents=kinds_of(session, paper.id),
        # Read only for a copy waiting for the office: the copy row says so, at no extra query.
        flags=open_flags_of(session, copy_id) if copy.flagged else [],
    )


def state_of_copy(session: Session, copy_id: str) -> MarkingState:
    """The marking state of a copy the caller may already see."""
    return read_state(session, session.get(Copy, copy_id))


# ---------------------------------------------------------------- a page image


def page_to_show(session: Session, page_id: int, corrector_id: int | None) -> Page | None:
    """The page; with `corrector_id`, only if its copy is in that corrector's lots (one query)."""
    if corrector_id is not None:
        return session.scalar(_OWN_PAGE, {"page_id": page_id, "corrector_id": corrector_id})
    return session.scalar(_PAGE, {"page_id": page_id})
