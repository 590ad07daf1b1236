"""Shared fixtures. Tests use real databases, never mocks.

Without COMPANION_TEST_DATABASE_URL every database test runs on a fresh
SQLite file. With it (CI sets postgresql+asyncpg://postgres@127.0.0.1:5432/test)
the same tests run on PostgreSQL; tests that only make sense there use the
``postgres_url`` fixture, which skips with a reason when no server is given
and fails instead when COMPANION_REQUIRE_POSTGRES is set (CI must never skip).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.content import DEFAULT_CONTENT_DIR, load_catalog
from bot.services.conversation import Companion
from bot.storage.database import open_database
from bot.storage.repository import Storage
from flows.catalog import Catalog
from flows.engine import Engine
from flows.turns import Context

TEST_CONTENT_DIR = Path(__file__).parent / "content"
POSTGRES_ENV = "COMPANION_TEST_DATABASE_URL"


def _postgres_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url and os.environ.get("COMPANION_REQUIRE_POSTGRES"):
        pytest.fail(f"COMPANION_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not")
    return url or None


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped content, loaded once."""
    return load_catalog(DEFAULT_CONTENT_DIR)


@pytest.fixture(scope="session")
def engine(catalog: Catalog) -> Engine:
    return Engine(catalog)


@pytest.fixture(scope="session")
def test_catalog() -> Catalog:
    """Shipped interface texts plus test-only flows that exercise every step kind."""
    from bot.content import read_documents
    from bot.services.forms import FORMS

    shipped = read_documents(DEFAULT_CONTENT_DIR)
    extra = read_documents(TEST_CONTENT_DIR)
    # The forms the code reads stay (bot/services/forms.py); the other flows are the test's own.
    forms = {f"flows/{form.flow}.yaml" for form in FORMS}
    shipped.flows = {**{name: data for name, data in shipped.flows.items() if name in forms}, **extra.flows}
    return Catalog.build(shipped)


@pytest.fixture(scope="session")
def test_engine(test_catalog: Catalog) -> Engine:
    return Engine(test_catalog)


@pytest.fixture
def context() -> Context:
    return Context(language="en", today=dt.date(2026, 11, 22))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """PostgreSQL when COMPANION_TEST_DATABASE_URL is set, else a new SQLite file."""
    return _postgres_url() or f"sqlite:///{tmp_path / 'companion.db'}"


@pytest.fixture
def postgres_url() -> str:
    url = _postgres_url()
    if not url:
        pytest.skip(f"PostgreSQL test: set {POSTGRES_ENV} (CI runs these)")
    return url


async def fresh_storage(url: str) -> Storage:
    database = open_database(url)
    if database.url.startswith("postgresql"):
        await database.drop_schema()
    await database.create_schema()
    return Storage(database)


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[Storage]:
    store = await fresh_storage(database_url)
    yield store
    await store.close()


@pytest.fixture
async def pg_storage(postgres_url: str) -> AsyncIterator[Storage]:
    store = await fresh_storage(postgres_url)
    yield store
    await store.close()


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC))


@pytest.fixture
async def companion(storage: Storage, engine: Engine, clock: Clock) -> Companion:
    return Companion(storage, engine, clock=clock)


@pytest.fixture
async def test_companion(storage: Storage, test_engine: Engine, clock: Clock) -> Companion:
    return Companion(storage, test_engine, clock=clock)
