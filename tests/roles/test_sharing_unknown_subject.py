"""An access to an id that names nobody (a forged button) is refused and still audited."""

from __future__ import annotations

from sqlalchemy import select

from bot.roles import grants, sharing
from bot.storage.repository import Storage


async def test_access_to_nobody_is_refused_and_recorded_without_a_subject(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    sam = await new_person(name="Sam")
    await storage.run(lambda tx: grants.grant(tx.connection, sam, grants.COORDINATOR, clock()))
    allowed = await storage.run(lambda tx: sharing.access(tx.connection, sam, 987654, "summary", clock()))
    assert allowed is False
    rows = await storage.run(
        lambda tx: tx.connection.execute(
            select(
                sharing.access_log.c.actor_id,
                sharing.access_log.c.subject_id,
                sharing.access_log.c.action,
                sharing.access_log.c.allowed,
            )
        ).all()
    )
    assert [tuple(row) for row in rows] == [(sam, None, "summary", False)]
