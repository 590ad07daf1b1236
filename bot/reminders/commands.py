"""``companion dispatch``: send due reminders on Telegram (also run inside ``companion run``), and
``companion reminders list``: what is queued.

Both take ``--now``, so an operator (or a test) can see and send what would
be due at another time without touching the database: the clock starts
there and runs on from it, so leases and a chat's one-a-second pace still
work while it drains.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer

from bot.content import load_catalog
from bot.reminders import store
from bot.reminders.delivery import telegram_sender
from bot.reminders.dispatcher import Tally
from bot.settings import Settings
from bot.storage.repository import Storage

NOW_HELP = (
    "Act as if it were this time, e.g. 2026-12-01T18:00 (UTC) or 2026-12-01T18:00+01:00; the clock runs on from there."
)


def moment(text: str) -> dt.datetime:
    """``--now`` read as a moment: ISO 8601, UTC when no offset is given; a plain line and status 2 if not."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        typer.echo(f"Could not read '{text}' as a time. Write it like 2026-12-01T18:00 (UTC).", err=True)
        raise typer.Exit(2) from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def moved_clock(start: dt.datetime | None) -> Callable[[], dt.datetime]:
    """The real clock, or one that starts at ``start`` and runs on at the real pace."""
    if start is None:
        return lambda: dt.datetime.now(dt.UTC)
    began = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - began)


async def dispatch(settings: Settings, *, once: bool, now: dt.datetime | None = None) -> Tally:
    from telegram.ext import ExtBot

    from bot.adapters.telegram.limiter import SendLimiter
    from bot.reminders.dispatcher import Limits
    from bot.services.send_budget import SharedBudget

    assert settings.telegram_bot_token is not None
    catalog = load_catalog(settings.content_dir, settings.org_dir)
    storage = await Storage.open(settings.database_url)
    options: dict[str, Any] = {"base_url": settings.bot_api_url} if settings.bot_api_url else {}
    try:
        # Its sends take permits from the budget every process of the bot shares
        # (bot/services/send_budget.py), at reminder priority, behind replies.
        limiter = SendLimiter(SharedBudget(storage))
        async with ExtBot(settings.telegram_bot_token.get_secret_value(), rate_limiter=limiter, **options) as bot:
            # The same words, buttons and files as the dispatcher inside `companion run`.
            from bot.adapters.telegram.reminders import TelegramReminderComposer
            from bot.services.reminders import Reminders
            from flows.engine import Engine

            clock = moved_clock(now)
            reminders = Reminders(storage, Engine(catalog), clock)
            composer = TelegramReminderComposer(reminders, catalog.ui, clock=clock)
            dispatcher = reminders.dispatcher(telegram_sender(bot), composer, clock=clock, limits=Limits(permits=None))
            if once:
                return await dispatcher.run_due()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            return await dispatcher.run(stop)
    finally:
        await storage.close()


def dispatch_command(
    once: Annotated[bool, typer.Option(help="Send everything that is due now, then stop.")] = False,
    now: Annotated[str | None, typer.Option(help=NOW_HELP)] = None,
) -> None:
    """Send due reminders (needs TELEGRAM_BOT_TOKEN). Several may run at once on PostgreSQL."""
    start = moment(now) if now is not None else None
    settings = Settings()
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
        typer.echo("Set TELEGRAM_BOT_TOKEN first: reminders go out on Telegram.", err=True)
        raise typer.Exit(2)
    from telegram.error import InvalidToken, NetworkError

    from bot.adapters.telegram.runner import TELEGRAM_UNREACHABLE, refusal_message

    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token in URLs
    try:
        tally = asyncio.run(dispatch(settings, once=once, now=start))
    except InvalidToken as error:
        typer.echo(refusal_message(error), err=True)
        raise typer.Exit(2) from None
    except NetworkError as error:
        typer.echo(TELEGRAM_UNREACHABLE.format(kind=type(error.__cause__ or error).__name__), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"Sent {tally.sent}, dropped {tally.dropped}, blocked {tally.blocked}, "
        f"to retry {tally.retried}, failed {tally.failed}."
    )


def reminders_list_command(
    now: Annotated[str | None, typer.Option(help=NOW_HELP)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Also show reminders sent, dropped, blocked or failed.")] = False,
) -> None:
    """What reminders are queued, soonest first: when each is due, what it is about, for whom (by id).

    Rows name people by their id here (as `companion audit` and `summary
    --person` do) and what a reminder is about by its kind and number
    (session:3), never by a group's name, a place, a note or a message:
    those are words people wrote, which an operator does not need to see
    to know what is queued."""
    at = moment(now) if now is not None else dt.datetime.now(dt.UTC)
    settings = Settings()

    async def main() -> list[store.Listed]:
        storage = await Storage.open(settings.database_url)
        try:
            return await storage.run(lambda tx: store.listing(tx.connection, finished_too=all_))
        finally:
            await storage.close()

    rows = asyncio.run(main())
    queued = [row for row in rows if row.status == store.PENDING]
    due = sum(1 for row in queued if row.due_at <= at)
    typer.echo(
        f"Queued reminders at {at:%Y-%m-%d %H:%M} UTC: {len(queued)}, "
        + (f"{due} due now." if due else "none due yet.")
    )
    if not rows:
        return
    typer.echo(f"{'state':<8} {'due (UTC)':<16} {'kind':<20} {'about':<14} {'lead':<10} {'person':>6} {'tries':>5}")
    for row in rows:
        typer.echo(
            f"{state(row, at):<8} {row.due_at:%Y-%m-%d %H:%M} {row.kind:<20} {row.source:<14} {row.lead:<10} "
            f"{row.person_id:>6} {row.attempts:>5}"
        )


def state(row: store.Listed, at: dt.datetime) -> str:
    """due, later, or past (its event is over: it will be dropped, not sent); a finished row's status."""
    if row.status != store.PENDING:
        return row.status
    if row.expires_at <= at:
        return "past"
    return "due" if row.due_at <= at else "later"
