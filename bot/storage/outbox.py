"""The SQL of the outbox (bot/services/outbox.py says what it is for).

Rows are written inside a turn's transaction (:meth:`OutboxRows.add`) and
settled after it by whoever delivered them. Order is per chat: only the oldest
pending row of a chat may be sent, and a row is sent only by the process that
holds its lease, so two senders never send one row at once (a process killed
while sending loses its lease when it runs out, and the row is sent again).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.sql import Select

from bot.storage.models import OutgoingMessage, Run
from bot.storage.repository import COMPLETED, IN_PROGRESS, ActiveRun

outbox = OutgoingMessage.__table__
_runs = Run.__table__

PENDING = "pending"
DELIVERED = "delivered"
UNDELIVERABLE = "undeliverable"
REPLACED = "replaced"
"""Never sent: a later turn, taken on the question the person had last seen, says it anew."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    person_id: int
    channel: str
    chat: str
    body: dict[str, Any]
    sent_parts: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Unseen:
    """The person's newest row, not yet delivered, with the position they were on before it."""

    id: int
    shown_before: dict[str, Any]
    attempts: int
    """Failed attempts recorded (0: the process that took the turn never said how its send went)."""


_COLUMNS = (
    outbox.c.id,
    outbox.c.person_id,
    outbox.c.channel,
    outbox.c.chat,
    outbox.c.body,
    outbox.c.sent_parts,
    outbox.c.attempts,
)


def _row(row: Any) -> OutboxRow:
    return OutboxRow(*row)


def _heads() -> Select[Any]:
    """The oldest pending row of every chat."""
    return (
        select(outbox.c.channel, outbox.c.chat, func.min(outbox.c.id).label("head"))
        .where(outbox.c.state == PENDING)
        .group_by(outbox.c.channel, outbox.c.chat)
    )


