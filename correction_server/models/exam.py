"""Exam session, papers and their barème, centres, établissements, candidates and the roll."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from correction_server.db import Base, UtcDateTime
from massicot_core.identifiers import REGISTRATION_RE, UAI_RE


def check_uai(value: str) -> str:
    if not UAI_RE.match(value or ""):
        raise ValueError(f"UAI code {value!r} is not valid: 7 digits then a capital letter, e.g. 0130040Y")
    return value


def check_registration(value: str) -> str:
    if not REGISTRATION_RE.match(value or ""):
        raise ValueError(
            f"registration number {value!r} is not valid: 4 to 16 capital letters or digits, e.g. 02412345678"
        )
    return value


class ExamSession(Base):
    """Session d'examen, e.g. "BTS 2024 normale"."""

    __tablename__ = "exam_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    papers: Mapped[list[Paper]] = relationship(back_populates="session")


class Paper(Base):
    """Épreuve: one written paper of a session, with its barème."""

    __tablename__ = "paper"
    __table_args__ = (
        UniqueConstraint("session_id", "code"),
        CheckConstraint("max_mark > 0", name="max_mark_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    code: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200), default="")
    sitting_date: Mapped[date | None] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_mark: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(20))
    pages_per_copy: Mapped[int] = mapped_column(Integer, default=4)
    window_opens: Mapped[datetime | None] = mapped_column(UtcDateTime())
    window_closes: Mapped[datetime | None] = mapped_column(UtcDateTime())
    scheme_locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The office's date for the centres' pushes (003 §II.A): a centre with registered candidates
    # and nothing pushed by then is late.
    scan_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime())
    session: Mapped[ExamSession] = relationship(back_populates="papers")
    questions: Mapped[list[Question]] = relationship(
        back_populates="paper", order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(Base):
    """One line of the barème: a question with its maximum points and step."""

    __tablename__ = "question"
    __table_args__ = (
        UniqueConstraint("paper_id", "position"),
        CheckConstraint("max_points > 0", name="max_points_positive"),
        CheckConstraint("step IN (0.5, 1)", name="step_half_or_whole"),
        # Marks are given in whole or half points (fiche 5 §III), so a question's maximum is too.
        CheckConstraint("max_points * 2 = ROUND(max_points * 2)", name="max_points_half_points"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(80))
    max_points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    step: Mapped[Decimal] = mapped_column(Numeric(3, 1), default=Decimal("0.5"))
    paper: Mapped[Paper] = relationship(back_populates="questions")


class _SchoolByUai:
    """A school known by its UAI code: both kinds below are the same shape of record."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uai: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")

    @validates("uai")
    def _check_uai(self, _key: str, value: str) -> str:
        return check_uai(value)


class Centre(_SchoolByUai, Base):
    """Centre d'épreuve, identified by its UAI code."""

    __tablename__ = "centre"
    # Whom the office calls when the centre is late (a name, a telephone number, an address).
    contact: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Establishment(_SchoolByUai, Base):
    """Établissement d'origine (where a candidate studied, where a corrector teaches)."""

    __tablename__ = "establishment"


class Candidate(Base):
    __tablename__ = "candidate"
    id: Mapped[int] = mapped_column(primary_key=True)
    registration: Mapped[str] = mapped_column(String(16), unique=True)
    surname: Mapped[str] = mapped_column(String(120))
    given_names: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date | None] = mapped_column(Date)
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    # Where he sits in his centre (optional columns of the import), printed on the rolls.
    room: Mapped[str | None] = mapped_column(String(40))
    table_number: Mapped[str | None] = mapped_column(String(12))
    establishment: Mapped[Establishment | None] = relationship()
    centre: Mapped[Centre] = relationship()
    # The papers he is registered for, through the roll.
    roll: Mapped[list[RollEntry]] = relationship(back_populates="candidate", cascade="all, delete-orphan")

    @validates("registration")
    def _check_registration(self, _key: str, value: str) -> str:
        return check_registration(value)


class Attendance(enum.StrEnum):
    REGISTERED = "registered"
    PRESENT = "present"
    ABSENT = "absent"


class RollEntry(Base):
    """A candidate registered for a paper, and whether he sat it (émargement)."""

    __tablename__ = "roll_entry"
    __table_args__ = (UniqueConstraint("candidate_id", "paper_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    attendance: Mapped[Attendance] = mapped_column(
        Enum(Attendance, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=Attendance.REGISTERED,
    )
    candidate: Mapped[Candidate] = relationship(back_populates="roll")
    paper: Mapped[Paper] = relationship()
