"""The small set of database operations the companion needs, in one place.

Every operation runs inside a :class:`Transaction`. A turn reads the person,
their active run and their safety record in one query, and writes the new position, the answers and
the processed update id in the same transaction, so an answer is committed
before the companion replies, and a redelivered update is handled once.

Everything is SQLAlchemy Core on the models' tables, through one path on
both backends. The statements every turn runs are built once (SQLAlchemy
then reuses their compiled form): a turn is a handful of statements and costs
a fraction of a millisecond on SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, delete, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from bot.storage.database import Database, open_database
from bot.storage.errors import explain
from bot.storage.models import (
    AccessLog,
    Answer,
    AnswerMark,
    Base,
    Person,
    ProcessedUpdate,
    Run,
    SafetyRecord,
    UpdateSeen,
)

people = Person.__table__
runs = Run.__table__
answers = Answer.__table__
processed = ProcessedUpdate.__table__
answer_marks = AnswerMark.__table__
safety_states = SafetyRecord.__table__
seen = UpdateSeen.__table__

T = TypeVar("T")

IN_PROGRESS, COMPLETED, RESTARTED = "in_progress", "completed", "restarted"
WITHDRAWN = "withdrawn"
"""A run about someone who stopped sharing before it was finished: kept for its writer only, as a draft."""
_IS_IN_PROGRESS = runs.c.status == literal_column(f"'{IN_PROGRESS}'")
"""The in-progress test written into the SQL, not bound. It is the condition of the
partial index uq_runs_in_progress, and SQLite plans a statement again on every run
when a bound value decides whether a partial index applies: about 40 µs a turn."""


class StaleConversation(Exception):
    """Another turn for the same person committed first; load again and retry."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: int
    channel: str
    external_id: str
    language: str
    timezone: str
    display_name: str | None
    active_flow: str | None
    version: int
    consented_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ActiveRun:
    id: int
    flow_id: str
    position: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Conversation:
    """A person and the run they are in now (if any), as read at the start of a turn."""

    person: PersonRecord
    run: ActiveRun | None


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    flow_id: str
    status: str
    started_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None


_PERSON_COLUMNS = (
    people.c.id,
    people.c.channel,
    people.c.external_id,
    people.c.language,
    people.c.timezone,
    people.c.display_name,
    people.c.active_flow,
    people.c.version,
    people.c.consented_at,
)


def _person(row: Any) -> PersonRecord:
    return PersonRecord(*row[: len(_PERSON_COLUMNS)])


def _conversation(row: Any) -> Conversation:
    run_id, flow_id, position = row[len(_PERSON_COLUMNS) : len(_PERSON_COLUMNS) + 3]
    return Conversation(_person(row), ActiveRun(run_id, flow_id, position) if run_id is not None else None)


# The statements of a turn, built once: building a statement costs more than
# SQLite takes to run it.
# The safety record comes with it: the flows that give the "don't stop suddenly" reminder
# and the crisis policy read it in the same turn, and a query of its own cost every such
# turn another trip through SQLAlchemy and the driver (a round trip on PostgreSQL).
_SELECT_CONVERSATION = (
    select(*_PERSON_COLUMNS, runs.c.id, runs.c.flow_id, runs.c.position, safety_states.c.state)
    .select_from(people)
    .outerjoin(
        runs,
        and_(
            runs.c.person_id == people.c.id,
            runs.c.flow_id == people.c.active_flow,
            _IS_IN_PROGRESS,
        ),
    )
    .outerjoin(safety_states, safety_states.c.person_id == people.c.id)
    .where(people.c.channel == bindparam("channel"), people.c.external_id == bindparam("external_id"))
)
_SELECT_SAFETY = select(safety_states.c.state).where(safety_states.c.person_id == bindparam("person_id"))
_SELECT_PERSON = select(*_PERSON_COLUMNS).where(
    people.c.channel == bindparam("channel"), people.c.external_id == bindparam("external_id")
)
# A flow that quotes earlier flows reads their latest answers every turn.
_SELECT_RUNS = (
    select(runs.c.id, runs.c.flow_id, runs.c.status, runs.c.started_at, runs.c.updated_at, runs.c.completed_at)
    .where(runs.c.person_id == bindparam("person_id"))
    .order_by(runs.c.started_at, runs.c.id)
)
_SELECT_ANSWERS = (
    select(answers.c.run_id, answers.c.key, answers.c.value, answers.c.answered_at)
    .where(answers.c.run_id.in_(bindparam("run_ids", expanding=True)))
    .order_by(answers.c.id)
)
_BUMP_VERSION = (
    update(people)
    .where(people.c.id == bindparam("person_id"), people.c.version == bindparam("expected"))
    .values(version=bindparam("new_version"), active_flow=bindparam("active"))
)
_UPDATE_RUN = (
    update(runs)
    .where(runs.c.id == bindparam("run_id"))
    .values(
        position=bindparam("position", type_=runs.c.position.type),
        status=bindparam("status"),
        updated_at=bindparam("now", type_=runs.c.updated_at.type),
        completed_at=bindparam("completed_at", type_=runs.c.completed_at.type),
    )
)


