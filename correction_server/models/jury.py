"""What the jury and the office decide around the marks, kept beside them (rules 18–24 of DOMAIN.md).

- FraudReport: the procès-verbal de suspicion de fraude drawn up with a hold (who, when, what
  was seized, an attached file kept in the page store by its SHA-256), and how it ended.
- PaperVoid: a paper declared void for a candidate after a fraud procedure (nullité: he "est
  réputé présent sans l'avoir subie").
- AbsenceJustification: the office's record that an AB copy's absence is justified (mark 0,
  listed for the replacement session), with its evidence.
- HarmonisationMeeting: the meeting after marking, without which a paper's marks are not
  exported for the jury; HarmonisationRule: a change it decided (one copy, or a rule over a set);
  HarmonisedMark: each mark a rule changed, before and after.
- JuryMeeting: a deliberation (marks frozen after it) or a reconvened jury (they thaw).
- PaperPayLevel, SessionPayRates, WorkConfirmation: payment by exam level, and the confirmation
  that a corrector's work was done before his line is payable.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base, UtcDateTime


class FraudReport(Base):
    __tablename__ = "fraud_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("hold.id"), unique=True)
    # The paper the suspicion is about; None: every paper of the candidate is held.
    paper_id: Mapped[int | None] = mapped_column(ForeignKey("paper.id"), index=True)
    written_by: Mapped[str] = mapped_column(String(200))
    written_at: Mapped[datetime] = mapped_column(UtcDateTime())
    seized: Mapped[str] = mapped_column(Text, default="")
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(200), default="")
    # "released" or "void" once the procedure is over.
    outcome: Mapped[str | None] = mapped_column(String(16))


class PaperVoid(Base):
    __tablename__ = "paper_void"
    __table_args__ = (UniqueConstraint("candidate_id", "paper_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("hold.id"))
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class AbsenceJustification(Base):
    __tablename__ = "absence_justification"
    __table_args__ = (UniqueConstraint("candidate_id", "paper_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    evidence: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(200), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class HarmonisationMeeting(Base):
    __tablename__ = "harmonisation_meeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[str] = mapped_column(Text)
    minutes: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class HarmonisationRule(Base):
    __tablename__ = "harmonisation_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("harmonisation_meeting.id"), index=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "copy", "corrector" or "all"
    copy_id: Mapped[str | None] = mapped_column(ForeignKey("copy.id"))
    corrector_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    delta: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # points out of 20 added
    set_mark: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # one copy: its new mark
    reason: Mapped[str] = mapped_column(Text)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class HarmonisedMark(Base):
    """One mark a harmonisation rule changed. Rows are only added: the latest per copy counts."""

    __tablename__ = "harmonised_mark"
    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("harmonisation_rule.id"), index=True)
    copy_id: Mapped[str] = mapped_column(ForeignKey("copy.id"), index=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    corrector_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    before: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    after: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class JuryMeeting(Base):
    __tablename__ = "jury_meeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "deliberation" or "reconvened"
    held_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class PaperPayLevel(Base):
    __tablename__ = "paper_pay_level"
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), unique=True)
    level: Mapped[str] = mapped_column(String(16))  # "bac", "iv" or "v"


class SessionPayRates(Base):
    __tablename__ = "session_pay_rates"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), unique=True)
    rates: Mapped[dict] = mapped_column(JSON, default=dict)  # level -> euros per copy, as text
    # How much a second reading counts, in copies (1: like a copy, 0: not paid).
    second_reading_weight: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal(1))


class WorkConfirmation(Base):
    __tablename__ = "work_confirmation"
    __table_args__ = (UniqueConstraint("paper_id", "corrector_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id"), index=True)
    corrector_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    capacity: Mapped[str] = mapped_column(String(24))  # "head_of_centre" or "coordinator"
    confirmed_by: Mapped[str] = mapped_column(String(200))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
