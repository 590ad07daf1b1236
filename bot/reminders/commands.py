"""``companion dispatch``: send due reminders on Telegram (also run inside ``companion run``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
from typing import Annotated, Any

import typer

from bot.content import load_catalog
from bot.reminders.delivery import telegram_sender
from bot.reminders.dispatcher import Tally
from bot.settings import Settings
from bot.storage.repository import Storage


async def dispatch(settings: Settings, *, once: bool) -> Tally:
    from telegram import Bot

    assert settings.telegram_bot_token is not None
    catalog = load_catalog(settings.content_dir)
    storage = await Storage.open(settings.database_url)
    options: dict[str, Any] = {"base_url": settings.bot_api_url} if settings.bot_api_url else {}
    try:
        async with Bot(settings.telegram_bot_token.get_secret_value(), **options) as bot:
            # The same words, buttons and files as the dispatcher inside `companion run`.
            from bot.adapters.telegram.reminders import TelegramReminderComposer
            from bot.services.reminders import Reminders
            from flows.engine import Engine

            reminders = Reminders(storage, Engine(catalog), lambda: dt.datetime.now(dt.UTC))
            dispatcher = reminders.dispatcher(telegram_sender(bot), TelegramReminderComposer(reminders, catalog.ui))
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
    once: Annotated[bool, typer.Option(help="Send what is due now, then stop.")] = False,
) -> None:
    """Send due reminders (needs TELEGRAM_BOT_TOKEN). Several may run at once on PostgreSQL."""
    settings = Settings()
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
        typer.echo("Set TELEGRAM_BOT_TOKEN first: reminders go out on Telegram.", err=True)
        raise typer.Exit(2)
    from telegram.error import InvalidToken, NetworkError

    from bot.adapters.telegram.runner import TELEGRAM_UNREACHABLE, refusal_message

    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token in URLs
    try:
        tally = asyncio.run(dispatch(settings, once=once))
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
