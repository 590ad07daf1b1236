"""The core of the companion on Telegram: typed words, flow buttons, consent, the menu.

Every update is translated into a call on the services (bot/services/) and
the answer rendered back; nothing here decides anything about a person.
Rules kept here:

- Nothing is stored before the person taps "agree": until then no person row
  exists and no update id is recorded for them.
- Typed text (and photo captions, and edits) is read for signs of risk
  before anything else, by the service (see bot/services/safety.py).
- A redelivered update is answered once (update ids go through the service).
- Logs name the kind of problem and the update id, never what anyone wrote.

Features (features.py) add commands and buttons; they use this class only
through the :class:`~bot.adapters.telegram.features.Core` protocol.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import traceback
from collections.abc import Iterable, Sequence
from typing import Any

from telegram import CallbackQuery, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ContextTypes

from bot.adapters.telegram import callbacks
from bot.adapters.telegram.callbacks import Callback, Signer
from bot.adapters.telegram.chat import Chat
from bot.adapters.telegram.delivery import OutboxDelivery
from bot.adapters.telegram.features import Feature, FinishedFunction, Pressed, Registered, StartFunction
from bot.adapters.telegram.render import (
    MESSAGE_LIMIT,
    TYPED_WORDS,
    Rendered,
    buttons,
    escape,
    prompt_message,
    safety_message,
    text_message,
)
from bot.services.app import Services
from bot.services.conversation import NotRegistered, Reply, ReplyStatus, Who
from bot.services.safety import SafetyChoice
from flows.schema import LANGUAGES, StepType
from flows.turns import NEXT, Action, Button, Prompt, Typed
from flows.turns import Pressed as PressedButton

CHANNEL = "telegram"
RENDER_CACHE_SIZE = 4096
"""Rendered questions kept (a few kilobytes each)."""
LIVE_CHATS = 100_000
"""Chats whose newest question with buttons is remembered (two integers each)."""
log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE


def telegram_language(code: str | None) -> str:
    """The companion language closest to the Telegram app's language."""
    if code and code.split("-")[0].lower() in LANGUAGES:
        return code.split("-")[0].lower()
    return "en"


def who_of(user: User) -> Who:
    return Who(CHANNEL, str(user.id))


def chat_of(query: CallbackQuery) -> int:
    return query.message.chat.id if query.message else query.from_user.id


