"""The facilitator on Telegram: /groups, /report, a group's page and everything on it.

Create a group (the ``new_group`` flow), share its invite link, schedule,
move and cancel sessions (``group_session``), see members and who muted
reminders, change when reminders go out, message the whole group
(``group_message``), tick who came, and read the report (feedback never has
names on it).

Every look and change goes through bot/services/groups.py, which decides in
the database whether this person may; a refusal is answered kindly and says
nothing about someone else's group. Button values are untrusted hints
(bot/adapters/telegram/group_buttons.py reads them). At the end of their own
tasks a facilitator sees what happened and their group's page, never the
service user's menu.
"""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.adapters.telegram.core import Context
from bot.adapters.telegram.features import Core, Feature, Pressed, Registered
from bot.adapters.telegram.group_buttons import (
    FACILITATOR_BUTTON,
    FacilitatorAction,
    Tap,
    facilitator,
    read_facilitator,
)
from bot.adapters.telegram.group_words import GroupWords, Pairs
from bot.adapters.telegram.render import buttons, text_message
from bot.roles import tokens
from bot.services import forms
from bot.services.conversation import Reply, Who
from bot.services.groups import (
    LEAD_CHOICES,
    Attendance,
    GroupInfo,
    GroupOutcome,
    GroupReport,
    Outcome,
    Refusal,
    SessionReport,
)

A = FacilitatorAction

OUTCOME_TEXTS: dict[Outcome, str] = {
    Outcome.SESSION_SET: "gr_session_set",
    Outcome.SESSION_MOVED: "gr_session_moved",
    Outcome.SESSION_NEEDS_TIME: "gr_session_need_time",
    Outcome.SESSION_IN_PAST: "gr_session_past",
    Outcome.MESSAGE_SENT: "gr_message_sent",
    Outcome.MESSAGE_EMPTY: "gr_message_empty",
    Outcome.NOT_FACILITATOR: "gr_for_facilitators",
    Outcome.NOT_YOURS: "gr_not_yours",
}


