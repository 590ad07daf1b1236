"""Turn a claimed reminder into words (content/ui/reminders.<language>.yaml) and attachments.

Reads what the reminder is about at send time, so a moved or cancelled
appointment or session never produces a stale message: a source that is gone
yields None and the dispatcher drops the reminder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from bot.reminders import appointments, store
from bot.reminders.delivery import Attachment, Outgoing
from bot.reminders.ics import session_calendar
from bot.reminders.schedule import utc_to_local
from bot.roles import group_activity, groups
from bot.storage.repository import Storage, Transaction
from flows.texts import UiTexts

SummaryPdf = Callable[[int, str], Awaitable[bytes | None]]
"""(person id, language) -> the summary PDF, or None; provided by the summary module."""


def local_date(texts: UiTexts, language: str, moment: dt.datetime) -> str:
    weekdays = texts.get("reminder_weekdays", language).split(",")
    months = texts.get("reminder_months", language).split(",")
    return texts.get(
        "reminder_date", language, weekday=weekdays[moment.weekday()], day=moment.day, month=months[moment.month - 1]
    )


class ReminderComposer:
    def __init__(
        self,
        storage: Storage,
        texts: UiTexts,
        *,
        summary_pdf: SummaryPdf | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.storage = storage
        self.texts = texts
        self.summary_pdf = summary_pdf
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    async def __call__(self, reminder: store.Claimed) -> Outgoing | None:
        kind, _, raw_id = reminder.source.partition(":")
        if not raw_id.isdigit():
            return None
        if kind == "appointment":
            return await self._appointment(reminder, int(raw_id))
        if kind == "session":
            return await self._session(reminder, int(raw_id))
        if kind == "change":
            return await self._session(reminder, int(raw_id), change=True)
        return await self.other(reminder, kind, int(raw_id))

    async def other(self, reminder: store.Claimed, source_kind: str, source_id: int) -> Outgoing | None:
        """Reminders about other things (a channel adapter adds its own); None drops the reminder."""
        return None

    def appointment_buttons(self, reminder: store.Claimed) -> tuple[tuple[str, str], ...]:
        """One-tap actions under an appointment reminder (none here; a channel adapter adds them)."""
        return ()

    def session_buttons(self, reminder: store.Claimed, record: groups.GroupRecord) -> tuple[tuple[str, str], ...]:
        """One-tap actions under a session reminder (none here; a channel adapter adds them)."""
        return ()

    async def _appointment(self, reminder: store.Claimed, appointment_id: int) -> Outgoing | None:
        found = await self.storage.run(lambda tx: appointments.by_id(tx.connection, appointment_id))
        if found is None:
            return None
        language = reminder.language
        moment = utc_to_local(found.starts_at, found.timezone)
        params = {"date": local_date(self.texts, language, moment), "time": moment.strftime("%H:%M")}
        text = self.texts.get(f"reminder_{reminder.kind}", language, **params)
        attachment = None
        if reminder.kind == "appointment_summary" and self.summary_pdf is not None:
            pdf = await self.summary_pdf(reminder.person_id, language)
            if pdf:
                attachment = Attachment(self.texts.get("tg_summary_filename", language), pdf, "application/pdf")
            else:  # nothing to attach: say so, rather than promise a file that is not there
                text = self.texts.get("reminder_appointment_no_summary", language, **params)
        if found.note and reminder.kind != "appointment_followup":
            text += "\n" + self.texts.get("reminder_appointment_note", language, note=found.note)
        return Outgoing(reminder.channel, reminder.chat_id, text, attachment, self.appointment_buttons(reminder))

    async def _session(self, reminder: store.Claimed, session_id: int, *, change: bool = False) -> Outgoing | None:
        """A reminder before a session, or (``change``) the notice that it moved or was cancelled.

        Both carry the session's calendar file as it stands now. A notice of a
        move for a session since cancelled is dropped (its cancellation has a
        notice of its own), as is a reminder for a cancelled session."""

        def read(tx: Transaction) -> tuple[groups.SessionRecord, groups.GroupRecord, str] | None:
            found = groups.session_even_cancelled(tx.connection, session_id)
            if found is None or (found.cancelled and not change):
                return None
            if change and reminder.person_id not in group_activity.told_of_changes(tx.connection, found):
                return None  # left the group, or muted it before the session reached their calendar
            record = groups.group(tx.connection, found.group_id)
            return (found, record, groups.calendar_install_id(tx.connection)) if record else None

        read_now = await self.storage.run(read)
        if read_now is None:
            return None
        found, record, install = read_now
        cancelling = change and reminder.kind == group_activity.CANCELLED_KIND
        if found.cancelled != cancelling:
            return None
        language = reminder.language
        moment = utc_to_local(found.starts_at, record.timezone)
        when = {
            "group": record.name,
            "date": local_date(self.texts, language, moment),
            "time": moment.strftime("%H:%M"),
        }
        if not change:
            key = "reminder_session"
        else:
            key = "reminder_session_cancelled" if cancelling else "reminder_session_moved"
        lines = [self.texts.get(key, language, **when)]
        if found.place and not cancelling:
            lines.append(self.texts.get("reminder_session_place", language, place=found.place))
        if change:
            lines.append(
                self.texts.get("reminder_calendar_cancel" if cancelling else "reminder_calendar_update", language)
            )
        if not cancelling:
            lines.append(self.texts.get("reminder_session_mute", language))
        ics = session_calendar(
            session_id=found.id,
            install=install,
            title=record.name,
            starts_at=found.starts_at,
            duration_minutes=found.duration_minutes,
            place=found.place,
            stamp=self.clock(),
            sequence=found.sequence,
            cancelled=found.cancelled,
        )
        attachment = Attachment(self.texts.get("reminder_calendar_file", language), ics, "text/calendar")
        buttons = () if cancelling else self.session_buttons(reminder, record)
        return Outgoing(reminder.channel, reminder.chat_id, "\n".join(lines), attachment, buttons)
