"""/summary: the PDF to print or show, a short preview, and what is missing, the name and the print size."""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.adapters.telegram import callbacks
from bot.adapters.telegram.core import Context, chat_of, telegram_language
from bot.adapters.telegram.features import Core, Feature
from bot.adapters.telegram.render import buttons, text_message
from bot.services.conversation import Who
from bot.summary.pdf import render_pdf
from bot.summary.text import render_preview

MISSING, NAME, PRINT = "missing", "name", "print"
"""The summary's follow-up buttons (``s:<value>``)."""


def feature(core: Core) -> Feature:
    conversation, summaries = core.services.conversation, core.services.summaries

    def follow_ups(language: str) -> list[tuple[str, str]]:
        pairs = [
            (core.text("button_tg_summary_missing", language), callbacks.simple(callbacks.SUMMARY, MISSING)),
            (core.text("button_tg_summary_name", language), callbacks.simple(callbacks.SUMMARY, NAME)),
        ]
        if summaries.print_flow:
            pairs.append((core.text("button_tg_summary_print", language), callbacks.simple(callbacks.SUMMARY, PRINT)))
        return pairs

    async def on_summary(update: Update, context: Context) -> None:
        registered = await core.registered(update)
        if registered is None:
            return
        who, language, chat_id = registered.who, registered.language, registered.chat_id
        document = await summaries.document(who)
        if document is None:
            return
        if document.is_empty:
            await core.send_menu(chat_id, who, language, [document.nothing_yet or ""])
            return
        await core.chat.send_document(
            chat_id,
            render_pdf(document),
            core.text("tg_summary_filename", language),
            core.text("tg_summary_caption", language),
        )
        await core.chat.send(chat_id, text_message([render_preview(document)], buttons(follow_ups(language))))

    async def on_button(update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        await core.chat.answer(query)
        chat_id = chat_of(query)
        person = await conversation.person(who)
        if person is None:
            await core.ask_consent(chat_id, telegram_language(query.from_user.language_code), first=False)
            return
        language = person.language
        chosen = {NAME: summaries.name_flow, PRINT: summaries.print_flow}.get(value)
        if chosen is not None:
            reply = await conversation.open(who, chosen, update.update_id)
            await core.show_reply(chat_id, who, reply, language)
            return
        if not await conversation.claim(who, update.update_id):
            return
        missing = await summaries.missing(who)
        if not missing:
            await core.chat.send(chat_id, text_message([core.text("summary_missing_none", language)]))
            return
        # Each missing part is a button that starts (or carries on with) it.
        pairs = [
            (
                core.text("summary_missing_in_progress", language, flow=item.title) if item.in_progress else item.title,
                callbacks.simple(callbacks.MENU, item.flow_id),
            )
            for item in missing
        ]
        await core.chat.send(chat_id, text_message([core.text("summary_missing_intro", language)], buttons(pairs)))

    return Feature("summary", commands={"summary": on_summary}, buttons={callbacks.SUMMARY: on_button})
