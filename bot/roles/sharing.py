"""Sharing a summary with a care coordinator: the person decides, and can stop it at once.

- The person makes a code (8 characters, single-use, valid 24 hours); making
  a new one cancels any code of theirs not yet used.
- A coordinator (the role, granted by invite) enters it, which links them.
  Wrong codes are counted per account: after :data:`MAX_FAILURES` within
  :data:`FAILURE_WINDOW` every code is refused, right or wrong, until the
  window passes; and across all accounts (:data:`MAX_GLOBAL_FAILURES`, logged
  as a warning when it trips). Counting and recording are one step (a lock),
  so simultaneous guesses cannot all pass the count. The answer never says whether a code exists, was used or
  expired: all are simply "that code did not work".
  With 27⁸ ≈ 2.8 × 10¹¹ codes, 5 guesses an hour per account, and accounts
  that only an operator's invite can create, guessing is not feasible.
- Every look at another person's data goes through :func:`access`, which
  checks a live share and the coordinator role *now* (never ids from a
  button) and writes an audit row: who, what, whom, when, allowed or not.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from bot.reminders.schedule import as_utc
from bot.roles import grants, tokens
from bot.storage.models import AccessLog, CodeFailure, InstallSecret, Person, Share, ShareCode

CODE_VALID_FOR = dt.timedelta(hours=24)
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(hours=1)
MAX_GLOBAL_FAILURES = 50
"""Wrong codes from all accounts together within FAILURE_WINDOW, after which every code is refused
for everyone until the window passes (and the operator is told in the log): many accounts cannot
add up their guesses."""
_GUESS_LOCK = 0x5DC0DE
"""PostgreSQL advisory lock that makes counting and recording wrong codes one step across processes."""

log = logging.getLogger(__name__)

codes = ShareCode.__table__
failures = CodeFailure.__table__
shares = Share.__table__
access_log = AccessLog.__table__
people = Person.__table__
secrets = InstallSecret.__table__
_CODE_SALT = "share_code_salt"


class AccessDenied(Exception):
    """No live share (or no coordinator role) for this access. Already written to the audit log."""


@dataclass(frozen=True, slots=True)
class LinkResult:
    status: Literal["linked", "invalid", "too_many_tries", "not_allowed"]
    person_id: int | None = None


@dataclass(frozen=True, slots=True)
class Viewer:
    """Someone a person's summary is shared with (for /sharing)."""

    coordinator_id: int
    display_name: str | None
    since: dt.datetime


@dataclass(frozen=True, slots=True)
class Sharer:
    """Someone who shares with a coordinator (for /people)."""

    person_id: int
    display_name: str | None
    since: dt.datetime


def create_code(connection: Connection, person_id: int, now: dt.datetime) -> str:
    """A new single-use code for the person; their older unused codes stop working."""
    connection.execute(
        update(codes).where(codes.c.person_id == person_id, codes.c.used_at.is_(None)).values(expires_at=now)
    )
    salt = code_salt(connection)
    while True:
        code = tokens.new_code()
        hashed = tokens.code_digest(code, salt)
        if connection.execute(select(codes.c.id).where(codes.c.code_hash == hashed)).first() is None:
            break
    connection.execute(
        insert(codes).values(code_hash=hashed, person_id=person_id, created_at=now, expires_at=now + CODE_VALID_FOR)
    )
    return code


def code_salt(connection: Connection) -> bytes:
    """This database's salt for share-code hashes, made on first use."""
    insert_for = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    found = connection.execute(select(secrets.c.value).where(secrets.c.name == _CODE_SALT)).scalar_one_or_none()
    if found is None:
        connection.execute(
            insert_for(secrets).values(name=_CODE_SALT, value=tokens.new_salt()).on_conflict_do_nothing()
        )
        found = connection.execute(select(secrets.c.value).where(secrets.c.name == _CODE_SALT)).scalar_one()
    return bytes.fromhex(found)


