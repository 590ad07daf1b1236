"""The Bot the companion talks to Telegram with: PTB's ExtBot, with the few calls a turn makes.

Each is one of PTB's own public methods, so defaults, the rate limiter and its
RetryAfter handling, and Telegram's errors (raised as :mod:`telegram.error`
exceptions) all apply; they only fix the companion's choices in one place:
HTML messages, and links that never unfold into a preview.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.ext import ExtBot

NO_LINK_PREVIEW = LinkPreviewOptions(is_disabled=True)
"""Links people or authors write never unfold into a preview."""


class CompanionBot(ExtBot[int]):
    """ExtBot with the calls used on every turn; every other call is PTB's own."""

    async def answer_press(self, callback_query_id: str, text: str | None = None) -> None:
        """answerCallbackQuery: stops the button's spinner, with an optional short notice."""
        await self.answer_callback_query(callback_query_id, text=text)

    async def send_html(self, chat_id: int, html: str, keyboard: InlineKeyboardMarkup | None = None) -> Message:
        """sendMessage in HTML parse mode, without link previews."""
        return await self.send_message(
            chat_id, html, parse_mode=ParseMode.HTML, link_preview_options=NO_LINK_PREVIEW, reply_markup=keyboard
        )

    async def edit_html(
        self, chat_id: int, message_id: int, html: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> None:
        """editMessageText; no keyboard given means the buttons are taken off."""
        await self.edit_message_text(
            html,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_LINK_PREVIEW,
            reply_markup=keyboard,
        )

    async def remove_keyboard(self, chat_id: int, message_id: int) -> None:
        """editMessageReplyMarkup with no markup: the message stays, its buttons go."""
        await self.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
