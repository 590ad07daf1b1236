"""The SIP meeting's follow-up: "did it happen?" on the date agreed at the meeting.

The Swedish model of shared decision-making in coordinated individual
planning (SIP) has routines before, during and after the meeting. Before and
during are plain conversations (content/flows/sip_meeting.yaml, sip_agreed.yaml)
whose answers go to the summary by what the content says. After is a
reminder: when someone finishes "The plan from my SIP meeting" and wants
to be asked, a follow-up is planned for the morning of the date they wrote
(``by_when``), in the same transaction as the answers, and it opens
sip_follow_up. The answers are read here and nowhere else (declared in
bot/services/forms.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.reminders import store
from bot.reminders.schedule import local_to_utc
from bot.services import forms
from bot.services.conversation import Finished
from bot.storage.repository import Transaction

__all__ = ["FOLLOW_UP_AT", "FOLLOW_UP_KIND", "FollowUp", "FollowUpStatus", "finished", "source_of"]

FOLLOW_UP_KIND = "sip_followup"
"""The reminder kind."""
FOLLOW_UP_AT = dt.time(10, 0)
"""The local time the follow-up is sent on the agreed day: a time most people are up, not too early."""
FOLLOW_UP_LEAD = "d0@10:00"
FOLLOW_UP_USEFUL_FOR = dt.timedelta(days=7)
"""After a week unsent (the bot was down, the person blocked it), the question is stale: dropped."""


class FollowUpStatus(StrEnum):
    """What finishing "The plan from my SIP meeting" led to."""

    SET = "set"
    """The follow-up is planned for that morning (a plan written again replaces the old one's)."""
    NOT_WANTED = "not_wanted"
    """They did not want it: any follow-up planned before is cancelled."""
    NEED_DATE = "need_date"
    """They wanted it but skipped the date: nothing can be planned."""
    PAST = "past"
    """The morning of that date has already gone by: nothing is planned."""


@dataclass(frozen=True, slots=True)
class FollowUp:
    status: FollowUpStatus
    day: dt.date | None = None


def source_of(person_id: int) -> str:
    """One follow-up per person: the latest plan's."""
    return f"sip:{person_id}"


def finished(tx: Transaction, done: Finished) -> FollowUp:
    """The sip_agreed flow's listener: plan (or cancel) the follow-up with the answers."""
    form, person = forms.SIP_AGREED, done.person
    wanted = form.remind.of(done.answers) == forms.YES
    raw_day = form.by_when.of(done.answers)
    source = source_of(person.id)
    if not wanted or not raw_day:
        store.cancel_source(tx.connection, source)
        return FollowUp(FollowUpStatus.NEED_DATE if wanted else FollowUpStatus.NOT_WANTED)
    day = dt.date.fromisoformat(raw_day)
    due = local_to_utc(day, FOLLOW_UP_AT, person.timezone)
    if due <= done.now:
        store.cancel_source(tx.connection, source)
        return FollowUp(FollowUpStatus.PAST, day)
    planned = store.Planned(person.id, FOLLOW_UP_KIND, source, FOLLOW_UP_LEAD, due, due + FOLLOW_UP_USEFUL_FOR)
    store.replace_planned(tx.connection, source, [planned])
    return FollowUp(FollowUpStatus.SET, day)
