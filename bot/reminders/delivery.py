"""What the dispatcher hands to a sender, and what a sender may report back.

A sender is any ``async (Outgoing) -> None``: the Telegram one calls the Bot
API; tests and the benchmark use a Bot API stub. Returning means the platform
accepted the message. Raising says why not:

- :class:`Blocked` (or telegram.error.Forbidden): the person blocked the bot;
  never retried until they write again.
- :class:`RetryLater` (or telegram.error.RetryAfter): flood control; no
  dispatcher sends anything for that long.
- anything else: a passing failure, tried again later with a growing pause.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes
    mime_type: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    channel: str
    chat_id: str
    text: str
    attachment: Attachment | None = None
    buttons: tuple[tuple[str, str], ...] = ()
    """(label, callback data) pairs, one button per row: a reminder's one-tap actions."""
    priority: int = 1
    """Its place in the bot's send budget (bot/services/send_budget.py): 1 a reminder, 2 a group message."""


Sender = Callable[[Outgoing], Awaitable[None]]


class Blocked(Exception):
    """The chat refuses messages from the bot."""


class RetryLater(Exception):
    """The platform asked us to wait this many seconds before sending anything."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def classify(error: BaseException) -> tuple[str, float]:
    """("blocked", 0), ("retry_after", seconds) or ("failed", 0) for an error a sender raised."""
    if isinstance(error, Blocked):
        return "blocked", 0.0
    if isinstance(error, RetryLater):
        return "retry_after", float(error.seconds)
    try:
        from telegram.error import Forbidden, RetryAfter
    except ImportError:  # pragma: no cover - telegram is a dependency
        return "failed", 0.0
    if isinstance(error, Forbidden):
        return "blocked", 0.0
    if isinstance(error, RetryAfter):
        with warnings.catch_warnings():  # PTB 22 is moving retry_after from int to timedelta
            warnings.simplefilter("ignore")
            retry = error.retry_after
        return "retry_after", retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
    return "failed", 0.0


def telegram_sender(bot: object) -> Sender:
    """A sender for a python-telegram-bot ``Bot`` (already initialised)."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile

    # The companion's own rate limiter takes a priority (replies before reminders
    # before group messages); a plain Bot takes none.
    ranked = getattr(bot, "rate_limiter", None) is not None

    async def send(outgoing: Outgoing) -> None:
        extra: dict[str, Any] = {"rate_limit_args": outgoing.priority} if ranked else {}
        # Plain text (no parse mode): a facilitator's words or a note can never break the markup.
        keyboard = (
            InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=data)] for label, data in outgoing.buttons]
            )
            if outgoing.buttons
            else None
        )
        if outgoing.attachment is None:
            await bot.send_message(chat_id=outgoing.chat_id, text=outgoing.text, reply_markup=keyboard, **extra)  # type: ignore[attr-defined]
            return
        document = InputFile(outgoing.attachment.data, filename=outgoing.attachment.filename)
        await bot.send_document(  # type: ignore[attr-defined]
            chat_id=outgoing.chat_id, document=document, caption=outgoing.text, reply_markup=keyboard, **extra
        )

    return send
