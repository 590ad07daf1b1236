"""Roles and the invites that grant them.

A role is granted only by an invite, never by asking: an operator runs
``companion invite coordinator`` and hands over the printed link. The token
is single-use, valid for 7 days, and stored only as a hash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from bot.reminders.schedule import as_utc
from bot.roles import tokens
from bot.roles.names import COORDINATOR, FACILITATOR, ROLES
from bot.storage.models import Person, RoleGrant, RoleInvite, Share

__all__ = ["COORDINATOR", "FACILITATOR", "ROLES"]
INVITE_VALID_FOR = dt.timedelta(days=7)

invites = RoleInvite.__table__
roles = RoleGrant.__table__
people = Person.__table__
shares = Share.__table__


class UnknownRole(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class RoleHolder:
    person_id: int
    channel: str
    external_id: str
    display_name: str | None
    role: str
    granted_at: dt.datetime


def create_invite(connection: Connection, role: str, now: dt.datetime) -> str:
    """A new one-time token for ``role``; only its hash is kept."""
    if role not in ROLES:
        raise UnknownRole(role)
    token = tokens.new_token(tokens.INVITE_PREFIX)
    connection.execute(
        insert(invites).values(
            token_hash=tokens.digest(token), role=role, created_at=now, expires_at=now + INVITE_VALID_FOR
        )
    )
    return token


def redeem_invite(connection: Connection, person_id: int, token: str, now: dt.datetime) -> str | None:
    """Grant the invite's role to the person; the role, or None if the token is unknown, used or expired.

    The single UPDATE both checks and spends the token, so two people opening
    the same link at once cannot both get the role.
    """
    if not tokens.looks_like_token(token):
        return None
    role = connection.execute(
        update(invites)
        .where(
            invites.c.token_hash == tokens.digest(token),
            invites.c.redeemed_at.is_(None),
            invites.c.expires_at > now,
        )
        .values(redeemed_at=now, redeemed_by=person_id)
        .returning(invites.c.role)
    ).scalar_one_or_none()
    if role is not None:
        grant(connection, person_id, role, now)
    return role


def grant(connection: Connection, person_id: int, role: str, now: dt.datetime) -> None:
    if role not in ROLES:
        raise UnknownRole(role)
    insert_for = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert_for(roles).values(person_id=person_id, role=role, granted_at=now).on_conflict_do_nothing()
    )


def revoke(connection: Connection, person_id: int, role: str, now: dt.datetime | None = None) -> bool:
    """Take a role away at once.

    Taking the coordinator role away also ends every share with them, so a later
    invite to the same account starts with nobody's summary: consent given to
    the coordinator before is not brought back without the person being asked.
    """
    result = connection.execute(delete(roles).where(roles.c.person_id == person_id, roles.c.role == role))
    if role == COORDINATOR:
        connection.execute(
            update(shares)
            .where(shares.c.coordinator_id == person_id, shares.c.revoked_at.is_(None))
            .values(revoked_at=now or dt.datetime.now(dt.UTC))
        )
    return result.rowcount == 1


def has_role(connection: Connection, person_id: int, role: str) -> bool:
    return (
        connection.execute(select(roles.c.role).where(roles.c.person_id == person_id, roles.c.role == role)).first()
        is not None
    )


def roles_of(connection: Connection, person_id: int) -> set[str]:
    return set(connection.execute(select(roles.c.role).where(roles.c.person_id == person_id)).scalars())


def holders(connection: Connection) -> list[RoleHolder]:
    """Everyone with a role, for ``companion people``."""
    rows = connection.execute(
        select(
            people.c.id, people.c.channel, people.c.external_id, people.c.display_name, roles.c.role, roles.c.granted_at
        )
        .select_from(roles.join(people, people.c.id == roles.c.person_id))
        .order_by(roles.c.role, people.c.id)
    ).all()
    return [RoleHolder(r[0], r[1], r[2], r[3], r[4], as_utc(r[5])) for r in rows]
