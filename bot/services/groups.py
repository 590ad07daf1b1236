"""Training groups, for facilitators and members: every rule about who may see or change what.

A facilitator (a role granted by invite) creates groups, shares a group's
invite link, schedules, moves and cancels sessions, chooses when reminders go
out, messages the whole group, ticks who came and reads the report
(attendance, and feedback with no names on it). A member joins through the
link after agreeing to what membership means, mutes or leaves a group, and
gives feedback after a session.

Every method takes the person as the channel knows them (:class:`Who`) and
decides, in the same transaction as the read or the write, whether they may:
they hold the facilitator role and run that group (bot.roles.groups.owned),
or they are a member. Ids that came from a button only say what to *try*.
What is refused comes back as a :class:`Refusal`, never as an exception; what
a finished flow led to comes back as a :class:`GroupOutcome` on the reply.

Runs of the facilitator's flows carry ``about={"group_id": ...}`` (and
``"session_id"`` when moving one), set here after the check, and the
listeners check ownership again when the flow is finished, because the role
or the group may have gone in between.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from bot.reminders.schedule import local_to_utc
from bot.roles import grants, group_activity, groups
from bot.services import forms
from bot.services.conversation import Companion, Finished, Reply, Who
from bot.storage.repository import PersonRecord, Storage, Transaction

__all__ = [
    "LEAD_CHOICES",
    "Attendance",
    "GroupInfo",
    "GroupOutcome",
    "GroupReport",
    "Groups",
    "Invite",
    "JoinPreview",
    "Member",
    "Membership",
    "Outcome",
    "Overview",
    "Panel",
    "Refusal",
    "SessionInfo",
    "SessionReport",
    "Sessions",
]

GroupInfo = groups.GroupRecord
SessionInfo = groups.SessionRecord
Member = group_activity.Member
GroupReport = group_activity.GroupReport
SessionReport = group_activity.SessionReport

T = TypeVar("T")

LEAD_CHOICES: dict[int, tuple[str, ...]] = {
    1: ("d1", "m120"),
    2: ("d1",),
    3: ("m120",),
    4: ("d2", "m120"),
    5: ("d1", "m60"),
    0: (),
}
"""The reminder times a facilitator can choose from (the first is the default: the day before and 2 hours before)."""
UPCOMING_SHOWN = 5
UPCOMING_TO_CHANGE = 8
RECENT_SESSIONS = 6
PLACE_MAX = 300


class Refusal(StrEnum):
    """Why something was not done. Nothing about the group or session is said with it."""

    NOT_REGISTERED = "not_registered"
    """No record: the person has not agreed to the privacy notice."""
    NOT_FACILITATOR = "not_facilitator"
    NOT_YOURS = "not_yours"
    """Someone else's group or session, or one that is gone."""
    NOT_MEMBER = "not_member"
    UNKNOWN_LINK = "unknown_link"
    GROUP_FULL = "group_full"


class Outcome(StrEnum):
    """What finishing one of the group flows led to."""

    CREATED = "created"
    SESSION_SET = "session_set"
    SESSION_MOVED = "session_moved"
    SESSION_NEEDS_TIME = "session_needs_time"
    SESSION_IN_PAST = "session_in_past"
    MESSAGE_SENT = "message_sent"
    MESSAGE_EMPTY = "message_empty"
    NOT_FACILITATOR = "not_facilitator"
    NOT_YOURS = "not_yours"
    FEEDBACK_SAVED = "feedback_saved"
    FEEDBACK_NOT_SAVED = "feedback_not_saved"


@dataclass(frozen=True, slots=True)
class GroupOutcome:
    """On ``Reply.outcomes`` after a group flow is finished (and committed)."""

    outcome: Outcome
    group_id: int | None = None
    """The group whose page to show next (None: none, or not the person's to see)."""
    group_name: str | None = None
    token: str | None = None
    """A new group's invite token (only ever here, never stored: only its hash is)."""
    count: int = 0
    """How many members a message went to."""
    session_id: int | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    group: GroupInfo
    muted: bool


@dataclass(frozen=True, slots=True)
class Overview:
    """What /groups shows: a facilitator's own groups, or the groups a member is in."""

    facilitator: bool
    groups: tuple[GroupInfo, ...] = ()
    memberships: tuple[Membership, ...] = ()


@dataclass(frozen=True, slots=True)
class Panel:
    """A group's page for its facilitator."""

    group: GroupInfo
    members: int
    upcoming: tuple[SessionInfo, ...]