def recent_failures(connection: Connection, person_id: int | None, now: dt.datetime) -> int:
    """Wrong codes within the window: of one account, or (None) of every account together."""
    statement = select(func.count()).select_from(failures).where(failures.c.failed_at > now - FAILURE_WINDOW)
    if person_id is not None:
        statement = statement.where(failures.c.person_id == person_id)
    return connection.execute(statement).scalar_one()


def _serialise_guesses(connection: Connection) -> None:
    """One code check at a time, so a burst of simultaneous guesses cannot all pass the count.

    SQLite already runs one writing transaction at a time (BEGIN IMMEDIATE); on PostgreSQL
    an advisory lock held to the end of the transaction does the same across processes."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_GUESS_LOCK)))


def link(connection: Connection, coordinator_id: int, text: str, now: dt.datetime) -> LinkResult:
    """A coordinator enters a code. Spends it and links them to its person if it is live."""
    if not grants.has_role(connection, coordinator_id, grants.COORDINATOR):
        _audit(connection, coordinator_id, None, "link", False, now)
        return LinkResult("not_allowed")
    _serialise_guesses(connection)
    if (
        recent_failures(connection, coordinator_id, now) >= MAX_FAILURES
        or recent_failures(connection, None, now) >= MAX_GLOBAL_FAILURES
    ):
        _audit(connection, coordinator_id, None, "link", False, now)
        return LinkResult("too_many_tries")
    code = tokens.normalise_code(text)
    person_id = None
    if code is not None:
        person_id = connection.execute(
            update(codes)
            .where(
                codes.c.code_hash == tokens.code_digest(code, code_salt(connection)),
                codes.c.used_at.is_(None),
                codes.c.expires_at > now,
                codes.c.person_id != coordinator_id,
            )
            .values(used_at=now)
            .returning(codes.c.person_id)
        ).scalar_one_or_none()
    if person_id is None:
        connection.execute(insert(failures).values(person_id=coordinator_id, failed_at=now))
        _audit(connection, coordinator_id, None, "link", False, now)
        if recent_failures(connection, None, now) == MAX_GLOBAL_FAILURES:
            # Ids and counts only, never a code.
            log.warning(
                "share-code guessing: %d wrong codes from all accounts within %s (the last from person %d);"
                " every code is refused until the window passes",
                MAX_GLOBAL_FAILURES,
                FAILURE_WINDOW,
                coordinator_id,
            )
        return LinkResult("invalid")
    insert_for = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert_for(shares)
        .values(person_id=person_id, coordinator_id=coordinator_id, created_at=now)
        .on_conflict_do_nothing()
    )
    _audit(connection, coordinator_id, person_id, "link", True, now)
    return LinkResult("linked", person_id)


def revoke(connection: Connection, person_id: int, coordinator_id: int, now: dt.datetime) -> bool:
    """The person stops sharing with a coordinator, effective for the very next access."""
    result = connection.execute(
        update(shares)
        .where(
            shares.c.person_id == person_id, shares.c.coordinator_id == coordinator_id, shares.c.revoked_at.is_(None)
        )
        .values(revoked_at=now)
    )
    return result.rowcount > 0


_LIVE = shares.c.revoked_at.is_(None)


def viewers(connection: Connection, person_id: int) -> list[Viewer]:
    """Who can see the person's summary now (their /sharing list)."""
    rows = connection.execute(
        select(shares.c.coordinator_id, people.c.display_name, shares.c.created_at)
        .select_from(shares.join(people, people.c.id == shares.c.coordinator_id))
        .where(shares.c.person_id == person_id, _LIVE)
        .order_by(shares.c.created_at)
    ).all()
    return [Viewer(r[0], r[1], as_utc(r[2])) for r in rows]


