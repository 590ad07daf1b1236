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

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot import logs
from bot.adapters.telegram import callbacks, commands, menus, privacy, summary
from bot.adapters.telegram.callbacks import Signer
from bot.adapters.telegram.chat import Chat
from bot.adapters.telegram.core import CHANNEL, TelegramCore, on_error, who_of
from bot.adapters.telegram.counting import CountingRequest
from bot.adapters.telegram.delivery import OutboxDelivery
from bot.adapters.telegram.features import ButtonFunction, CommandFunction, FeatureFactory
from bot.adapters.telegram.limiter import SendLimiter
from bot.adapters.telegram.processor import DEFAULT_CONCURRENCY, PerPersonUpdateProcessor
from bot.adapters.telegram.sending import CompanionBot
from bot.services.app import Services

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
SEND_CONNECTIONS = 256
"""Connections kept open to the Bot API for sending (PTB's own default)."""
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SECRET_MINIMUM = 32
"""Telegram accepts 1-256 characters; fewer than 32 of these 64 symbols can be guessed by whoever
can reach the port (32 give 192 bits)."""
log = logging.getLogger(__name__)
GUARD_GROUP = -1000
"""The handler group of the checks every update passes first (lower groups run first)."""


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
                f"webhook mode needs a secret token of {SECRET_MINIMUM}-256 characters A-Z, a-z, 0-9, _ or - "
                "(COMPANION_WEBHOOK_SECRET or --webhook-secret)"
            )
        if len(self.secret_token) < SECRET_MINIMUM:
            raise ValueError(
                f"the webhook secret has {len(self.secret_token)} characters; use at least {SECRET_MINIMUM}"
                " (for example: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if not 1 <= self.port <= 65535:
            raise ValueError(f"--port must be between 1 and 65535, not {self.port}")

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


CORE_FEATURES: tuple[FeatureFactory, ...] = (commands.feature, privacy.feature, summary.feature)
"""Features every companion has; others (sharing, coordinators, groups, reminders) are added by the caller."""
CORE_BUTTONS = (callbacks.CONSENT, callbacks.MENU, callbacks.FLOW, callbacks.SAFETY)
"""Callback-data kinds the core itself answers."""


def build_application(
    services: Services,
    token: str,
    *,
    base_url: str | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    rate_limit: bool = True,
    limiter: BaseRateLimiter[Any] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    features: Sequence[FeatureFactory] = (),
    bot_username: str | None = None,
    callback_key: bytes | None = None,
    previous_callback_keys: Sequence[bytes] = (),
    in_order: bool = False,
) -> Application:
    """The companion as a PTB Application (not started): the core, its features, and ``features``.

    ``in_order`` (webhook mode) keeps each person's updates in update-id order across
    processes and connections (bot/services/ordering.py); polling gets them in order.

    Every call goes through ``limiter`` (by default a :class:`SendLimiter` on a
    budget of this process alone); ``rate_limit=False`` sends without one (tests)."""
    quiet_logs()
    logs.keep_secret(token)
    counts = services.conversation.counts
    # As ApplicationBuilder would: many sends at once, one long poll. Sends and 429s are counted.
    sending = CountingRequest(request or HTTPXRequest(connection_pool_size=SEND_CONNECTIONS), counts)
    bot = CompanionBot(
        token,
        base_url=base_url or "https://api.telegram.org/bot",
        base_file_url=_file_url(base_url),
        request=sending,
        get_updates_request=updates_request or request or HTTPXRequest(),
        rate_limiter=(limiter or SendLimiter()) if rate_limit else None,
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(PerPersonUpdateProcessor(concurrency, services.order if in_order else None))
        .post_init(menus.register_public)
    )
    application = builder.build()
    chat = Chat(application.bot, services.conversation.catalog.ui)
    signer = Signer(callback_key or token.encode(), previous_callback_keys)
    core = TelegramCore(services, signer, chat, bot_username=bot_username)
    # A turn's reply is saved with the turn and delivered from the outbox: at once after
    # the commit, else by the sender loop that runs while the application runs.
    services.conversation.deliver_through_outbox(CHANNEL)
    core.delivery = OutboxDelivery(core, services.outbox)
    core.delivery.install(application)
    application.bot_data["core"] = core
    application.bot_data["delivery"] = core.delivery
    for make in (*CORE_FEATURES, *features):
        core.add(make(core), reserved=CORE_BUTTONS)
    add_handlers(application, core)
    return application


def _file_url(base_url: str | None) -> str:
    """Where files are fetched: beside a self-hosted Bot API server's /bot path, else Telegram's."""
    if base_url and base_url.rstrip("/").endswith("/bot"):
        return base_url.rstrip("/")[: -len("/bot")] + "/file/bot"
    return "https://api.telegram.org/file/bot"


def _button(function: ButtonFunction) -> CommandFunction:
    """A feature's button handler as PTB calls it: the value after the kind, and who pressed."""

    async def handle(update: Update, context: Any) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        _, _, value = (query.data or "").partition(":")
        await function(update, query, who_of(user), value)

    return handle


def not_the_chats_owner(update: Update) -> bool:
    """A private chat's only other member is the bot: an update there from anyone else is forged
    (or a press on a message that reached another chat), and must change nothing anywhere."""
    chat, user = update.effective_chat, update.effective_user
    return chat is not None and user is not None and chat.type == ChatType.PRIVATE and chat.id != user.id


async def ignore_foreign(update: object, _context: Any) -> None:
    """Before every other handler: drop updates whose sender is not the private chat's owner.
    Logged by ids only, never what they held."""
    if isinstance(update, Update) and not_the_chats_owner(update):
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None
        log.warning(
            "update %d ignored: sender %d is not the owner of private chat %d", update.update_id, user.id, chat.id
        )
        raise ApplicationHandlerStop


def add_handlers(application: Application, core: TelegramCore) -> None:
    # A group of its own, before any other: PTB runs the first matching handler of each group.
    application.add_handler(TypeHandler(Update, ignore_foreign), group=GUARD_GROUP)
    # Each feature's buttons by their kind (PTB matches the pattern); the core takes the rest.
    for feature in core.features:
        for kind, pressed in feature.buttons.items():
            pattern = f"^{re.escape(kind)}:."
            application.add_handler(CallbackQueryHandler(_button(pressed), pattern=pattern))
    application.add_handler(CallbackQueryHandler(core.on_button))
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", core.on_start, filters=private))
    for feature in core.features:
        for name, function in feature.commands.items():
            application.add_handler(CommandHandler(name, function, filters=private))
    # Unknown commands get the help text.
    help_command = next(f.commands["help"] for f in core.features if "help" in f.commands)
    application.add_handler(MessageHandler(private & filters.COMMAND, help_command))
    application.add_handler(MessageHandler(private & filters.TEXT, core.on_text))
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE, core.on_edited)
    )
    application.add_handler(MessageHandler(private, core.on_other))
    application.add_error_handler(on_error)
