"""Reminders on Telegram: what they say and the buttons under them, and the dispatcher in the bot.

Everything it reads goes through bot/services/reminders.py and
bot/services/appointments.py; this module only turns it into Telegram.

- :class:`TelegramReminderComposer` turns a claimed reminder row into a
  message with one-tap buttons (mute a group, open my questions, write what
  was agreed, give feedback, tick who came) and files (the session's .ics,
  the summary PDF built at send time). Rows hold no personal text; everything
  is read when the message is sent, so nothing stale goes out.
- :func:`make_feature` says what noting the next appointment led to (the
  ``appointment`` flow's listener in the services plans or cancels the
  reminders in the same transaction as the answers, and returns a typed
  outcome) and answers the buttons under appointment reminders.
- :func:`run_dispatcher_inside` starts the dispatcher with the application
  (``post_init``) and stops it cleanly before the bot shuts down
  (``post_stop``), so ``companion run`` sends reminders; ``companion
  dispatch`` runs the same dispatcher alone.
- :class:`Unblocker`: someone the dispatcher found had blocked the bot is
  unblocked as soon as they write again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.adapters.telegram import callbacks
from bot.adapters.telegram.features import Core, Feature
from bot.adapters.telegram.render import text_message
from bot.reminders import store
from bot.reminders.delivery import Outgoing, telegram_sender
from bot.reminders.dispatcher import Dispatcher, Limits, Pacer, Tally
from bot.reminders.messages import ReminderComposer, local_date
from bot.reminders.schedule import utc_to_local
from bot.roles import group_activity
from bot.services import forms, sip
from bot.services.appointments import Planned, PlanStatus
from bot.services.collaborate import Offer
from bot.services.conversation import Reply, Who
from bot.services.reminders import GroupRecord, Reminders
from bot.services.send_budget import Priority
from flows.texts import UiTexts

log = logging.getLogger(__name__)

APPOINTMENT_BUTTON = "ra"
"""``ra:q`` opens the person's questions, ``ra:w`` the "what was agreed" flow, ``ra:c`` the CollaboRATE
questions (once per appointment), ``ra:s`` the SIP follow-up ("did it happen?")."""
MUTE_BUTTON = "gu"
"""``gu:<group id>`` mutes a group, ``gu:<group id>:on`` turns its reminders back on (handled in groups.py)."""
FEEDBACK_BUTTON = "gf"
"""``gf:<session id>``: open the feedback questionnaire (handled in groups.py)."""
FACILITATOR_BUTTON = "g"
ATTENDANCE_ACTION = "a"
"""``g:a:<session id>``: the facilitator's "who came?" checklist (handled in groups.py)."""

OPENS = {
    "q": forms.QUESTIONS.flow,
    "w": forms.WHAT_WE_AGREED.flow,
    "c": forms.COLLABORATE.flow,
    "s": forms.SIP_FOLLOW_UP.flow,
}
"""What the buttons under appointment (and SIP follow-up) reminders open."""
ONCE = frozenset({forms.COLLABORATE.flow})
"""Flows a button opens only while the person may still answer them (see Collaboration.offer)."""
NOT_OPEN_WORDS = {Offer.ANSWERED: "rm_collaborate_done", Offer.CLOSED: "rm_collaborate_closed"}
"""What a press says when the questions are not open: answered already, or too long ago."""


PLAN_WORDS = {
    PlanStatus.SET: "rm_appointment_set",
    PlanStatus.NO_REMINDERS: "rm_appointment_no_reminders",
    PlanStatus.NEED_TIME: "rm_appointment_need_time",
    PlanStatus.PAST: "rm_appointment_past",
}
"""What the person is told after noting their appointment, by what it led to."""

FOLLOW_UP_WORDS = {
    sip.FollowUpStatus.SET: "rm_sip_set",
    sip.FollowUpStatus.NOT_WANTED: "rm_sip_not_wanted",
    sip.FollowUpStatus.NEED_DATE: "rm_sip_need_date",
    sip.FollowUpStatus.PAST: "rm_sip_past",
}
"""What the person is told after writing what was agreed at their SIP meeting, by what it led to."""


