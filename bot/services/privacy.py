"""What a person can see and erase of everything kept about them (/mydata, /delete), on any channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.services.conversation import Who
from bot.storage.repository import Storage, Transaction


def iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC. SQLite hands back naive datetimes; they were stored as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat()


class Privacy:
    """Export and erasure of a person's own data. Build once; share freely."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def erase(self, who: Who) -> bool:
        """Delete everything stored about the person, and everything of others' about them. True if there was anything."""

        def work(tx: Transaction) -> bool:
            person = tx.person(who.channel, who.external_id)
            if person is None:
                return False
            tx.erase_person(person.id)
            return True

        return await self.storage.run(work)

    async def export(self, who: Who) -> dict[str, Any] | None:
        """Everything stored about the person, as plain data (None if nothing is)."""

        def work(tx: Transaction) -> dict[str, Any] | None:
            person = tx.person(who.channel, who.external_id)
            if person is None:
                return None
            records = tx.runs(person.id)
            by_run = tx.answers(run.id for run in records)
            other = tx.records_about(person.id)
            return {
                "person": {
                    "channel": person.channel,
                    "id": person.external_id,
                    "language": person.language,
                    "timezone": person.timezone,
                    "chosen_name": person.display_name,
                    "agreed_to_privacy_notice_at": iso(person.consented_at),
                },
                "flows": [
                    {
                        "flow": run.flow_id,
                        "status": run.status,
                        "started_at": iso(run.started_at),
                        "completed_at": iso(run.completed_at),
                        "answers": {
                            key: {"value": value, "answered_at": iso(when)}
                            for key, (value, when) in by_run[run.id].items()
                        },
                    }
                    for run in records
                ],
                "other_records": other,
            }

        return await self.storage.run(work)
