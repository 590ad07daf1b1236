"""Sharing a summary with a care coordinator, from the person's side: their choice, undone at once.

The person sees exactly what a coordinator would see (the summary's parts,
never the chat), gets a single-use code on "yes", sees everyone who can see
their summary, and stops any of them with one tap. Stopping takes effect in
the same transaction for every later look (bot/roles/sharing.access checks a
live share each time). A coordinator who was writing "what we agreed" with
the person at that moment keeps what they wrote as a draft only they can see:
it never reaches the person's record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.roles import sharing
from bot.roles.sharing import Viewer
from bot.services import forms
from bot.services.conversation import Who
from bot.services.summaries import Summaries
from bot.storage.repository import PersonRecord, StaleConversation, Storage, Transaction

__all__ = ["Offer", "Sharing", "Stopped", "Viewer"]


@dataclass(frozen=True, slots=True)
class Offer:
    """What the person is told before they choose to share."""

    sections: tuple[str, ...]
    """The titles of the parts of their summary a coordinator would see now (empty: nothing yet)."""
    display_name: str | None


@dataclass(frozen=True, slots=True)
class Stopped:
    """A share the person stopped, and whom to tell."""

    viewer: Viewer
    coordinator: PersonRecord | None
    draft_kept: bool
    """The coordinator was writing "what we agreed" with the person: it is kept as their draft."""
    person_name: str | None


class Sharing:
    def __init__(self, storage: Storage, summaries: Summaries, clock: Callable[[], dt.datetime]) -> None:
        self.storage = storage
        self.summaries = summaries
        self.clock = clock

    async def offer(self, who: Who) -> Offer | None:
        document = await self.summaries.document(who)
        person = await self.storage.run(lambda tx: tx.person(who.channel, who.external_id))
        if document is None or person is None:
            return None
        return Offer(tuple(part.title for part in document.parts()), person.display_name)

    async def create_code(self, who: Who) -> str | None:
        """A new single-use code (their older unused codes stop working); None if they have no record."""
        now = self.clock()

        def work(tx: Transaction) -> str | None:
            person = tx.person(who.channel, who.external_id)
            return sharing.create_code(tx.connection, person.id, now) if person else None

        return await self.storage.run(work)

    async def viewers(self, who: Who) -> list[Viewer]:
        def work(tx: Transaction) -> list[Viewer]:
            person = tx.person(who.channel, who.external_id)
            return sharing.viewers(tx.connection, person.id) if person else []

        return await self.storage.run(work)

    async def stop(self, who: Who, coordinator_id: int) -> Stopped | None:
        """Stop one of the person's own shares; the id only picks among *their* viewers (None: not one)."""
        now = self.clock()

        def work(tx: Transaction) -> Stopped | None:
            person = tx.person(who.channel, who.external_id)
            if person is None:
                return None
            viewer = next(
                (v for v in sharing.viewers(tx.connection, person.id) if v.coordinator_id == coordinator_id), None
            )
            if viewer is None:
                return None
            sharing.revoke(tx.connection, person.id, coordinator_id, now)
            kept = keep_draft(tx, coordinator_id, person.id, now)
            return Stopped(viewer, tx.person_by_id(coordinator_id), kept, person.display_name)

        return await self.storage.run(work)


def keep_draft(tx: Transaction, coordinator_id: int, person_id: int, now: dt.datetime) -> bool:
    """A coordinator's unfinished "what we agreed" about the person becomes their draft: closed, never saved on
    the person's record, shown only to them. True if there was one.

    Only if the coordinator is not mid-turn this very moment (their version
    moved): then the check when the notes are finished keeps them as a draft instead.
    """
    run = tx.run_in_progress(coordinator_id, forms.WHAT_WE_AGREED.flow)
    if run is None or (run.position.get("about") or {}).get("person_id") != person_id:
        return False
    coordinator = tx.person_by_id(coordinator_id)
    if coordinator is None:
        return False
    try:
        active = None if coordinator.active_flow == forms.WHAT_WE_AGREED.flow else coordinator.active_flow
        tx.set_active_flow(coordinator, active)
    except StaleConversation:
        return False
    tx.withdraw_run(run.id, now)
    return True