class TelegramReminderComposer(ReminderComposer):
    """Reminder words and files (bot/reminders/messages.py) plus Telegram buttons and group messages."""

    def __init__(self, reminders: Reminders, texts: UiTexts, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(reminders.storage, texts, summary_pdf=reminders.summary_pdf, clock=clock)
        self.reminders = reminders

    def appointment_buttons(self, reminder: store.Claimed) -> tuple[tuple[str, str], ...]:
        if reminder.kind == "appointment_questions":
            return (
                (self.texts.get("button_rm_questions", reminder.language), callbacks.simple(APPOINTMENT_BUTTON, "q")),
            )
        if reminder.kind == "appointment_followup":
            return (
                (self.texts.get("button_rm_agreed", reminder.language), callbacks.simple(APPOINTMENT_BUTTON, "w")),
                (self.texts.get("button_rm_collaborate", reminder.language), callbacks.simple(APPOINTMENT_BUTTON, "c")),
            )
        return ()

    def session_buttons(self, reminder: store.Claimed, record: GroupRecord) -> tuple[tuple[str, str], ...]:
        return ((self.texts.get("button_rm_mute", reminder.language), f"{MUTE_BUTTON}:{record.id}"),)

    async def other(self, reminder: store.Claimed, source_kind: str, source_id: int) -> Outgoing | None:
        if source_kind == "after" and reminder.kind == group_activity.FEEDBACK_KIND:
            return await self._feedback_offer(reminder, source_id)
        if source_kind == "after" and reminder.kind == group_activity.ATTENDANCE_KIND:
            return await self._attendance_question(reminder, source_id)
        if source_kind == "message" and reminder.kind == group_activity.MESSAGE_KIND:
            return await self._group_message(reminder, source_id)
        if source_kind == "sip" and reminder.kind == sip.FOLLOW_UP_KIND and source_id == reminder.person_id:
            return self._sip_follow_up(reminder)
        return None

    def _sip_follow_up(self, reminder: store.Claimed) -> Outgoing:
        """The morning of the date agreed at the SIP meeting: "did it happen?", one tap away."""
        language = reminder.language
        return Outgoing(
            reminder.channel,
            reminder.chat_id,
            self.texts.get("reminder_sip_follow_up", language),
            buttons=((self.texts.get("button_rm_sip_follow_up", language), callbacks.simple(APPOINTMENT_BUTTON, "s")),),
        )

    async def _feedback_offer(self, reminder: store.Claimed, session_id: int) -> Outgoing | None:
        record = await self.reminders.feedback_group(reminder.person_id, session_id, self.clock())
        if record is None:
            return None
        language = reminder.language
        return Outgoing(
            reminder.channel,
            reminder.chat_id,
            self.texts.get("gr_feedback_offer", language, group=record.name),
            buttons=((self.texts.get("button_gr_feedback", language), f"{FEEDBACK_BUTTON}:{session_id}"),),
        )

    async def _attendance_question(self, reminder: store.Claimed, session_id: int) -> Outgoing | None:
        found = await self.reminders.attendance(reminder.person_id, session_id)
        if found is None:
            return None  # no longer their group (or no longer a facilitator)
        language = reminder.language
        moment = utc_to_local(found.session.starts_at, found.group.timezone)
        text = self.texts.get(
            "gr_attendance_ask",
            language,
            group=found.group.name,
            date=local_date(self.texts, language, moment),
            time=moment.strftime("%H:%M"),
        )
        data = f"{FACILITATOR_BUTTON}:{ATTENDANCE_ACTION}:{session_id}"
        return Outgoing(
            reminder.channel,
            reminder.chat_id,
            text,
            buttons=((self.texts.get("button_gr_attendance", language), data),),
        )

    async def _group_message(self, reminder: store.Claimed, message_id: int) -> Outgoing | None:
        found = await self.reminders.group_message(message_id, reminder.person_id)
        if found is None:
            return None
        # The facilitator's words as written; the line around them in the member's own language.
        heading = self.texts.get("gr_message_from", reminder.language, group=found.group.name)
        return Outgoing(reminder.channel, reminder.chat_id, f"{heading}\n\n{found.body}", priority=Priority.GROUP)


# --------------------------------------------------------------------------- the dispatcher inside the bot


class ReminderService:
    """One dispatcher running beside the bot, on the bot's own event loop."""

    def __init__(
        self,
        reminders: Reminders,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        pacer: Pacer | None = None,
        limits: Limits = Limits(),
        idle: float = 1.0,
    ) -> None:
        self.reminders = reminders
        self.clock = clock
        self.pacer = pacer
        self.limits = limits
        self.idle = idle
        self.dispatcher: Dispatcher | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[Tally] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def build(self, bot: Any) -> Dispatcher:
        composer = TelegramReminderComposer(self.reminders, self.reminders.engine.catalog.ui, clock=self.clock)
        return self.reminders.dispatcher(
            telegram_sender(bot), composer, clock=self.clock, pacer=self.pacer, limits=self.limits
        )

    async def start(self, bot: Any) -> None:
        """Start sending in the background (the bot must be initialised)."""
        if self.running:
            return
        self.dispatcher = self.build(bot)
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self.dispatcher.run(self._stop, idle=self.idle), name="reminder-dispatcher")

    async def stop(self) -> Tally | None:
        """Finish the sends already handed over, then stop. Claimed-but-unsent rows are retried after their lease."""
        if self._task is None:
            return None
        self._stop.set()
        task, self._task = self._task, None
        return await task


