"""Run the companion on Telegram until stopped: polling by default, or a webhook.

PTB's ``run_polling``/``run_webhook`` own the event loop, so the database and
content are opened on that same loop first, and closed after PTB shuts down.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application

from bot import logs
from bot.adapters.health import HealthServer
from bot.adapters.telegram import coordinator, facilitator, invites, member, reminders, sharing
from bot.adapters.telegram.app import ALLOWED_UPDATES, WebhookOptions, build_application
from bot.adapters.telegram.features import FeatureFactory
from bot.adapters.telegram.limiter import SendLimiter
from bot.checks import checked_catalog
from bot.memory import settle_after_start_up
from bot.reminders.dispatcher import Limits
from bot.runtime import open_services
from bot.services.operators import Operators
from bot.services.retention import UPDATE_IDS_DEFAULT, Retention
from bot.services.send_budget import send_budget
from bot.settings import Settings, callback_keys

NO_TOKEN = """No Telegram bot token is set.

To get one: open Telegram, talk to @BotFather, send /newbot and follow the steps.
It gives you a token like 123456789:AA... Then either
  export TELEGRAM_BOT_TOKEN=<your token>
or put the line  TELEGRAM_BOT_TOKEN=<your token>  in a .env file here, and run
  companion run
again.

No token needed to try the companion: `companion chat` talks to you in this terminal."""


TOKEN_REFUSED = """Telegram did not accept the bot token.

Check TELEGRAM_BOT_TOKEN (in the environment or the .env file): it should be the
whole token @BotFather gave you, like 123456789:AA... If the bot was deleted or
its token was revoked, ask @BotFather for a new one."""

ADDRESS_NOT_FOUND = """The Bot API answered "Not Found".

Either the token is not whole (check TELEGRAM_BOT_TOKEN: it looks like
123456789:AA...), or COMPANION_BOT_API_URL does not point at a Bot API server:
it should end in /bot, like http://localhost:8081/bot. Leave it unset to use
Telegram's own."""

TELEGRAM_UNREACHABLE = """Could not reach Telegram ({kind}).

Check this computer's internet connection (and COMPANION_BOT_API_URL, if you
use your own Bot API server), then run `companion run` again. Everything
people have saved is kept."""


def refusal_message(error: InvalidToken) -> str:
    """What to tell the operator when the Bot API refuses: the token (401), or the address (404).

    PTB raises InvalidToken for both; a 404's message starts with "Not Found"
    (Telegram's description, or the HTTP phrase). Only the kind is used, never
    the message itself, which can quote the token."""
    chain: list[BaseException] = [error]
    if error.__cause__ is not None:
        chain.append(error.__cause__)
    if any(str(item).startswith("Not Found") for item in chain):
        return ADDRESS_NOT_FOUND
    return TOKEN_REFUSED


FEATURES: tuple[FeatureFactory, ...] = (
    invites.feature,
    sharing.feature,
    coordinator.feature,
    facilitator.feature,
    member.feature,
    reminders.make_feature,
)
"""Every feature ``companion run`` adds to the core: role invites, sharing, the coordinator's side,
the facilitator's side of groups, the member's side, and reminders."""


START_RETRIES = 8
"""How often ``companion run`` tries Telegram again when it cannot be reached at start (about 4 minutes
in all with the waits below); then it says so and exits, for a supervisor to start it again."""
FIRST_WAIT = 1.0
"""Seconds before the first retry; each later wait doubles, up to LONGEST_WAIT."""
LONGEST_WAIT = 60.0
log = logging.getLogger(__name__)


