"""Two dispatchers, each with its own connection pool, share one PostgreSQL database:
1,000 due reminders, none sent twice and none missed (FOR UPDATE SKIP LOCKED + leases)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

from reminder_helpers import BotStub, add_reminders, id_composer, make_people
from sqlalchemy import event, func, select

from bot.reminders import store
from bot.reminders.dispatcher import Dispatcher, Limits
from bot.storage.repository import Storage

COUNT = 1000


async def without_commit_flush(storage: Storage) -> Storage:
    """Commits here need not wait for the disk (each send is two commits; fsync would make this
    test take 15 s). Locking, SKIP LOCKED and leases behave exactly the same."""
    engine = storage.database.engine.sync_engine  # type: ignore[attr-defined]
    await storage.database.engine.dispose()  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _no_flush(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("SET synchronous_commit TO off")
        cursor.close()

    return storage


async def test_two_dispatchers_send_every_reminder_exactly_once(pg_storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    people = await make_people(pg_storage, COUNT // 2, now)
    later = now + dt.timedelta(days=1)
    await add_reminders(
        pg_storage,
        [store.Planned(p, "test", f"test:{n}", "d0", now, later) for n, p in enumerate(people * 2)],
    )
    await without_commit_flush(pg_storage)
    other = await without_commit_flush(await Storage.open(pg_storage.url, migrate=False))
    stub = BotStub()
    limits = Limits(per_second=1_000_000, per_chat_interval=0.0, permits=None)
    try:
        first, second = (
            Dispatcher(s, stub, id_composer, clock=clock, limits=limits, batch=25) for s in (pg_storage, other)
        )

        async def until_empty(d: Dispatcher) -> None:
            while await d.run_once():
                await asyncio.sleep(0)

        await asyncio.gather(until_empty(first), until_empty(second))
    finally:
        await other.close()

    sent = Counter(stub.texts())
    assert len(sent) == COUNT, "every reminder was sent"
    assert max(sent.values()) == 1, "none was sent twice"
    assert first.tally.sent > 0 and second.tally.sent > 0, "both dispatchers took part"
    assert first.tally.sent + second.tally.sent == COUNT
    left = await pg_storage.run(
        lambda tx: tx.connection.execute(
            select(func.count()).select_from(store.reminders).where(store.reminders.c.status != store.SENT)
        ).scalar_one()
    )
    assert left == 0
