from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import pytest

from bot.storage.repository import Storage


@pytest.fixture
def new_person(storage: Storage, clock) -> Callable[..., Awaitable[int]]:  # type: ignore[no-untyped-def]
    counter = iter(range(5000, 6000))

    async def make(language: str = "en", name: str | None = None) -> int:
        external = str(next(counter))

        def work(tx):  # type: ignore[no-untyped-def]
            person = tx.create_person("telegram", external, language, clock())
            if name:
                tx.update_person(person.id, display_name=name)
            return person.id

        return await storage.run(work)

    return make


def later(clock, **delta: float) -> dt.datetime:  # type: ignore[no-untyped-def]
    return clock() + dt.timedelta(**delta)
