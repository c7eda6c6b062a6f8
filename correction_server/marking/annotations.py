"""Annotation items: the vector layer a corrector draws over a page, kept as data.

Coordinates are fractions of the upright page (0..1 across, 0..1 down), so a layer stays in
place whatever size the page is displayed at and never touches the scanned image.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from massicot_core.errors import UserError

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
ItemId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
Colour = Literal["red", "green", "blue", "black", "yellow"]

# Bounds that keep one save small and the page fast to draw; far above real use.
MAX_ITEMS_PER_PAGE = 500
MAX_POINTS_PER_STROKE = 2000
MAX_TEXT = 1000


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: ItemId
    colour: Colour = "red"


class Pen(_Item):
    kind: Literal["pen"]
    points: list[tuple[Fraction, Fraction]] = Field(min_length=1, max_length=MAX_POINTS_PER_STROKE)
    width: Annotated[float, Field(gt=0, le=0.05)] = 0.003


class Tick(_Item):
    kind: Literal["tick"]
    x: Fraction
    y: Fraction
    colour: Colour = "green"


class Cross(_Item):
    kind: Literal["cross"]
    x: Fraction
    y: Fraction


class TextBox(_Item):
    kind: Literal["text"]
    x: Fraction
    y: Fraction
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class Highlight(_Item):
    kind: Literal["highlight"]
    x: Fraction
    y: Fraction
    w: Fraction
    h: Fraction
    colour: Colour = "yellow"


class CommentMark(_Item):
    """A comment of the bank placed on the page: only its id is stored, the text stays in the bank."""

    kind: Literal["comment"]
    x: Fraction
    y: Fraction
    comment_id: int


Item = Annotated[Pen | Tick | Cross | TextBox | Highlight | CommentMark, Field(discriminator="kind")]
_layer = TypeAdapter(list[Item])


def parse_layer(raw: list, page_label: str = "this page") -> list[Item]:
    """Validated items of one page, or a UserError saying which item is wrong."""
    if len(raw) > MAX_ITEMS_PER_PAGE:
        raise UserError(
            f"{page_label} has {len(raw)} annotations; at most {MAX_ITEMS_PER_PAGE} are kept per page. "
            "Erase some before adding more."
        )
    try:
        items = _layer.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"An annotation on {page_label} is not valid ({where}: {first['msg']}).") from exc
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise UserError(f"Two annotations on {page_label} share the id {item.id!r}.")
        seen.add(item.id)
    return items


def dump_layer(items: list[Item]) -> list[dict]:
    return [item.model_dump(mode="json") for item in items]


def comment_ids(items: list[Item]) -> list[tuple[str, int]]:
    """(item id, comment id) of every bank comment placed on the page."""
    return [(item.id, item.comment_id) for item in items if isinstance(item, CommentMark)]
