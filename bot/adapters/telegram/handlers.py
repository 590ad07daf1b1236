"""What the companion does with each kind of Telegram update.

One handler for typed text and one for button presses route to the
:class:`~bot.services.conversation.Companion` service, which holds the conversation in
the database; commands are thin. Rules kept here:

- Nothing is stored before the person taps "agree": until then no person row
  exists and no update id is recorded for them. ``/help`` works regardless.
- Typed text (and photo captions, and edits) is read for signs of risk
  before anything else, by the service (see bot.services.safety).
- A redelivered update is answered once (update ids go through the service).
- Logs name the kind of problem and the update id, never what anyone wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import traceback
from collections.abc import Sequence
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.adapters.telegram import callbacks
from bot.adapters.telegram.callbacks import Callback, Signer
from bot.adapters.telegram.extensions import ButtonFunction, Extension, StartFunction
from bot.adapters.telegram.render import Rendered, buttons, escape, prompt_message, text_message
from bot.adapters.telegram.sending import CompanionBot
from bot.services.conversation import Companion, NotRegistered, Reply, Who
from bot.services.safety import SafetyChoice, SafetyPrompt
from bot.summary.build import build_summary, missing_flows
from bot.summary.name import NAME_FLOW, print_flow
from bot.summary.pdf import render_pdf
from bot.summary.text import render_preview
from flows.engine import Button, Pressed, Prompt, Typed
from flows.schema import LANGUAGES, StepType

CHANNEL = "telegram"
COMMANDS = ("start", "menu", "summary", "help", "cancel", "language", "mydata", "delete")
SUMMARY_MISSING, SUMMARY_NAME, SUMMARY_PRINT = "missing", "name", "print"
RENDER_CACHE_SIZE = 4096
"""Rendered questions kept (a few kilobytes each)."""
LANGUAGE_NAMES = {"en": "button_tg_english", "sv": "button_tg_swedish"}

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE


def telegram_language(code: str | None) -> str:
    """The companion language closest to the Telegram app's language."""
    if code and code.split("-")[0].lower() in LANGUAGES:
        return code.split("-")[0].lower()
    return "en"


