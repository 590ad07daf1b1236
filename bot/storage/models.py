"""Database tables. Everything about a person hangs off ``people`` and is
deleted with it (``ON DELETE CASCADE``), so erasing a person is one statement
and nothing is left behind. The exception is the audit trail (``access_log``),
which names people only by pseudonymous id and is kept (see AccessLog).

A person row exists only after they agreed to the privacy notice: adapters
never create one before consent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    # Every model is mapped to a plain Table; saying so lets Core statements
    # (insert, update, delete) on ``Model.__table__`` type-check.
    __table__: ClassVar[Table]

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        dt.datetime: DateTime(timezone=True),
    }


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

    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_people_identity"),
        # Never reuse the id of someone who was deleted: anything still naming
        # that id (a share, a colleague's unfinished notes) must never reach
        # whoever signs up next. PostgreSQL's sequences never reuse ids anyway.
        {"sqlite_autoincrement": True},
    )


class Run(Base):
    """One go through a flow. Completed runs are kept as dated records; the summary uses the latest."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    flow_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    """in_progress, completed, restarted (left for a fresh start; its answers are kept), or withdrawn
    (about someone who stopped sharing before it was finished: a draft only its writer sees)."""
    position: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    about_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), default=None, index=True
    )
    """The person this run is about when that is not its owner (a care coordinator's
    notes with someone): when that person is erased, the run goes with them."""

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


class AnswerMark(Base):
    """Something about an answer the clinician should see first, e.g. that the person
    wrote they have stopped a medicine ("stopping_medicine"). Holds no text."""

    __tablename__ = "answer_marks"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    mark: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    marked_at: Mapped[dt.datetime]


class SafetyRecord(Base):
    """What the safety policy remembers about a person between messages (flows.safety.SafetyState):
    when recent signs were seen, whether the safety question is resting, when the
    not-suddenly message was last shown. Times only, never what the person wrote."""

    __tablename__ = "safety_states"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime]


class ProcessedUpdate(Base):
    """Update ids already handled, so a redelivered message is handled once.

    Holds no personal data: just the channel and the platform's update id.
    """

    __tablename__ = "processed_updates"
    # On SQLite, rows live in the primary key's own B-tree: one page written per
    # claim instead of two (the table and its key index).
    __table_args__ = ({"sqlite_with_rowid": False},)

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processed_at: Mapped[dt.datetime]


class UpdateSeen(Base):
    """An update a bot process has received: in flight until handled (``done_at`` empty),
    then kept for a short while as seen. Telegram numbers a bot's updates one after
    another, so a gap in the ids seen is an update still on its way. A later update of
    the same person waits for a gap below it to fill and for a lower one of theirs in
    flight to be handled (bot/services/ordering.py), whichever process holds it: that is
    how several webhook processes keep one person's updates in Telegram's order.

    Each arrival is a row of its own (the same update can reach two processes). Holds no
    personal data: the channel, the update id and a bucket of the person's channel id
    (one of 2**20, so some ten thousand Telegram accounts share each), never the id
    itself, so nothing identifies someone who has not agreed to anything yet.
    """

    __tablename__ = "updates_seen"
    __table_args__ = (
        Index("ix_updates_seen_person", "channel", "person_bucket", "update_id"),
        Index("ix_updates_seen_id", "channel", "update_id"),
        Index("ix_updates_seen_arrived", "channel", "arrived_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[int] = mapped_column(BigInteger)
    person_bucket: Mapped[int] = mapped_column(Integer)
    """-1 for an id given up on (never arrived): counted as seen, nobody's."""
    arrived_at: Mapped[dt.datetime]
    done_at: Mapped[dt.datetime | None]


# --------------------------------------------------------------------------- roles, sharing, groups, reminders
# Everything below hangs off ``people`` with ON DELETE CASCADE, so erasing a
# person erases their roles, shares, codes, groups, memberships, appointments
# and reminders in the same statement.


class RoleInvite(Base):
    """A one-time invite that grants a role when opened. Only a hash of the token is kept."""

    __tablename__ = "role_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    redeemed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), default=None)


class RoleGrant(Base):
    """A role someone holds: coordinator or facilitator (service user is everyone)."""

    __tablename__ = "roles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_at: Mapped[dt.datetime]


class ShareCode(Base):
    """A single-use code a person gives their coordinator. Only a salted, slow hash is kept
    (bot/roles/tokens.code_digest), so a stolen database does not give the codes away."""

    __tablename__ = "share_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class InstallSecret(Base):
    """A random value made once per database, e.g. the salt of share-code hashes. Never a person's data."""

    __tablename__ = "install_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class CodeFailure(Base):
    """One wrong code entered by an account; counted to slow guessing down."""

    __tablename__ = "code_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    failed_at: Mapped[dt.datetime]


