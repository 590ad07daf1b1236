"""Care coordinators: invites that grant the role, linking with a code, and reviewing a summary together.

One rule holds everything here: another person's data is read only through
:func:`bot.roles.sharing.access`, in the same transaction as the read, so a
share stopped a moment ago is already in force, and every look is in the
audit log (who, what, whom, when; never the content). Ids that come from a
button only say what to *try*: who may see what is decided from the
coordinator's own record and the live share.

"What we agreed" is written by the coordinator with the person present, in the
person's voice, and goes onto the person's record (never the coordinator's)
when it is finished, after the share is checked once more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.roles import grants, sharing
from bot.roles.sharing import LinkResult, Sharer
from bot.services import forms
from bot.services.conversation import Companion, Finished, Reply, Who
from bot.storage.repository import PersonRecord, Storage, Transaction
from bot.summary.build import assemble, read_records
from bot.summary.document import SummaryDocument

__all__ = ["Agreement", "Coordination", "Draft", "Invited", "Linked", "Shared", "Sharer"]


@dataclass(frozen=True, slots=True)
class Invited:
    """An invite opened: the role it gave (None: not valid), the roles now held, the person."""

    role: str | None
    held: frozenset[str]
    me: PersonRecord | None


@dataclass(frozen=True, slots=True)
class Linked:
    result: LinkResult
    me: PersonRecord | None
    person: PersonRecord | None


@dataclass(frozen=True, slots=True)
class Shared:
    """A shared person's summary, read after the live share was checked (and audited)."""

    person: PersonRecord
    document: SummaryDocument


@dataclass(frozen=True, slots=True)
class Agreement:
    """What finishing "what we agreed" led to, for the coordinator's follow-up after the commit."""

    person: PersonRecord | None
    """Whom it was written with, if the share was still live (else None: nothing of them is read)."""
    saved: bool
    """On the person's record (else the share or the role had stopped)."""
    answers: dict[str, Any]
    draft: bool = False
    """Not saved because the share stopped: kept as the coordinator's own draft."""


@dataclass(frozen=True, slots=True)
class Draft:
    """Notes a coordinator was writing when the person stopped sharing: theirs only, never on a record."""

    run_id: int
    closed_at: dt.datetime
    answers: dict[str, Any]


