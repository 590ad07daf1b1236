"""Reminders as a channel sees them: what a claimed reminder is about now, blocked chats, the dispatcher.

Reminder rows hold no personal text: a channel's composer reads what a
reminder is about here, at send time, so a moved session, a finished
membership or a facilitator who lost the role sends nothing stale (None: the
dispatcher drops the reminder). Every read checks, in its own transaction,
that the person may still see it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.reminders import store
from bot.reminders.delivery import Sender
from bot.reminders.dispatcher import Composer, Dispatcher, Limits, Pacer
from bot.roles import group_activity, groups
from bot.roles.groups import GroupRecord, SessionRecord
from bot.services.conversation import Who
from bot.storage.repository import Storage, Transaction
from bot.summary.build import build_summary
from bot.summary.pdf import render_pdf
from flows.engine import Engine

__all__ = ["Attendance", "GroupMessage", "GroupRecord", "Reminders", "SessionRecord"]


@dataclass(frozen=True, slots=True)
class Attendance:
    """A session whose facilitator is asked "who came?", and its group."""

    session: SessionRecord
    group: GroupRecord


@dataclass(frozen=True, slots=True)
class GroupMessage:
    """A facilitator's message to their group, as written, for one member."""

    group: GroupRecord
    body: str


class Reminders:
    """Reads for reminders at send time, and the dispatcher built on the same storage."""

    def __init__(self, storage: Storage, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.storage = storage
        self.engine = engine
        self.clock = clock

    async def summary_pdf(self, person_id: int, language: str) -> bytes | None:
        """The person's summary as it stands at send time (None when there is nothing on it yet)."""
        document = await build_summary(self.storage, self.engine, person_id, now=self.clock())
        return None if document.is_empty else render_pdf(document)

    async def feedback_group(self, person_id: int, session_id: int, now: dt.datetime) -> GroupRecord | None:
        """The group whose session to offer feedback on now: the person is a member who has not
        muted it, and the session has begun."""

        def read(tx: Transaction) -> GroupRecord | None:
            if not group_activity.can_give_feedback(tx.connection, person_id, session_id, now):
                return None
            found = groups.session(tx.connection, session_id)
            if found is None or not group_activity.listening(tx.connection, person_id, found.group_id):
                return None
            return groups.group(tx.connection, found.group_id)

        return await self.storage.run(read)

    async def attendance(self, facilitator_id: int, session_id: int) -> Attendance | None:
        """The session, if it is still this facilitator's group's (and they still a facilitator)."""

        def read(tx: Transaction) -> Attendance | None:
            try:
                found, record = group_activity.owned_session(tx.connection, facilitator_id, session_id)
            except groups.NotAllowed:
                return None
            return Attendance(found, record)

        return await self.storage.run(read)

    async def group_message(self, message_id: int, person_id: int) -> GroupMessage | None:
        """A group message for a member, if the message and their membership are still there."""
        found = await self.storage.run(lambda tx: group_activity.message_for(tx.connection, message_id, person_id))
        return None if found is None else GroupMessage(*found)

    # ------------------------------------------------------------------ blocked chats

    async def blocked(self, channel: str) -> set[str]:
        """The channel's ids of everyone who blocked the bot."""
        return await self.storage.run(lambda tx: store.blocked_external_ids(tx.connection, channel))

    async def unblock(self, who: Who, now: dt.datetime) -> bool:
        """They wrote again: reach them again, and their reminders not yet due are pending once more."""

        def work(tx: Transaction) -> bool:
            person = tx.person(who.channel, who.external_id)
            if person is None or not store.unblock(tx.connection, person.id):
                return False
            store.resume_future(tx.connection, person.id, now)
            return True

        return await self.storage.run(work)

    # ------------------------------------------------------------------ sending

    def dispatcher(
        self,
        sender: Sender,
        composer: Composer,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        pacer: Pacer | None = None,
        limits: Limits = Limits(),
    ) -> Dispatcher:
        """A dispatcher on this storage: claims due reminders, composes them, sends them through ``sender``."""
        return Dispatcher(self.storage, sender, composer, clock=clock, pacer=pacer, limits=limits)
