"""What a corrector records on a copy: marks per question, appreciation, annotations, comments.

A copy has one Marking row whose `version` grows by one at every accepted save: a save that
carries an older version is refused (optimistic concurrency), so two tabs never overwrite
each other silently.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from correction_server.db import Base, UtcDateTime


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class MarkingStatus(enum.StrEnum):
    DRAFT = "draft"  # something entered, not complete yet
    MARKED = "marked"  # every question marked and an appreciation written (or AB / 00 confirmed)


class SpecialMark(enum.StrEnum):
    ABSENT = "AB"  # only for a copy recorded absent at the centre; eliminates the candidate
    BLANK = "00"  # only for a copy recorded blank at the centre


class Marking(Base):
    __tablename__ = "marking"
    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"), unique=True)
    corrector_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[MarkingStatus] = mapped_column(_enum(MarkingStatus), default=MarkingStatus.DRAFT)
    special: Mapped[SpecialMark | None] = mapped_column(_enum(SpecialMark))
    appreciation: Mapped[str] = mapped_column(Text, default="")
    # Sum of the question marks entered so far, on the barème's scale, and converted to 20.
    total: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    mark_20: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    marked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    question_marks: Mapped[list[QuestionMark]] = relationship(
        back_populates="marking", cascade="all, delete-orphan"
    )
    layers: Mapped[list[AnnotationLayer]] = relationship(
        back_populates="marking", cascade="all, delete-orphan"
    )
    comment_uses: Mapped[list[CommentUse]] = relationship(
        back_populates="marking", cascade="all, delete-orphan", order_by="CommentUse.position"
    )


class QuestionMark(Base):
    __tablename__ = "question_mark"
    __table_args__ = (UniqueConstraint("marking_id", "question_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    marking_id: Mapped[int] = mapped_column(ForeignKey("marking.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    marking: Mapped[Marking] = relationship(back_populates="question_marks")


class AnnotationLayer(Base):
    """The vector layer drawn over one page: a JSON list of items, never burnt into the scan."""

    __tablename__ = "annotation_layer"
    __table_args__ = (UniqueConstraint("marking_id", "page_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    marking_id: Mapped[int] = mapped_column(ForeignKey("marking.id", ondelete="CASCADE"))
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id"))
    items: Mapped[list] = mapped_column(JSON, default=list)
    marking: Mapped[Marking] = relationship(back_populates="layers")


class Comment(Base):
    """One entry of a comment bank: a corrector's own, or shared by the coordinator of the paper."""

    __tablename__ = "comment"
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    # A comment already used on copies is retired rather than deleted: the copies keep it.
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class CommentUse(Base):
    """A bank comment placed on a copy (page_id None: under the appreciation) or on a page.

    It references the bank entry instead of copying its text, so editing the entry changes
    every copy where it is used.
    """

    __tablename__ = "comment_use"
    __table_args__ = (UniqueConstraint("marking_id", "item_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    marking_id: Mapped[int] = mapped_column(ForeignKey("marking.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("page.id"))
    # The annotation item id for a comment placed on a page, "copy:<n>" for one under the appreciation.
    item_key: Mapped[str] = mapped_column(String(48))
    position: Mapped[int] = mapped_column(Integer, default=0)
    marking: Mapped[Marking] = relationship(back_populates="comment_uses")
    comment: Mapped[Comment] = relationship()
