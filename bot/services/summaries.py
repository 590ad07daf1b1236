"""A person's own summary: the document, what is still missing, and the choices about it (name, print size)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.services import forms
from bot.services.conversation import Finished, Who
from bot.storage.repository import Storage, Transaction
from bot.summary.build import build_summary, missing_flows
from bot.summary.document import Missing, SummaryDocument
from bot.summary.name import print_flow
from flows.engine import Engine


class Summaries:
    """The person's own summary, read in one transaction whenever it is asked for."""

    def __init__(self, storage: Storage, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.storage = storage
        self.engine = engine
        self.clock = clock
        self.name_flow = forms.MY_NAME.flow
        self.print_flow = print_flow(engine.catalog)
        """The flow that asks about large print (content/summary/layout.yaml names it), or None."""

    async def _person_id(self, who: Who) -> int | None:
        person = await self.storage.run(lambda tx: tx.person(who.channel, who.external_id))
        return person.id if person else None

    async def document(self, who: Who) -> SummaryDocument | None:
        """The person's summary as it stands now; None if they have no record."""
        person_id = await self._person_id(who)
        if person_id is None:
            return None
        return await build_summary(self.storage, self.engine, person_id, now=self.clock())

    async def missing(self, who: Who) -> list[Missing]:
        """Parts that would add to the summary and are not done yet, in menu order."""
        person_id = await self._person_id(who)
        return [] if person_id is None else await missing_flows(self.storage, self.engine, person_id)

    @staticmethod
    def remember_name(tx: Transaction, finished: Finished) -> None:
        """The my_name flow's listener: its answer (or a skip, which removes it) goes on the person's record."""
        name = forms.MY_NAME.name.of(finished.answers)
        tx.update_person(
            finished.person.id, display_name=name.strip() if isinstance(name, str) and name.strip() else None
        )
