"""Noting an appointment through the services: the listener's typed outcome, and what it plans or keeps."""

from __future__ import annotations

import datetime as dt

from bot.reminders import store
from bot.services import forms
from bot.services.app import Services
from bot.services.appointments import Appointments, Planned, PlanStatus
from bot.services.conversation import Companion, Finished, Who
from flows.turns import SKIP, Pressed, Typed
from tests.conftest import Clock

SAM = Who("console", "sam")


async def note(services: Services, *answers: object) -> Planned | None:
    """Go through the appointment flow as a person would; the outcome of its last turn."""
    conversation = services.conversation
    reply = await conversation.open(SAM, forms.APPOINTMENT.flow)
    for answer in answers:
        reply = await conversation.act(SAM, answer)  # type: ignore[arg-type]
    assert reply.status == "finished", reply
    return reply.outcome(Planned)


async def test_noting_an_appointment_plans_its_reminders_and_says_so(companion: Companion) -> None:
    services = Services.around(companion)
    await companion.join(SAM, "en")
    planned = await note(
        services, Typed("30/11/2026"), Typed("10:30"), Pressed("doctor"), Typed("Room 2"), Pressed("yes")
    )
    assert planned is not None and planned.status is PlanStatus.SET
    upcoming = await services.appointments.upcoming(SAM)
    assert upcoming is not None and upcoming.note == "Room 2"
    assert upcoming.local_start == dt.datetime(2026, 11, 30, 10, 30)
    assert planned.appointment == upcoming
    leads = await companion.storage.run(lambda tx: store.pending_for(tx.connection, upcoming.person_id))
    assert len(leads) == 3

    # No reminders wanted this time: the upcoming appointment and its reminders are cancelled.
    planned = await note(services, Typed("1/12/2026"), Typed("9:00"), Pressed("nurse"), Pressed(SKIP), Pressed("no"))
    assert planned == Planned(PlanStatus.NO_REMINDERS)
    assert await services.appointments.upcoming(SAM) is None
    assert await companion.storage.run(lambda tx: store.pending_for(tx.connection, upcoming.person_id)) == []


async def _finish(companion: Companion, clock: Clock, answers: dict[str, object]) -> Planned:
    def work(tx):  # type: ignore[no-untyped-def]
        person = tx.person(SAM.channel, SAM.external_id)
        finished = Finished(person, forms.APPOINTMENT.flow, 0, answers, {}, clock())
        return Appointments.finished(tx, finished)

    return await companion.storage.run(work)


async def test_a_time_that_has_passed_changes_nothing(companion: Companion, clock: Clock) -> None:
    services = Services.around(companion)
    await companion.join(SAM, "en")
    first = await _finish(companion, clock, {"date": "2026-11-30", "time": "10:30", "remind": "yes"})
    assert first.status is PlanStatus.SET
    # 22 November 2026 at 10:00 UTC is "now": 09:00 that morning has gone by.
    assert await _finish(companion, clock, {"date": "2026-11-22", "time": "09:00", "remind": "yes"}) == Planned(
        PlanStatus.PAST
    )
    assert await services.appointments.upcoming(SAM) == first.appointment


async def test_reminders_wanted_without_a_time_cancel_the_old_ones(companion: Companion, clock: Clock) -> None:
    services = Services.around(companion)
    await companion.join(SAM, "en")
    await _finish(companion, clock, {"date": "2026-11-30", "time": "10:30", "remind": "yes"})
    assert await _finish(companion, clock, {"date": "2026-11-30", "remind": "yes"}) == Planned(PlanStatus.NEED_TIME)
    assert await services.appointments.upcoming(SAM) is None


async def test_nobody_has_no_appointment(companion: Companion) -> None:
    assert await Services.around(companion).appointments.upcoming(Who("console", "nobody")) is None
