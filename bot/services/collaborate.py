"""CollaboRATE: three questions after an appointment, counted only for the whole service.

CollaboRATE asks how much effort was made to help the person understand,
to listen to what matters most to them, and to include it in choosing what
to do next (each 0 to 9). It measures whether shared decision-making
happened, which is what the companion is for; but a score with a name on it
would make people answer for their clinician instead of for themselves, so:

- it is offered once per appointment the person noted (with the follow-up the
  morning after; :meth:`Collaboration.offer` holds a second press of the
  button to "once"), and every question can be skipped;
- it is never on the summary (content/summary/layout.yaml lists the flow
  under ``elsewhere``), so a care coordinator reviewing a summary never sees it;
- :meth:`Collaboration.report` gives only the service's figures: how many
  answered, the mean of each item and the share giving the top score, and
  nothing at all while fewer than :data:`MINIMUM_PEOPLE` people answered.

The top score is read from the content (the scale's ``max``), so the report
follows the flow if it is ever changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.reminders.appointments import FOLLOW_UP_USEFUL_FOR
from bot.services import forms
from bot.services.conversation import Who
from bot.storage import collaborate as sql
from bot.storage.repository import Storage, Transaction
from flows.catalog import Catalog

__all__ = ["MINIMUM_PEOPLE", "Collaboration", "Item", "Offer", "Report", "aggregate"]

MINIMUM_PEOPLE = 5
"""Fewer people than this and no figure is shown: with two or three answers, a coordinator who knows
who had appointments that week could tell who gave which score."""


class Offer(StrEnum):
    """Whether the questions may be answered now, and if not, why (each has its own kind words)."""

    OPEN = "open"
    """An appointment they noted began within the last week, and they have not answered for it."""
    ANSWERED = "answered"
    """They have answered for their latest appointment."""
    CLOSED = "closed"
    """No appointment has begun, or the latest began more than a week ago: too long to remember it well."""


@dataclass(frozen=True, slots=True)
class Item:
    """One item's figures: how many answered it, their mean, and the share giving the top score."""

    id: str
    answered: int
    mean: float | None
    """None when fewer than MINIMUM_PEOPLE people answered this item."""
    top_share: float | None
    top: int


@dataclass(frozen=True, slots=True)
class Report:
    since: dt.datetime
    responses: int
    """Finished questionnaires with at least one item answered."""
    people: int
    items: tuple[Item, ...]

    @property
    def suppressed(self) -> bool:
        return self.people < MINIMUM_PEOPLE


def aggregate(
    rows: Iterable[tuple[int, int, str, Any]], items: tuple[str, ...], top: dict[str, int], since: dt.datetime
) -> Report:
    """The service's figures from (run, person, item, value) rows; nothing about anyone in particular."""
    values: dict[str, list[int]] = {item: [] for item in items}
    people_by_item: dict[str, set[int]] = {item: set() for item in items}
    runs: set[int] = set()
    people: set[int] = set()
    for run_id, person_id, item, value in rows:
        if item not in values or not isinstance(value, int) or isinstance(value, bool):
            continue
        values[item].append(value)
        people_by_item[item].add(person_id)
        runs.add(run_id)
        people.add(person_id)
    shown = len(people) >= MINIMUM_PEOPLE
    figures = []
    for item in items:
        given = values[item]
        enough = shown and len(people_by_item[item]) >= MINIMUM_PEOPLE
        mean = sum(given) / len(given) if enough else None
        share = sum(1 for value in given if value == top[item]) / len(given) if enough else None
        figures.append(Item(item, len(given) if shown else 0, mean, share, top[item]))
    return Report(since, len(runs) if shown else 0, len(people), tuple(figures))


class Collaboration:
    """Whether someone may answer now, and the service-level report."""

    def __init__(self, storage: Storage, catalog: Catalog, clock: Callable[[], dt.datetime]) -> None:
        self.storage = storage
        self.catalog = catalog
        self.clock = clock
        self.flow = forms.COLLABORATE.flow

    async def offer(self, who: Who) -> Offer:
        """Open after an appointment they noted began (within a week), until they have answered for it."""
        now = self.clock()

        def read(tx: Transaction) -> Offer:
            person = tx.person(who.channel, who.external_id)
            if person is None:
                return Offer.CLOSED
            began = sql.last_appointment_start(tx.connection, person.id, now)
            if began is None or now - began > FOLLOW_UP_USEFUL_FOR:
                return Offer.CLOSED
            return Offer.ANSWERED if sql.answered_since(tx.connection, person.id, self.flow, began) else Offer.OPEN

        return await self.storage.run(read)

    async def report(self, since: dt.datetime) -> Report:
        """Everyone's answers since ``since``, added up (see :func:`aggregate`)."""
        flow = self.catalog.flows[self.flow]
        items = tuple(field.id for field in forms.COLLABORATE.items())
        top = {item: flow.step(item).max for item in items}
        rows = await self.storage.run(lambda tx: sql.item_answers(tx.connection, self.flow, items, since))
        return aggregate(rows, items, top, since)
