"""The small commands: /help, /menu, /cancel, and /language with its buttons."""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.adapters.telegram import callbacks
from bot.adapters.telegram.core import Context, chat_of, message_of, who_of
from bot.adapters.telegram.features import Core, Feature
from bot.adapters.telegram.render import buttons, text_message
from bot.services.conversation import ReplyStatus, Who
from bot.services.words import LANGUAGE_NAMES
from flows.schema import LANGUAGES


def feature(core: Core) -> Feature:
    conversation = core.services.conversation

    async def on_help(update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        language = await core.language_of(who_of(user), user.language_code)
        await core.chat.send(message.chat_id, text_message([core.text("tg_help", language)]))

    async def on_menu(update: Update, context: Context) -> None:
        registered = await core.registered(update)
        if registered is not None:
            await core.send_menu(registered.chat_id, registered.who, registered.language)

    async def on_cancel(update: Update, context: Context) -> None:
        registered = await core.registered(update, claim=False)
        if registered is None:
            return
        who, language, chat_id = registered.who, registered.language, registered.chat_id
        reply = await conversation.pause(who, update.update_id)
        if reply.status is ReplyStatus.DUPLICATE:
            return
        if reply.status is ReplyStatus.IDLE:
            await core.send_menu(chat_id, who, language, [core.text("nothing_open", language)])
            return
        await core.show_reply(chat_id, who, reply, language)

    async def on_language(update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        language = await core.language_of(who_of(user), user.language_code)
        keyboard = buttons(
            [
                (core.text(LANGUAGE_NAMES[code], language), callbacks.simple(callbacks.LANGUAGE, code))
                for code in LANGUAGES
            ],
            per_row=2,
        )
        await core.chat.send(message.chat_id, text_message([core.text("tg_language_question", language)], keyboard))

    async def on_language_button(update: Update, query: CallbackQuery, who: Who, language: str) -> None:
        await core.chat.answer(query)
        message = message_of(query)
        chat_id = chat_of(query)
        if language not in LANGUAGES:
            return
        if message is not None:
            await core.chat.close(message, core.text(LANGUAGE_NAMES[language], language), language)
        if not await conversation.set_language(who, language):
            # Not registered: nothing is stored, so ask for consent in that language.
            await core.ask_consent(chat_id, language, first=True)
            return
        await core.chat.send(chat_id, text_message([core.text("tg_language_set", language)]))

    return Feature(
        "commands",
        commands={"help": on_help, "menu": on_menu, "cancel": on_cancel, "language": on_language},
        buttons={callbacks.LANGUAGE: on_language_button},
    )
