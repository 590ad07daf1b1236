"""A turn's hot statements, compiled once and run straight on the database driver.

SQLAlchemy spends 10-15 µs of Python on every ``execute`` on SQLite (an
execution context, a result object, events), and several times that on
asyncpg, where each statement also passes through the asyncio adapter. A
turn's own statements are small, so that machinery cost more than the
database work. The few statements every turn runs therefore skip it: each is
still written once, as Core, in :mod:`bot.storage.repository`, compiled here
once per dialect, and run on the same driver connection, inside the same
transaction (sqlite3 directly; asyncpg through ``await_only``, as SQLAlchemy's
own adapter does inside ``run_sync``).

SQLAlchemy's type conversions are kept (JSON, DateTime and the rest, as each
dialect defines them), so the rows written and read are exactly those the
ordinary path writes and reads; ``tests/test_storage_prepared.py`` checks that
on every hot statement, on SQLite and PostgreSQL. Any other driver takes the
ordinary path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.util import await_only

Processor = Callable[[Any], Any] | None


class Driver(Protocol):
    """The few driver calls the hot statements need."""

    def execute(self, sql: str, values: Sequence[Any]) -> int:
        """Run a statement; return how many rows it changed."""

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def fetchrow(self, sql: str, values: Sequence[Any]) -> Sequence[Any] | None: ...


class SqliteDriver:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str, values: Sequence[Any]) -> int:
        return self.connection.execute(sql, values).rowcount

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.connection.executemany(sql, rows)

    def fetchrow(self, sql: str, values: Sequence[Any]) -> Sequence[Any] | None:
        return self.connection.execute(sql, values).fetchone()


class AsyncpgDriver:
    """asyncpg from synchronous code running under ``AsyncConnection.run_sync``."""

    def __init__(self, connection: Connection) -> None:
        self.sqlalchemy = connection
        self.adapter = connection.connection.dbapi_connection
        self.connection = connection.connection.driver_connection

    def execute(self, sql: str, values: Sequence[Any]) -> int:
        status: str = self._call(self.connection.execute, sql, *values)
        # "INSERT 0 1", "UPDATE 1": the last number is the row count.
        return int(status.rsplit(" ", 1)[-1])

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._call(self.connection.executemany, sql, rows)

    def fetchrow(self, sql: str, values: Sequence[Any]) -> Sequence[Any] | None:
        return self._call(self.connection.fetchrow, sql, *values)

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            self._join_transaction()
            return await_only(method(*args))
        except Exception:
            if self.connection.is_closed():
                # What SQLAlchemy does for its own statements: a closed connection
                # leaves the pool, and the database layer may run the work again.
                self.sqlalchemy.invalidate()
            raise

    def _join_transaction(self) -> None:
        """SQLAlchemy's asyncpg adapter sends BEGIN lazily, just before its own first
        statement. A statement sent straight to asyncpg before that would commit on
        its own, outside the turn's transaction: start the adapter's transaction first."""
        if self.connection.is_in_transaction():
            return
        await_only(self.adapter._start_transaction())
        if not self.connection.is_in_transaction():
            raise RuntimeError("the asyncpg transaction did not start; refusing to run outside it")


def driver_for(connection: Connection) -> Driver | None:
    """The driver behind a SQLAlchemy connection, if the hot statements can run on it."""
    if connection.dialect.name == "sqlite":
        return SqliteDriver(connection.connection.driver_connection)
    if connection.dialect.driver == "asyncpg":
        return AsyncpgDriver(connection)
    return None


class Prepared:
    """One Core statement compiled for one dialect, with its type conversions."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        names = compiled.positiontup
        if names is None:
            raise ValueError(f"{dialect.name} does not use positional parameters; use the ordinary path")
        self.sql: str = compiled.string
        binds: Mapping[str, BindParameter[Any]] = compiled.binds
        self._parameters: tuple[tuple[str, Any, Processor], ...] = tuple(
            (name, binds[name].value, binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        )
        columns = getattr(statement, "selected_columns", ())
        self._results: tuple[Processor, ...] = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's positional values: given parameters (or the statement's own
        literals), each through its type's conversion."""
        out = []
        for name, literal, process in self._parameters:
            value = params.get(name, literal)
            out.append(process(value) if process is not None else value)
        return tuple(out)

    def execute(self, driver: Driver, params: Mapping[str, Any]) -> int:
        """Run once; returns the number of rows changed."""
        return driver.execute(self.sql, self.values(params))

    def execute_many(self, driver: Driver, rows: Sequence[Mapping[str, Any]]) -> None:
        driver.execute_many(self.sql, [self.values(row) for row in rows])

    def first(self, driver: Driver, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row, converted as SQLAlchemy would, or None."""
        row = driver.fetchrow(self.sql, self.values(params))
        if row is None:
            return None
        return tuple(
            process(value) if process is not None else value for process, value in zip(self._results, row, strict=True)
        )
