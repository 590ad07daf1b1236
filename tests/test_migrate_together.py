"""Processes that start together on a fresh PostgreSQL database all come up.

Every start migrates. Without a lock, two processes both find no
``alembic_version`` table and both create it, and one crashes.
"""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import inspect

from bot.storage import migrate
from bot.storage.database import open_database

PROCESSES = 4


async def test_four_processes_migrating_at_once_all_succeed(postgres_url: str) -> None:
    database = open_database(postgres_url)
    await database.drop_schema()
    await database.dispose()
    environment = {**os.environ, "COMPANION_DATABASE_URL": postgres_url}
    started = [
        subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import app; app()", "migrate"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    finished = [(process.wait(timeout=120), *process.communicate()) for process in started]
    failures = [err[-600:] for code, _out, err in finished if code != 0]
    assert failures == [], "\n---\n".join(failures)
    assert all(f"schema {migrate.head()}" in out for _code, out, _err in finished)
    database = open_database(postgres_url)
    try:
        assert await database.run_alone(migrate.current) == migrate.head()
        assert await database.run_alone(lambda connection: inspect(connection).has_table("people"))
    finally:
        await database.dispose()