@dataclass(frozen=True, slots=True)
class Sessions:
    group: GroupInfo
    sessions: tuple[SessionInfo, ...]


@dataclass(frozen=True, slots=True)
class SessionChoice:
    session: SessionInfo
    group: GroupInfo


@dataclass(frozen=True, slots=True)
class Members:
    group: GroupInfo
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Attendance:
    group: GroupInfo
    session: SessionInfo
    members: tuple[Member, ...]
    came: frozenset[int]


@dataclass(frozen=True, slots=True)
class Invite:
    group: GroupInfo
    token: str | None
    """A fresh token (the old link stopped working); None when only asked what a new link does."""


@dataclass(frozen=True, slots=True)
class JoinPreview:
    group: GroupInfo
    already_member: bool


@dataclass(frozen=True, slots=True)
class Muted:
    group: GroupInfo
    muted: bool


class Groups:
    """The groups service. Build once per process, around the conversation service."""

    def __init__(self, conversation: Companion) -> None:
        self.conversation = conversation
        self.storage: Storage = conversation.storage
        self.clock: Callable[[], dt.datetime] = conversation.clock
        self.ui = conversation.catalog.ui

    def attach(self) -> None:
        """Attach the listeners of the group flows the content has (called once, by Services)."""
        for flow_id, listener in (
            (forms.NEW_GROUP.flow, self.new_group_finished),
            (forms.GROUP_SESSION.flow, self.session_finished),
            (forms.GROUP_MESSAGE.flow, self.message_finished),
            (forms.SESSION_FEEDBACK.flow, self.feedback_finished),
        ):
            if flow_id in self.conversation.catalog.flows:
                self.conversation.when_finished(flow_id, listener)

    # ------------------------------------------------------------------ access, in one transaction with the work

    async def _facilitating(self, who: Who, work: Callable[[Transaction, PersonRecord], T]) -> T | Refusal:
        """``work`` for a facilitator; NOT_FACILITATOR, or NOT_YOURS when it touches what is not theirs.

        A refusal found halfway (``groups.NotAllowed``) leaves the transaction,
        so nothing it had written is kept."""

        def run(tx: Transaction) -> T | Refusal:
            me = tx.person(who.channel, who.external_id)
            if me is None:
                return Refusal.NOT_REGISTERED
            if not grants.has_role(tx.connection, me.id, grants.FACILITATOR):
                return Refusal.NOT_FACILITATOR
            return work(tx, me)

        try:
            return await self.storage.run(run)
        except groups.NotAllowed:
            return Refusal.NOT_YOURS

    async def _as_member(self, who: Who, work: Callable[[Transaction, PersonRecord], T]) -> T | Refusal:
        def run(tx: Transaction) -> T | Refusal:
            me = tx.person(who.channel, who.external_id)
            return Refusal.NOT_REGISTERED if me is None else work(tx, me)

        return await self.storage.run(run)

    async def is_facilitator(self, who: Who) -> bool:
        def run(tx: Transaction) -> bool:
            me = tx.person(who.channel, who.external_id)
            return me is not None and grants.has_role(tx.connection, me.id, grants.FACILITATOR)

        return await self.storage.run(run)

    # ------------------------------------------------------------------ what a facilitator sees

    async def overview(self, who: Who) -> Overview | Refusal:
        def work(tx: Transaction, me: PersonRecord) -> Overview:
            if grants.has_role(tx.connection, me.id, grants.FACILITATOR):
                return Overview(True, groups=tuple(groups.groups_of(tx.connection, me.id)))
            found = group_activity.memberships(tx.connection, me.id)
            return Overview(False, memberships=tuple(Membership(record, muted) for record, muted in found))

        return await self._as_member(who, work)

    async def own_groups(self, who: Who) -> tuple[GroupInfo, ...] | Refusal:
        return await self._facilitating(who, lambda tx, me: tuple(groups.groups_of(tx.connection, me.id)))

    async def panel(self, who: Who, group_id: int) -> Panel | Refusal:
        now = self.clock()

        def work(tx: Transaction, me: PersonRecord) -> Panel:
            record = groups.owned(tx.connection, me.id, group_id)
            members = group_activity.members_of(tx.connection, me.id, group_id)
            upcoming = [s for s in group_activity.sessions_of(tx.connection, me.id, group_id) if s.starts_at > now]
            return Panel(record, len(members), tuple(upcoming[:UPCOMING_SHOWN]))

        return await self._facilitating(who, work)

    async def upcoming(self, who: Who, group_id: int) -> Sessions | Refusal:
        """Sessions still ahead, to move or cancel (the first few)."""
        now = self.clock()

        def work(tx: Transaction, me: PersonRecord) -> Sessions:
            record = groups.owned(tx.connection, me.id, group_id)
            found = [s for s in group_activity.sessions_of(tx.connection, me.id, group_id) if s.starts_at > now]
            return Sessions(record, tuple(found[:UPCOMING_TO_CHANGE]))

        return await self._facilitating(who, work)

    async def past(self, who: Who, group_id: int) -> Sessions | Refusal:
        """Sessions that have begun, newest first (the last few), to tick who came."""
        now = self.clock()

        def work(tx: Transaction, me: PersonRecord) -> Sessions:
            record = groups.owned(tx.connection, me.id, group_id)
            begun = [s for s in group_activity.sessions_of(tx.connection, me.id, group_id) if s.starts_at <= now]
            return Sessions(record, tuple(reversed(begun[-RECENT_SESSIONS:])))

        return await self._facilitating(who, work)

    async def session(self, who: Who, session_id: int) -> SessionChoice | Refusal:
        def work(tx: Transaction, me: PersonRecord) -> SessionChoice:
            found, record = group_activity.owned_session(tx.connection, me.id, session_id)
            return SessionChoice(found, record)

        return await self._facilitating(who, work)

    async def members(self, who: Who, group_id: int) -> Members | Refusal:
        def work(tx: Transaction, me: PersonRecord) -> Members:
            record = groups.owned(tx.connection, me.id, group_id)
            return Members(record, tuple(group_activity.members_of(tx.connection, me.id, group_id)))

        return await self._facilitating(who, work)

    async def group(self, who: Who, group_id: int) -> GroupInfo | Refusal:
        return await self._facilitating(who, lambda tx, me: groups.owned(tx.connection, me.id, group_id))

    async def attendance(self, who: Who, session_id: int) -> Attendance | Refusal:
        def work(tx: Transaction, me: PersonRecord) -> Attendance:
            found, record = group_activity.owned_session(tx.connection, me.id, session_id)
            return Attendance(
                record,
                found,
                tuple(group_activity.members_of(tx.connection, me.id, record.id)),
                frozenset(group_activity.attended(tx.connection, me.id, session_id)),
            )

        return await self._facilitating(who, work)

    async def report(self, who: Who, group_id: int) -> GroupReport | Refusal:
        now = self.clock()
        return await self._facilitating(who, lambda tx, me: group_activity.report(tx.connection, me.id, group_id, now))

    # ------------------------------------------------------------------ what a facilitator changes

    async def new_invite(self, who: Who, group_id: int) -> Invite | Refusal:
        """A fresh invite link for the group; the old one stops working (only a hash is kept)."""

        def work(tx: Transaction, me: PersonRecord) -> Invite:
            record = groups.owned(tx.connection, me.id, group_id)
            return Invite(record, groups.rotate_join_token(tx.connection, me.id, group_id))

        return await self._facilitating(who, work)

    async def set_leads(self, who: Who, group_id: int, choice: int) -> tuple[str, ...] | Refusal:
        """One of :data:`LEAD_CHOICES`; every future session's reminders are re-planned."""
        leads = LEAD_CHOICES.get(choice)
        if leads is None:
            return Refusal.NOT_YOURS
        now = self.clock()

        def work(tx: Transaction, me: PersonRecord) -> tuple[str, ...]:
            groups.set_leads(tx.connection, me.id, group_id, list(leads), now)
            return leads

        return await self._facilitating(who, work)

    async def cancel_session(self, who: Who, session_id: int) -> SessionInfo | Refusal:
        """No reminders before it, no attendance question or feedback offer after it."""
        now = self.clock()
        return await self._facilitating(
            who, lambda tx, me: group_activity.cancel(tx.connection, me.id, session_id, now)
        )

    async def mark_attendance(self, who: Who, session_id: int, person_id: int, came: bool) -> Attendance | Refusal:
        """Tick (or untick) a member; says what is true afterwards, so a second tap changes nothing more."""
        now = self.clock()

        def work(tx: Transaction, me: PersonRecord) -> None:
            group_activity.set_attended(tx.connection, me.id, session_id, person_id, came, now)

        done = await self._facilitating(who, work)
        if isinstance(done, Refusal):
            return done
        return await self.attendance(who, session_id)

    # ------------------------------------------------------------------ the facilitator's flows

    async def open_new_group(self, who: Who) -> Reply | Refusal:
        allowed = await self._facilitating(who, lambda tx, me: True)
        if isinstance(allowed, Refusal):
            return allowed
        return await self.conversation.open(who, forms.NEW_GROUP.flow)

    async def open_schedule(self, who: Who, group_id: int) -> Reply | Refusal:
        return await self._open_about(who, forms.GROUP_SESSION.flow, group_id)

    async def open_message(self, who: Who, group_id: int) -> Reply | Refusal:
        return await self._open_about(who, forms.GROUP_MESSAGE.flow, group_id)

    async def open_move(self, who: Who, session_id: int) -> Reply | Refusal:
        found = await self.session(who, session_id)
        if isinstance(found, Refusal):
            return found
        about = {"group_id": found.group.id, "session_id": session_id}
        return await self.conversation.open(who, forms.GROUP_SESSION.flow, about=about)

    async def _open_about(self, who: Who, flow_id: str, group_id: int) -> Reply | Refusal:
        found = await self.group(who, group_id)
        if isinstance(found, Refusal):
            return found
        # ``about`` is set here, after the check, never from a button.
        return await self.conversation.open(who, flow_id, about={"group_id": group_id})

    # ------------------------------------------------------------------ members

    async def preview(self, who: Who, token: str) -> JoinPreview | Refusal:
        """The group a join link is for, shown before the person agrees to join."""

        def work(tx: Transaction, me: PersonRecord) -> JoinPreview | Refusal:
            record = groups.group_by_token(tx.connection, token)
            if record is None:
                return Refusal.UNKNOWN_LINK
            return JoinPreview(record, group_activity.is_member(tx.connection, me.id, record.id))

        return await self._as_member(who, work)

    async def join(self, who: Who, token: str, first_name: str | None) -> GroupInfo | Refusal:
        """Join, after the person agreed to what membership means; the facilitator will see ``first_name``."""
        now = self.clock()

        def work(tx: Transaction, me: PersonRecord) -> GroupInfo | Refusal:
            try:
                record = groups.join(tx.connection, me.id, token, consented=True, now=now)
            except groups.GroupFull:
                return Refusal.GROUP_FULL
            if record is None:
                return Refusal.UNKNOWN_LINK
            group_activity.set_name(tx.connection, record.id, me.id, first_name)
            group_activity.plan_after_for_group(tx.connection, record.id, now)
            return record

        return await self._as_member(who, work)

    async def set_muted(self, who: Who, group_id: int, muted: bool) -> Muted | Refusal:
        """Only the person's own membership changes. Muted, the group sends them nothing: pending
        session reminders and feedback offers stop at once (and start again when unmuted), and
        messages still queued are dropped when their turn comes."""
        now = self.clock()

        def work(tx: Transaction, me: PersonRecord) -> Muted | Refusal:
            if not groups.set_muted(tx.connection, me.id, group_id, muted, now):
                return Refusal.NOT_MEMBER  # not (or no longer) a member
            group_activity.plan_after_for_group(tx.connection, group_id, now)
            record = groups.group(tx.connection, group_id)
            return Muted(record, muted) if record else Refusal.NOT_MEMBER

        return await self._as_member(who, work)

    async def leave(self, who: Who, group_id: int) -> GroupInfo | Refusal:
        now = self.clock()

        def work(tx: Transaction, me: PersonRecord) -> GroupInfo | Refusal:
            record = groups.group(tx.connection, group_id)
            if record is None or not groups.leave(tx.connection, me.id, group_id, now):
                return Refusal.NOT_MEMBER
            group_activity.plan_after_for_group(tx.connection, group_id, now)
            return record

        return await self._as_member(who, work)

    async def open_feedback(self, who: Who, session_id: int) -> Reply | Refusal:
        """The feedback questions about a session of the person's group that has begun (else NOT_MEMBER)."""
        now = self.clock()

        def work(tx: Transaction, me: PersonRecord) -> bool:
            return group_activity.can_give_feedback(tx.connection, me.id, session_id, now)

        allowed = await self._as_member(who, work)
        if isinstance(allowed, Refusal):
            return allowed
        if not allowed:
            return Refusal.NOT_MEMBER
        return await self.conversation.open(who, forms.SESSION_FEEDBACK.flow, about={"session_id": session_id})

    # ------------------------------------------------------------------ listeners (inside the turn's transaction)

    def new_group_finished(self, tx: Transaction, finished: Finished) -> GroupOutcome:
        person = finished.person
        if not grants.has_role(tx.connection, person.id, grants.FACILITATOR):
            return GroupOutcome(Outcome.NOT_FACILITATOR)
        name = str(forms.NEW_GROUP.name.of(finished.answers) or "").strip()
        if not name:
            name = self.ui.get("gr_default_name", person.language, date=finished.now.date().isoformat())
        default_zone = "Europe/Stockholm" if person.language == "sv" else "Europe/London"
        zone = forms.TIMEZONES.get(str(forms.NEW_GROUP.timezone.of(finished.answers)), default_zone)
        record, token = groups.create_group(tx.connection, person.id, name, zone, finished.now)
        return GroupOutcome(Outcome.CREATED, record.id, group_name=record.name, token=token)

    def session_finished(self, tx: Transaction, finished: Finished) -> GroupOutcome | None:
        person, form = finished.person, forms.GROUP_SESSION
        group_id = finished.about.get("group_id")
        if not isinstance(group_id, int) or isinstance(group_id, bool):
            return None
        try:
            record = groups.owned(tx.connection, person.id, group_id)
        except groups.NotAllowed:
            return GroupOutcome(Outcome.NOT_YOURS)
        date, clock_time = form.date.of(finished.answers), form.time.of(finished.answers)
        if not date or not clock_time:
            return GroupOutcome(Outcome.SESSION_NEEDS_TIME, group_id)
        local = dt.datetime.combine(dt.date.fromisoformat(date), dt.time.fromisoformat(clock_time))
        if local_to_utc(local.date(), local.time(), record.timezone) <= finished.now:
            return GroupOutcome(Outcome.SESSION_IN_PAST, group_id)
        place = str(form.place.of(finished.answers) or "").strip()[:PLACE_MAX] or None
        moving = finished.about.get("session_id")
        if isinstance(moving, int) and not isinstance(moving, bool):
            try:
                group_activity.owned_session(tx.connection, person.id, moving)
            except groups.NotAllowed:
                # Cancelled (or not theirs) while the facilitator was answering.
                return GroupOutcome(Outcome.NOT_YOURS)
            group_activity.reschedule(tx.connection, person.id, moving, local, place=place, now=finished.now)
            return GroupOutcome(Outcome.SESSION_MOVED, group_id, session_id=moving)
        found = group_activity.schedule(tx.connection, person.id, group_id, local, place=place, now=finished.now)
        return GroupOutcome(Outcome.SESSION_SET, group_id, session_id=found.id)

    def message_finished(self, tx: Transaction, finished: Finished) -> GroupOutcome | None:
        person = finished.person
        group_id = finished.about.get("group_id")
        if not isinstance(group_id, int) or isinstance(group_id, bool):
            return None
        text = str(forms.GROUP_MESSAGE.message.of(finished.answers) or "").strip()
        try:
            if not text:
                groups.owned(tx.connection, person.id, group_id)
                return GroupOutcome(Outcome.MESSAGE_EMPTY, group_id)
            count = group_activity.post_message(tx.connection, person.id, group_id, text, finished.now)
        except groups.NotAllowed:
            return GroupOutcome(Outcome.NOT_YOURS)
        return GroupOutcome(Outcome.MESSAGE_SENT, group_id, count=count)

    def feedback_finished(self, tx: Transaction, finished: Finished) -> GroupOutcome | None:
        session_id = finished.about.get("session_id")
        if not isinstance(session_id, int) or isinstance(session_id, bool):
            return None
        saved = group_activity.save_feedback(
            tx.connection, finished.person.id, session_id, _feedback_answers(finished.answers), finished.now
        )
        return GroupOutcome(Outcome.FEEDBACK_SAVED if saved else Outcome.FEEDBACK_NOT_SAVED, session_id=session_id)


def _feedback_answers(answers: dict[str, Any]) -> dict[str, object]:
    """The flow's answers under the names the report reads (whatever the content calls its steps)."""
    form = forms.SESSION_FEEDBACK
    return {
        "most_useful": form.most_useful.of(answers),
        "least_useful": form.least_useful.of(answers),
        "level": form.level.of(answers),
    }