class OutboxRows:
    """The outbox's statements, on one transaction's connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(
        self,
        *,
        person_id: int,
        channel: str,
        chat: str,
        update_id: int | None,
        body: dict[str, Any],
        shown_before: dict[str, Any] | None,
        now: dt.datetime,
        lease_until: float,
    ) -> int:
        """A new pending row, leased to the process writing it (its fast path sends it)."""
        result = self.connection.execute(
            insert(outbox)
            .values(
                person_id=person_id,
                channel=channel,
                chat=chat,
                update_id=update_id,
                state=PENDING,
                body=body,
                shown_before=shown_before,
                sent_parts=0,
                attempts=0,
                next_at=now.timestamp(),
                lease_until=lease_until,
                created_at=now,
            )
            .returning(outbox.c.id)
        )
        return int(result.scalar_one())

    def unseen(self, person_id: int) -> Unseen | None:
        """The person's newest row if it is pending and says where they were before it."""
        row = self.connection.execute(
            select(outbox.c.id, outbox.c.state, outbox.c.shown_before, outbox.c.attempts)
            .where(outbox.c.person_id == person_id)
            .order_by(outbox.c.id.desc())
            .limit(1)
        ).first()
        if row is None or row.state != PENDING or row.shown_before is None:
            return None
        return Unseen(row.id, row.shown_before, row.attempts)

    def has_pending_before(self, channel: str, chat: str, row_id: int) -> bool:
        """Whether an older row of the chat is still to be delivered."""
        row = self.connection.execute(
            select(outbox.c.id)
            .where(outbox.c.channel == channel, outbox.c.chat == chat, outbox.c.state == PENDING, outbox.c.id < row_id)
            .limit(1)
        ).first()
        return row is not None

    def run_in_progress(self, person_id: int, run_id: int) -> ActiveRun | None:
        row = self.connection.execute(
            select(_runs.c.id, _runs.c.flow_id, _runs.c.position).where(
                _runs.c.id == run_id, _runs.c.person_id == person_id, _runs.c.status == IN_PROGRESS
            )
        ).first()
        return ActiveRun(*row) if row else None

    def finished_run(self, person_id: int, run_id: int) -> ActiveRun | None:
        """A run the person finished, if it is still their latest of its flow (none begun since)."""
        row = self.connection.execute(
            select(_runs.c.id, _runs.c.flow_id, _runs.c.position).where(
                _runs.c.id == run_id, _runs.c.person_id == person_id, _runs.c.status == COMPLETED
            )
        ).first()
        if row is None:
            return None
        later = self.connection.execute(
            select(_runs.c.id)
            .where(_runs.c.person_id == person_id, _runs.c.flow_id == row.flow_id, _runs.c.id > run_id)
            .limit(1)
        ).first()
        return None if later is not None else ActiveRun(*row)

    def replace(self, row_id: int, now: dt.datetime) -> bool:
        """Settle a pending row that will never be sent (its words go with it)."""
        return self._settle(row_id, REPLACED, now)

    def claim_chat(
        self, channel: str, chat: str, upto: int, own: int, lease_until: float, now: float
    ) -> list[OutboxRow]:
        """The chat's pending rows up to ``upto``, oldest first, leased to the caller: all of them,
        or none if an older one is being sent by someone else (it must go first)."""
        rows = self.connection.execute(
            select(*_COLUMNS, outbox.c.lease_until)
            .where(outbox.c.channel == channel, outbox.c.chat == chat, outbox.c.state == PENDING, outbox.c.id <= upto)
            .order_by(outbox.c.id)
        ).all()
        if any(row.lease_until > now and row.id != own for row in rows):
            return []
        ids = [row.id for row in rows]
        if ids:
            self.connection.execute(update(outbox).where(outbox.c.id.in_(ids)).values(lease_until=lease_until))
        return [_row(row[: len(_COLUMNS)]) for row in rows]

    def release(self, row_id: int, now: float) -> None:
        """Hand a row the caller could not send in order to the sender loop, due now."""
        self.connection.execute(
            update(outbox).where(outbox.c.id == row_id, outbox.c.state == PENDING).values(lease_until=now, next_at=now)
        )

    def claim_due(self, now: float, lease_until: float, limit: int) -> list[OutboxRow]:
        """The oldest pending row of each chat, when it is due and nobody holds it, leased to the caller."""
        heads = _heads().subquery()
        rows = self.connection.execute(
            select(*_COLUMNS)
            .join(heads, outbox.c.id == heads.c.head)
            .where(outbox.c.next_at <= now, outbox.c.lease_until <= now)
            .order_by(outbox.c.next_at, outbox.c.id)
            .limit(limit)
        ).all()
        claimed = []
        for row in rows:
            # Taken only if nobody took it since it was read (another process's loop).
            done = self.connection.execute(
                update(outbox)
                .where(outbox.c.id == row.id, outbox.c.state == PENDING, outbox.c.lease_until <= now)
                .values(lease_until=lease_until)
            ).rowcount
            if done == 1:
                claimed.append(_row(row))
        return claimed

    def progress(self, row_id: int, sent_parts: int) -> None:
        self.connection.execute(update(outbox).where(outbox.c.id == row_id).values(sent_parts=sent_parts))

    def delivered(self, row_id: int, now: dt.datetime) -> bool:
        return self._settle(row_id, DELIVERED, now)

    def undeliverable(self, row_id: int, now: dt.datetime) -> bool:
        return self._settle(row_id, UNDELIVERABLE, now)

    def retry(self, row_id: int, sent_parts: int, next_at: float) -> int:
        """Count a failed attempt and set when to try again; returns the attempts so far."""
        self.connection.execute(
            update(outbox)
            .where(outbox.c.id == row_id, outbox.c.state == PENDING)
            .values(attempts=outbox.c.attempts + 1, sent_parts=sent_parts, next_at=next_at, lease_until=0.0)
        )
        attempts = self.connection.execute(select(outbox.c.attempts).where(outbox.c.id == row_id)).scalar()
        return int(attempts or 0)

    def pending_count(self) -> int:
        return int(
            self.connection.execute(
                select(func.count()).select_from(outbox).where(outbox.c.state == PENDING)
            ).scalar_one()
        )

    def _settle(self, row_id: int, state: str, now: dt.datetime) -> bool:
        """Mark a pending row settled and clear what it said: the answers it quoted are kept once,
        in ``answers``, not here too."""
        return (
            self.connection.execute(
                update(outbox)
                .where(and_(outbox.c.id == row_id, outbox.c.state == PENDING))
                .values(state=state, body=None, shown_before=None, settled_at=now, lease_until=0.0)
            ).rowcount
            == 1
        )
