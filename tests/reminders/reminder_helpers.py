"""Shared helpers for reminder tests: people, raw reminder rows, and a Bot API stub sender."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import insert

from bot.reminders import store
from bot.reminders.delivery import Outgoing
from bot.storage.repository import Storage


async def make_people(
    storage: Storage, count: int, now: dt.datetime, *, start: int = 1000, language: str = "en"
) -> list[int]:
    def work(tx):  # type: ignore[no-untyped-def]
        return [tx.create_person("telegram", str(start + n), language, now).id for n in range(count)]

    return await storage.run(work)


async def add_reminders(storage: Storage, rows: list[store.Planned]) -> None:
    values = [
        {
            "person_id": r.person_id,
            "kind": r.kind,
            "source": r.source,
            "lead": r.lead,
            "due_at": r.due_at,
            "expires_at": r.expires_at,
            "status": store.PENDING,
            "attempts": 0,
        }
        for r in rows
    ]
    await storage.run(lambda tx: tx.connection.execute(insert(store.reminders), values))


async def id_composer(reminder: store.Claimed) -> Outgoing:
    """Puts the reminder id in the text, so a test can tell every delivery apart."""
    return Outgoing(reminder.channel, reminder.chat_id, f"reminder {reminder.id}")


@dataclass
class BotStub:
    """Stands in for the Bot API: accepts messages, or refuses them as a test says."""

    delivered: list[Outgoing] = field(default_factory=list)
    refuse: dict[str, list[BaseException]] = field(default_factory=dict)
    """chat id -> errors to raise, one per attempt, before accepting."""
    always_refuse: dict[str, BaseException] = field(default_factory=dict)
    calls: int = 0

    async def __call__(self, outgoing: Outgoing) -> None:
        self.calls += 1
        if outgoing.chat_id in self.always_refuse:
            raise self.always_refuse[outgoing.chat_id]
        queued = self.refuse.get(outgoing.chat_id)
        if queued:
            raise queued.pop(0)
        self.delivered.append(outgoing)

    def texts(self) -> list[str]:
        return [o.text for o in self.delivered]
