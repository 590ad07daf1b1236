"""A group's member on Telegram: joining through the link, muting, leaving, and feedback after a session.

Members open ``?start=g_<token>`` (after the companion's own consent, which
the core handles), read what membership means, and join with a button. Under
each session reminder they can mute the group in one tap (``/groups`` lists
their groups, to mute, unmute or leave); after a session they are offered the
``session_feedback`` questions. Whether they may is decided by
bot/services/groups.py; only their own membership ever changes.
"""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.adapters.telegram import group_buttons
from bot.adapters.telegram.features import Core, Feature, Pressed
from bot.adapters.telegram.group_buttons import FEEDBACK_BUTTON, JOIN_BUTTON, LEAVE_BUTTON, MUTE_BUTTON
from bot.adapters.telegram.group_words import GroupWords
from bot.roles import tokens
from bot.services import forms
from bot.services.conversation import Reply, Who
from bot.services.groups import GroupOutcome, Outcome, Refusal


class Member:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.groups = core.services.groups
        self.conversation = core.services.conversation
        self.t = core.text
        self.words = GroupWords(core)

    def feature(self) -> Feature:
        return Feature(
            "member",
            buttons={
                JOIN_BUTTON: self.on_join_button,
                LEAVE_BUTTON: self.on_leave_button,
                MUTE_BUTTON: self.on_mute_button,
                FEEDBACK_BUTTON: self.on_feedback_button,
            },
            start_payloads={tokens.GROUP_PREFIX: self.on_join_link},
            finished={forms.SESSION_FEEDBACK.flow: self.after_feedback},
        )

    async def _say(self, chat_id: int, texts: list[str], pairs: list[tuple[str, str]] | None = None) -> None:
        await self.core.say(chat_id, texts, pairs or [])

    async def _accept(self, update: Update, query: CallbackQuery, who: Who, read: object | None) -> Pressed | None:
        """A press whose data was read is acknowledged (None when it was handled before);
        one whose data could not be read is an old button, and gets "moved on"."""
        if read is None:
            await self.core.moved_on(query, who, query.from_user.language_code)
            return None
        return await self.core.pressed(update, query, who)

    async def _refuse(self, pressed: Pressed, refusal: Refusal) -> None:
        await self._say(pressed.chat_id, [self.words.refusal(refusal, pressed.language)])

    # ------------------------------------------------------------------ joining

    async def on_join_link(self, update: Update, who: Who, rest: str) -> None:
        """``/start g_<token>``, for someone who has agreed to the companion's privacy notice."""
        person = await self.conversation.person(who)
        if person is None:
            return
        language, chat_id = person.language, int(who.external_id)
        preview = await self.groups.preview(who, tokens.GROUP_PREFIX + rest)
        if isinstance(preview, Refusal):
            await self._say(chat_id, [self.words.refusal(preview, language)])
        elif preview.already_member:
            await self._say(chat_id, [self.t("gr_already_member", language, group=preview.group.name)])
        else:
            pairs = [
                (self.t("button_gr_join", language), group_buttons.join(rest)),
                (self.t("button_gr_not_now", language), group_buttons.not_now()),
            ]
            await self._say(chat_id, [self.t("gr_join_explain", language, group=preview.group.name)], pairs)

    async def on_join_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        pressed = await self.core.pressed(update, query, who)
        if pressed is None:
            return
        language, message = pressed.language, pressed.message
        if value == group_buttons.NOT_NOW:
            if message is not None:
                await self.core.chat.close(message, self.t("button_gr_not_now", language), language)
            await self._say(pressed.chat_id, [self.t("gr_not_joined", language)])
            return
        joined = await self.groups.join(who, tokens.GROUP_PREFIX + value, query.from_user.first_name)
        if message is not None:
            await self.core.chat.close(message, self.t("button_gr_join", language), language)
        if isinstance(joined, Refusal):
            await self._refuse(pressed, joined)
        else:
            await self._say(pressed.chat_id, [self.t("gr_joined", language, group=joined.name)])

    # ------------------------------------------------------------------ muting and leaving

    async def on_mute_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        """Mute (or unmute) a group's reminders; only the person's own membership changes."""
        wanted = group_buttons.read_mute(value)
        pressed = await self._accept(update, query, who, wanted)
        if pressed is None or wanted is None:
            return
        group_id, muted = wanted
        changed = await self.groups.set_muted(who, group_id, muted)
        language = pressed.language
        if isinstance(changed, Refusal):
            await self._refuse(pressed, changed)
        elif changed.muted:
            pairs = [(self.t("button_gr_unmute", language), group_buttons.unmute(group_id))]
            await self._say(pressed.chat_id, [self.t("gr_muted", language, group=changed.group.name)], pairs)
        else:
            await self._say(pressed.chat_id, [self.t("gr_unmuted", language, group=changed.group.name)])

    async def on_leave_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        group_id = group_buttons.read_id(value)
        pressed = await self._accept(update, query, who, group_id)
        if pressed is None or group_id is None:
            return
        left = await self.groups.leave(who, group_id)
        if isinstance(left, Refusal):
            await self._refuse(pressed, left)
        else:
            await self._say(pressed.chat_id, [self.t("gr_left", pressed.language)])

    # ------------------------------------------------------------------ feedback

    async def on_feedback_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        session_id = group_buttons.read_id(value)
        pressed = await self._accept(update, query, who, session_id)
        if pressed is None or session_id is None:
            return
        reply = await self.groups.open_feedback(who, session_id)
        if isinstance(reply, Refusal):
            await self._refuse(pressed, reply)
            return
        await self.core.show_reply(pressed.chat_id, who, reply, pressed.language)

    async def after_feedback(self, who: Who, reply: Reply) -> None:
        """Thanks in the flow's own words (or why nothing was kept), then the member's own menu."""
        done = reply.outcome(GroupOutcome)
        if done is None:
            return
        language = reply.language or await self.core.language_of(who)
        if done.outcome is Outcome.FEEDBACK_SAVED:
            flow = self.conversation.catalog.flows[forms.SESSION_FEEDBACK.flow]
            said = flow.done.get(language) if flow.done else self.t("flow_done", language)
        else:
            said = self.t("gr_not_member", language)
        await self.core.send_menu(int(who.external_id), who, language, [said])


def feature(core: Core) -> Feature:
    return Member(core).feature()