def _dialect_statements(insert_for: Any) -> dict[str, Any]:
    claim = insert_for(processed).values(
        channel=bindparam("channel"), update_id=bindparam("update_id"), processed_at=bindparam("now")
    )
    upsert = insert_for(answers).values(
        run_id=bindparam("run_id"),
        person_id=bindparam("person_id"),
        flow_id=bindparam("flow_id"),
        key=bindparam("key"),
        value=bindparam("value", type_=answers.c.value.type),
        answered_at=bindparam("now", type_=answers.c.answered_at.type),
    )
    return {
        "claim": claim.on_conflict_do_nothing(),
        "upsert_answer": upsert.on_conflict_do_update(
            index_elements=[answers.c.run_id, answers.c.key],
            set_={"value": upsert.excluded.value, "answered_at": upsert.excluded.answered_at},
        ),
        "select_conversation": _SELECT_CONVERSATION,
        "select_person": _SELECT_PERSON,
        "select_safety": _SELECT_SAFETY,
        "bump_version": _BUMP_VERSION,
        "update_run": _UPDATE_RUN,
    }


_STATEMENTS = {"postgresql": _dialect_statements(postgresql_insert), "sqlite": _dialect_statements(sqlite_insert)}
"""Every statement a turn runs, by dialect (the upserts differ), built once."""


def _about_person(position: dict[str, Any]) -> int | None:
    """The person a run is about, when that is not its owner (Position.about["person_id"])."""
    subject = (position.get("about") or {}).get("person_id")
    return subject if isinstance(subject, int) else None


def person_columns() -> list[tuple[Any, Any]]:
    """(table, column) for every column in the schema that refers to a person."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "people" and fk.column.name == "id" for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _secret(column_name: str) -> bool:
    return "hash" in column_name or column_name in ("claim_token", "token")


def _plain(value: Any) -> Any:
    """A value as JSON can hold it (dates as ISO 8601, UTC where SQLite dropped the zone)."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


