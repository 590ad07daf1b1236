"""The name at the top of a person's summary: theirs to choose, or to leave off.

It is asked by the ``my_name`` flow (content/flows/my_name.yaml), so it gets
the engine's re-asks, skip and crisis check like any other question; when the
flow is finished this listener copies the answer onto the person's record in
the same transaction. Skipping removes the name.
"""

from __future__ import annotations

from bot.services.conversation import Companion, Finished
from bot.storage.repository import Transaction
from bot.summary.layout import rules_for
from flows.catalog import Catalog

NAME_FLOW = "my_name"


def print_flow(catalog: Catalog) -> str | None:
    """The flow that asks about large print (content/summary/layout.yaml names its step), if any."""
    ref = rules_for(catalog).large_print
    flow = ref.split(".", 1)[0] if ref else None
    return flow if flow in catalog.flows else None


def remember_name(tx: Transaction, finished: Finished) -> None:
    name = finished.answers.get("name")
    tx.update_person(finished.person.id, display_name=name.strip() if isinstance(name, str) and name.strip() else None)


def register(companion: Companion) -> None:
    """Let finishing the name flow set the name (does nothing if the content has no such flow)."""
    if NAME_FLOW in companion.catalog.flows:
        companion.when_finished(NAME_FLOW, remember_name)
