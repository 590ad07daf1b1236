"""Training groups on Telegram: the facilitator's side and the member's side.

Facilitators (a role granted by invite) use ``/groups`` and ``/report``:
create a group (the ``new_group`` flow), share its invite link, schedule
sessions (``group_session``), see members and who muted reminders, change
when reminders go out, message the whole group (``group_message``), tick who
came, and read attendance and feedback (feedback never has names on it).

Members open ``?start=g_<token>`` (after the companion's own consent, which
the extension point handles), read what membership means, and join with a
button. Under each reminder they can mute the group in one tap; after a
session they are offered the ``session_feedback`` questionnaire.

Access: every button re-checks, in the database and in the same transaction
as the read or write, that the person holds the facilitator role and runs
that group (bot.roles.groups.owned), or is a member of it. Ids in callback
data are only ever hints of what was tapped. Runs of the facilitator's flows
carry ``about={"group_id": ...}`` set here after that check, and the
listeners check ownership again when the flow is finished.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from telegram import CallbackQuery, Message, Update

from bot.adapters.telegram.features import Core, Feature
from bot.adapters.telegram.reminders import ATTENDANCE_ACTION, FACILITATOR_BUTTON, FEEDBACK_BUTTON, MUTE_BUTTON
from bot.adapters.telegram.render import buttons, text_message
from bot.reminders.messages import local_date
from bot.reminders.schedule import Lead, local_to_utc, utc_to_local
from bot.roles import grants, group_activity, groups, tokens
from bot.services.conversation import Finished, Reply, Who
from bot.storage.models import Group
from bot.storage.repository import Transaction

JOIN_BUTTON, LEAVE_BUTTON = "gj", "gl"
NEW_GROUP_FLOW, SESSION_FLOW, MESSAGE_FLOW, FEEDBACK_FLOW = (
    "new_group",
    "group_session",
    "group_message",
    "session_feedback",
)
TIMEZONES = {"london": "Europe/London", "stockholm": "Europe/Stockholm"}
LEAD_CHOICES: dict[str, list[str]] = {
    "1": ["d1", "m120"],
    "2": ["d1"],
    "3": ["m120"],
    "4": ["d2", "m120"],
    "5": ["d1", "m60"],
    "0": [],
}
"""Lead-time choices offered as buttons (the first is the default: the day before and 2 hours before)."""
RECENT_SESSIONS = 6


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a facilitator's or member's finished flow led to, told to them right after the reply."""

    key: str
    params: dict[str, Any]
    group_id: int | None = None


