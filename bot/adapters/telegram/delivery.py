"""Replies delivered through the outbox (bot/services/outbox.py), rendered at delivery.

The service decides what is delivered when, and records it; this module only
turns a reply into Telegram messages and says how Telegram took them:
accepted, refused for good (403: the person blocked the bot; 400: the chat is
gone, or a message Telegram will never take), or a passing failure (5xx, a
timeout, flood control) that the outbox retries later, from the first message
Telegram did not accept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application

from bot.services.conversation import Reply, Who
from bot.services.outbox import Delivery, Outbox, Outcome, Outgoing

if TYPE_CHECKING:
    from bot.adapters.telegram.core import TelegramCore

log = logging.getLogger(__name__)


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class OutboxDelivery:
    """The Telegram side of the outbox: the fast path after a turn and the sender loop."""

    def __init__(self, core: TelegramCore, outbox: Outbox) -> None:
        self.core = core
        self.outbox = outbox
        self._stop = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    async def now(self, reply: Reply, who: Who) -> bool:
        """Deliver a turn's reply right after its commit; False if it was left to the sender loop."""
        return await self.outbox.deliver_now(reply, who, self.send)

    async def send(self, item: Outgoing) -> Delivery:
        """Render the reply as it is now and send its messages from ``item.sent_parts`` on."""
        chat_id = int(item.who.external_id)
        language = item.reply.language or await self.core.language_of(item.who)
        messages = [
            (part, rendered.keyboard if index == len(rendered.parts) - 1 else None)
            for rendered in await self.core.renders(item.who, item.reply, language)
            for index, part in enumerate(rendered.parts)
        ]
        sent = item.sent_parts
        try:
            for html, keyboard in messages[sent:]:
                message = await self.core.chat.bot.send_html(chat_id, html, keyboard)
                sent += 1
                if keyboard is not None:
                    # The only live buttons in a chat are the newest question's.
                    await self.core.buttons_now_on(chat_id, message.message_id)
        except Forbidden:
            return Delivery(Outcome.UNDELIVERABLE, sent)
        except BadRequest as error:
            # "chat not found", or a message Telegram will never take: sending again cannot help.
            log.warning("outbox row %d refused by Telegram (400, %s)", item.id, type(error).__name__)
            return Delivery(Outcome.UNDELIVERABLE, sent)
        except RetryAfter as error:
            return Delivery(Outcome.RETRY, sent, _seconds(error.retry_after))
        except NetworkError as error:  # 5xx, timeouts, no connection
            log.info("outbox row %d not delivered yet (%s)", item.id, type(error).__name__)
            return Delivery(Outcome.RETRY, sent)
        return Delivery(Outcome.DELIVERED, sent)

    def install(self, application: Application) -> None:
        """Run the sender loop while the application runs: from PTB's ``post_init`` (once the bot
        is initialised) until ``post_stop`` (before its connection closes)."""
        earlier_init, earlier_stop = application.post_init, application.post_stop

        async def post_init(app: Application) -> None:
            if earlier_init is not None:
                await earlier_init(app)
            self.start()

        async def post_stop(app: Application) -> None:
            await self.stop()
            if earlier_stop is not None:
                await earlier_stop(app)

        application.post_init = post_init
        application.post_stop = post_stop

    def start(self) -> None:
        self._stop.clear()
        self._loop = asyncio.get_running_loop().create_task(self.outbox.run(self.send, self._stop))

    async def stop(self) -> None:
        self._stop.set()
        if self._loop is not None:
            await self._loop
            self._loop = None
