"""Build the PTB Application: handlers, per-person processor, rate limits, commands.

Polling is the default way to run (no public address needed); webhook mode
needs a secret token so requests that do not come from Telegram are refused
(PTB's webhook server answers 403 and runs nothing).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot import logs
from bot.adapters.telegram.callbacks import Signer
from bot.adapters.telegram.extensions import ExtensionFactory
from bot.adapters.telegram.handlers import COMMANDS, TelegramCompanion, on_error
from bot.adapters.telegram.processor import DEFAULT_CONCURRENCY, PerPersonUpdateProcessor
from bot.adapters.telegram.sending import CompanionBot
from bot.services.conversation import Companion
from flows.schema import LANGUAGES

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
SEND_CONNECTIONS = 256
"""Connections kept open to the Bot API for sending (PTB's own default)."""
RATE_LIMIT_RETRIES = 3
"""How often a send is retried after Telegram says RetryAfter (flood control)."""
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def quiet_logs() -> None:
    """httpx logs every request URL at INFO, and those URLs contain the bot token;
    PTB's DEBUG logs hold message text. Neither may reach a log file: they are
    turned down here, and whatever is still logged is made safe (bot/logs.py)."""
    logs.install()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # PTB logs whole updates and request parameters (what people wrote) at DEBUG.
    logging.getLogger("telegram").setLevel(logging.INFO)


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """Where Telegram should deliver updates, and the secret it must send with them."""

    url: str
    secret_token: str
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = "telegram"

    def __post_init__(self) -> None:
        if not self.secret_token or not _SECRET.match(self.secret_token):
            raise ValueError(
                "webhook mode needs a secret token of 1-256 characters A-Z, a-z, 0-9, _ or - "
                "(COMPANION_WEBHOOK_SECRET or --webhook-secret)"
            )

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for Application.run_webhook / Updater.start_webhook."""
        return {
            "listen": self.listen,
            "port": self.port,
            "url_path": self.path,
            "secret_token": self.secret_token,
            "webhook_url": self.url,
            "allowed_updates": ALLOWED_UPDATES,
        }


def build_application(
    companion: Companion,
    token: str,
    *,
    base_url: str | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    rate_limit: bool = True,
    concurrency: int = DEFAULT_CONCURRENCY,
    extensions: Sequence[ExtensionFactory] = (),
) -> Application:
    """The companion as a PTB Application (not started), with feature extensions added."""
    quiet_logs()
    logs.keep_secret(token)
    handlers = TelegramCompanion(companion, Signer(token.encode()))
    bot = CompanionBot(
        token,
        base_url=base_url or "https://api.telegram.org/bot",
        base_file_url=_file_url(base_url),
        # As ApplicationBuilder would: many sends at once, one long poll.
        request=request or HTTPXRequest(connection_pool_size=SEND_CONNECTIONS),
        get_updates_request=updates_request or request or HTTPXRequest(),
        rate_limiter=AIORateLimiter(max_retries=RATE_LIMIT_RETRIES) if rate_limit else None,
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(PerPersonUpdateProcessor(concurrency))
        .post_init(_register_commands)
    )
    application = builder.build()
    handlers.bot = application.bot
    application.bot_data["companion"] = handlers
    for make in extensions:
        handlers.add_extension(make(handlers))
    add_handlers(application, handlers)
    return application


def _file_url(base_url: str | None) -> str:
    """Where files are fetched: beside a self-hosted Bot API server's /bot path, else Telegram's."""
    if base_url and base_url.rstrip("/").endswith("/bot"):
        return base_url.rstrip("/")[: -len("/bot")] + "/file/bot"
    return "https://api.telegram.org/file/bot"


def add_handlers(application: Application, handlers: TelegramCompanion) -> None:
    # Button presses are most updates, and no other handler takes them: checked first.
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    for name in COMMANDS:
        application.add_handler(CommandHandler(name, getattr(handlers, f"on_{name}"), filters=private))
    for extension in handlers.extensions:
        for name, function in extension.commands.items():
            application.add_handler(CommandHandler(name, function, filters=private))
    # Unknown commands get the help text.
    application.add_handler(MessageHandler(private & filters.COMMAND, handlers.on_help))
    application.add_handler(MessageHandler(private & filters.TEXT, handlers.on_text))
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE, handlers.on_edited)
    )
    application.add_handler(MessageHandler(private, handlers.on_other))
    application.add_error_handler(on_error)


async def _register_commands(application: Application) -> None:
    """Command lists in English (the default) and Swedish; Telegram shows the user's language."""
    handlers: TelegramCompanion = application.bot_data["companion"]
    for language in LANGUAGES:
        public = [*COMMANDS, *(name for extension in handlers.extensions for name in extension.public_commands)]
        commands = [BotCommand(name, handlers.ui.get(f"tg_command_{name}", language)) for name in public]
        await application.bot.set_my_commands(commands, language_code=None if language == "en" else language)