def lead_words(ui: Any, language: str, leads: list[str]) -> str:
    """'the day before, 2 hours before' in the person's language."""
    parts = []
    for text in leads:
        lead = Lead.parse(text)
        if lead.minutes:
            if lead.minutes % 60 == 0:
                parts.append(ui.get("gr_lead_hours", language, hours=lead.minutes // 60))
            else:
                parts.append(ui.get("gr_lead_minutes", language, minutes=lead.minutes))
        elif lead.days == 1:
            parts.append(ui.get("gr_lead_day", language))
        else:
            parts.append(ui.get("gr_lead_days", language, days=lead.days))
    return ", ".join(parts) if parts else ui.get("gr_lead_none", language)


def rotate_join_token(connection: Any, facilitator_id: int, group_id: int) -> str:
    """A fresh invite link for the group; the old one stops working (only a hash is kept)."""
    groups.owned(connection, facilitator_id, group_id)
    token = tokens.new_token(tokens.GROUP_PREFIX)
    connection.execute(
        update(Group.__table__).where(Group.__table__.c.id == group_id).values(join_token_hash=tokens.digest(token))
    )
    return token


def make_feature(core: Core) -> Feature:
    """The facilitator's /groups and /report, the member's join link, mute and feedback buttons."""
    return Groups(core).feature()


class Groups:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.companion = core.services.conversation
        self.ui = core.ui
        for flow_id, listener in (
            (NEW_GROUP_FLOW, self._on_new_group),
            (SESSION_FLOW, self._on_session),
            (MESSAGE_FLOW, self._on_message),
            (FEEDBACK_FLOW, self._on_feedback),
        ):
            if flow_id in self.companion.catalog.flows:
                self.companion.when_finished(flow_id, listener)

    def feature(self) -> Feature:
        return Feature(
            "groups",
            commands={"groups": self.on_groups, "report": self.on_report},
            buttons={
                FACILITATOR_BUTTON: self.on_facilitator_button,
                JOIN_BUTTON: self.on_join_button,
                LEAVE_BUTTON: self.on_leave_button,
                MUTE_BUTTON: self.on_mute_button,
                FEEDBACK_BUTTON: self.on_feedback_button,
            },
            start_payloads={tokens.GROUP_PREFIX: self.on_join_link},
            finished={flow: self.after_flow for flow in (NEW_GROUP_FLOW, SESSION_FLOW, MESSAGE_FLOW, FEEDBACK_FLOW)},
        )

    # ------------------------------------------------------------------ helpers

    def _now(self) -> dt.datetime:
        return self.companion.clock()

    async def _say(self, chat_id: int, language: str, texts: list[str], pairs: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
        await self.core.chat.send(chat_id, text_message(texts, buttons(pairs) if pairs else None))

    def _t(self, key: str, language: str, **params: Any) -> str:
        return self.ui.get(key, language, **params)

    async def _link(self, token: str) -> str:
        return tokens.deep_link(self.core.bot_username(), token)

    @staticmethod
    def _chat(query: CallbackQuery) -> int:
        return query.message.chat.id if query.message else query.from_user.id

    def _when(self, language: str, found: groups.SessionRecord, zone: str) -> str:
        moment = utc_to_local(found.starts_at, zone)
        return self._t(
            "gr_session_when", language, date=local_date(self.ui, language, moment), time=moment.strftime("%H:%M")
        )

    async def _person(self, who: Who) -> Any:
        return await self.companion.person(who)

    # ------------------------------------------------------------------ /groups and /report

    async def on_groups(self, update: Update, context: Any) -> None:
        registered = await self.core.registered(update)
        if registered is None:
            return
        who, language, chat_id = registered.who, registered.language, registered.chat_id

        def read(tx: Transaction) -> tuple[bool, list[groups.GroupRecord], list[tuple[groups.GroupRecord, bool]]]:
            person = tx.person(who.channel, who.external_id)
            assert person is not None
            if grants.has_role(tx.connection, person.id, grants.FACILITATOR):
                return True, groups.groups_of(tx.connection, person.id), []
            return False, [], group_activity.memberships(tx.connection, person.id)

        facilitator, mine, member_of = await self.companion.storage.run(read)
        if facilitator:
            await self._show_group_list(chat_id, language, mine)
            return
        await self._show_memberships(chat_id, language, member_of)

    async def _show_group_list(self, chat_id: int, language: str, mine: list[groups.GroupRecord]) -> None:
        text = self._t("gr_list_intro" if mine else "gr_list_empty", language)
        pairs = [(record.name, f"{FACILITATOR_BUTTON}:o:{record.id}") for record in mine]
        pairs.append((self._t("button_gr_new", language), f"{FACILITATOR_BUTTON}:new"))
        await self._say(chat_id, language, [text], pairs)

    async def _show_memberships(
        self, chat_id: int, language: str, member_of: list[tuple[groups.GroupRecord, bool]]
    ) -> None:
        """A service user: what /groups is for, and the groups they are in (to mute or leave)."""
        texts = [self._t("gr_for_facilitators", language)]
        pairs = []
        if member_of:
            texts.append(self._t("gr_your_groups", language))
            for record, muted in member_of:
                if muted:
                    pairs.append(
                        (
                            self._t("button_gr_unmute_named", language, group=record.name),
                            f"{MUTE_BUTTON}:{record.id}:on",
                        )
                    )
                else:
                    pairs.append(
                        (self._t("button_gr_mute_named", language, group=record.name), f"{MUTE_BUTTON}:{record.id}")
                    )
                pairs.append(
                    (self._t("button_gr_leave_named", language, group=record.name), f"{LEAVE_BUTTON}:{record.id}")
                )
        await self._say(chat_id, language, texts, pairs)

    async def on_report(self, update: Update, context: Any) -> None:
        registered = await self.core.registered(update)
        if registered is None:
            return
        who, language, chat_id = registered.who, registered.language, registered.chat_id

        def read(tx: Transaction) -> list[groups.GroupRecord] | None:
            person = tx.person(who.channel, who.external_id)
            assert person is not None
            if not grants.has_role(tx.connection, person.id, grants.FACILITATOR):
                return None
            return groups.groups_of(tx.connection, person.id)

        mine = await self.companion.storage.run(read)
        if mine is None:
            await self._say(chat_id, language, [self._t("gr_for_facilitators", language)])
        elif not mine:
            await self._show_group_list(chat_id, language, mine)
        elif len(mine) == 1:
            await self._report(chat_id, who, language, mine[0].id)
        else:
            pairs = [(record.name, f"{FACILITATOR_BUTTON}:r:{record.id}") for record in mine]
            await self._say(chat_id, language, [self._t("gr_report_which", language)], pairs)

    # ------------------------------------------------------------------ the facilitator's buttons

    async def on_facilitator_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        """``g:<action>[:<id>[:<more>]]``. Ids are re-checked against the database before anything is shown or changed."""
        await self.core.chat.answer(query)
        chat_id = self._chat(query)
        person = await self._person(who)
        if person is None:
            await self.core.moved_on(query, who, query.from_user.language_code)
            return
        language = person.language
        action, _, rest = value.partition(":")
        parts = rest.split(":") if rest else []
        if not all(part.isdigit() and len(part) < 12 for part in parts):
            await self._say(chat_id, language, [self._t("gr_not_yours", language)])
            return
        numbers = [int(part) for part in parts]
        is_facilitator = await self.companion.storage.run(
            lambda tx: grants.has_role(tx.connection, person.id, grants.FACILITATOR)
        )
        if not is_facilitator:
            await self._say(chat_id, language, [self._t("gr_for_facilitators", language)])
            return
        try:
            await self._facilitator_action(update, query, who, person.id, language, chat_id, action, numbers)
        except groups.NotAllowed:
            # Someone else's group or session (or one that is gone): say nothing about it.
            await self._say(chat_id, language, [self._t("gr_not_yours", language)])

    async def _facilitator_action(
        self,
        update: Update,
        query: CallbackQuery,
        who: Who,
        me: int,
        language: str,
        chat_id: int,
        action: str,
        numbers: list[int],
    ) -> None:
        run = self.companion.storage.run
        if action == "new" and not numbers:
            reply = await self.companion.open(who, NEW_GROUP_FLOW, update.update_id)
            await self.core.show_reply(chat_id, who, reply, language)
            return
        if not numbers:
            raise groups.NotAllowed("button")
        target = numbers[0]
        if action == "o":
            await self._panel(chat_id, me, language, target)
        elif action == "i":
            await self._invite(chat_id, me, language, target, confirmed=len(numbers) > 1 and numbers[1] == 1)
        elif action == "s":
            await run(lambda tx: groups.owned(tx.connection, me, target))
            reply = await self.companion.open(who, SESSION_FLOW, update.update_id, about={"group_id": target})
            await self.core.show_reply(chat_id, who, reply, language)
        elif action == "t":
            await run(lambda tx: groups.owned(tx.connection, me, target))
            reply = await self.companion.open(who, MESSAGE_FLOW, update.update_id, about={"group_id": target})
            await self.core.show_reply(chat_id, who, reply, language)
        elif action == "c":
            await self._upcoming_to_change(chat_id, me, language, target)
        elif action == "C":
            await self._session_choices(chat_id, me, language, target)
        elif action == "M":
            found, _ = await run(lambda tx: group_activity.owned_session(tx.connection, me, target))
            about = {"group_id": found.group_id, "session_id": target}
            reply = await self.companion.open(who, SESSION_FLOW, update.update_id, about=about)
            await self.core.show_reply(chat_id, who, reply, language)
        elif action == "X" and len(numbers) == 1:
            await self._confirm_cancel(chat_id, me, language, target)
        elif action == "X" and numbers[1:] == [1]:
            now = self._now()
            found = await run(lambda tx: group_activity.cancel(tx.connection, me, target, now))
            await self._say(
                chat_id,
                language,
                [self._t("gr_session_cancelled", language)],
                [(self._t("button_gr_message", language), f"{FACILITATOR_BUTTON}:t:{found.group_id}")],
            )
        elif action == "m":
            await self._members(chat_id, me, language, target)
        elif action == "l":
            await self._leads(chat_id, me, language, target)
        elif action == "L" and len(numbers) == 2 and str(numbers[1]) in LEAD_CHOICES:
            leads = LEAD_CHOICES[str(numbers[1])]
            now = self._now()
            await run(lambda tx: groups.set_leads(tx.connection, me, target, leads, now))
            await self._say(
                chat_id, language, [self._t("gr_leads_set", language, leads=lead_words(self.ui, language, leads))]
            )
            await self._panel(chat_id, me, language, target)
        elif action == "r":
            await self._report(chat_id, who, language, target)
        elif action == "p":
            await self._past_sessions(chat_id, me, language, target)
        elif action == ATTENDANCE_ACTION:
            await self._attendance(chat_id, me, language, target, None)
        elif action == "A" and len(numbers) == 3 and numbers[2] in (0, 1):
            message = query.message if isinstance(query.message, Message) else None
            await self._mark_attendance(chat_id, me, language, target, numbers[1], numbers[2] == 1, message)
        else:
            raise groups.NotAllowed("button")

    async def _panel(self, chat_id: int, me: int, language: str, group_id: int) -> None:
        now = self._now()

        def read(tx: Transaction) -> tuple[groups.GroupRecord, list[group_activity.Member], list[groups.SessionRecord]]:
            record = groups.owned(tx.connection, me, group_id)
            return (
                record,
                group_activity.members_of(tx.connection, me, group_id),
                group_activity.sessions_of(tx.connection, me, group_id),
            )

        record, members, sessions = await self.companion.storage.run(read)
        upcoming = [s for s in sessions if s.starts_at > now]
        texts = [
            self._t("gr_panel", language, group=record.name, members=len(members), zone=record.timezone),
            self._t("gr_panel_leads", language, leads=lead_words(self.ui, language, record.leads)),
        ]
        if upcoming:
            texts.append(self._t("gr_panel_next", language))
            texts.extend(
                self._when(language, s, record.timezone) + (f" ({s.place})" if s.place else "") for s in upcoming[:5]
            )
        else:
            texts.append(self._t("gr_panel_no_sessions", language))
        g = f"{FACILITATOR_BUTTON}:"
        pairs = [
            (self._t("button_gr_schedule", language), f"{g}s:{group_id}"),
            (self._t("button_gr_change", language), f"{g}c:{group_id}"),
            (self._t("button_gr_invite", language), f"{g}i:{group_id}"),
            (self._t("button_gr_members", language), f"{g}m:{group_id}"),
            (self._t("button_gr_leads", language), f"{g}l:{group_id}"),
            (self._t("button_gr_message", language), f"{g}t:{group_id}"),
            (self._t("button_gr_who_came", language), f"{g}p:{group_id}"),
            (self._t("button_gr_report", language), f"{g}r:{group_id}"),
        ]
        await self._say(chat_id, language, texts, pairs)

    async def _upcoming_to_change(self, chat_id: int, me: int, language: str, group_id: int) -> None:
        now = self._now()

        def read(tx: Transaction) -> tuple[groups.GroupRecord, list[groups.SessionRecord]]:
            return groups.owned(tx.connection, me, group_id), group_activity.sessions_of(tx.connection, me, group_id)

        record, sessions = await self.companion.storage.run(read)
        upcoming = [s for s in sessions if s.starts_at > now][:8]
        back = (self._t("button_gr_back", language), f"{FACILITATOR_BUTTON}:o:{group_id}")
        if not upcoming:
            await self._say(chat_id, language, [self._t("gr_no_upcoming", language)], [back])
            return
        pairs = [(self._when(language, s, record.timezone), f"{FACILITATOR_BUTTON}:C:{s.id}") for s in upcoming]
        await self._say(chat_id, language, [self._t("gr_which_session", language)], [*pairs, back])

    async def _session_choices(self, chat_id: int, me: int, language: str, session_id: int) -> None:
        found, record = await self.companion.storage.run(
            lambda tx: group_activity.owned_session(tx.connection, me, session_id)
        )
        when = self._when(language, found, record.timezone) + (f" ({found.place})" if found.place else "")
        g = f"{FACILITATOR_BUTTON}:"
        pairs = [
            (self._t("button_gr_move", language), f"{g}M:{session_id}"),
            (self._t("button_gr_cancel_session", language), f"{g}X:{session_id}"),
            (self._t("button_gr_back", language), f"{g}o:{record.id}"),
        ]
        await self._say(chat_id, language, [self._t("gr_session_choices", language, when=when)], pairs)

    async def _confirm_cancel(self, chat_id: int, me: int, language: str, session_id: int) -> None:
        found, record = await self.companion.storage.run(
            lambda tx: group_activity.owned_session(tx.connection, me, session_id)
        )
        g = f"{FACILITATOR_BUTTON}:"
        pairs = [
            (self._t("button_gr_cancel_yes", language), f"{g}X:{session_id}:1"),
            (self._t("button_gr_keep_session", language), f"{g}o:{record.id}"),
        ]
        when = self._when(language, found, record.timezone)
        await self._say(chat_id, language, [self._t("gr_cancel_confirm", language, when=when)], pairs)

    async def _invite(self, chat_id: int, me: int, language: str, group_id: int, *, confirmed: bool) -> None:
        """A new link replaces the old one (only a hash is stored, so the old link cannot be shown again)."""
        if not confirmed:
            record = await self.companion.storage.run(lambda tx: groups.owned(tx.connection, me, group_id))
            pairs = [(self._t("button_gr_new_link", language), f"{FACILITATOR_BUTTON}:i:{group_id}:1")]
            await self._say(chat_id, language, [self._t("gr_invite_explain", language, group=record.name)], pairs)
            return
        token = await self.companion.storage.run(lambda tx: rotate_join_token(tx.connection, me, group_id))
        await self._say(chat_id, language, [self._t("gr_invite_link", language), await self._link(token)])

    async def _members(self, chat_id: int, me: int, language: str, group_id: int) -> None:
        def read(tx: Transaction) -> tuple[groups.GroupRecord, list[group_activity.Member]]:
            return groups.owned(tx.connection, me, group_id), group_activity.members_of(tx.connection, me, group_id)

        record, members = await self.companion.storage.run(read)
        if not members:
            texts = [self._t("gr_members_none", language, group=record.name)]
        else:
            lines = [
                self._t(
                    "gr_member_muted" if m.muted else "gr_member_listening",
                    language,
                    name=m.name or self._t("gr_no_name", language),
                )
                for m in members
            ]
            texts = [self._t("gr_members_intro", language, group=record.name, count=len(members)), "\n".join(lines)]
        await self._say(
            chat_id, language, texts, [(self._t("button_gr_back", language), f"{FACILITATOR_BUTTON}:o:{group_id}")]
        )

    async def _leads(self, chat_id: int, me: int, language: str, group_id: int) -> None:
        record = await self.companion.storage.run(lambda tx: groups.owned(tx.connection, me, group_id))
        pairs = [
            (
                ("✓ " if leads == record.leads else "") + lead_words(self.ui, language, leads),
                f"{FACILITATOR_BUTTON}:L:{group_id}:{key}",
            )
            for key, leads in LEAD_CHOICES.items()
        ]
        await self._say(
            chat_id,
            language,
            [self._t("gr_leads_question", language, leads=lead_words(self.ui, language, record.leads))],
            pairs,
        )

    async def _past_sessions(self, chat_id: int, me: int, language: str, group_id: int) -> None:
        now = self._now()

        def read(tx: Transaction) -> tuple[groups.GroupRecord, list[groups.SessionRecord]]:
            return groups.owned(tx.connection, me, group_id), group_activity.sessions_of(tx.connection, me, group_id)

        record, sessions = await self.companion.storage.run(read)
        begun = [s for s in sessions if s.starts_at <= now][-RECENT_SESSIONS:]
        if not begun:
            await self._say(chat_id, language, [self._t("gr_no_past_sessions", language)])
            return
        pairs = [
            (self._when(language, s, record.timezone), f"{FACILITATOR_BUTTON}:{ATTENDANCE_ACTION}:{s.id}")
            for s in reversed(begun)
        ]
        await self._say(chat_id, language, [self._t("gr_which_session", language)], pairs)

    def _attendance_view(
        self,
        language: str,
        record: groups.GroupRecord,
        found: groups.SessionRecord,
        members: list[group_activity.Member],
        came: set[int],
    ) -> tuple[list[str], list[tuple[str, str]]]:
        text = self._t(
            "gr_attendance_intro", language, group=record.name, when=self._when(language, found, record.timezone)
        )
        pairs = []
        for m in members:
            name = m.name or self._t("gr_no_name", language)
            label = self._t("tg_ticked" if m.person_id in came else "tg_unticked", language, label=name)
            # The button says what it will make true (ticked or not), so a double tap or a redelivery changes nothing more.
            pairs.append((label, f"{FACILITATOR_BUTTON}:A:{found.id}:{m.person_id}:{0 if m.person_id in came else 1}"))
        pairs.append((self._t("button_gr_back", language), f"{FACILITATOR_BUTTON}:o:{record.id}"))
        return [text if members else self._t("gr_members_none", language, group=record.name)], pairs

    async def _attendance(self, chat_id: int, me: int, language: str, session_id: int, message: Message | None) -> None:
        def read(
            tx: Transaction,
        ) -> tuple[groups.GroupRecord, groups.SessionRecord, list[group_activity.Member], set[int]]:
            found, record = group_activity.owned_session(tx.connection, me, session_id)
            return (
                record,
                found,
                group_activity.members_of(tx.connection, me, record.id),
                group_activity.attended(tx.connection, me, session_id),
            )

        record, found, members, came = await self.companion.storage.run(read)
        texts, pairs = self._attendance_view(language, record, found, members, came)
        rendered = text_message(texts, buttons(pairs))
        if message is not None and len(rendered.parts) == 1:
            await self.core.chat.edit(message, rendered)
            return
        await self.core.chat.send(chat_id, rendered)

    async def _mark_attendance(
        self, chat_id: int, me: int, language: str, session_id: int, person_id: int, came: bool, message: Message | None
    ) -> None:
        now = self._now()
        await self.companion.storage.run(
            lambda tx: group_activity.set_attended(tx.connection, me, session_id, person_id, came, now)
        )
        await self._attendance(chat_id, me, language, session_id, message)

    async def _report(self, chat_id: int, who: Who, language: str, group_id: int) -> None:
        now = self._now()

        def read(tx: Transaction) -> group_activity.GroupReport | None:
            person = tx.person(who.channel, who.external_id)
            if person is None or not grants.has_role(tx.connection, person.id, grants.FACILITATOR):
                return None
            return group_activity.report(tx.connection, person.id, group_id, now)

        try:
            found = await self.companion.storage.run(read)
        except groups.NotAllowed:
            await self._say(chat_id, language, [self._t("gr_not_yours", language)])
            return
        if found is None:
            await self._say(chat_id, language, [self._t("gr_for_facilitators", language)])
            return
        texts = [self._t("gr_report_title", language, group=found.group.name, members=found.members)]
        if not found.sessions:
            texts.append(self._t("gr_report_no_sessions", language))
        for item in found.sessions:
            lines = [self._when(language, item.session, found.group.timezone)]
            if item.attendance_marked:
                lines.append(
                    self._t(
                        "gr_report_came",
                        language,
                        count=len(item.came),
                        members=found.members,
                        names=", ".join(item.came),
                    )
                )
            else:
                lines.append(self._t("gr_report_not_marked", language))
            lines.append(self._t("gr_report_answers", language, count=item.answers))
            if item.held_back:
                lines.append(self._t("gr_report_held_back", language))
            if item.levels:
                levels = ", ".join(
                    f"{self._level(language, level)}: {count}" for level, count in sorted(item.levels.items())
                )
                lines.append(self._t("gr_report_levels", language, levels=levels))
            if item.most_useful:
                lines.append(
                    self._t("gr_report_most", language) + "\n" + "\n".join(f"• {text}" for text in item.most_useful)
                )
            if item.least_useful:
                lines.append(
                    self._t("gr_report_least", language) + "\n" + "\n".join(f"• {text}" for text in item.least_useful)
                )
            texts.append("\n".join(lines))
        await self._say(
            chat_id, language, texts, [(self._t("button_gr_back", language), f"{FACILITATOR_BUTTON}:o:{group_id}")]
        )

    def _level(self, language: str, level: str) -> str:
        flow = self.companion.catalog.flows.get(FEEDBACK_FLOW)
        if flow is None:
            return level
        try:
            return self.companion.engine.describe(flow, "level", {"level": level}, language)
        except Exception:
            return level

    # ------------------------------------------------------------------ members: joining, muting, leaving, feedback

    async def on_join_link(self, update: Update, who: Who, rest: str) -> None:
        """``/start g_<token>``, for someone who has agreed to the companion's privacy notice."""
        person = await self._person(who)
        if person is None:
            return
        language = person.language
        chat_id = int(who.external_id)
        token = tokens.GROUP_PREFIX + rest

        def read(tx: Transaction) -> tuple[groups.GroupRecord | None, bool]:
            record = groups.group_by_token(tx.connection, token)
            return record, bool(record and group_activity.is_member(tx.connection, person.id, record.id))

        record, already = await self.companion.storage.run(read)
        if record is None:
            await self._say(chat_id, language, [self._t("gr_link_unknown", language)])
            return
        if already:
            await self._say(chat_id, language, [self._t("gr_already_member", language, group=record.name)])
            return
        pairs = [
            (self._t("button_gr_join", language), f"{JOIN_BUTTON}:{rest}"),
            (self._t("button_gr_not_now", language), f"{JOIN_BUTTON}:-"),
        ]
        await self._say(chat_id, language, [self._t("gr_join_explain", language, group=record.name)], pairs)

    async def on_join_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        await self.core.chat.answer(query)
        chat_id = self._chat(query)
        person = await self._person(who)
        if person is None:
            await self.core.moved_on(query, who, query.from_user.language_code)
            return
        language = person.language
        message = query.message if isinstance(query.message, Message) else None
        if value == "-":
            if message is not None:
                await self.core.chat.close(message, self._t("button_gr_not_now", language), language)
            await self._say(chat_id, language, [self._t("gr_not_joined", language)])
            return
        token = tokens.GROUP_PREFIX + value
        first_name = query.from_user.first_name
        now = self._now()

        def work(tx: Transaction) -> groups.GroupRecord | str | None:
            try:
                record = groups.join(tx.connection, person.id, token, consented=True, now=now)
            except groups.GroupFull:
                return "full"
            if record is not None:
                group_activity.set_name(tx.connection, record.id, person.id, first_name)
                group_activity.plan_after_for_group(tx.connection, record.id, now)
            return record

        record = await self.companion.storage.run(work)
        if message is not None:
            await self.core.chat.close(message, self._t("button_gr_join", language), language)
        if record == "full":
            await self._say(chat_id, language, [self._t("gr_group_full", language)])
        elif record is None:
            await self._say(chat_id, language, [self._t("gr_link_unknown", language)])
        else:
            await self._say(chat_id, language, [self._t("gr_joined", language, group=record.name)])  # type: ignore[union-attr]

    async def on_mute_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        """``gu:<group id>`` mutes, ``gu:<group id>:on`` unmutes; only the person's own membership changes."""
        await self.core.chat.answer(query)
        chat_id = self._chat(query)
        person = await self._person(who)
        raw, _, switch = value.partition(":")
        if person is None or not raw.isdigit() or len(raw) > 12:
            await self.core.moved_on(query, who, query.from_user.language_code)
            return
        language = person.language
        group_id, muted, now = int(raw), switch != "on", self._now()

        def work(tx: Transaction) -> groups.GroupRecord | None:
            if not groups.set_muted(tx.connection, person.id, group_id, muted, now):
                return None  # not (or no longer) a member
            return groups.group(tx.connection, group_id)

        record = await self.companion.storage.run(work)
        if record is None:
            await self._say(chat_id, language, [self._t("gr_not_member", language)])
            return
        if muted:
            pairs = [(self._t("button_gr_unmute", language), f"{MUTE_BUTTON}:{group_id}:on")]
            await self._say(chat_id, language, [self._t("gr_muted", language, group=record.name)], pairs)
        else:
            await self._say(chat_id, language, [self._t("gr_unmuted", language, group=record.name)])

    async def on_leave_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        await self.core.chat.answer(query)
        chat_id = self._chat(query)
        person = await self._person(who)
        if person is None or not value.isdigit() or len(value) > 12:
            await self.core.moved_on(query, who, query.from_user.language_code)
            return
        language, group_id, now = person.language, int(value), self._now()

        def work(tx: Transaction) -> bool:
            left = groups.leave(tx.connection, person.id, group_id, now)
            if left:
                group_activity.plan_after_for_group(tx.connection, group_id, now)
            return left

        left = await self.companion.storage.run(work)
        await self._say(chat_id, language, [self._t("gr_left" if left else "gr_not_member", language)])

    async def on_feedback_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        chat_id = self._chat(query)
        person = await self._person(who)
        if person is None or not value.isdigit() or len(value) > 12:
            await self.core.moved_on(query, who, query.from_user.language_code)
            return
        await self.core.chat.answer(query)
        session_id, now = int(value), self._now()
        allowed = await self.companion.storage.run(
            lambda tx: group_activity.can_give_feedback(tx.connection, person.id, session_id, now)
        )
        if not allowed:
            await self._say(chat_id, person.language, [self._t("gr_not_member", person.language)])
            return
        reply = await self.companion.open(who, FEEDBACK_FLOW, update.update_id, about={"session_id": session_id})
        await self.core.show_reply(chat_id, who, reply, person.language)

    # ------------------------------------------------------------------ flow listeners (inside the turn's transaction)

    def _on_new_group(self, tx: Transaction, finished: Finished) -> Outcome | None:
        person = finished.person
        if not grants.has_role(tx.connection, person.id, grants.FACILITATOR):
            return Outcome("gr_for_facilitators", {})
        name = str(finished.answers.get("name") or "").strip()
        if not name:
            name = self._t("gr_default_name", person.language, date=finished.now.date().isoformat())
        zone = TIMEZONES.get(
            str(finished.answers.get("timezone")), "Europe/Stockholm" if person.language == "sv" else "Europe/London"
        )
        record, token = groups.create_group(tx.connection, person.id, name, zone, finished.now)
        return Outcome("gr_created", {"group": record.name, "token": token}, record.id)

    def _on_session(self, tx: Transaction, finished: Finished) -> Outcome | None:
        person = finished.person
        group_id = finished.about.get("group_id")
        if not isinstance(group_id, int):
            return None
        try:
            record = groups.owned(tx.connection, person.id, group_id)
        except groups.NotAllowed:
            return Outcome("gr_not_yours", {})
        date, clock_time = finished.answers.get("date"), finished.answers.get("time")
        if not date or not clock_time:
            return Outcome("gr_session_need_time", {}, group_id)
        local = dt.datetime.combine(dt.date.fromisoformat(date), dt.time.fromisoformat(clock_time))
        if local_to_utc(local.date(), local.time(), record.timezone) <= finished.now:
            return Outcome("gr_session_past", {}, group_id)
        place = str(finished.answers.get("place") or "").strip()[:300] or None
        moving = finished.about.get("session_id")
        if isinstance(moving, int):
            try:
                group_activity.owned_session(tx.connection, person.id, moving)
            except groups.NotAllowed:
                # Cancelled (or not theirs) while the facilitator was answering.
                return Outcome("gr_not_yours", {})
            group_activity.reschedule(tx.connection, person.id, moving, local, place=place, now=finished.now)
            return Outcome("gr_session_moved", {"session_id": moving}, group_id)
        found = group_activity.schedule(tx.connection, person.id, group_id, local, place=place, now=finished.now)
        return Outcome("gr_session_set", {"session_id": found.id}, group_id)

    def _on_message(self, tx: Transaction, finished: Finished) -> Outcome | None:
        person = finished.person
        group_id = finished.about.get("group_id")
        if not isinstance(group_id, int):
            return None
        text = str(finished.answers.get("message") or "").strip()
        try:
            if not text:
                groups.owned(tx.connection, person.id, group_id)
                return Outcome("gr_message_empty", {}, group_id)
            count = group_activity.post_message(tx.connection, person.id, group_id, text, finished.now)
        except groups.NotAllowed:
            return Outcome("gr_not_yours", {})
        return Outcome("gr_message_sent", {"count": count}, group_id)

    def _on_feedback(self, tx: Transaction, finished: Finished) -> None:
        session_id = finished.about.get("session_id")
        if isinstance(session_id, int):
            group_activity.save_feedback(tx.connection, finished.person.id, session_id, finished.answers, finished.now)

    async def after_flow(self, who: Who, reply: Reply) -> None:
        outcome = next((item for item in reply.outcomes if isinstance(item, Outcome)), None)
        if outcome is None:
            return
        person = await self._person(who)
        if person is None:
            return
        language, chat_id = person.language, int(who.external_id)
        if outcome.key == "gr_created":
            link = await self._link(outcome.params["token"])
            await self._say(chat_id, language, [self._t("gr_created", language, group=outcome.params["group"]), link])
        elif outcome.key == "gr_session_set":
            await self._say(chat_id, language, [self._t("gr_session_set", language)])
        else:
            await self._say(chat_id, language, [self._t(outcome.key, language, **outcome.params)])
        if outcome.group_id is not None:
            with contextlib.suppress(groups.NotAllowed):
                await self._panel(chat_id, person.id, language, outcome.group_id)