def run_dispatcher_inside(application: Application, reminders: Reminders, **options: Any) -> ReminderService:
    """Start the dispatcher when the application starts and stop it before the bot shuts down.

    PTB runs ``post_init`` after initialising the bot and ``post_stop`` after
    it stopped taking updates but before the bot's connection closes, so the
    dispatcher's last sends still have a bot to go through.
    """
    service = ReminderService(reminders, **options)
    earlier_init = application.post_init
    earlier_stop = application.post_stop

    async def post_init(app: Application) -> None:
        if earlier_init is not None:
            await earlier_init(app)
        await service.start(app.bot)

    async def post_stop(app: Application) -> None:
        tally = await service.stop()
        if tally is not None:
            log.info("reminders: sent %s, dropped %s, blocked %s", tally.sent, tally.dropped, tally.blocked)
        if earlier_stop is not None:
            await earlier_stop(app)

    application.post_init = post_init
    application.post_stop = post_stop
    application.bot_data["reminders"] = service
    Unblocker(reminders).install(application)
    return service


# --------------------------------------------------------------------------- blocked chats


class Unblocker:
    """Someone who blocked the bot (found by the dispatcher) is unblocked when they write again.

    Checking the database on every update would add a transaction to every
    turn, so the short list of blocked chats is read at most every
    ``refresh`` seconds; a person blocked moments ago is unblocked at their
    next message after that.
    """

    def __init__(
        self,
        reminders: Reminders,
        *,
        refresh: float = 30.0,
        channel: str = "telegram",
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.reminders = reminders
        self.clock = clock or reminders.clock
        self.refresh = refresh
        self.channel = channel
        self._blocked: set[str] = set()
        self._read_at = float("-inf")

    def install(self, application: Application) -> None:
        # Group -1 runs before the companion's own handlers and never stops them.
        application.add_handler(TypeHandler(Update, self.on_update), group=-1)

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None or (update.message is None and update.callback_query is None):
            return
        if time.monotonic() - self._read_at > self.refresh:
            await self.read()
        if str(user.id) in self._blocked:
            await self.unblock(str(user.id))

    async def read(self) -> None:
        self._blocked = await self.reminders.blocked(self.channel)
        self._read_at = time.monotonic()

    async def unblock(self, external_id: str) -> None:
        await self.reminders.unblock(Who(self.channel, external_id), self.clock())
        self._blocked.discard(external_id)


# --------------------------------------------------------------------------- appointments


def make_feature(core: Core) -> Feature:
    """Appointment reminders for everyone, and the buttons under appointment reminders.

    The appointment flow's listener (bot/services/appointments.py) plans the
    reminders with the answers; this only says what that led to."""
    from bot.adapters.telegram.core import telegram_language

    companion = core.services.conversation

    async def after_appointment(who: Who, reply: Reply) -> None:
        planned = reply.outcome(Planned)
        if planned is None:
            return
        language = reply.language or await core.language_of(who)
        await core.chat.send(int(who.external_id), text_message([core.text(PLAN_WORDS[planned.status], language)]))

    async def after_sip_plan(who: Who, reply: Reply) -> None:
        follow_up = reply.outcome(sip.FollowUp)
        if follow_up is None:
            return
        language = reply.language or await core.language_of(who)
        day = local_date(core.ui, language, dt.datetime.combine(follow_up.day, dt.time())) if follow_up.day else ""
        words = core.text(FOLLOW_UP_WORDS[follow_up.status], language, date=day)
        await core.chat.send(int(who.external_id), text_message([words]))

    async def on_button(update: Update, query: CallbackQuery, who: Who, value: str) -> None:
        flow_id = OPENS.get(value)
        chat_id = query.message.chat.id if query.message else query.from_user.id
        if flow_id is None or flow_id not in companion.catalog.flows:
            await core.moved_on(query, who, query.from_user.language_code)
            return
        person = await companion.person(who)
        if person is None:
            await core.chat.answer(query)
            await core.ask_consent(chat_id, telegram_language(query.from_user.language_code), first=False)
            return
        await core.chat.answer(query)
        offer = await core.services.collaboration.offer(who) if flow_id in ONCE else Offer.OPEN
        if offer is not Offer.OPEN:
            await core.chat.send(chat_id, text_message([core.text(NOT_OPEN_WORDS[offer], person.language)]))
            return
        reply = await companion.open(who, flow_id, update.update_id)
        await core.show_reply(chat_id, who, reply, reply.language or person.language)

    return Feature(
        "reminders",
        buttons={APPOINTMENT_BUTTON: on_button},
        finished={forms.APPOINTMENT.flow: after_appointment, forms.SIP_AGREED.flow: after_sip_plan},
    )