def message_of(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


class TelegramCore:
    """The core handlers and the helpers features share (see features.Core)."""

    def __init__(self, services: Services, signer: Signer, chat: Chat, *, bot_username: str | None = None) -> None:
        self.services = services
        self.conversation = services.conversation
        self.signer = signer
        self.chat = chat
        self.ui = self.conversation.catalog.ui
        self.features: list[Feature] = []
        self._start_payloads: dict[str, StartFunction] = {}
        self._finished: dict[str, list[FinishedFunction]] = {}
        self._bot_username = bot_username.lstrip("@") if bot_username else None
        # The same question is asked of many people: render it (escaping, signed
        # button data, keyboard) once. Only questions the engine shares between
        # people are kept, and never the messages said before them (they may
        # quote an answer), so nothing a person wrote stays in memory.
        self._render_shared = functools.lru_cache(maxsize=RENDER_CACHE_SIZE)(self._render)
        # chat id -> the message holding the buttons of the question asked there now.
        # When another question or menu is sent, that message's buttons come off, so
        # no older message keeps buttons. Kept in this process only: after a restart
        # (or on another process) an older message may keep its buttons, and a press
        # on one gets "That question has moved on", as any old button does.
        self.live: collections.OrderedDict[int, int] = collections.OrderedDict()
        self.delivery: OutboxDelivery | None = None
        """Set when replies go through the outbox (app.py composes it)."""

    def add(self, feature: Feature, *, reserved: Iterable[str]) -> None:
        """Let a feature answer its own commands, buttons, start links and finished flows."""
        taken = set(reserved) | {kind for f in self.features for kind in f.buttons}
        commands = {name for f in self.features for name in f.commands}
        clash = (set(feature.buttons) & taken) | (set(feature.commands) & commands)
        if clash:
            raise ValueError(f"feature {feature.name} reuses {sorted(clash)}")
        self.features.append(feature)
        self._start_payloads.update(feature.start_payloads)
        for flow_id, follow_up in feature.finished.items():
            self._finished.setdefault(flow_id, []).append(follow_up)

    # ------------------------------------------------------------------ helpers features use

    def text(self, key: str, language: str, **params: object) -> str:
        return self.ui.get(key, language, **params)

    async def language_of(self, who: Who, fallback_code: str | None = None) -> str:
        person = await self.conversation.person(who)
        return person.language if person else telegram_language(fallback_code)

    async def registered(self, update: Update, *, claim: bool = True) -> Registered | None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return None
        who = who_of(user)
        person = await self.conversation.person(who)
        if person is None:
            await self.ask_consent(message.chat_id, telegram_language(user.language_code), first=False)
            return None
        if claim and not await self.conversation.claim(who, update.update_id):
            return None
        return Registered(who, person.language, message.chat_id)

    async def pressed(self, update: Update, query: CallbackQuery, who: Who) -> Pressed | None:
        await self.chat.answer(query)
        chat_id = chat_of(query)
        person = await self.conversation.person(who)
        if person is None:
            await self.ask_consent(chat_id, telegram_language(query.from_user.language_code), first=False)
            return None
        if not await self.conversation.claim(who, update.update_id):
            return None
        return Pressed(who, person.language, chat_id, message_of(query), person.id)

    async def say(self, chat_id: int, texts: Sequence[str], pairs: Sequence[tuple[str, str]] = ()) -> None:
        await self.chat.send(chat_id, text_message(texts, buttons(pairs) if pairs else None))

    async def tell(self, person_channel: str, external_id: str, rendered: Rendered) -> bool:
        if person_channel != CHANNEL:
            return False
        try:
            await self.chat.send(int(external_id), rendered)
        except (Forbidden, BadRequest):
            # Blocked the bot, or the chat is gone: nothing more can be done from here.
            log.info("could not reach a chat")
            return False
        return True

    def bot_username(self) -> str:
        """COMPANION_BOT_USERNAME, else the username Telegram's getMe gave at start-up."""
        return self._bot_username or self.chat.bot.username

    # ------------------------------------------------------------------ typed text

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or message.text is None:
            return
        who = who_of(user)
        try:
            reply = await self.conversation.act(who, self.typed_action(message.text), update.update_id)
        except NotRegistered:
            language = telegram_language(user.language_code)
            outside = self.conversation.outside(message.text, language)
            if outside is not None:
                await self.show(message.chat_id, who, outside, language)
                return
            await self.ask_consent(message.chat_id, language, first=False)
            return
        await self.show_reply(message.chat_id, who, reply, reply.language or await self.language_of(who))

    def typed_action(self, text: str) -> Action:
        """Typed text; a navigation word ("skip", "back", "hoppa över"...) typed on its
        own is that button, because a typed question shows these words, not buttons."""
        for button_id, key in TYPED_WORDS.items():
            if self.services.words.means(key, text):
                return PressedButton(button_id)
        return Typed(text)

    async def on_edited(self, update: Update, context: Context) -> None:
        """An edited message is not a new answer, but it is still read for signs of risk."""
        message = update.edited_message
        user = update.effective_user
        text = (message.text or message.caption) if message else None
        if message is None or user is None or not text:
            return
        who = who_of(user)
        language = await self.language_of(who, user.language_code)
        outside = self.conversation.outside(text, language)
        if outside is not None:
            await self.show(message.chat_id, who, outside, language)

    async def on_other(self, update: Update, context: Context) -> None:
        """Photos, voice notes, stickers, files, locations: only text and buttons are read."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        who = who_of(user)
        language = await self.language_of(who, user.language_code)
        outside = self.conversation.outside(message.caption, language) if message.caption else None
        if outside is not None:
            await self.show(message.chat_id, who, outside, language)
        person = await self.conversation.person(who)
        if person is None:
            await self.ask_consent(message.chat_id, language, first=False)
            return
        if not await self.conversation.claim(who, update.update_id):
            return
        current = await self.conversation.current(who)
        texts = [self.ui.get("tg_only_text", language)]
        if current.prompt is not None and current.flow_id is not None:
            await self.send_live(message.chat_id, self.prompt(current.flow_id, current.prompt, language, texts))
        else:
            await self.send_menu(message.chat_id, who, language, texts)

    # ------------------------------------------------------------------ buttons the core owns

    async def on_button(self, update: Update, context: Context) -> None:
        """Buttons no feature claimed: consent, the menu, safety, and a flow's own (signed) buttons."""
        query = update.callback_query
        user = update.effective_user
        if query is None or user is None:
            return
        who = who_of(user)
        parsed = callbacks.parse(query.data)
        if parsed is None:
            await self.moved_on(query, who, user.language_code)
        elif parsed.kind == callbacks.CONSENT:
            agreed, _, payload = parsed.value.partition(":")
            await self._on_consent(update, query, who, agreed == "yes", payload)
        elif parsed.kind == callbacks.MENU:
            await self._on_menu_choice(update, query, who, parsed.value)
        elif parsed.kind == callbacks.SAFETY:
            await self._on_safety(update, query, who, parsed.value)
        elif parsed.kind == callbacks.FLOW:
            await self._on_flow_button(update, query, who, parsed)
        else:
            await self.moved_on(query, who, user.language_code)

    async def _on_flow_button(self, update: Update, query: CallbackQuery, who: Who, parsed: Callback) -> None:
        try:
            reply = await self.conversation.act(
                who,
                PressedButton(parsed.value),
                update.update_id,
                expect=lambda flow_id, step: self.signer.matches(parsed, flow_id, step),
            )
        except NotRegistered:
            await self.moved_on(query, who, query.from_user.language_code)
            return
        if reply.status is ReplyStatus.DUPLICATE:
            await self.chat.answer(query)
            return
        language = reply.language or await self.language_of(who)
        message = message_of(query)
        if reply.status is ReplyStatus.MOVED_ON:
            await self.chat.answer(query, self.ui.get("tg_moved_on", language))
            await self.show_reply(chat_of(query), who, reply, language)
            return
        if (
            message is not None
            and not reply.messages
            and reply.prompt is not None
            and reply.prompt.kind is StepType.checklist
            and reply.flow_id is not None
            and not reply.outbox_waits
            and self.signer.matches(parsed, reply.flow_id, reply.prompt.step)
        ):
            # A tick: the checklist changes in place (unless an older reply is still on its way:
            # then this one goes after it, through the outbox).
            rendered = self.prompt(reply.flow_id, reply.prompt, language)
            if len(rendered.parts) == 1:
                edited = await asyncio.gather(self.chat.answer(query), self._tick(message, rendered, reply))
                if edited[1]:
                    return
                # The edit did not go through: the checklist comes again as a new message.
                await self.show_reply(chat_of(query), who, reply, language)
                return
        if message is not None and await self.carry_on_in_place(message, query, who, reply, language, parsed.value):
            return
        await self.close_and_reply(message, query, who, reply, language)

    async def carry_on_in_place(
        self, message: Message, query: CallbackQuery, who: Who, reply: Reply, language: str, pressed: str
    ) -> bool:
        """Answer a press with one edit: the pressed question keeps its text, shows the
        answer under it, and the next question follows in the same message with the
        buttons. One rate-limited call instead of two (echo, then a new message), and
        the only buttons in the chat stay on the question being asked.

        Only a plain next question is shown this way: a crisis card, the safety
        question, a menu or anything of a feature's is a new message, and so is a
        question that would make the message longer than Telegram allows."""
        if (
            reply.prompt is None
            or reply.flow_id is None
            or reply.crisis
            or reply.safety is not None
            or reply.status not in (ReplyStatus.ACTIVE, ReplyStatus.RESTARTED)
            or reply.outbox_waits
            or not message.text
        ):
            return False
        label = self.chat.pressed_label(message, query.data)
        if not label:
            return False
        following = self.prompt(reply.flow_id, reply.prompt, language, reply.messages)
        if len(following.parts) != 1:
            return False
        # "Next" under something to read is no answer: the next question simply follows.
        echo = "" if pressed == NEXT else self.ui.get("tg_answer_echo", language, answer=escape(label)) + "\n\n"
        text = f"{message.text_html}\n\n{echo}{following.parts[0]}"
        if len(text) > MESSAGE_LIMIT:
            return False
        self.live.pop(message.chat_id, None)
        try:
            async with self.services.outbox.showing(reply.outbox_id):
                await asyncio.gather(
                    self.chat.answer(query), self.chat.edit(message, Rendered((text,), following.keyboard))
                )
        except (BadRequest, Forbidden, NetworkError, RetryAfter):
            # The message can no longer be edited (too old, or deleted), or Telegram did not
            # answer: the next question comes as a new message instead, so the person still
            # sees it, and the pressed one's buttons are taken off if Telegram still allows it.
            # It goes the way every reply goes (through the outbox when the turn saved it there).
            self.live[message.chat_id] = message.message_id
            await self.show_reply(message.chat_id, who, reply, language)
            return True
        if reply.outbox_id is not None:
            # Shown by the edit: the reply's outbox row is delivered, so the sender loop leaves it.
            await self.services.outbox.settled(reply.outbox_id)
        if following.keyboard is not None:
            self.live[message.chat_id] = message.message_id
        return True

    async def _tick(self, message: Message, rendered: Rendered, reply: Reply) -> bool:
        """Edit a checklist in place; True once Telegram took it (and its outbox row is settled)."""
        try:
            async with self.services.outbox.showing(reply.outbox_id):
                await self.chat.edit(message, rendered)
        except (BadRequest, Forbidden, NetworkError, RetryAfter):
            return False
        if reply.outbox_id is not None:
            await self.services.outbox.settled(reply.outbox_id)
        return True

    async def close_and_reply(
        self, message: Message | None, query: CallbackQuery, who: Who, reply: Reply, language: str
    ) -> None:
        """Answer the press, echo the answer under the old question and send the next
        one, all at the same time: each is a round trip to Telegram, and none depends
        on another, so the person waits for one round trip instead of three."""
        chat_id = message.chat_id if message else query.from_user.id
        if message is None:
            await asyncio.gather(self.chat.answer(query), self.show_reply(chat_id, who, reply, language))
            return
        if self.live.get(chat_id) == message.message_id:
            del self.live[chat_id]
        await asyncio.gather(
            self.chat.answer(query),
            self.chat.close(message, self.chat.pressed_label(message, query.data), language),
            self.show_reply(chat_id, who, reply, language),
        )

    async def _on_safety(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        """A button under the safety question or a card. "Yes" always brings the card."""
        name, _, token = value.partition(":")
        try:
            choice = SafetyChoice(name)
        except ValueError:
            await self.moved_on(query, who, query.from_user.language_code)
            return
        message = message_of(query)
        try:
            reply = await self.conversation.answer_safety(who, choice, token, update.update_id)
        except NotRegistered:
            language = telegram_language(query.from_user.language_code)
            reply = self.conversation.outside_answer(choice, language)
            chat_id = message.chat_id if message else query.from_user.id
            await self.chat.answer(query)
            if message is not None:
                await self.chat.close(message, self.chat.pressed_label(message, query.data), language)
            if reply.crisis:
                await self.show(chat_id, who, reply, language)
            else:
                await self.ask_consent(chat_id, language, first=False, before=reply.messages)
            return
        if reply.status is ReplyStatus.DUPLICATE:
            await self.chat.answer(query)
            return
        language = reply.language or await self.language_of(who)
        await self.close_and_reply(message, query, who, reply, language)

    async def moved_on(self, query: CallbackQuery, who: Who, language_code: str | None) -> None:
        """A button nobody can use any more: say so, change nothing, show where we are."""
        language = await self.language_of(who, language_code)
        await self.chat.answer(query, self.ui.get("tg_moved_on", language))
        chat_id = chat_of(query)
        if await self.conversation.person(who) is None:
            await self.ask_consent(chat_id, language, first=False)
            return
        current = await self.conversation.current(who)
        await self.show_reply(
            chat_id, who, Reply(prompt=current.prompt, status=ReplyStatus.MOVED_ON, flow_id=current.flow_id), language
        )

    async def _on_menu_choice(self, update: Update, query: CallbackQuery, who: Who, flow_id: str) -> None:
        flow = self.conversation.catalog.flows.get(flow_id)
        if flow is None or not flow.menu:
            # Only menu flows open from a menu button; the others (a group session,
            # what we agreed) open at their own moment, after their own checks.
            await self.moved_on(query, who, query.from_user.language_code)
            return
        try:
            reply = await self.conversation.open(who, flow_id, update.update_id)
        except NotRegistered:
            await self.moved_on(query, who, query.from_user.language_code)
            return
        if reply.status is ReplyStatus.DUPLICATE:
            await self.chat.answer(query)
            return
        language = reply.language or await self.language_of(who)
        await self.close_and_reply(message_of(query), query, who, reply, language)

    # ------------------------------------------------------------------ /start and consent

    async def on_start(self, update: Update, context: Context) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        # A deep-link payload (an invite, a group link) goes to the feature that
        # made it; an unknown or malformed one is ignored, never an error.
        payload = context.args[0] if context.args else ""
        who = who_of(user)
        person = await self.conversation.person(who)
        if person is None:
            await self.ask_consent(message.chat_id, telegram_language(user.language_code), first=True, payload=payload)
            return
        if not await self.conversation.claim(who, update.update_id):
            return
        if await self._run_start_payload(update, who, payload):
            return
        current = await self.conversation.current(who)
        if current.prompt is not None and current.flow_id is not None:
            text = [self.ui.get("welcome_back", person.language)]
            await self.send_live(message.chat_id, self.prompt(current.flow_id, current.prompt, person.language, text))
            return
        await self.send_menu(message.chat_id, who, person.language)

    async def ask_consent(
        self, chat_id: int, language: str, *, first: bool, payload: str = "", before: Sequence[str] = ()
    ) -> None:
        consent = self.services.words.consent(language, reminder=None if first else "tg_consent_first")
        texts = [*before, *consent.texts, consent.question]
        agree = callbacks.simple(callbacks.CONSENT, "yes")
        if payload and self._payload_handler(payload) is not None:
            # Carry the start link through the consent button, so it runs right after "yes".
            carried = f"{agree}:{payload}"
            agree = carried if len(carried.encode()) <= callbacks.CALLBACK_DATA_LIMIT else agree
        keyboard = buttons(
            [
                (consent.agree, agree),
                (consent.decline, callbacks.simple(callbacks.CONSENT, "no")),
            ]
        )
        await self.chat.send(chat_id, text_message(texts, keyboard))

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

    async def _on_consent(self, update: Update, query: CallbackQuery, who: Who, agreed: bool, payload: str) -> None:
        await self.chat.answer(query)
        message = message_of(query)
        chat_id = chat_of(query)
        language = telegram_language(query.from_user.language_code)
        existing = await self.conversation.person(who)
        if not agreed:
            if message is not None:
                await self.chat.close(message, self.ui.get("button_decline", language), language)
            if existing is None:
                await self.chat.send(chat_id, text_message([self.ui.get("declined", language)]))
            return
        if existing is None:
            await self.conversation.join(who, language)
        # Recorded only now that there is consent; a redelivery stops here.
        if not await self.conversation.claim(who, update.update_id):
            return
        if message is not None:
            await self.chat.close(message, self.ui.get("button_agree", language), language)
        language = existing.language if existing else language
        if await self._run_start_payload(update, who, payload):
            return
        await self.send_menu(chat_id, who, language, [self.ui.get("agreed", language)])

    # ------------------------------------------------------------------ showing replies

    async def show_reply(self, chat_id: int, who: Who, reply: Reply, language: str) -> None:
        """Show a turn's reply: through the outbox when the turn saved it there (its row is
        the durable record; if Telegram does not take it now, the sender loop delivers it
        later and nobody is asked to type anything again), else straight away."""
        if reply.status is ReplyStatus.DUPLICATE:
            return
        if reply.outbox_id is not None and self.delivery is not None:
            if not await self.delivery.now(reply, who):
                # Left for the sender loop; what follows a finished flow would overtake it.
                return
        else:
            await self.show(chat_id, who, reply, language)
        if reply.status is ReplyStatus.FINISHED and reply.flow_id is not None:
            for follow_up in self._finished.get(reply.flow_id, ()):
                await follow_up(who, reply)

    async def show(self, chat_id: int, who: Who, reply: Reply, language: str) -> None:
        for rendered in await self.renders(who, reply, language):
            await self.send_live(chat_id, rendered)

    async def renders(self, who: Who, reply: Reply, language: str) -> list[Rendered]:
        """A reply as the Telegram messages that show it, in order (the outbox renders
        at delivery, so a menu shows the person's progress as it is then)."""
        messages = list(reply.messages)
        out: list[Rendered] = []
        if reply.crisis and messages:
            # The card stands alone, first, before anything else.
            out.append(text_message([messages.pop(0)]))
        if reply.safety is not None:
            return [*out, safety_message(reply.safety, messages)]
        if reply.prompt is not None and reply.flow_id is not None:
            return [*out, self.prompt(reply.flow_id, reply.prompt, language, messages)]
        if reply.crisis:
            return out
        if reply.role_task and reply.status in (ReplyStatus.FINISHED, ReplyStatus.PAUSED):
            # A coordinator's or facilitator's own task, finished or paused: their feature
            # says what happens next; the service user's menu is not theirs.
            return [*out, text_message(messages)] if messages else out
        if not messages and reply.status in (ReplyStatus.IDLE, ReplyStatus.MOVED_ON):
            messages = [self.ui.get("nothing_open", language)]
        return [*out, await self.menu_message(who, language, messages)]

    async def buttons_now_on(self, chat_id: int, message_id: int) -> None:
        """A message with buttons was just sent there (by the outbox): the earlier question's come off."""
        earlier = self.live.pop(chat_id, None)
        self._remember_live(chat_id, message_id)
        if earlier is not None and earlier != message_id:
            await self.chat.drop_buttons_of(chat_id, earlier)

    async def send_live(self, chat_id: int, rendered: Rendered) -> None:
        """Send a conversation's message; the earlier question's buttons come off at the same time."""
        earlier = self.live.pop(chat_id, None)
        if earlier is None:
            sent = await self.chat.send(chat_id, rendered)
        else:
            sent, _ = await asyncio.gather(
                self.chat.send(chat_id, rendered), self.chat.drop_buttons_of(chat_id, earlier)
            )
        if rendered.keyboard is not None and sent is not None:
            self._remember_live(chat_id, sent.message_id)

    def _remember_live(self, chat_id: int, message_id: int) -> None:
        self.live[chat_id] = message_id
        self.live.move_to_end(chat_id)
        while len(self.live) > LIVE_CHATS:
            self.live.popitem(last=False)

    def prompt(self, flow_id: str, prompt: Prompt, language: str, before: Sequence[str] = ()) -> Rendered:
        if prompt.shared:
            return self._render_shared(flow_id, prompt, language, ()).after(before)
        return self._render(flow_id, prompt, language, tuple(before))

    def _render(self, flow_id: str, prompt: Prompt, language: str, before: tuple[str, ...]) -> Rendered:
        def data(button: Button) -> str:
            return self.signer.flow_button(flow_id, prompt.step, button.id)

        return prompt_message(prompt, lambda key, **params: self.ui.get(key, language, **params), data, before)

    async def send_menu(self, chat_id: int, who: Who, language: str, before: Sequence[str] = ()) -> None:
        await self.send_live(chat_id, await self.menu_message(who, language, before))

    async def menu_message(self, who: Who, language: str, before: Sequence[str] = ()) -> Rendered:
        flows = await self.conversation.menu(who)
        words = self.services.words
        pairs = [(words.menu_line(flow, language), callbacks.simple(callbacks.MENU, flow.flow_id)) for flow in flows]
        return text_message([*before, words.menu_intro(language)], buttons(pairs))


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
        core: Any = context.application.bot_data.get("core")
        if core is not None:
            try:
                await context.bot.send_message(
                    update.effective_chat.id, escape(core.ui.get("tg_error", language)), parse_mode=ParseMode.HTML
                )
            except Exception:
                log.warning("could not tell chat about failed update %s", update_id)
