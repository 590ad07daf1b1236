"""Operator commands for running the service: ``companion people list|show|delete``, ``companion status``,
``companion backup`` and ``companion restore``.

Each is a plain function; bot/cli.py composes them. They print for the
person running the service, never what a service user wrote (see
bot/services/operators.py), so their words stay here like the rest of the
command line's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from bot.roles import grants
from bot.services.operators import Operators, PersonLine, Status
from bot.settings import Settings
from bot.storage.repository import Storage

T = TypeVar("T")


def _with_operators(work: Callable[[Operators], Awaitable[T]], *, migrate: bool = True) -> T:
    async def main() -> T:
        storage = await Storage.open(Settings().database_url, migrate=migrate)
        try:
            return await work(Operators(storage))
        finally:
            await storage.close()

    return asyncio.run(main())


def _line(line: PersonLine) -> str:
    roles = ", ".join(line.roles) or "-"
    if line.staff_name:
        roles += f" ({line.staff_name})"
    active = f"{line.last_active:%Y-%m-%d}" if line.last_active else "-"
    return (
        f"{line.id:>6}  {line.channel:<9} {line.external_id:<14} {line.language:<3} "
        f"{line.created_at:%Y-%m-%d}  {active:<10}  {roles}"
    )


HEADER = f"{'id':>6}  {'channel':<9} {'account':<14} {'lang':<3} {'joined':<10}  {'active':<10}  roles"


def people_list(
    role: Annotated[str | None, typer.Option(help="Only people with this role: coordinator or facilitator.")] = None,
    telegram: Annotated[
        str | None, typer.Option(help="Find the person with this Telegram user id (they can see it in Telegram).")
    ] = None,
    console: Annotated[str | None, typer.Option(help="Find the person of this console profile.")] = None,
) -> None:
    """List people by id, channel, language and dates: never what they wrote. Each listing is audited."""
    if role is not None and role not in grants.ROLES:
        typer.echo(f"Unknown role '{role}'. Use one of: {', '.join(grants.ROLES)}.", err=True)
        raise typer.Exit(2)
    if telegram is not None and console is not None:
        typer.echo("Give --telegram or --console, not both.", err=True)
        raise typer.Exit(2)
    channel: str | None = "telegram" if telegram is not None else "console" if console is not None else None
    account = telegram if telegram is not None else console
    lines = _with_operators(lambda o: o.list_people(role=role, channel=channel, external_id=account))
    if not lines:
        if role is not None:
            typer.echo(f"Nobody holds the role '{role}'. Make an invite with: companion invite {role}")
        elif account is not None:
            typer.echo(f"Nobody with that {channel} account has agreed to the companion's privacy notice.")
        else:
            typer.echo("Nobody uses the companion yet.")
        return
    typer.echo(HEADER)
    for line in lines:
        typer.echo(_line(line))


def people_show(
    person_id: Annotated[int, typer.Argument(help="The id shown by `companion people list`.")],
) -> None:
    """One person's record: dates, statuses and counts, never what they wrote. Audited."""
    detail = _with_operators(lambda o: o.show_person(person_id))
    if detail is None:
        typer.echo(f"Nobody has the id {person_id}. Find it with: companion people list", err=True)
        raise typer.Exit(1)
    line = detail.line
    typer.echo(f"Person {line.id}: {line.channel} account {line.external_id}")
    typer.echo(f"  language {line.language}, time zone {detail.timezone}")
    typer.echo(f"  agreed to the privacy notice {detail.consented_at:%Y-%m-%d %H:%M} UTC")
    typer.echo(f"  roles: {', '.join(line.roles) or 'none'}")
    typer.echo("  conversations:" if detail.flows else "  conversations: none yet")
    for flow in detail.flows:
        finished = f", finished {flow.completed_at:%Y-%m-%d}" if flow.completed_at else ""
        typer.echo(
            f"    {flow.flow_id:<20} {flow.status:<11} started {flow.started_at:%Y-%m-%d}{finished},"
            f" {flow.answers} answer{'s' if flow.answers != 1 else ''}"
        )
    typer.echo("  rows that refer to them: " + ", ".join(f"{name} {count}" for name, count in detail.rows.items()))


def people_delete(
    person_id: Annotated[int, typer.Argument(help="The id shown by `companion people list`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask first.")] = False,
) -> None:
    """Erase everything kept about a person, as their own /delete does (the audit trail stays). Audited."""
    if not yes and not typer.confirm(
        f"Erase everything kept about person {person_id}? This cannot be undone.", default=False
    ):
        typer.echo("Nothing was erased.")
        raise typer.Exit(1)
    if not _with_operators(lambda o: o.delete_person(person_id)):
        typer.echo(f"Nobody has the id {person_id}. Find it with: companion people list", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"Everything kept about person {person_id} is erased; the audit trail keeps that it was done."
        " Their Telegram chat with the bot stays in their Telegram app until they delete it there."
    )


def status() -> None:
    """Is the database reachable and up to date, what is waiting to go out, and the last error recorded."""
    from bot.storage.errors import where

    url = Settings().database_url
    report: Status = _with_operators(lambda o: o.status(), migrate=False)
    typer.echo(f"database: reachable ({where(url)})")
    if report.schema is None:
        typer.echo(f"schema: none yet (the code's is {report.head}); run: companion migrate")
    elif report.schema_current:
        typer.echo(f"schema: {report.schema}, current")
    else:
        typer.echo(f"schema: {report.schema}, NOT current (the code's is {report.head}); run: companion migrate")
    typer.echo(f"reminders pending: {report.pending_reminders} ({report.due_reminders} due now)")
    depth = "no outbox table yet (the schema is behind)" if report.outbox_depth is None else str(report.outbox_depth)
    typer.echo(f"outbox: {depth}")
    typer.echo(f"last error: {report.last_error or 'none recorded'}")
    if not report.schema_current:
        raise typer.Exit(1)


def backup(
    out: Annotated[Path, typer.Option("--out", help="The new file to write the backup to (never overwritten).")],
) -> None:
    """Back up the SQLite database while the companion runs (SQLite's online backup; PostgreSQL: pg_dump)."""
    from bot.storage import backup as backups

    try:
        copied = backups.backup(Settings().database_url, out)
    except backups.BackupError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"Backed up {copied.people} {'person' if copied.people == 1 else 'people'} (schema {copied.schema})"
        f" to {copied.path}, readable by you only. It holds everything people wrote: keep it as safe as the"
        " database, and delete it when your retention period ends."
    )


def restore(
    backup_file: Annotated[Path, typer.Argument(help="A file made by `companion backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask first.")] = False,
) -> None:
    """Replace the SQLite database with a backup. Stop the bot first; everything since the backup is lost."""
    from bot.storage import backup as backups

    url = Settings().database_url
    try:
        schema, people = backups.check_backup(backup_file)
        target = backups.sqlite_path(url)
    except backups.BackupError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if not yes and not typer.confirm(
        f"Replace {target} with the backup ({people} people, schema {schema})? Everything saved since it was"
        " made is lost, and anyone erased since then comes back.",
        default=False,
    ):
        typer.echo("Nothing was restored.")
        raise typer.Exit(1)
    try:
        backups.restore(backup_file, url)
    except backups.BackupError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None

    async def upgrade() -> None:  # a backup from an older version gets this version's schema
        storage = await Storage.open(url)
        await storage.close()

    asyncio.run(upgrade())
    typer.echo(
        f"Restored {people} {'person' if people == 1 else 'people'} into {target}. People erased since the"
        " backup was made are back in it: erase them again (companion audit --person ID shows who was)."
    )