class Facilitator:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.groups = core.services.groups
        self.conversation = core.services.conversation
        self.t = core.text
        self.words = GroupWords(core)

    def feature(self) -> Feature:
        tasks = (forms.NEW_GROUP.flow, forms.GROUP_SESSION.flow, forms.GROUP_MESSAGE.flow)
        return Feature(
            "facilitator",
            commands={"groups": self.on_groups, "report": self.on_report},
            buttons={FACILITATOR_BUTTON: self.on_button},
            finished={flow: self.after_task for flow in tasks},
        )

    async def _say(self, chat_id: int, texts: list[str], pairs: Pairs | None = None) -> None:
        await self.core.say(chat_id, texts, pairs or [])

    async def _refuse(self, chat_id: int, language: str, refusal: Refusal) -> None:
        await self._say(chat_id, [self.words.refusal(refusal, language)])

    def _back(self, language: str, group_id: int) -> tuple[str, str]:
        return self.t("button_gr_back", language), facilitator(A.GROUP, group_id)

    # ------------------------------------------------------------------ /groups and /report

    async def on_groups(self, update: Update, context: Context) -> None:
        registered = await self.core.registered(update)
        if registered is None:
            return
        overview = await self.groups.overview(registered.who)
        if isinstance(overview, Refusal):
            await self._refuse(registered.chat_id, registered.language, overview)
        elif overview.facilitator:
            await self._group_list(registered.chat_id, registered.language, overview.groups)
        else:
            texts, pairs = self.words.memberships(registered.language, overview.memberships)
            await self._say(registered.chat_id, texts, pairs)

    async def _group_list(self, chat_id: int, language: str, mine: tuple[GroupInfo, ...]) -> None:
        text = self.t("gr_list_intro" if mine else "gr_list_empty", language)
        pairs = [(record.name, facilitator(A.GROUP, record.id)) for record in mine]
        pairs.append((self.t("button_gr_new", language), facilitator(A.NEW_GROUP)))
        await self._say(chat_id, [text], pairs)

    async def on_report(self, update: Update, context: Context) -> None:
        registered = await self.core.registered(update)
        if registered is None:
            return
        language, chat_id = registered.language, registered.chat_id
        mine = await self.groups.own_groups(registered.who)
        if isinstance(mine, Refusal):
            await self._refuse(chat_id, language, mine)
        elif not mine:
            await self._group_list(chat_id, language, mine)
        elif len(mine) == 1:
            await self._report(registered, mine[0].id)
        else:
            pairs = [(record.name, facilitator(A.REPORT, record.id)) for record in mine]
            await self._say(chat_id, [self.t("gr_report_which", language)], pairs)

    # ------------------------------------------------------------------ buttons

    async def on_button(self, update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        pressed = await self.core.pressed(update, query, who)
        if pressed is None:
            return
        tap = read_facilitator(value)
        if tap is None:
            # Not a button this companion made: say no more than to anyone who may not.
            allowed = await self.groups.is_facilitator(who)
            await self._refuse(
                pressed.chat_id, pressed.language, Refusal.NOT_YOURS if allowed else Refusal.NOT_FACILITATOR
            )
            return
        refusal = await self._act(pressed, tap)
        if refusal is not None:
            await self._refuse(pressed.chat_id, pressed.language, refusal)

    async def _act(self, pressed: Pressed, tap: Tap) -> Refusal | None:
        """Do what the button asks; what was refused, if it was."""
        who, chat_id, language = pressed.who, pressed.chat_id, pressed.language
        match tap.action:
            case A.NEW_GROUP:
                return await self._show_task(pressed, await self.groups.open_new_group(who))
            case A.SCHEDULE:
                return await self._show_task(pressed, await self.groups.open_schedule(who, tap.target))
            case A.MESSAGE:
                return await self._show_task(pressed, await self.groups.open_message(who, tap.target))
            case A.MOVE:
                return await self._show_task(pressed, await self.groups.open_move(who, tap.target))
            case A.GROUP:
                return await self._panel(who, chat_id, language, tap.target)
            case A.INVITE:
                return await self._invite(pressed, tap.target, confirmed=tap.confirmed)
            case A.UPCOMING:
                return await self._upcoming(pressed, tap.target)
            case A.SESSION:
                return await self._session_choices(pressed, tap.target)
            case A.CANCEL if tap.confirmed:
                return await self._cancel(pressed, tap.target)
            case A.CANCEL:
                return await self._confirm_cancel(pressed, tap.target)
            case A.MEMBERS:
                return await self._members(pressed, tap.target)
            case A.LEADS:
                return await self._leads(pressed, tap.target)
            case A.SET_LEADS:
                return await self._set_leads(pressed, tap.target, tap.ids[1])
            case A.REPORT:
                return await self._report(pressed, tap.target)
            case A.PAST:
                return await self._past(pressed, tap.target)
            case A.ATTENDANCE:
                return await self._attendance(pressed, await self.groups.attendance(who, tap.target), edit=False)
            case A.MARK:
                session_id, person_id, came = tap.ids
                marked = await self.groups.mark_attendance(who, session_id, person_id, came == 1)
                return await self._attendance(pressed, marked, edit=True)
        return Refusal.NOT_YOURS

    async def _show_task(self, pressed: Pressed, reply: Reply | Refusal) -> Refusal | None:
        if isinstance(reply, Refusal):
            return reply
        await self.core.show_reply(pressed.chat_id, pressed.who, reply, pressed.language)
        return None

    # ------------------------------------------------------------------ a group's page

    async def _panel(self, who: Who, chat_id: int, language: str, group_id: int) -> Refusal | None:
        panel = await self.groups.panel(who, group_id)
        if isinstance(panel, Refusal):
            return panel
        record = panel.group
        texts = [
            self.t("gr_panel", language, group=record.name, members=panel.members, zone=record.timezone),
            self.t("gr_panel_leads", language, leads=self.words.leads(language, record.leads)),
        ]
        if panel.upcoming:
            texts.append(self.t("gr_panel_next", language))
            texts.extend(self.words.when(language, s, record.timezone, place=True) for s in panel.upcoming)
        else:
            texts.append(self.t("gr_panel_no_sessions", language))
        pairs = [
            (self.t(key, language), facilitator(action, group_id))
            for key, action in (
                ("button_gr_schedule", A.SCHEDULE),
                ("button_gr_change", A.UPCOMING),
                ("button_gr_invite", A.INVITE),
                ("button_gr_members", A.MEMBERS),
                ("button_gr_leads", A.LEADS),
                ("button_gr_message", A.MESSAGE),
                ("button_gr_who_came", A.PAST),
                ("button_gr_report", A.REPORT),
            )
        ]
        await self._say(chat_id, texts, pairs)
        return None

    async def _invite(self, pressed: Pressed, group_id: int, *, confirmed: bool) -> Refusal | None:
        """A new link replaces the old one (only a hash is stored, so the old link cannot be shown again)."""
        language = pressed.language
        if not confirmed:
            record = await self.groups.group(pressed.who, group_id)
            if isinstance(record, Refusal):
                return record
            pairs = [(self.t("button_gr_new_link", language), facilitator(A.INVITE, group_id, 1))]
            await self._say(pressed.chat_id, [self.t("gr_invite_explain", language, group=record.name)], pairs)
            return None
        invite = await self.groups.new_invite(pressed.who, group_id)
        if isinstance(invite, Refusal):
            return invite
        assert invite.token is not None
        await self._say(pressed.chat_id, [self.t("gr_invite_link", language), self._link(invite.token)])
        return None

    def _link(self, token: str) -> str:
        return tokens.deep_link(self.core.bot_username(), token)

    async def _members(self, pressed: Pressed, group_id: int) -> Refusal | None:
        found = await self.groups.members(pressed.who, group_id)
        if isinstance(found, Refusal):
            return found
        language, name = pressed.language, found.group.name
        if not found.members:
            texts = [self.t("gr_members_none", language, group=name)]
        else:
            lines = [
                self.t(
                    "gr_member_muted" if m.muted else "gr_member_listening",
                    language,
                    name=m.name or self.t("gr_no_name", language),
                )
                for m in found.members
            ]
            texts = [self.t("gr_members_intro", language, group=name, count=len(found.members)), "\n".join(lines)]
        await self._say(pressed.chat_id, texts, [self._back(language, group_id)])
        return None

    async def _leads(self, pressed: Pressed, group_id: int) -> Refusal | None:
        record = await self.groups.group(pressed.who, group_id)
        if isinstance(record, Refusal):
            return record
        language, now = pressed.language, tuple(record.leads)
        pairs = [
            (
                ("✓ " if leads == now else "") + self.words.leads(language, leads),
                facilitator(A.SET_LEADS, group_id, key),
            )
            for key, leads in LEAD_CHOICES.items()
        ]
        question = self.t("gr_leads_question", language, leads=self.words.leads(language, record.leads))
        await self._say(pressed.chat_id, [question], pairs)
        return None

    async def _set_leads(self, pressed: Pressed, group_id: int, choice: int) -> Refusal | None:
        leads = await self.groups.set_leads(pressed.who, group_id, choice)
        if isinstance(leads, Refusal):
            return leads
        language = pressed.language
        await self._say(pressed.chat_id, [self.t("gr_leads_set", language, leads=self.words.leads(language, leads))])
        return await self._panel(pressed.who, pressed.chat_id, language, group_id)

    # ------------------------------------------------------------------ sessions

    async def _upcoming(self, pressed: Pressed, group_id: int) -> Refusal | None:
        found = await self.groups.upcoming(pressed.who, group_id)
        if isinstance(found, Refusal):
            return found
        language, back = pressed.language, self._back(pressed.language, group_id)
        if not found.sessions:
            await self._say(pressed.chat_id, [self.t("gr_no_upcoming", language)], [back])
            return None
        zone = found.group.timezone
        pairs = [(self.words.when(language, s, zone), facilitator(A.SESSION, s.id)) for s in found.sessions]
        await self._say(pressed.chat_id, [self.t("gr_which_session", language)], [*pairs, back])
        return None

    async def _session_choices(self, pressed: Pressed, session_id: int) -> Refusal | None:
        found = await self.groups.session(pressed.who, session_id)
        if isinstance(found, Refusal):
            return found
        language = pressed.language
        when = self.words.when(language, found.session, found.group.timezone, place=True)
        pairs = [
            (self.t("button_gr_move", language), facilitator(A.MOVE, session_id)),
            (self.t("button_gr_cancel_session", language), facilitator(A.CANCEL, session_id)),
            self._back(language, found.group.id),
        ]
        await self._say(pressed.chat_id, [self.t("gr_session_choices", language, when=when)], pairs)
        return None

    async def _confirm_cancel(self, pressed: Pressed, session_id: int) -> Refusal | None:
        found = await self.groups.session(pressed.who, session_id)
        if isinstance(found, Refusal):
            return found
        language = pressed.language
        pairs = [
            (self.t("button_gr_cancel_yes", language), facilitator(A.CANCEL, session_id, 1)),
            (self.t("button_gr_keep_session", language), facilitator(A.GROUP, found.group.id)),
        ]
        when = self.words.when(language, found.session, found.group.timezone)
        await self._say(pressed.chat_id, [self.t("gr_cancel_confirm", language, when=when)], pairs)
        return None

    async def _cancel(self, pressed: Pressed, session_id: int) -> Refusal | None:
        found = await self.groups.cancel_session(pressed.who, session_id)
        if isinstance(found, Refusal):
            return found
        language = pressed.language
        tell = [(self.t("button_gr_message", language), facilitator(A.MESSAGE, found.group_id))]
        await self._say(pressed.chat_id, [self.t("gr_session_cancelled", language)], tell)
        return None

    # ------------------------------------------------------------------ who came

    async def _past(self, pressed: Pressed, group_id: int) -> Refusal | None:
        found = await self.groups.past(pressed.who, group_id)
        if isinstance(found, Refusal):
            return found
        language = pressed.language
        if not found.sessions:
            await self._say(pressed.chat_id, [self.t("gr_no_past_sessions", language)])
            return None
        zone = found.group.timezone
        pairs = [(self.words.when(language, s, zone), facilitator(A.ATTENDANCE, s.id)) for s in found.sessions]
        await self._say(pressed.chat_id, [self.t("gr_which_session", language)], pairs)
        return None

    async def _attendance(self, pressed: Pressed, found: Attendance | Refusal, *, edit: bool) -> Refusal | None:
        """The checklist of who came; after a tick it is redrawn in place."""
        if isinstance(found, Refusal):
            return found
        language, record = pressed.language, found.group
        if found.members:
            when = self.words.when(language, found.session, record.timezone)
            text = self.t("gr_attendance_intro", language, group=record.name, when=when)
        else:
            text = self.t("gr_members_none", language, group=record.name)
        pairs = []
        for m in found.members:
            name = m.name or self.t("gr_no_name", language)
            came = m.person_id in found.came
            label = self.t("tg_ticked" if came else "tg_unticked", language, label=name)
            # The button says what it will make true (ticked or not), so a double tap or a redelivery changes nothing more.
            pairs.append((label, facilitator(A.MARK, found.session.id, m.person_id, 0 if came else 1)))
        pairs.append(self._back(language, record.id))
        rendered = text_message([text], buttons(pairs))
        if edit and pressed.message is not None and len(rendered.parts) == 1:
            await self.core.chat.edit(pressed.message, rendered)
        else:
            await self.core.chat.send(pressed.chat_id, rendered)
        return None

    # ------------------------------------------------------------------ the report

    async def _report(self, asked: Pressed | Registered, group_id: int) -> Refusal | None:
        found = await self.groups.report(asked.who, group_id)
        if isinstance(found, Refusal):
            await self._refuse(asked.chat_id, asked.language, found)
            return None
        language = asked.language
        texts = [self.t("gr_report_title", language, group=found.group.name, members=found.members)]
        if not found.sessions:
            texts.append(self.t("gr_report_no_sessions", language))
        texts.extend(self._report_session(language, found, item) for item in found.sessions)
        await self._say(asked.chat_id, texts, [self._back(language, group_id)])
        return None

    def _report_session(self, language: str, found: GroupReport, item: SessionReport) -> str:
        lines = [self.words.when(language, item.session, found.group.timezone)]
        if item.attendance_marked:
            names = ", ".join(item.came)
            lines.append(self.t("gr_report_came", language, count=len(item.came), members=found.members, names=names))
        else:
            lines.append(self.t("gr_report_not_marked", language))
        lines.append(self.t("gr_report_answers", language, count=item.answers))
        if item.held_back:
            lines.append(self.t("gr_report_held_back", language))
        if item.levels:
            levels = ", ".join(
                f"{self._level(language, level)}: {count}" for level, count in sorted(item.levels.items())
            )
            lines.append(self.t("gr_report_levels", language, levels=levels))
        if item.most_useful:
            lines.append(self.t("gr_report_most", language) + "\n" + "\n".join(f"• {t}" for t in item.most_useful))
        if item.least_useful:
            lines.append(self.t("gr_report_least", language) + "\n" + "\n".join(f"• {t}" for t in item.least_useful))
        return "\n".join(lines)

    def _level(self, language: str, level: str) -> str:
        """A feedback level in the reader's words, as the feedback flow says it."""
        form = forms.SESSION_FEEDBACK
        flow = self.conversation.catalog.flows.get(form.flow)
        if flow is None:
            return level
        try:
            return self.conversation.engine.describe(flow, form.level.id, {form.level.id: level}, language)
        except Exception:  # a level the content no longer has: shown as it was saved
            return level

    # ------------------------------------------------------------------ after one of their own tasks

    async def after_task(self, who: Who, reply: Reply) -> None:
        """What the finished task led to, then the group's page: the facilitator's own next step."""
        done = reply.outcome(GroupOutcome)
        if done is None:
            return
        language = reply.language or await self.core.language_of(who)
        chat_id = int(who.external_id)
        if done.outcome is Outcome.CREATED:
            assert done.token is not None
            texts = [self.t("gr_created", language, group=done.group_name), self._link(done.token)]
        else:
            texts = [self.t(OUTCOME_TEXTS.get(done.outcome, "gr_not_yours"), language, count=done.count)]
        await self._say(chat_id, texts)
        if done.group_id is not None:
            await self._panel(who, chat_id, language, done.group_id)


def feature(core: Core) -> Feature:
    return Facilitator(core).feature()
