"""The Bot the companion talks to Telegram with: PTB's ExtBot, plus lean calls for a turn.

PTB's ``send_message`` and ``edit_message_text`` turn Telegram's answer into
a :class:`~telegram.Message`: for a question with its keyboard that is about
a tenth of a millisecond of pure Python, twice a turn, and a turn never reads
that answer. The calls here post exactly the same request through the same
machinery (defaults, the rate limiter and its RetryAfter handling, Telegram's
errors raised as :mod:`telegram.error` exceptions) and skip only the parsing.

Keyboards arrive as the JSON that :class:`~bot.telegram.render.Rendered`
made once, so a question asked a thousand times is serialised once.
"""

from __future__ import annotations

import json
from typing import Any

from telegram.constants import ParseMode
from telegram.ext import ExtBot

NO_LINK_PREVIEW = json.dumps({"is_disabled": True})
"""LinkPreviewOptions(is_disabled=True) as Telegram receives it: links people or
authors write never unfold into a preview."""


class CompanionBot(ExtBot[None]):
    """ExtBot with the lean calls used on every turn; every other call is PTB's own."""

    async def answer_press(self, callback_query_id: str, text: str | None = None) -> None:
        """answerCallbackQuery: stops the button's spinner, with an optional short notice."""
        await self._post("answerCallbackQuery", {"callback_query_id": callback_query_id, "text": text})

    async def send_html(self, chat_id: int, html: str, keyboard_json: str | None = None) -> None:
        """sendMessage in HTML parse mode, without link previews."""
        await self._post("sendMessage", _html_message(html, keyboard_json, chat_id=chat_id))

    async def edit_html(self, chat_id: int, message_id: int, html: str, keyboard_json: str | None = None) -> None:
        """editMessageText; no keyboard given means the buttons are taken off."""
        await self._post("editMessageText", _html_message(html, keyboard_json, chat_id=chat_id, message_id=message_id))

    async def remove_keyboard(self, chat_id: int, message_id: int) -> None:
        """editMessageReplyMarkup with no markup: the message stays, its buttons go."""
        await self._post("editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id})


def _html_message(html: str, keyboard_json: str | None, **where: Any) -> dict[str, Any]:
    return {
        **where,
        "text": html,
        "parse_mode": ParseMode.HTML.value,
        "link_preview_options": NO_LINK_PREVIEW,
        "reply_markup": keyboard_json,
    }