class Transaction:
    """One database transaction. Obtain it from :meth:`Storage.transaction`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._dialect = connection.dialect.name
        self._statements = _STATEMENTS["postgresql" if self._dialect == "postgresql" else "sqlite"]
        self._safety: dict[int, dict[str, Any] | None] = {}
        """Safety records read or written in this transaction, by person id: read once with the
        conversation, and what is written here replaces them, so a later read in the same turn
        sees this turn's own write. Nothing outside the transaction changes them meanwhile that
        matters: another turn of the same person fails the version check."""

    def _execute(self, key: str, params: dict[str, Any]) -> int:
        """Run one of a turn's statements; return how many rows it changed."""
        return self.connection.execute(self._statements[key], params).rowcount

    def _execute_many(self, key: str, rows: list[dict[str, Any]]) -> None:
        self.connection.execute(self._statements[key], rows)

    def _first(self, key: str, params: dict[str, Any]) -> Any:
        return self.connection.execute(self._statements[key], params).first()

    # --------------------------------------------------------------- updates

    def claim_update(self, channel: str, update_id: int, now: dt.datetime) -> bool:
        """Record an update id; False if it was handled before (a redelivery)."""
        return self._execute("claim", {"channel": channel, "update_id": update_id, "now": now}) == 1

    def prune_updates(self, older_than: dt.datetime) -> int:
        result = self.connection.execute(delete(processed).where(processed.c.processed_at < older_than))
        return result.rowcount

    # --------------------------------------------------------------- updates seen (ordering)

    def _no_sync(self) -> None:
        if self._dialect == "postgresql":
            # Nothing about updates seen needs to outlive a crash (a lost row only means
            # no waiting), so these commits need not wait for the disk.
            self.connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

    def arrive(self, channel: str, update_id: int, bucket: int, now: dt.datetime) -> int:
        """Note an update as in flight in this process; returns its row, for :meth:`leave`."""
        self._no_sync()
        row_id: int = self.connection.execute(
            insert(seen)
            .values(channel=channel, update_id=update_id, person_bucket=bucket, arrived_at=now)
            .returning(seen.c.id)
        ).scalar_one()
        return row_id

    def forget_seen(self, channel: str, before: dt.datetime) -> None:
        """Drop the updates that arrived before ``before``, all but the highest id (the next
        update's predecessor, however long the bot was quiet)."""
        highest = select(func.max(seen.c.update_id)).where(seen.c.channel == channel).scalar_subquery()
        self.connection.execute(
            delete(seen).where(seen.c.channel == channel, seen.c.arrived_at < before, seen.c.update_id < highest)
        )

    def below(self, channel: str, bucket: int, update_id: int, span: int, since: dt.datetime) -> tuple[list[int], bool]:
        """What stands below ``update_id``, in one query: the ids up to ``span`` below it (and
        above the lowest one remembered there) that no process has seen, which are updates on
        their way or never to come; and whether an update of the same person (bucket) with a
        lower id, arrived after ``since``, is in flight in any process."""
        rows = self.connection.execute(
            select(seen.c.update_id, seen.c.person_bucket, seen.c.done_at.is_(None)).where(
                seen.c.channel == channel,
                seen.c.update_id < update_id,
                (seen.c.update_id >= update_id - span)
                | ((seen.c.person_bucket == bucket) & seen.c.done_at.is_(None) & (seen.c.arrived_at >= since)),
            )
        ).all()
        near = {row[0] for row in rows if row[0] >= update_id - span}
        missing = [n for n in range(min(near), update_id) if n not in near] if near else []
        in_flight = any(row[1] == bucket and row[2] for row in rows)
        return missing, in_flight

    def given_up(self, channel: str, update_ids: list[int], now: dt.datetime) -> None:
        """Count ids that never came as seen, so nobody else waits for them."""
        if update_ids:
            self._no_sync()
            rows = [
                {"channel": channel, "update_id": n, "person_bucket": -1, "arrived_at": now, "done_at": now}
                for n in update_ids
            ]
            self.connection.execute(insert(seen), rows)

    def leave(self, row_id: int, now: dt.datetime) -> None:
        """The update of this row has been handled (or given up on): nobody waits for it now."""
        self.connection.execute(update(seen).where(seen.c.id == row_id).values(done_at=now))

    # --------------------------------------------------------------- people

    def person(self, channel: str, external_id: str) -> PersonRecord | None:
        row = self._first("select_person", {"channel": channel, "external_id": external_id})
        return _person(row) if row else None

    def person_by_id(self, person_id: int) -> PersonRecord | None:
        row = (self.connection.execute(select(*_PERSON_COLUMNS).where(people.c.id == person_id))).first()
        return _person(row) if row else None

    def create_person(
        self, channel: str, external_id: str, language: str, now: dt.datetime, timezone: str = "Europe/London"
    ) -> PersonRecord:
        """Create a person who has just agreed to the privacy notice (idempotent)."""
        statement = self._insert(people).values(
            channel=channel,
            external_id=external_id,
            language=language,
            timezone=timezone,
            consented_at=now,
            created_at=now,
            version=1,
        )
        self.connection.execute(statement.on_conflict_do_nothing())
        person = self.person(channel, external_id)
        assert person is not None
        return person

    def update_person(self, person_id: int, **values: Any) -> None:
        allowed = {"language", "timezone", "display_name"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        self.connection.execute(
            update(people).where(people.c.id == person_id).values(**values, version=people.c.version + 1)
        )

    def erase_person(self, person_id: int) -> None:
        """Delete the person, every run and answer of theirs, and (by cascade) everything
        else that refers to them, including other people's runs about them."""
        self.connection.execute(delete(answers).where(answers.c.person_id == person_id))
        self.connection.execute(delete(runs).where(runs.c.person_id == person_id))
        self.connection.execute(delete(people).where(people.c.id == person_id))
        self._safety.pop(person_id, None)

    # --------------------------------------------------------------- conversations

    def claim_and_read(
        self, channel: str, external_id: str, update_id: int | None, now: dt.datetime
    ) -> tuple[bool, Conversation | None]:
        """Record the update id (if any) and read the person's conversation.

        Returns (new update, conversation); the first is False for a redelivery.
        When the person is unknown the caller rolls the transaction back, so the
        claim is not kept.
        """
        if update_id is not None and not self.claim_update(channel, update_id, now):
            return False, None
        return True, self.conversation(channel, external_id)

    def conversation(self, channel: str, external_id: str) -> Conversation | None:
        """The person and their active run, in one query (their safety record with them, kept
        for :meth:`safety_state`)."""
        row = self._first("select_conversation", {"channel": channel, "external_id": external_id})
        if row is None:
            return None
        conversation = _conversation(row)
        self._safety.setdefault(conversation.person.id, row[-1])
        return conversation

    def run_in_progress(self, person_id: int, flow_id: str) -> ActiveRun | None:
        row = (
            self.connection.execute(
                select(runs.c.id, runs.c.flow_id, runs.c.position).where(
                    runs.c.person_id == person_id, runs.c.flow_id == flow_id, _IS_IN_PROGRESS
                )
            )
        ).first()
        return ActiveRun(*row) if row else None

    def save_turn(
        self,
        person: PersonRecord,
        *,
        run_id: int | None,
        flow_id: str,
        position: dict[str, Any],
        status: str,
        active_flow: str | None,
        saved: dict[str, Any],
        now: dt.datetime,
    ) -> int:
        """Write one turn. Raises StaleConversation if another turn committed first.

        ``status`` is the engine's: active, paused, finished or restarted. A
        restart closes the old run (its answers are kept) and opens a new one.
        Returns the id of the run the position now belongs to.
        """
        run_status = COMPLETED if status == "finished" else IN_PROGRESS
        completed_at = now if status == "finished" else None
        moving = {
            "run_id": run_id,
            "position": position,
            "status": run_status,
            "now": now,
            "completed_at": completed_at,
        }
        self.set_active_flow(person, active_flow)
        if status == "restarted" and run_id is not None:
            self.connection.execute(update(runs).where(runs.c.id == run_id).values(status=RESTARTED, updated_at=now))
            run_id = None
        if run_id is None:
            result = self.connection.execute(
                insert(runs)
                .values(
                    person_id=person.id,
                    flow_id=flow_id,
                    status=run_status,
                    position=position,
                    started_at=now,
                    updated_at=now,
                    completed_at=completed_at,
                    about_person_id=_about_person(position),
                )
                .returning(runs.c.id)
            )
            run_id = result.scalar_one()
        else:
            self._execute("update_run", moving)
        if saved:
            self._upsert_answers(person.id, run_id, flow_id, saved, now)
        return run_id

    def add_completed_run(self, person_id: int, flow_id: str, answers_by_step: dict[str, Any], now: dt.datetime) -> int:
        """Put a finished run on someone's record that they did not type themselves
        (what a care coordinator wrote down with them). Their position is untouched."""
        position = {"flow": flow_id, "step": "end", "answers": answers_by_step}
        run_id = self.connection.execute(
            insert(runs)
            .values(
                person_id=person_id,
                flow_id=flow_id,
                status=COMPLETED,
                position=position,
                started_at=now,
                updated_at=now,
                completed_at=now,
            )
            .returning(runs.c.id)
        ).scalar_one()
        if answers_by_step:
            self._upsert_answers(person_id, run_id, flow_id, answers_by_step, now)
        return run_id

    def delete_run(self, run_id: int) -> None:
        """Remove one run and its answers (e.g. a coordinator's working copy once it is on the person's record)."""
        self.connection.execute(delete(answers).where(answers.c.run_id == run_id))
        self.connection.execute(delete(runs).where(runs.c.id == run_id))

    def withdraw_run(self, run_id: int, now: dt.datetime) -> None:
        """Close a run about someone who stopped sharing: its answers stay, for its writer only."""
        self.connection.execute(update(runs).where(runs.c.id == run_id).values(status=WITHDRAWN, updated_at=now))

    def withdrawn_runs(self, person_id: int, flow_id: str) -> list[tuple[int, int | None, dt.datetime]]:
        """(run id, whom it was about, when it was closed) of the person's drafts of ``flow_id``, newest first."""
        rows = self.connection.execute(
            select(runs.c.id, runs.c.about_person_id, runs.c.updated_at)
            .where(runs.c.person_id == person_id, runs.c.flow_id == flow_id, runs.c.status == WITHDRAWN)
            .order_by(runs.c.updated_at.desc(), runs.c.id.desc())
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def set_active_flow(self, person: PersonRecord, flow_id: str | None) -> None:
        """Bump the person's version (the concurrency guard) and set their active flow."""
        bumped = self._execute("bump_version", self._bump(person, flow_id))
        if bumped != 1:
            raise StaleConversation(person.id)

    @staticmethod
    def _bump(person: PersonRecord, active_flow: str | None) -> dict[str, Any]:
        return {
            "person_id": person.id,
            "expected": person.version,
            "new_version": person.version + 1,
            "active": active_flow,
        }

    def _upsert_answers(
        self, person_id: int, run_id: int, flow_id: str, saved: dict[str, Any], now: dt.datetime
    ) -> None:
        rows = [
            {"run_id": run_id, "person_id": person_id, "flow_id": flow_id, "key": key, "value": value, "now": now}
            for key, value in saved.items()
        ]
        self._execute_many("upsert_answer", rows)

    # --------------------------------------------------------------- safety

    def safety_state(self, person_id: int) -> dict[str, Any] | None:
        """What the safety policy remembers about the person (times only), or None.

        Read once per transaction: with the conversation at the start of a turn, else here."""
        if person_id in self._safety:
            return self._safety[person_id]
        state: dict[str, Any] | None = self.connection.execute(
            self._statements["select_safety"], {"person_id": person_id}
        ).scalar()
        self._safety[person_id] = state
        return state

    def save_safety_state(self, person_id: int, state: dict[str, Any], now: dt.datetime) -> None:
        statement = self._insert(safety_states).values(person_id=person_id, state=state, updated_at=now)
        self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=[safety_states.c.person_id],
                set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at},
            )
        )
        self._safety[person_id] = state

    def mark_answers(self, person_id: int, run_id: int, keys: Iterable[str], mark: str, now: dt.datetime) -> None:
        """Mark answers for the clinician's attention (e.g. "stopping_medicine"); marking twice is harmless."""
        rows = [{"run_id": run_id, "key": key, "mark": mark, "person_id": person_id, "marked_at": now} for key in keys]
        if rows:
            self.connection.execute(self._insert(answer_marks).on_conflict_do_nothing(), rows)

    def marks(self, run_ids: Iterable[int]) -> dict[int, dict[str, frozenset[str]]]:
        """Marks by run id: step id -> marks."""
        ids = list(run_ids)
        found: dict[int, dict[str, set[str]]] = {}
        if ids:
            rows = self.connection.execute(
                select(answer_marks.c.run_id, answer_marks.c.key, answer_marks.c.mark).where(
                    answer_marks.c.run_id.in_(ids)
                )
            )
            for run_id, key, mark in rows:
                found.setdefault(run_id, {}).setdefault(key, set()).add(mark)
        return {run_id: {key: frozenset(marks) for key, marks in by_key.items()} for run_id, by_key in found.items()}

    # --------------------------------------------------------------- reading records

    def runs(self, person_id: int) -> list[RunRecord]:
        result = self.connection.execute(_SELECT_RUNS, {"person_id": person_id})
        return [RunRecord(*row) for row in result]

    def answers(self, run_ids: Iterable[int]) -> dict[int, dict[str, tuple[Any, dt.datetime]]]:
        """Answers by run id: step id -> (value, answered at)."""
        ids = list(run_ids)
        out: dict[int, dict[str, tuple[Any, dt.datetime]]] = {run_id: {} for run_id in ids}
        if not ids:
            return out
        result = self.connection.execute(_SELECT_ANSWERS, {"run_ids": ids})
        for run_id, key, value, answered_at in result:
            out[run_id][key] = (value, answered_at)
        return out

    def latest_completed(self, person_id: int) -> dict[str, RunRecord]:
        """The most recently completed run of each flow."""
        latest: dict[str, RunRecord] = {}
        for run in self.runs(person_id):
            if run.status == COMPLETED and run.completed_at is not None:
                current = latest.get(run.flow_id)
                if current is None or (run.completed_at, run.id) >= (current.completed_at, current.id):
                    latest[run.flow_id] = run
        return latest

    def count_rows(self, person_id: int) -> dict[str, int]:
        """How many rows each table holds for a person (for erasure checks and /mydata)."""
        counts = {}
        for name, table in (("people", people), ("runs", runs), ("answers", answers)):
            column = table.c.id if name == "people" else table.c.person_id
            counts[name] = (
                self.connection.execute(select(func.count()).select_from(table).where(column == person_id))
            ).scalar_one()
        return counts

    def rows_referring_to(self, person_id: int) -> dict[str, int]:
        """Rows in every table that refer to this person, by ``table.column``.

        Found from the schema, so a table added later is covered without
        changing this: erasure tests assert all of these are zero.
        """
        counts = {
            "people.id": self.connection.execute(
                select(func.count()).select_from(people).where(people.c.id == person_id)
            ).scalar_one()
        }
        for table, column in person_columns():
            counts[f"{table.name}.{column.name}"] = self.connection.execute(
                select(func.count()).select_from(table).where(column == person_id)
            ).scalar_one()
        return counts

    def records_about(self, person_id: int) -> dict[str, list[dict[str, Any]]]:
        """Everything else kept about the person, table by table, for their export.

        The person row, runs and answers are exported in their own shape by the
        service; secrets (hashed tokens, dispatcher claim tokens) are left out.
        """
        out: dict[str, list[dict[str, Any]]] = {}
        for table, column in person_columns():
            if table.name in ("runs", "answers"):
                continue
            rows = self.connection.execute(select(table).where(column == person_id)).mappings().all()
            if rows:
                out.setdefault(table.name, []).extend(
                    {key: _plain(value) for key, value in row.items() if not _secret(key)} for row in rows
                )
        # The audit trail names people by id without a foreign key (it outlives them): who looked at
        # the person's data, and what they looked at themselves.
        audit = AccessLog.__table__
        rows = (
            self.connection.execute(
                select(audit)
                .where((audit.c.subject_id == person_id) | (audit.c.actor_id == person_id))
                .order_by(audit.c.id)
            )
            .mappings()
            .all()
        )
        if rows:
            out["access_log"] = [{key: _plain(value) for key, value in row.items()} for row in rows]
        return out

    # --------------------------------------------------------------- helpers

    def _insert(self, table: Any) -> Any:
        if self._dialect == "postgresql":
            return postgresql_insert(table)
        return sqlite_insert(table)


