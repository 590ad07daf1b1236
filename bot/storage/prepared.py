"""A turn's hot statements, compiled once and run straight on SQLite's driver.

SQLAlchemy spends 10-15 µs of Python on every ``execute`` (an execution
context, a result object, events), which is more than SQLite needs to run a
turn's small statements on a local file. On SQLite the few statements every
turn runs skip that layer: each is still written once, as Core, in
:mod:`bot.storage.repository`, compiled here once for the connection's dialect,
and run on the same DB-API connection, inside the same transaction.

SQLAlchemy's own type conversions are kept (JSON, DateTime and the rest, as
the dialect defines them), so the rows written and read are exactly those the
ordinary path writes and reads; ``tests/test_storage_prepared.py`` checks that
on every hot statement. PostgreSQL keeps the ordinary path: there a network
round trip costs far more than the Python does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.elements import BindParameter

Processor = Callable[[Any], Any] | None


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
            (name, binds[name].value, binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
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
            value = params[name] if name in params else literal
            out.append(process(value) if process is not None else value)
        return tuple(out)

    def execute(self, driver: Any, params: Mapping[str, Any]) -> Any:
        """Run once; returns the driver's cursor (``rowcount`` for writes)."""
        return driver.execute(self.sql, self.values(params))

    def execute_many(self, driver: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        driver.executemany(self.sql, [self.values(row) for row in rows])

    def first(self, driver: Any, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row, converted as SQLAlchemy would, or None."""
        row = driver.execute(self.sql, self.values(params)).fetchone()
        if row is None:
            return None
        return tuple(
            process(value) if process is not None else value for process, value in zip(self._results, row, strict=True)
        )
