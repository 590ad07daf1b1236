"""`companion people list|show|delete` and `companion status` on a real database (SQLite, or PostgreSQL
when COMPANION_TEST_DATABASE_URL is set): the operator finds ids without seeing what anyone wrote,
every look and erasure is audited, and status says whether the schema is current."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert
from typer.testing import CliRunner

from bot.cli import app
from bot.roles import grants, sharing
from bot.storage import migrate as migrations
from bot.storage.models import Reminder
from bot.storage.repository import Storage
from tests.conftest import fresh_storage

WORDS = "My secret words about lithium"
NAME = "Secretname"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _prepare(url: str) -> tuple[int, int]:
    """A service user with a chosen name, an answer and two reminders (one failed); a coordinator."""

    async def main() -> tuple[int, int]:
        storage = await fresh_storage(url)
        try:

            def work(tx) -> tuple[int, int]:  # type: ignore[no-untyped-def]
                person = tx.create_person("telegram", "5550001", "sv", NOW)
                tx.update_person(person.id, display_name=NAME)
                tx.add_completed_run(person.id, "questions", {"goal": WORDS}, NOW)
                staff = tx.create_person("telegram", "5550002", "en", NOW)
                tx.update_person(staff.id, display_name="Sam")
                grants.grant(tx.connection, staff.id, grants.COORDINATOR, NOW)
                reminders = Reminder.__table__
                for lead, status in (("d3", "pending"), ("d1", "failed")):
                    tx.connection.execute(
                        insert(reminders).values(
                            person_id=person.id,
                            kind="appointment_questions",
                            source="appointment:1",
                            lead=lead,
                            due_at=NOW - dt.timedelta(hours=1),
                            expires_at=NOW + dt.timedelta(days=1),
                            status=status,
                            attempts=3 if status == "failed" else 0,
                        )
                    )
                return person.id, staff.id

            return await storage.run(work)
        finally:
            await storage.close()

    return asyncio.run(main())


def _trail(url: str, person_id: int) -> list[sharing.AuditEntry]:
    async def main() -> list[sharing.AuditEntry]:
        storage = await Storage.open(url)
        try:
            return await storage.run(lambda tx: sharing.trail_of(tx.connection, person_id))
        finally:
            await storage.close()

    return asyncio.run(main())


def _rows(url: str, person_id: int) -> dict[str, int]:
    async def main() -> dict[str, int]:
        storage = await Storage.open(url)
        try:
            return await storage.run(lambda tx: tx.rows_referring_to(person_id))
        finally:
            await storage.close()

    return asyncio.run(main())


@pytest.fixture
def people(database_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int, int]:
    monkeypatch.setenv("COMPANION_DATABASE_URL", database_url)
    return (database_url, *_prepare(database_url))


def test_people_list_shows_ids_and_accounts_but_nothing_anyone_wrote(people: tuple[str, int, int]) -> None:
    url, person, staff = people
    result = CliRunner().invoke(app, ["people", "list"])
    assert result.exit_code == 0, result.output
    assert "5550001" in result.output and "5550002" in result.output
    assert WORDS not in result.output and NAME not in result.output
    assert "coordinator (Sam)" in result.output  # staff are named
    assert [e.action for e in _trail(url, person)] == ["operator_people_list"]
    assert [e.actor_id for e in _trail(url, staff)] == [None]


def test_people_list_finds_one_person_by_their_telegram_id(people: tuple[str, int, int]) -> None:
    _, person, _ = people
    result = CliRunner().invoke(app, ["people", "list", "--telegram", "5550001"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines()[1:] if line.strip()]
    assert len(rows) == 1 and rows[0].split()[0] == str(person)
    missing = CliRunner().invoke(app, ["people", "list", "--telegram", "999"])
    assert missing.exit_code == 0 and "Nobody with that telegram account" in missing.output
    assert CliRunner().invoke(app, ["people", "list", "--role", "nurse"]).exit_code == 2


def test_people_show_gives_counts_and_dates_never_the_words(people: tuple[str, int, int]) -> None:
    url, person, _ = people
    result = CliRunner().invoke(app, ["people", "show", str(person)])
    assert result.exit_code == 0, result.output
    assert "questions" in result.output and "1 answer" in result.output and "time zone" in result.output
    assert "reminders.person_id 2" in result.output
    assert WORDS not in result.output and NAME not in result.output
    assert [e.action for e in _trail(url, person)] == ["operator_people_show"]
    nobody = CliRunner().invoke(app, ["people", "show", "9999"])
    assert nobody.exit_code == 1 and "Nobody has the id 9999" in nobody.output


def test_people_delete_erases_like_the_persons_own_delete_and_is_audited(people: tuple[str, int, int]) -> None:
    url, person, staff = people
    refused = CliRunner().invoke(app, ["people", "delete", str(person)], input="n\n")
    assert refused.exit_code == 1 and "Nothing was erased" in refused.output
    assert _rows(url, person)["people.id"] == 1
    result = CliRunner().invoke(app, ["people", "delete", str(person)], input="y\n")
    assert result.exit_code == 0, result.output
    assert set(_rows(url, person).values()) == {0}
    assert _rows(url, staff)["people.id"] == 1
    assert [(e.actor_id, e.action) for e in _trail(url, person)] == [(None, "operator_delete")]
    again = CliRunner().invoke(app, ["people", "delete", str(person), "--yes"])
    assert again.exit_code == 1 and "Nobody has the id" in again.output


def test_status_reports_schema_reminders_outbox_and_the_last_error(people: tuple[str, int, int]) -> None:
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "database: reachable" in result.output
    assert f"schema: {migrations.head()}, current" in result.output
    assert "reminders pending: 1 (1 due now)" in result.output
    assert "outbox: 0" in result.output
    assert "last error: reminder" in result.output and "failed after 3 attempts" in result.output


def test_status_says_when_the_schema_is_behind_and_does_not_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        from alembic import command

        command.upgrade(migrations.config(connection), migrations.BASELINE)
    engine.dispose()
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 1
    assert f"schema: {migrations.BASELINE}, NOT current" in result.output and "companion migrate" in result.output
    again = CliRunner().invoke(app, ["status"])
    assert f"schema: {migrations.BASELINE}, NOT current" in again.output  # status only looks


def test_status_on_a_database_that_cannot_be_reached_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANION_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
