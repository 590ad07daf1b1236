"""Redraw docs/summary-layout.svg from the ordinary English summary: ``python -m tests.summary.draw_layout``."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from pathlib import Path

from bot.content import load_catalog
from bot.services.app import Services
from bot.services.conversation import Companion, Who
from bot.storage.database import open_database
from bot.storage.repository import Storage
from bot.summary import build_summary
from bot.summary.sketch import layout_svg
from flows.engine import Engine
from tests.summary.conftest import play
from tests.summary.ordinary import LAST_TIME, ORDINARY

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{folder}/draw.db")
        await database.create_schema()
        storage = Storage(database)
        engine = Engine(load_catalog())
        companion = Companion(storage, engine, clock=lambda: NOW)
        Services.around(companion)
        who = Who("console", "ordinary-en")
        person = await companion.join(who, "en")
        await play(companion, who, "what_we_agreed", LAST_TIME["en"])
        for flow_id, plan in ORDINARY["en"].items():
            await play(companion, who, flow_id, plan)
        document = await build_summary(storage, engine, person.id, now=NOW)
        target = Path(__file__).resolve().parents[2] / "docs" / "summary-layout.svg"
        target.write_text(layout_svg(document), encoding="utf-8")
        await storage.close()
        print(f"Wrote {target}")


if __name__ == "__main__":
    asyncio.run(main())
