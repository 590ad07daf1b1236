"""The Telegram calls every feature makes: send, edit in place, close an answered question, answer a press.

One small class so that features never reach into each other for these, and
so the rules live once: long messages split into parts with the buttons on
the last, an answered question keeps its text and shows the answer under it,
a press already closed by Telegram is no error.
"""

from __future__ import annotations

import contextlib

from telegram import CallbackQuery, Message
from telegram.error import BadRequest, Forbidden

from bot.adapters.telegram.render import MESSAGE_LIMIT, Rendered, escape
from bot.adapters.telegram.sending import CompanionBot
from flows.texts import UiTexts


class Chat:
    def __init__(self, bot: CompanionBot, ui: UiTexts) -> None:
        self.bot = bot
        self.ui = ui

    async def send(self, chat_id: int, rendered: Rendered) -> Message | None:
        """Send every part; the last (which carries the keyboard) is returned."""
        last = len(rendered.parts) - 1
        sent = None
        for index, part in enumerate(rendered.parts):
            sent = await self.bot.send_html(chat_id, part, rendered.keyboard if index == last else None)
        return sent

    async def send_document(self, chat_id: int, data: bytes, filename: str, caption: str) -> None:
        await self.bot.send_document(chat_id, document=data, filename=filename, caption=caption)

    async def edit(self, message: Message, rendered: Rendered) -> None:
        """Change a one-part message in place (a checklist tick): text and keyboard."""
        try:
            await self.bot.edit_html(message.chat_id, message.message_id, rendered.parts[0], rendered.keyboard)
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                raise

    async def close(self, message: Message, label: str | None, language: str) -> None:
        """Take the buttons off a message that has been answered, and show the answer under it."""
        try:
            body = message.text_html if message.text else None
            if body is not None and label:
                echo = self.ui.get("tg_answer_echo", language, answer=escape(label))
                text = f"{body}\n\n{echo}"
                if len(text) <= MESSAGE_LIMIT:
                    await self.bot.edit_html(message.chat_id, message.message_id, text)
                    return
            await self.bot.remove_keyboard(message.chat_id, message.message_id)
        except (BadRequest, Forbidden):
            # Too old to edit, or already edited by a double tap: nothing to change.
            pass

    async def drop_buttons(self, message: Message | None) -> None:
        """Take the buttons off, keeping the text as it is."""
        if message is None:
            return
        with contextlib.suppress(BadRequest, Forbidden):
            await self.bot.remove_keyboard(message.chat_id, message.message_id)

    async def drop_buttons_of(self, chat_id: int, message_id: int) -> None:
        """Take the buttons off a message known only by its id (an earlier question)."""
        with contextlib.suppress(BadRequest, Forbidden):
            await self.bot.remove_keyboard(chat_id, message_id)

    async def answer(self, query: CallbackQuery, text: str | None = None) -> None:
        # A redelivered press whose query Telegram has already closed.
        with contextlib.suppress(BadRequest):
            await self.bot.answer_press(query.id, text)

    @staticmethod
    def pressed_label(message: Message, data: str | None) -> str | None:
        """The label of the button that carried ``data``, as the person saw it."""
        markup = message.reply_markup
        if markup is None:
            return None
        for row in markup.inline_keyboard:
            for key in row:
                if key.callback_data == data:
                    return key.text
        return None
