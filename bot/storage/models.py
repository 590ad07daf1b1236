"""Database tables. Everything about a person hangs off ``people`` and is
deleted with it (``ON DELETE CASCADE``), so erasing a person is one statement
and nothing is left behind.

A person row exists only after they agreed to the privacy notice: adapters
never create one before consent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, dt.datetime: DateTime(timezone=True)}


class Person(Base):
    """Someone who uses the companion, on one channel (Telegram, or a console profile)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    display_name: Mapped[str | None] = mapped_column(String(80), default=None)
    consented_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]
    active_flow: Mapped[str | None] = mapped_column(String(32), default=None)
    """The flow the person is in now; its in-progress run holds the position."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Bumped by every turn. A turn saves only if the version it read is still current,
    so two concurrent turns for one person cannot both win."""

    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_people_identity"),)


class Run(Base):
    """One go through a flow. Completed runs are kept as dated records; the summary uses the latest."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    flow_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    """in_progress, completed, or restarted (left for a fresh start; its answers are kept)."""
    position: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_runs_person_flow", "person_id", "flow_id"),
        # At most one run of a flow in progress per person.
        Index(
            "uq_runs_in_progress",
            "person_id",
            "flow_id",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
    )


class Answer(Base):
    """One answer: the flow, the step id (key), the value as JSON, and when it was given."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    flow_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(32))
    value: Mapped[Any] = mapped_column(JSON)
    answered_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("run_id", "key", name="uq_answers_run_key"),)


class ProcessedUpdate(Base):
    """Update ids already handled, so a redelivered message is handled once.

    Holds no personal data: just the channel and the platform's update id.
    """

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processed_at: Mapped[dt.datetime]
