"""A service user's next appointment: noting it plans its reminders, in the same transaction as the answers.

The appointment flow's answers (declared in bot/services/forms.py) are read
here and nowhere else. The listener returns a typed :class:`Planned` on the
turn's reply, so an adapter only says what happened; a retried turn leaves
nothing behind in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.reminders import appointments
from bot.reminders.appointments import AppointmentRecord
from bot.reminders.schedule import local_to_utc
from bot.services import forms
from bot.services.conversation import Finished, Who
from bot.storage.repository import Storage, Transaction

__all__ = ["AppointmentRecord", "Appointments", "PlanStatus", "Planned"]


class PlanStatus(StrEnum):
    """What noting an appointment led to."""

    SET = "set"
    """Reminders are planned (a moved appointment replaces the old one's)."""
    NO_REMINDERS = "no_reminders"
    """The person did not want reminders: any upcoming appointment's reminders are cancelled."""
    NEED_TIME = "need_time"
    """They wanted reminders but skipped the date or the time: nothing can be planned."""
    PAST = "past"
    """The date and time have already passed: nothing was changed."""


@dataclass(frozen=True, slots=True)
class Planned:
    status: PlanStatus
    appointment: AppointmentRecord | None = None


class Appointments:
    """The person's next appointment and the reminders it brings."""

    def __init__(self, storage: Storage, clock: Callable[[], dt.datetime]) -> None:
        self.storage = storage
        self.clock = clock
        self.flow = forms.APPOINTMENT.flow

    @staticmethod
    def finished(tx: Transaction, finished: Finished) -> Planned:
        """The appointment flow's listener: plan (or cancel) the reminders with the answers."""
        form, person, answers = forms.APPOINTMENT, finished.person, finished.answers
        wanted = form.remind.of(answers) == forms.YES
        date, clock_time = form.date.of(answers), form.time.of(answers)
        if not wanted or not date or not clock_time:
            appointments.cancel_appointment(tx.connection, person.id, finished.now)
            return Planned(PlanStatus.NEED_TIME if wanted else PlanStatus.NO_REMINDERS)
        local = dt.datetime.combine(dt.date.fromisoformat(date), dt.time.fromisoformat(clock_time))
        if local_to_utc(local.date(), local.time(), person.timezone) <= finished.now:
            return Planned(PlanStatus.PAST)
        note = form.note.of(answers) or None
        record = appointments.set_appointment(tx.connection, person.id, local, person.timezone, note, finished.now)
        return Planned(PlanStatus.SET, record)

    async def upcoming(self, who: Who) -> AppointmentRecord | None:
        """The person's next appointment that has not started yet, if they noted one."""
        now = self.clock()

        def work(tx: Transaction) -> AppointmentRecord | None:
            person = tx.person(who.channel, who.external_id)
            return None if person is None else appointments.upcoming(tx.connection, person.id, now)

        return await self.storage.run(work)
