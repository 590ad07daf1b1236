"""/mydata (everything kept, as a file), /delete (after asking) and /privacy (the notice)."""

from __future__ import annotations

import json

from telegram import CallbackQuery, Update

from bot.adapters.telegram import callbacks
from bot.adapters.telegram.core import Context, chat_of, message_of, who_of
from bot.adapters.telegram.features import Core, Feature
from bot.adapters.telegram.render import buttons, text_message
from bot.services.conversation import Who
from bot.services.notice import privacy_notice

YES, NO = "yes", "no"
EXPORT_FILENAME = "my-data.json"


def feature(core: Core) -> Feature:
    conversation, privacy = core.services.conversation, core.services.privacy

    async def on_mydata(update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        who = who_of(user)
        if await conversation.person(who) is not None and not await conversation.claim(who, update.update_id):
            return  # a redelivered update: the file went once already
        data = await privacy.export(who)
        language = await core.language_of(who, user.language_code)
        if data is None:
            await core.chat.send(message.chat_id, text_message([core.text("tg_nothing_kept", language)]))
            return
        document = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        await core.chat.send_document(
            message.chat_id, document, EXPORT_FILENAME, core.text("tg_mydata_caption", language)
        )

    async def on_delete(update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        person = await conversation.person(who_of(user))
        language = await core.language_of(who_of(user), user.language_code)
        if person is None:
            await core.chat.send(message.chat_id, text_message([core.text("tg_nothing_kept", language)]))
            return
        keyboard = buttons(
            [
                (core.text("button_tg_delete_yes", language), callbacks.simple(callbacks.DELETE, YES)),
                (core.text("button_tg_delete_no", language), callbacks.simple(callbacks.DELETE, NO)),
            ]
        )
        await core.chat.send(message.chat_id, text_message([core.text("tg_delete_question", language)], keyboard))

    async def on_delete_button(update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        await core.chat.answer(query)
        message = message_of(query)
        chat_id = chat_of(query)
        confirmed = value == YES
        language = await core.language_of(who, query.from_user.language_code)
        label = core.text("button_tg_delete_yes" if confirmed else "button_tg_delete_no", language)
        if message is not None:
            await core.chat.close(message, label, language)
        if not confirmed:
            await core.chat.send(chat_id, text_message([core.text("tg_delete_kept", language)]))
            return
        erased = await privacy.erase(who)
        await core.chat.send(
            chat_id, text_message([core.text("tg_deleted" if erased else "tg_nothing_kept", language)])
        )

    async def on_privacy(update: Update, context: Context) -> None:
        """Anyone may read it, agreed or not: it is what they would agree to."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        language = await core.language_of(who_of(user), user.language_code)
        await core.chat.send(message.chat_id, text_message(privacy_notice(core.ui, language)))

    return Feature(
        "privacy",
        commands={"mydata": on_mydata, "delete": on_delete, "privacy": on_privacy},
        public_commands=("privacy",),
        buttons={callbacks.DELETE: on_delete_button},
    )
