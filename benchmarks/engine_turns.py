"""How long one turn takes: the engine alone, and with the committed database write.

    python benchmarks/engine_turns.py                      # engine + SQLite
    python benchmarks/engine_turns.py --postgres URL       # also PostgreSQL
    (or set COMPANION_TEST_DATABASE_URL)

People are walked through every shipped flow by a simple policy (tick the
first option then Done, press the first button, type a sentence, say "no more"
to loops), so the mix of turns is what a real person produces and the script
needs no change when the wording of a flow changes. Each turn is timed alone;
the script prints the median and the 99th percentile.

Targets on the 2-core reference machine: engine turn ≤ 50 µs median; turn
with SQLite commit ≤ 1 ms median.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.content import load_catalog
from bot.services.conversation import Companion, Who
from bot.storage.database import open_database
from bot.storage.repository import Storage
from flows.engine import Engine
from flows.schema import StepType
from flows.turns import DONE, MORE_NO, NEXT, Action, Context, Pressed, Prompt, Typed


def policy(prompt: Prompt, ticked_once: set[str]) -> Action:
    """What a quick, cooperative person would do at this question."""
    if prompt.step.endswith("__again"):
        return Pressed(MORE_NO)
    if prompt.kind is StepType.message:
        return Pressed(NEXT)
    if prompt.kind is StepType.text:
        return Typed("Could we talk about how I sleep on this medicine?")
    if prompt.kind is StepType.checklist:
        if prompt.step in ticked_once:
            ticked_once.discard(prompt.step)
            return Pressed(DONE)
        ticked_once.add(prompt.step)
        return Pressed(prompt.options[0].id)
    return Pressed(prompt.options[0].id)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def engine_turns(engine: Engine, people: int) -> list[float]:
    context = Context(language="en", today=dt.date(2026, 11, 22))
    timings: list[float] = []
    for _person in range(people):
        for flow_id in engine.catalog.flows:
            turn = engine.start(flow_id, context)
            ticked: set[str] = set()
            while turn.prompt is not None:
                action = policy(turn.prompt, ticked)
                started = time.perf_counter_ns()
                turn = engine.take(turn.position, action, context)
                timings.append(time.perf_counter_ns() - started)
    return timings


async def committed_turns(url: str, engine: Engine, people: int) -> list[float]:
    database = open_database(url)
    if not url.startswith("sqlite"):
        await database.drop_schema()
    await database.create_schema()
    storage = Storage(database)
    companion = Companion(storage, engine)
    timings: list[float] = []
    try:
        for person in range(people):
            who = Who("bench", str(person))
            await companion.join(who)
            for flow_id in engine.catalog.flows:
                reply = await companion.open(who, flow_id)
                ticked: set[str] = set()
                while reply.prompt is not None:
                    action = policy(reply.prompt, ticked)
                    started = time.perf_counter_ns()
                    reply = await companion.act(who, action)
                    timings.append(time.perf_counter_ns() - started)
    finally:
        await storage.close()
    return timings


def report(label: str, timings: list[float], unit: str = "µs") -> None:
    scale = 1_000 if unit == "µs" else 1_000_000
    print(
        f"{label:<34} median {statistics.median(timings) / scale:8.3f} {unit}   "
        f"p99 {percentile(timings, 0.99) / scale:8.3f} {unit}   ({len(timings)} turns)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200, help="people walked through every flow (default 200)")
    parser.add_argument("--postgres", default=os.environ.get("COMPANION_TEST_DATABASE_URL"), help="PostgreSQL URL")
    arguments = parser.parse_args()

    engine = Engine(load_catalog())
    engine_turns(engine, 5)  # warm up caches
    report("engine turn", engine_turns(engine, arguments.people))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        report("turn + SQLite commit", asyncio.run(committed_turns(url, engine, arguments.people)), "ms")
    if arguments.postgres:
        people = max(20, arguments.people // 4)
        report("turn + PostgreSQL commit", asyncio.run(committed_turns(arguments.postgres, engine, people)), "ms")
    else:
        print("turn + PostgreSQL commit           skipped (give --postgres URL or set COMPANION_TEST_DATABASE_URL)")


if __name__ == "__main__":
    main()