class Storage:
    """The database, opened once per process and shared by every adapter.

    :meth:`run` executes a function in one transaction and commits it before
    returning. The repository code is synchronous SQLAlchemy; how it is run
    depends on the backend (see database.py), so a whole turn costs one
    hand-off at most:

    - PostgreSQL: on an asyncpg connection through ``AsyncConnection.run_sync``;
    - SQLite: on the event loop, on a kept sqlite3 connection. Turns handed
      over together share one commit, each in its own savepoint: to the
      caller it is still its own transaction, kept whole or not at all.
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    @property
    def url(self) -> str:
        return self.database.url

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Storage:
        """Open the database and bring its tables up to date (migrations keep every row).

        Raises :class:`DatabaseUnavailable` (one clear line) when the database is locked,
        read-only, full, not a database, from a newer version, or cannot be reached."""
        database = None
        try:
            database = open_database(url)
            if migrate:
                await database.migrate()
        except Exception as error:
            explained = explain(error, url)
            if database is not None:
                await database.dispose()
            if explained is None:
                raise
            raise explained from None
        return cls(database)

    async def close(self) -> None:
        await self.database.dispose()

    async def run(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in one transaction: commit if it returns, roll back if it raises."""
        return await self.database.run(lambda connection: work(Transaction(connection)))