class TelegramCompanion:
    """The handlers, sharing one Companion service (which reads every message for risk) and signer."""

    def __init__(self, companion: Companion, signer: Signer) -> None:
        self.bot: Any = None
        """Set by build_application: the application's (rate-limited) CompanionBot."""
        self.companion = companion
        self.signer = signer
        self.ui = companion.catalog.ui
        self.extensions: list[Extension] = []
        self._buttons: dict[str, ButtonFunction] = {}
        self._start_payloads: dict[str, StartFunction] = {}
        # The same question is asked of many people: render it (escaping, signed
        # button data, keyboard JSON) once. Only questions the engine shares
        # between people are kept, and never the messages said before them (they
        # may quote an answer), so nothing a person wrote stays in memory.
        self._render_shared = functools.lru_cache(maxsize=RENDER_CACHE_SIZE)(self._render)

    def add_extension(self, extension: Extension) -> None:
        """Let a feature module answer its own commands, buttons and start links."""
        core = {
            callbacks.CONSENT,
            callbacks.MENU,
            callbacks.LANGUAGE,
            callbacks.DELETE,
            callbacks.FLOW,
            callbacks.SUMMARY,
            callbacks.SAFETY,
        }
        clash = (set(extension.buttons) & (core | set(self._buttons))) or (
            set(extension.commands) & (set(COMMANDS) | {c for e in self.extensions for c in e.commands})
        )
        if clash:
            raise ValueError(f"extension {extension.name} reuses {sorted(clash)}")
        self.extensions.append(extension)
        self._buttons.update(extension.buttons)
        self._start_payloads.update(extension.start_payloads)

    # ------------------------------------------------------------------ typed text

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or message.text is None:
            return
        who = Who(CHANNEL, str(user.id))
        try:
            reply = await self.companion.act(who, Typed(message.text), update.update_id)
        except NotRegistered:
            language = telegram_language(user.language_code)
            outside = self.companion.outside(message.text, language)
            if outside is not None:
                await self._show(message.chat_id, who, outside, language)
                return
            await self._send_consent(message.chat_id, language, first=False)
            return
        await self._show_reply(message.chat_id, who, reply, reply.language or await self._language(who))

    async def on_edited(self, update: Update, context: Context) -> None:
        """An edited message is not a new answer, but it is still read for crisis language."""
        message = update.edited_message
        user = update.effective_user
        text = (message.text or message.caption) if message else None
        if message is None or user is None or not text:
            return
        who = Who(CHANNEL, str(user.id))
        language = await self._language(who, user.language_code)
        outside = self.companion.outside(text, language)
        if outside is not None:
            await self._show(message.chat_id, who, outside, language)

    async def on_other(self, update: Update, context: Context) -> None:
        """Photos, voice notes, stickers, files, locations: only text and buttons are read."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        who = Who(CHANNEL, str(user.id))
        language = await self._language(who, user.language_code)
        outside = self.companion.outside(message.caption, language) if message.caption else None
        if outside is not None:
            await self._show(message.chat_id, who, outside, language)
        person = await self.companion.person(who)
        if person is None:
            await self._send_consent(message.chat_id, language, first=False)
            return
        if not await self.companion.claim(who, update.update_id):
            return
        current = await self.companion.current(who)
        texts = [self.ui.get("tg_only_text", language)]
        if current.prompt is not None and current.flow_id is not None:
            await self._send(message.chat_id, self._prompt(current.flow_id, current.prompt, language, texts))
        else:
            await self._send_menu(message.chat_id, who, language, texts)

    # ------------------------------------------------------------------ buttons

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        user = update.effective_user
        if query is None or user is None:
            return
        who = Who(CHANNEL, str(user.id))
        parsed = callbacks.parse(query.data, extra_kinds=self._buttons.keys())
        if parsed is None:
            await self._moved_on(query, who, user.language_code)
        elif parsed.kind == callbacks.CONSENT:
            agreed, _, payload = parsed.value.partition(":")
            await self._on_consent(update, query, who, agreed == "yes", payload)
        elif parsed.kind == callbacks.LANGUAGE:
            await self._on_language(update, query, who, parsed.value)
        elif parsed.kind == callbacks.DELETE:
            await self._on_delete(update, query, who, parsed.value == "yes")
        elif parsed.kind == callbacks.MENU:
            await self._on_menu_choice(update, query, who, parsed.value)
        elif parsed.kind == callbacks.SUMMARY:
            await self._on_summary_button(update, query, who, parsed.value)
        elif parsed.kind == callbacks.SAFETY:
            await self._on_safety(update, query, who, parsed.value)
        elif parsed.kind in self._buttons:
            await self._buttons[parsed.kind](update, query, who, parsed.value)
        else:
            await self._on_flow_button(update, query, who, parsed)

    async def _on_flow_button(self, update: Update, query: CallbackQuery, who: Who, parsed: Callback) -> None:
        try:
            reply = await self.companion.act(
                who,
                Pressed(parsed.value),
                update.update_id,
                expect=lambda flow_id, step: self.signer.matches(parsed, flow_id, step),
            )
        except NotRegistered:
            await self._moved_on(query, who, query.from_user.language_code)
            return
        if reply.status == "duplicate":
            await self._answer(query)
            return
        language = reply.language or await self._language(who)
        if reply.status == "moved_on":
            await self._answer(query, self.ui.get("tg_moved_on", language))
            await self._show_reply(query.message.chat.id if query.message else query.from_user.id, who, reply, language)
            return
        message = query.message if isinstance(query.message, Message) else None
        if (
            message is not None
            and not reply.messages
            and reply.prompt is not None
            and reply.prompt.kind is StepType.checklist
            and reply.flow_id is not None
            and self._same_question(parsed, reply.flow_id, reply.prompt)
        ):
            # A tick: the checklist changes in place.
            rendered = self._prompt(reply.flow_id, reply.prompt, language)
            if len(rendered.parts) == 1:
                await asyncio.gather(self._answer(query), self._edit(message, rendered))
                return
        await self._close_and_reply(message, query, who, reply, language)

    async def _close_and_reply(
        self, message: Message | None, query: CallbackQuery, who: Who, reply: Reply, language: str
    ) -> None:
        """Answer the press, echo the answer under the old question and send the next
        one, all at the same time: each is a round trip to Telegram, and none depends
        on another, so the person waits for one round trip instead of three."""
        chat_id = message.chat_id if message else query.from_user.id
        if message is None:
            await asyncio.gather(self._answer(query), self._show_reply(chat_id, who, reply, language))
            return
        await asyncio.gather(
            self._answer(query),
            self._close(message, self._pressed_label(message, query.data), language),
            self._show_reply(chat_id, who, reply, language),
        )

    async def _on_safety(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        """A button under the safety question or a card. "Yes" always brings the card."""
        name, _, token = value.partition(":")
        try:
            choice = SafetyChoice(name)
        except ValueError:
            await self._moved_on(query, who, query.from_user.language_code)
            return
        message = query.message if isinstance(query.message, Message) else None
        try:
            reply = await self.companion.answer_safety(who, choice, token, update.update_id)
        except NotRegistered:
            language = telegram_language(query.from_user.language_code)
            reply = self.companion.outside_answer(choice, language)
            chat_id = message.chat_id if message else query.from_user.id
            await self._answer(query)
            if message is not None:
                await self._close(message, self._pressed_label(message, query.data), language)
            if reply.crisis:
                await self._show(chat_id, who, reply, language)
            else:
                await self._send_consent(chat_id, language, first=False, before=reply.messages)
            return
        if reply.status == "duplicate":
            await self._answer(query)
            return
        language = reply.language or await self._language(who)
        await self._close_and_reply(message, query, who, reply, language)

    def _same_question(self, parsed: Callback, flow_id: str, prompt: Prompt) -> bool:
        return self.signer.matches(parsed, flow_id, prompt.step)

    async def _moved_on(self, query: CallbackQuery, who: Who, language_code: str | None) -> None:
        """A button nobody can use any more: say so, change nothing, show where we are."""
        language = await self._language(who, language_code)
        await self._answer(query, self.ui.get("tg_moved_on", language))
        chat_id = query.message.chat.id if query.message else query.from_user.id
        if await self.companion.person(who) is None:
            await self._send_consent(chat_id, language, first=False)
            return
        current = await self.companion.current(who)
        await self._show_reply(
            chat_id, who, Reply(prompt=current.prompt, status="moved_on", flow_id=current.flow_id), language
        )

    # ------------------------------------------------------------------ consent

    async def on_start(self, update: Update, context: Context) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        # A deep-link payload (an invite, a group link) goes to the feature that
        # made it; an unknown or malformed one is ignored, never an error.
        payload = context.args[0] if context.args else ""
        who = Who(CHANNEL, str(user.id))
        person = await self.companion.person(who)
        if person is None:
            await self._send_consent(
                message.chat_id, telegram_language(user.language_code), first=True, payload=payload
            )
            return
        if not await self.companion.claim(who, update.update_id):
            return
        if await self._run_start_payload(update, who, payload):
            return
        current = await self.companion.current(who)
        if current.prompt is not None and current.flow_id is not None:
            text = [self.ui.get("welcome_back", person.language)]
            await self._send(message.chat_id, self._prompt(current.flow_id, current.prompt, person.language, text))
            return
        await self._send_menu(message.chat_id, who, person.language)

    async def _send_consent(
        self, chat_id: int, language: str, *, first: bool, payload: str = "", before: Sequence[str] = ()
    ) -> None:
        keys = ["welcome", "not_for_emergencies", "privacy"] if first else ["tg_consent_first"]
        texts = [*before, *(self.ui.get(key, language) for key in keys), self.ui.get("consent_question", language)]
        agree = callbacks.simple(callbacks.CONSENT, "yes")
        if payload and self._payload_handler(payload) is not None:
            # Carry the start link through the consent button, so it runs right after "yes".
            carried = f"{agree}:{payload}"
            agree = carried if len(carried.encode()) <= callbacks.CALLBACK_DATA_LIMIT else agree
        keyboard = buttons(
            [
                (self.ui.get("button_agree", language), agree),
                (self.ui.get("button_decline", language), callbacks.simple(callbacks.CONSENT, "no")),
            ]
        )
        await self._send(chat_id, text_message(texts, keyboard))

    def _payload_handler(self, payload: str) -> tuple[StartFunction, str] | None:
        for prefix, handler in self._start_payloads.items():
            if payload.startswith(prefix) and len(payload) > len(prefix):
                return handler, payload[len(prefix) :]
        return None

    async def _run_start_payload(self, update: Update, who: Who, payload: str) -> bool:
        """Hand a start link to its feature; False if there is none or nobody knows it."""
        found = self._payload_handler(payload) if payload else None
        if found is None:
            return False
        handler, rest = found
        await handler(update, who, rest)
        return True

    async def _on_consent(
        self, update: Update, query: CallbackQuery, who: Who, agreed: bool, payload: str = ""
    ) -> None:
        await self._answer(query)
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat_id if message else query.from_user.id
        language = telegram_language(query.from_user.language_code)
        existing = await self.companion.person(who)
        if not agreed:
            if message is not None:
                await self._close(message, self.ui.get("button_decline", language), language)
            if existing is None:
                await self._send(chat_id, text_message([self.ui.get("declined", language)]))
            return
        if existing is None:
            await self.companion.join(who, language)
        # Recorded only now that there is consent; a redelivery stops here.
        if not await self.companion.claim(who, update.update_id):
            return
        if message is not None:
            await self._close(message, self.ui.get("button_agree", language), language)
        language = existing.language if existing else language
        if await self._run_start_payload(update, who, payload):
            return
        await self._send_menu(chat_id, who, language, [self.ui.get("agreed", language)])

    # ------------------------------------------------------------------ commands

    async def on_help(self, update: Update, context: Context) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        language = await self._language(Who(CHANNEL, str(user.id)), user.language_code)
        await self._send(message.chat_id, text_message([self.ui.get("tg_help", language)]))

    async def on_menu(self, update: Update, context: Context) -> None:
        registered = await self._registered(update)
        if registered is None:
            return
        who, language, chat_id = registered
        await self._send_menu(chat_id, who, language)

    # ------------------------------------------------------------------ the summary

    async def on_summary(self, update: Update, context: Context) -> None:
        """The summary as a PDF to print or show, a short preview, and what is still missing."""
        registered = await self._registered(update)
        if registered is None:
            return
        who, language, chat_id = registered
        person = await self.companion.person(who)
        if person is None:
            return
        document = await build_summary(self.companion.storage, self.companion.engine, person.id)
        follow_ups = buttons(
            [
                (
                    self.ui.get("button_tg_summary_missing", language),
                    callbacks.simple(callbacks.SUMMARY, SUMMARY_MISSING),
                ),
                (self.ui.get("button_tg_summary_name", language), callbacks.simple(callbacks.SUMMARY, SUMMARY_NAME)),
                *(
                    [
                        (
                            self.ui.get("button_tg_summary_print", language),
                            callbacks.simple(callbacks.SUMMARY, SUMMARY_PRINT),
                        )
                    ]
                    if print_flow(self.companion.catalog)
                    else []
                ),
            ]
        )
        if document.is_empty:
            await self._send_menu(chat_id, who, language, [document.nothing_yet or ""])
            return
        await self.bot.send_document(
            chat_id,
            document=render_pdf(document),
            filename=self.ui.get("tg_summary_filename", language),
            caption=self.ui.get("tg_summary_caption", language),
        )
        await self._send(chat_id, text_message([render_preview(document)], follow_ups))

    async def _on_summary_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        await self._answer(query)
        chat_id = query.message.chat.id if query.message else query.from_user.id
        person = await self.companion.person(who)
        if person is None:
            await self._send_consent(chat_id, telegram_language(query.from_user.language_code), first=False)
            return
        language = person.language
        chosen = {SUMMARY_NAME: NAME_FLOW, SUMMARY_PRINT: print_flow(self.companion.catalog)}.get(value)
        if chosen is not None and chosen in self.companion.catalog.flows:
            reply = await self.companion.open(who, chosen, update.update_id)
            await self._show_reply(chat_id, who, reply, language)
            return
        if not await self.companion.claim(who, update.update_id):
            return
        missing = await missing_flows(self.companion.storage, self.companion.engine, person.id)
        if not missing:
            await self._send(chat_id, text_message([self.ui.get("summary_missing_none", language)]))
            return
        # Each missing part is a button that starts (or carries on with) it.
        pairs = [
            (
                self.ui.get("summary_missing_in_progress", language, flow=item.title)
                if item.in_progress
                else item.title,
                callbacks.simple(callbacks.MENU, item.flow_id),
            )
            for item in missing
        ]
        await self._send(chat_id, text_message([self.ui.get("summary_missing_intro", language)], buttons(pairs)))

    async def on_cancel(self, update: Update, context: Context) -> None:
        registered = await self._registered(update, claim=False)
        if registered is None:
            return
        who, language, chat_id = registered
        reply = await self.companion.pause(who, update.update_id)
        if reply.status == "duplicate":
            return
        if reply.status == "idle":
            await self._send_menu(chat_id, who, language, [self.ui.get("nothing_open", language)])
            return
        await self._show_reply(chat_id, who, reply, language)

    async def on_language(self, update: Update, context: Context) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        language = await self._language(Who(CHANNEL, str(user.id)), user.language_code)
        keyboard = buttons(
            [
                (self.ui.get(LANGUAGE_NAMES[code], language), callbacks.simple(callbacks.LANGUAGE, code))
                for code in LANGUAGES
            ],
            per_row=2,
        )
        await self._send(message.chat_id, text_message([self.ui.get("tg_language_question", language)], keyboard))

    async def _on_language(self, update: Update, query: CallbackQuery, who: Who, language: str) -> None:
        await self._answer(query)
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat_id if message else query.from_user.id
        if language not in LANGUAGES:
            return
        if message is not None:
            await self._close(message, self.ui.get(LANGUAGE_NAMES[language], language), language)
        if not await self.companion.set_language(who, language):
            # Not registered: nothing is stored, so ask for consent in that language.
            await self._send_consent(chat_id, language, first=True)
            return
        await self._send(chat_id, text_message([self.ui.get("tg_language_set", language)]))

    async def on_mydata(self, update: Update, context: Context) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        who = Who(CHANNEL, str(user.id))
        data = await self.companion.export(who)
        language = await self._language(who, user.language_code)
        if data is None:
            await self._send(message.chat_id, text_message([self.ui.get("tg_nothing_kept", language)]))
            return
        document = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        await message.get_bot().send_document(
            message.chat_id,
            document=document,
            filename="my-data.json",
            caption=self.ui.get("tg_mydata_caption", language),
        )

    async def on_delete(self, update: Update, context: Context) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        who = Who(CHANNEL, str(user.id))
        person = await self.companion.person(who)
        language = person.language if person else telegram_language(user.language_code)
        if person is None:
            await self._send(message.chat_id, text_message([self.ui.get("tg_nothing_kept", language)]))
            return
        keyboard = buttons(
            [
                (self.ui.get("button_tg_delete_yes", language), callbacks.simple(callbacks.DELETE, "yes")),
                (self.ui.get("button_tg_delete_no", language), callbacks.simple(callbacks.DELETE, "no")),
            ]
        )
        await self._send(message.chat_id, text_message([self.ui.get("tg_delete_question", language)], keyboard))

    async def _on_delete(self, update: Update, query: CallbackQuery, who: Who, confirmed: bool) -> None:
        await self._answer(query)
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat_id if message else query.from_user.id
        language = await self._language(who, query.from_user.language_code)
        label = self.ui.get("button_tg_delete_yes" if confirmed else "button_tg_delete_no", language)
        if message is not None:
            await self._close(message, label, language)
        if not confirmed:
            await self._send(chat_id, text_message([self.ui.get("tg_delete_kept", language)]))
            return
        erased = await self.companion.erase(who)
        await self._send(chat_id, text_message([self.ui.get("tg_deleted" if erased else "tg_nothing_kept", language)]))

    async def _on_menu_choice(self, update: Update, query: CallbackQuery, who: Who, flow_id: str) -> None:
        message = query.message if isinstance(query.message, Message) else None
        flow = self.companion.catalog.flows.get(flow_id)
        if flow is None or not flow.menu:
            # Only menu flows open from a menu button; the others (a group session,
            # what we agreed) open at their own moment, after their own checks.
            await self._moved_on(query, who, query.from_user.language_code)
            return
        try:
            reply = await self.companion.open(who, flow_id, update.update_id)
        except NotRegistered:
            await self._moved_on(query, who, query.from_user.language_code)
            return
        if reply.status == "duplicate":
            await self._answer(query)
            return
        language = reply.language or await self._language(who)
        await self._close_and_reply(message, query, who, reply, language)

    # ------------------------------------------------------------------ showing replies

    async def _show_reply(self, chat_id: int, who: Who, reply: Reply, language: str) -> None:
        if reply.status == "duplicate":
            return
        await self._show(chat_id, who, reply, language)
        if reply.status == "finished" and reply.flow_id is not None:
            for extension in self.extensions:
                follow_up = extension.finished.get(reply.flow_id)
                if follow_up is not None:
                    await follow_up(who, reply)

    async def _show(self, chat_id: int, who: Who, reply: Reply, language: str) -> None:
        messages = list(reply.messages)
        if reply.crisis and messages:
            # The card stands alone, first, before anything else.
            await self._send(chat_id, text_message([messages.pop(0)]))
        if reply.safety is not None:
            await self._send(chat_id, self._safety_prompt(reply.safety, messages))
            return
        if reply.prompt is not None and reply.flow_id is not None:
            await self._send(chat_id, self._prompt(reply.flow_id, reply.prompt, language, messages))
            return
        if reply.crisis:
            return
        if not messages and reply.status in ("idle", "moved_on"):
            messages = [self.ui.get("nothing_open", language)]
        await self._send_menu(chat_id, who, language, messages)

    def _prompt(self, flow_id: str, prompt: Prompt, language: str, before: Sequence[str] = ()) -> Rendered:
        if prompt.shared:
            return self._render_shared(flow_id, prompt, language, ()).after(before)
        return self._render(flow_id, prompt, language, tuple(before))

    def _render(self, flow_id: str, prompt: Prompt, language: str, before: tuple[str, ...]) -> Rendered:
        def data(button: Button) -> str:
            return self.signer.flow_button(flow_id, prompt.step, button.id)

        return prompt_message(prompt, lambda key, **params: self.ui.get(key, language, **params), data, before)

    @staticmethod
    def _safety_prompt(safety: SafetyPrompt, before: Sequence[str]) -> Rendered:
        pairs = [
            (button.label, callbacks.simple(callbacks.SAFETY, f"{button.id}:{safety.token}"))
            for button in safety.buttons
        ]
        return text_message([*before, safety.text], buttons(pairs))

    async def _send_menu(self, chat_id: int, who: Who, language: str, before: Sequence[str] = ()) -> None:
        flows = await self.companion.menu(who)
        pairs = []
        for flow in flows:
            if flow.state == "done" and flow.done_on:
                state = self.ui.get("menu_done", language, date=flow.done_on.isoformat())
            else:
                state = self.ui.get(f"menu_{flow.state}", language)
            pairs.append((f"{flow.title} ({state})", callbacks.simple(callbacks.MENU, flow.flow_id)))
        await self._send(chat_id, text_message([*before, self.ui.get("menu_intro", language)], buttons(pairs)))

    # ------------------------------------------------------------------ Telegram calls

    async def _send(self, chat_id: int, rendered: Rendered) -> None:
        bot: CompanionBot = self.bot
        last = len(rendered.parts) - 1
        for index, part in enumerate(rendered.parts):
            await bot.send_html(chat_id, part, rendered.keyboard if index == last else None)

    async def _edit(self, message: Message, rendered: Rendered) -> None:
        """Change a one-part message in place (a checklist tick): text and keyboard."""
        try:
            await self.bot.edit_html(message.chat_id, message.message_id, rendered.parts[0], rendered.keyboard)
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                raise

    async def _close(self, message: Message, label: str | None, language: str) -> None:
        """Take the buttons off a message that has been answered, and show the answer under it."""
        bot: CompanionBot = self.bot
        try:
            body = message.text_html if message.text else None
            if body is not None and label:
                echo = self.ui.get("tg_answer_echo", language, answer=escape(label))
                text = f"{body}\n\n{echo}"
                if len(text) <= 4096:
                    await bot.edit_html(message.chat_id, message.message_id, text)
                    return
            await bot.remove_keyboard(message.chat_id, message.message_id)
        except (BadRequest, Forbidden):
            # Too old to edit, or already edited by a double tap: nothing to change.
            pass

    @staticmethod
    def _pressed_label(message: Message, data: str | None) -> str | None:
        markup = message.reply_markup
        if markup is None:
            return None
        for row in markup.inline_keyboard:
            for key in row:
                if key.callback_data == data:
                    return key.text
        return None

    async def _answer(self, query: CallbackQuery, text: str | None = None) -> None:
        # A redelivered press whose query Telegram has already closed.
        with contextlib.suppress(BadRequest):
            await self.bot.answer_press(query.id, text)

    async def _language(self, who: Who, fallback_code: str | None = None) -> str:
        person = await self.companion.person(who)
        return person.language if person else telegram_language(fallback_code)

    async def _registered(self, update: Update, *, claim: bool = True) -> tuple[Who, str, int] | None:
        """The person if they have agreed (and the update is new); otherwise ask for consent."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return None
        who = Who(CHANNEL, str(user.id))
        person = await self.companion.person(who)
        if person is None:
            await self._send_consent(message.chat_id, telegram_language(user.language_code), first=False)
            return None
        if claim and not await self.companion.claim(who, update.update_id):
            return None
        return who, person.language, message.chat_id


async def on_error(update: object, context: Context) -> None:
    """Log the kind of failure and the update id only: never text a person wrote."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    # The exception's message may quote what was sent, so only its type and
    # where it happened are logged.
    where = "".join(traceback.format_tb(error.__traceback__)) if error is not None else ""
    log.error("update %s failed: %s\n%s", update_id, type(error).__name__, where)
    if isinstance(update, Update) and update.effective_chat is not None:
        language = telegram_language(update.effective_user.language_code if update.effective_user else None)
        companion: TelegramCompanion | None = context.application.bot_data.get("companion")
        if companion is not None:
            try:
                await context.bot.send_message(
                    update.effective_chat.id, escape(companion.ui.get("tg_error", language)), parse_mode=ParseMode.HTML
                )
            except Exception:
                log.warning("could not tell chat about failed update %s", update_id)
