"""The SQL under CollaboRATE: whether a person may answer now, and every answer since a date.

Synchronous SQLAlchemy Core on a ``Connection`` (run through ``Storage.run``),
like the repository. The answers are ordinary flow answers (runs and answers
of the ``collaborate`` flow), so /mydata shows them to the person and /delete
erases them with everything else; what is special is only who may read them:
the service-level report, never a person's own row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.engine import Connection

from bot.storage.models import Answer, Appointment, Run
from bot.storage.repository import COMPLETED

runs = Run.__table__
answers = Answer.__table__
appointments = Appointment.__table__


def last_appointment_start(connection: Connection, person_id: int, now: dt.datetime) -> dt.datetime | None:
    """When the person's latest appointment that has begun began (cancelled ones left out)."""
    value = connection.execute(
        select(func.max(appointments.c.starts_at)).where(
            appointments.c.person_id == person_id,
            appointments.c.cancelled_at.is_(None),
            appointments.c.starts_at <= now,
        )
    ).scalar_one_or_none()
    return _utc(value) if value is not None else None


def answered_since(connection: Connection, person_id: int, flow_id: str, since: dt.datetime) -> bool:
    """Whether the person finished the flow at or after ``since`` (an answer for that appointment)."""
    query = select(
        exists().where(
            runs.c.person_id == person_id,
            runs.c.flow_id == flow_id,
            runs.c.status == COMPLETED,
            runs.c.completed_at >= since,
        )
    )
    return bool(connection.execute(query).scalar())


def item_answers(
    connection: Connection, flow_id: str, items: Iterable[str], since: dt.datetime
) -> list[tuple[int, int, str, Any]]:
    """(run id, person id, item, value) of every finished run of the flow completed since ``since``.

    The person id is returned only so the report can count how many people
    answered (to hold back figures a few people would make recognisable); it
    is never printed."""
    query = (
        select(runs.c.id, runs.c.person_id, answers.c.key, answers.c.value)
        .select_from(runs.join(answers, and_(answers.c.run_id == runs.c.id)))
        .where(
            runs.c.flow_id == flow_id,
            runs.c.status == COMPLETED,
            runs.c.completed_at >= since,
            answers.c.key.in_(list(items)),
        )
        .order_by(runs.c.id)
    )
    return [(row[0], row[1], row[2], row[3]) for row in connection.execute(query)]


def _utc(value: dt.datetime) -> dt.datetime:
    """Datetimes read back from SQLite are naive UTC; from PostgreSQL they are aware."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