async def reach_telegram(
    application: Application,
    retries: int = START_RETRIES,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Initialise the application (PTB asks Telegram who the bot is), trying again with growing waits
    while Telegram cannot be reached, times out, answers with a server error or asks to wait (429).

    A refused token (401) or a wrong address (404) is not retried: waiting does not fix it. Each failed
    try is logged with the kind of failure only (its message can hold the URL, which holds the token)."""
    wait = FIRST_WAIT
    for attempt in range(retries + 1):
        try:
            await application.initialize()
            if attempt:
                log.info("reached Telegram after %d tries", attempt + 1)
            return
        except InvalidToken:
            raise
        except (NetworkError, RetryAfter) as error:
            if attempt == retries:
                raise
            pause = error.retry_after if isinstance(error, RetryAfter) else wait
            seconds = pause.total_seconds() if isinstance(pause, dt.timedelta) else float(pause)
            log.warning(
                "could not reach Telegram at start (%s); trying again in %g s (try %d of %d)",
                type(error.__cause__ or error).__name__,
                seconds,
                attempt + 2,
                retries + 1,
            )
            await sleep(seconds)
            wait = min(wait * 2, LONGEST_WAIT)


def _settle_memory_once_started(application: Application) -> None:
    """After everything else PTB runs at start-up (see bot/memory.py)."""
    started = application.post_init

    async def post_init(app: Application) -> None:
        if started is not None:
            await started(app)
        settle_after_start_up()

    application.post_init = post_init


def _prune_while_running(application: Application, retention: Retention) -> None:
    """Prune handled update ids once started and every hour, until the application stops."""
    earlier_init, earlier_stop = application.post_init, application.post_stop

    async def post_init(app: Application) -> None:
        if earlier_init is not None:
            await earlier_init(app)
        retention.start()

    async def post_stop(app: Application) -> None:
        await retention.stop()
        if earlier_stop is not None:
            await earlier_stop(app)

    application.post_init = post_init
    application.post_stop = post_stop


def _serve_health_once_started(application: Application, server: HealthServer, host: str, port: int) -> None:
    """Listen once the application has reached Telegram, on PTB's loop (see bot/adapters/health.py)."""
    started = application.post_init

    async def post_init(app: Application) -> None:
        if started is not None:
            await started(app)
        await server.start(host, port)

    application.post_init = post_init


def run(
    settings: Settings,
    webhook: WebhookOptions | None = None,
    *,
    log_format: str = "text",
    start_retries: int = START_RETRIES,
    health: tuple[str, int] | None = None,
    retention: dt.timedelta = UPDATE_IDS_DEFAULT,
) -> None:
    """Blocks until Ctrl-C (or SIGTERM). The token must be set (see NO_TOKEN).

    ``start_retries``: how often to try Telegram again at start (see :func:`reach_telegram`).
    ``health``: (address, port) to serve ``/healthz`` and ``/metrics`` on (bot/adapters/health.py).
    ``retention``: how long handled update ids are kept (bot/services/retention.py).

    Raises ContentError, before the database or Telegram is touched, when the
    content fails ``companion content check``."""
    assert settings.telegram_bot_token is not None
    catalog = checked_catalog(settings.content_dir, settings.org_dir)
    logs.configure(log_format)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    services = loop.run_until_complete(open_services(settings, catalog))
    companion = services.conversation
    token = settings.telegram_bot_token.get_secret_value()
    key, previous = callback_keys(settings, token)
    if settings.callback_key is None:
        logging.getLogger(__name__).warning(
            "COMPANION_CALLBACK_KEY is not set: buttons are signed with a key derived from the bot token"
        )
    for secret in (key, *previous):
        if secret.decode() != token:
            logs.keep_secret(secret.decode(), "[callback key]")
    application = build_application(
        services,
        token,
        limiter=SendLimiter(send_budget(companion.storage)),
        base_url=settings.bot_api_url,
        features=FEATURES,
        bot_username=settings.bot_username,
        callback_key=key,
        previous_callback_keys=previous,
        in_order=webhook is not None,
    )
    # Reminders go out from this process too (``companion dispatch`` can run more beside it).
    # Its sends take the bot's budget like every other (the limiter), not permits of their own.
    reminders.run_dispatcher_inside(application, services.reminders, limits=Limits(permits=None))
    server = HealthServer(Operators(companion.storage), companion.counts) if health is not None else None
    if server is not None and health is not None:
        _serve_health_once_started(application, server, *health)
    _prune_while_running(application, Retention(companion.storage, retention))
    _settle_memory_once_started(application)  # last: after everything else at start-up

    async def close_storage(_: Application) -> None:
        if server is not None:
            await server.stop()
        await companion.storage.close()

    application.post_shutdown = close_storage
    try:
        loop.run_until_complete(reach_telegram(application, start_retries))
    except BaseException:
        loop.run_until_complete(companion.storage.close())
        raise
    # Initialised already, so PTB's own bootstrap retries cover only setting or deleting the webhook.
    if webhook is None:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=start_retries)
    else:
        application.run_webhook(**webhook.arguments(), bootstrap_retries=start_retries)
