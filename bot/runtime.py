"""Build the companion's parts once per process, from settings."""

from __future__ import annotations

from bot.content import load_catalog
from bot.services.app import Services
from bot.services.conversation import Companion
from bot.settings import Settings
from bot.storage.repository import Storage
from flows.catalog import Catalog
from flows.engine import Engine


async def open_companion(settings: Settings, catalog: Catalog | None = None) -> Companion:
    """Build every flow machine once, open the database.

    ``catalog``: content already loaded (``bot.checks.checked_catalog`` for the
    commands that talk to people); without it the content is loaded and validated here."""
    engine = Engine(catalog or load_catalog(settings.content_dir, settings.org_dir))
    storage = await Storage.open(settings.database_url)
    return Companion(storage, engine)


async def open_services(settings: Settings, catalog: Catalog | None = None) -> Services:
    """Every service, around one conversation service (see open_companion)."""
    return Services.around(await open_companion(settings, catalog))