class Share(Base):
    """A person lets a coordinator see their summary, until they revoke it."""

    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index(
            "uq_shares_live",
            "person_id",
            "coordinator_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )


class AccessLog(Base):
    """Who looked at whose data, what kind of access, when, and whether it was allowed. Never content.

    The one table that does not hang off ``people``: its ids are pseudonyms
    (people's internal ids, never reused, never a Telegram id) with no foreign
    key, so a row outlives the account of its actor and of its subject, and an
    investigation can still read "person 17 viewed person 42's summary" after
    either erased their data. Append-only: the application only inserts, and
    triggers refuse UPDATE and DELETE (bot/storage/audit.py). An actor of None
    is the operator, through the command line.
    """

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(32))
    allowed: Mapped[bool]
    at: Mapped[dt.datetime]


class Group(Base):
    """A facilitator's training group."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64))
    join_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    leads: Mapped[list[str]] = mapped_column(JSON)
    """When session reminders go out, e.g. ["d1", "m120"]: the day before and two hours before."""
    created_at: Mapped[dt.datetime]


class GroupMember(Base):
    """A person who joined a group after agreeing to what membership means."""

    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True)
    consented_at: Mapped[dt.datetime]
    muted: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str | None] = mapped_column(String(64), default=None)
    """The first name the facilitator sees (as Telegram gave it when the person agreed to join)."""


class GroupSession(Base):
    """One meeting of a group, at a local date and time in the group's time zone."""

    __tablename__ = "group_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    local_start: Mapped[str] = mapped_column(String(16))
    """ISO local date and time, e.g. 2026-03-29T18:00, in the group's time zone."""
    starts_at: Mapped[dt.datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    place: Mapped[str | None] = mapped_column(String(300), default=None)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How often it was moved or cancelled: the calendar file's SEQUENCE, so a calendar updates its entry."""


class SessionAttendance(Base):
    """A member the facilitator ticked as having come to a session."""

    __tablename__ = "session_attendance"

    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True)
    marked_at: Mapped[dt.datetime]


class SessionFeedback(Base):
    """A member's answers to the optional questionnaire after a session.

    The person id is kept only so the row is erased with the person and given
    once per session; reports read the answers and never the person id."""

    __tablename__ = "session_feedback"

    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    given_at: Mapped[dt.datetime]


class GroupMessage(Base):
    """A facilitator's message to their whole group; reminder rows deliver it to each member."""

    __tablename__ = "group_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime]


class Appointment(Base):
    """A service user's next appointment, for their own reminders."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    local_start: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[dt.datetime]
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Reminder(Base):
    """A message due at a time (UTC). The dispatcher claims it with a lease, then sends it.

    Claimable when pending, due, and not under a live lease. Marked sent only
    after the sender reported success; a crash after claiming leaves the lease
    to expire, and then another dispatcher takes it again.
    """

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    """What it is about, e.g. "appointment:12" or "session:5"."""
    lead: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    """After this it is no use any more (the event passed): dropped, not sent."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending, sent, dropped, blocked or failed."""
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    claim_token: Mapped[str | None] = mapped_column(String(32), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("person_id", "source", "lead", name="uq_reminders_person_source_lead"),
        Index("ix_reminders_status_due", "status", "due_at"),
    )


class BlockedChat(Base):
    """A person whose chat refused our messages (they blocked the bot). Not retried until they write again."""

    __tablename__ = "blocked_chats"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    blocked_at: Mapped[dt.datetime]


class ChatPace(Base):
    """When a chat may next get a message (Telegram: about one a second per chat), shared by every dispatcher."""

    __tablename__ = "chat_pace"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)


class SendPace(Base):
    """The bot-wide send pace (Telegram: about 30 messages a second), shared by every dispatcher.

    One row per bot; ``next_at`` (Unix seconds) is the earliest time the next
    message may go. Each send reserves a slot and moves it on by one interval.
    """

    __tablename__ = "send_pace"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)


class SendPermit(Base):
    """One of the bot's N send permits (N = 30): a send holds one from hand-over until a
    second after the platform answered, so no one-second window can hold more than N arrivals,
    however late a process or the network is. Shared by every dispatcher."""

    __tablename__ = "send_permits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    free_at: Mapped[float] = mapped_column(Float)


class OutgoingMessage(Base):
    """What the companion says as the result of one turn, written in that turn's transaction.

    The turn's commit and this row are one: whatever was saved, what the person is
    to be told about it is saved too, and is delivered after the commit (at once
    for a person who is waiting, else by the sender loop, in ``id`` order per chat,
    with retries). ``body`` is the channel-neutral reply (bot/services/outbox.py)
    and ``shown_before`` the position the person was on when they acted; both
    can quote what the person wrote, so both are cleared once the row is settled
    (delivered, undeliverable or replaced), leaving only what orders and audits it.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat: Mapped[str] = mapped_column(String(64))
    update_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    state: Mapped[str] = mapped_column(String(16))
    """pending, delivered, undeliverable (blocked, chat gone, or given up) or replaced."""
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    shown_before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    sent_parts: Mapped[int] = mapped_column(Integer, default=0)
    """Messages of this reply the channel already accepted (a retry goes on from there)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[float] = mapped_column(Float)
    """Unix seconds: not tried again before then."""
    lease_until: Mapped[float] = mapped_column(Float)
    """Unix seconds: a process is sending it until then (the one that committed it, at first)."""
    created_at: Mapped[dt.datetime]
    settled_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_outbox_pending", "state", "channel", "chat", "id"),)