class Coordination:
    def __init__(self, conversation: Companion) -> None:
        self.conversation = conversation
        self.storage: Storage = conversation.storage
        self.engine = conversation.engine
        self.clock: Callable[[], dt.datetime] = conversation.clock

    # ------------------------------------------------------------------ invites and roles

    async def redeem_invite(self, who: Who, token: str, profile_name: str | None) -> Invited:
        now = self.clock()

        def work(tx: Transaction) -> Invited:
            me = tx.person(who.channel, who.external_id)
            if me is None:
                return Invited(None, frozenset(), None)
            role = grants.redeem_invite(tx.connection, me.id, token, now)
            if role == grants.COORDINATOR and not me.display_name and profile_name:
                # People who share with a coordinator need to know who they are sharing with.
                tx.update_person(me.id, display_name=profile_name)
            return Invited(role, frozenset(grants.roles_of(tx.connection, me.id)), tx.person_by_id(me.id))

        return await self.storage.run(work)

    async def holds(self, who: Who, role: str) -> bool:
        def work(tx: Transaction) -> bool:
            me = tx.person(who.channel, who.external_id)
            return me is not None and grants.has_role(tx.connection, me.id, role)

        return await self.storage.run(work)

    # ------------------------------------------------------------------ linking and people

    async def link(self, who: Who, code: str) -> Linked:
        now = self.clock()

        def work(tx: Transaction) -> Linked:
            me = tx.person(who.channel, who.external_id)
            if me is None:
                return Linked(LinkResult("not_allowed"), None, None)
            result = sharing.link(tx.connection, me.id, code, now)
            person = tx.person_by_id(result.person_id) if result.person_id is not None else None
            return Linked(result, me, person)

        return await self.storage.run(work)

    async def people(self, who: Who) -> list[Sharer] | None:
        """Everyone who shares with this coordinator now; None if they are not one (audited either way)."""
        now = self.clock()

        def work(tx: Transaction) -> list[Sharer] | None:
            me = tx.person(who.channel, who.external_id)
            if me is None:
                return None
            allowed = grants.has_role(tx.connection, me.id, grants.COORDINATOR)
            found = sharing.sharers(tx.connection, me.id, now)
            return found if allowed else None

        return await self.storage.run(work)

    async def shared(self, me: PersonRecord, person_id: int, action: str) -> Shared | None:
        """The person's summary if they share with ``me`` now: checked, audited and read in one transaction."""
        now = self.clock()

        def work(tx: Transaction) -> Any:
            if not sharing.access(tx.connection, me.id, person_id, action, now):
                return None
            return read_records(tx, person_id)

        records = await self.storage.run(work)
        if records is None:
            return None
        return Shared(records.person, assemble(self.engine, records, now=now))

    # ------------------------------------------------------------------ what we agreed

    async def open_agreement(self, who: Who, me: PersonRecord, person_id: int) -> tuple[PersonRecord, Reply] | None:
        """Start writing "what we agreed" about the person, if they share with ``me`` now."""
        now = self.clock()

        def work(tx: Transaction) -> PersonRecord | None:
            if not sharing.access(tx.connection, me.id, person_id, "agreement_open", now):
                return None
            return tx.person_by_id(person_id)

        person = await self.storage.run(work)
        if person is None:
            return None
        # ``about`` is set here, after the check, never from a button.
        reply = await self.conversation.open(who, forms.WHAT_WE_AGREED.flow, about={"person_id": person_id})
        return person, reply

    def agreement_finished(self, tx: Transaction, finished: Finished) -> Agreement | None:
        """Inside the coordinator's last turn: move the answers to the person's record, or keep them as a draft.

        The share is checked again here, in the same transaction as the write,
        so a person who stopped sharing during the review gets nothing written
        by that coordinator. The coordinator's working copy is removed once it
        is on the person's record.
        """
        person_id = finished.about.get("person_id")
        if not isinstance(person_id, int) or isinstance(person_id, bool):
            return None  # someone's own "what we agreed": not a coordinator's
        allowed = sharing.access(tx.connection, finished.person.id, person_id, "agreement", finished.now)
        if not allowed:
            draft = grants.has_role(tx.connection, finished.person.id, grants.COORDINATOR)
            if draft:
                tx.withdraw_run(finished.run_id, finished.now)  # the share stopped: their draft
            else:
                tx.delete_run(finished.run_id)  # no longer a coordinator: nothing of it is kept
            return Agreement(None, False, dict(finished.answers), draft=draft)
        tx.add_completed_run(person_id, forms.WHAT_WE_AGREED.flow, finished.answers, finished.now)
        tx.delete_run(finished.run_id)
        return Agreement(tx.person_by_id(person_id), True, dict(finished.answers))

    async def drafts(self, who: Who) -> list[Draft]:
        """The coordinator's own drafts (newest first); never anyone else's."""

        def work(tx: Transaction) -> list[Draft]:
            me = tx.person(who.channel, who.external_id)
            if me is None:
                return []
            found = tx.withdrawn_runs(me.id, forms.WHAT_WE_AGREED.flow)
            by_run = tx.answers(run_id for run_id, _, _ in found)
            return [
                Draft(run_id, closed, {key: value for key, (value, _) in by_run[run_id].items()})
                for run_id, _, closed in found
            ]

        return await self.storage.run(work)

    async def discard_draft(self, who: Who, run_id: int) -> bool:
        def work(tx: Transaction) -> bool:
            me = tx.person(who.channel, who.external_id)
            if me is None or run_id not in {
                found for found, _, _ in tx.withdrawn_runs(me.id, forms.WHAT_WE_AGREED.flow)
            }:
                return False
            tx.delete_run(run_id)
            return True

        return await self.storage.run(work)
