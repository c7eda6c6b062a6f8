"""The exam office's own records: its settings (the session's time zone) and its background
actions (an import, a dispatch, a purge), with their progress and outcome."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from correction_server.db import Base, UtcDateTime


class OfficeSetting(Base):
    """One setting of the server chosen by the office, by key (e.g. `time_zone`)."""

    __tablename__ = "office_setting"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ActionState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class OfficeAction(Base):
    """A long office action run in the background: what, on what, how far, how it ended, who."""

    __tablename__ = "office_action"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default=ActionState.QUEUED.value)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    # The result in plain words, in the language of whoever started it.
    outcome: Mapped[str] = mapped_column(Text, default="")
    succeeded: Mapped[bool | None] = mapped_column(Boolean)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # "<kind>:<target>" while queued or running, NULL once done: the unique constraint is what
    # stops a second click (or a second server process) from starting the same action twice.
    running_key: Mapped[str | None] = mapped_column(String(260), unique=True)