def sharers(connection: Connection, coordinator_id: int, now: dt.datetime) -> list[Sharer]:
    """The people who share with a coordinator (their /people list). Empty without the role; audited."""
    allowed = grants.has_role(connection, coordinator_id, grants.COORDINATOR)
    _audit(connection, coordinator_id, None, "list_people", allowed, now)
    if not allowed:
        return []
    rows = connection.execute(
        select(shares.c.person_id, people.c.display_name, shares.c.created_at)
        .select_from(shares.join(people, people.c.id == shares.c.person_id))
        .where(shares.c.coordinator_id == coordinator_id, _LIVE)
        .order_by(shares.c.created_at)
    ).all()
    return [Sharer(r[0], r[1], as_utc(r[2])) for r in rows]


def can_view(connection: Connection, coordinator_id: int, person_id: int) -> bool:
    """A live share from the person to this coordinator, who still holds the role."""
    if coordinator_id == person_id:
        return False
    row = connection.execute(
        select(shares.c.id).where(
            and_(shares.c.person_id == person_id, shares.c.coordinator_id == coordinator_id, _LIVE)
        )
    ).first()
    return row is not None and grants.has_role(connection, coordinator_id, grants.COORDINATOR)


def access(connection: Connection, actor_id: int, person_id: int, action: str, now: dt.datetime) -> bool:
    """Check and record one access to another person's data; read nothing if it returns False.

    Call it in the same transaction that reads the data, so a share revoked a
    moment before is already in force. It returns rather than raises so the
    audit row of a refused access is committed, not rolled back.
    """
    allowed = can_view(connection, actor_id, person_id)
    # An id from a forged button may name nobody: the refusal is still recorded,
    # with no subject (the audit row cannot point at a person who does not exist).
    if not allowed and connection.execute(select(people.c.id).where(people.c.id == person_id)).first() is None:
        _audit(connection, actor_id, None, action, False, now)
        return False
    _audit(connection, actor_id, person_id, action, allowed, now)
    return allowed


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of the audit trail. An actor of None is the operator, on the command line."""

    at: dt.datetime
    actor_id: int | None
    subject_id: int | None
    action: str
    allowed: bool


def operator_read(connection: Connection, person_id: int, action: str, now: dt.datetime) -> None:
    """Record that the operator read a person's data on the command line (summary, export, audit)."""
    _audit(connection, None, person_id, action, True, now)


def facilitator_view(connection: Connection, facilitator_id: int, member_ids: list[int], now: dt.datetime) -> None:
    """Record that a facilitator was shown these members of their group (names, muted, attendance)."""
    if member_ids:
        connection.execute(
            insert(access_log),
            [
                {"actor_id": facilitator_id, "subject_id": m, "action": "group_members", "allowed": True, "at": now}
                for m in member_ids
            ],
        )


def trail_of(connection: Connection, person_id: int) -> list[AuditEntry]:
    """Every audit row that names the person, as subject or as actor, oldest first.

    Works after either side erased their account: the ids are kept without a foreign key."""
    rows = connection.execute(
        select(
            access_log.c.at, access_log.c.actor_id, access_log.c.subject_id, access_log.c.action, access_log.c.allowed
        )
        .where((access_log.c.subject_id == person_id) | (access_log.c.actor_id == person_id))
        .order_by(access_log.c.id)
    ).all()
    return [AuditEntry(as_utc(r[0]), r[1], r[2], r[3], bool(r[4])) for r in rows]


def audit_trail(connection: Connection, person_id: int) -> list[tuple[int | None, str, bool, dt.datetime]]:
    """(actor, action, allowed, when) for every access to a person's data (for their export)."""
    rows = connection.execute(
        select(access_log.c.actor_id, access_log.c.action, access_log.c.allowed, access_log.c.at)
        .where(access_log.c.subject_id == person_id)
        .order_by(access_log.c.id)
    ).all()
    return [(r[0], r[1], r[2], as_utc(r[3])) for r in rows]


def _audit(
    connection: Connection, actor_id: int | None, subject_id: int | None, action: str, allowed: bool, now: dt.datetime
) -> None:
    connection.execute(
        insert(access_log).values(actor_id=actor_id, subject_id=subject_id, action=action, allowed=allowed, at=now)
    )
