"""Telegram turns per second: the companion vs the usual PTB way, through the real Application.

N scripted people go through the whole ``questions`` flow. Every update goes
through PTB (update processor + ``Application.process_update``) and the
recording request layer from tests/telegram/harness.py (answers like the Bot
API, no network). The companion commits every turn to a real database; the
baseline is the same flow written the usual PTB way (ConversationHandler with
state in memory and PicklePersistence, flushed every 60 s, so not durable).

    python benchmarks/telegram_turns.py [--people 200] [--rounds 3] [--postgres URL] [--processes 2] [--gc companion|both|none]

Baseline and companion run in turn, ``--rounds`` times; the ratio reported is
the median of the rounds' ratios (a shared machine drifts by several percent).

Each side runs as it would for real: the companion with the garbage-collection
settings ``companion run`` applies once started (bot/memory.py), the baseline
with Python's defaults. ``--gc both`` gives the baseline the same settings,
``--gc none`` neither.

With --processes N, N bot processes also share one database (as a webhook
deployment behind a load balancer would), each with its own people, started
together; turns per second are for all of them.

PostgreSQL runs if --postgres or COMPANION_TEST_DATABASE_URL is given (its
tables are dropped and created again: use a database of its own).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import multiprocessing
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)

from bot.adapters.telegram.app import build_application  # noqa: E402
from bot.adapters.telegram.processor import PerPersonUpdateProcessor  # noqa: E402
from bot.content import load_catalog  # noqa: E402
from bot.memory import settle_after_start_up  # noqa: E402
from bot.services.app import Services  # noqa: E402
from bot.services.conversation import Companion, Who  # noqa: E402
from bot.storage.database import open_database  # noqa: E402
from bot.storage.repository import Storage  # noqa: E402
from flows.engine import Engine  # noqa: E402
from flows.schema import StepType  # noqa: E402
from tests.telegram.harness import RecordingRequest, TelegramHarness, shown  # noqa: E402

FLOW = "questions"
TOKEN = "123456:BENCHMARK"
TYPED = "Can I take it with coffee?"
CONCURRENT_PEOPLE = 32


# ---------------------------------------------------------------------- the companion


async def companion_on(url: str, *, fresh: bool = True) -> Companion:
    database = open_database(url)
    if fresh:
        await fresh_schema(database)
    return Companion(Storage(database), Engine(load_catalog()))


async def fresh_schema(database: Any) -> None:
    if database.url.startswith("postgresql"):
        await database.drop_schema()
    await database.create_schema()


async def record_script(harness: TelegramHarness, companion: Companion, user_id: int = 1) -> list[tuple[str, str]]:
    """Walk the flow once (untimed) and note each action: ("tap", label) or ("say", text)."""
    person = harness.person(user_id, "Scout")
    who = Who("telegram", str(user_id))
    script: list[tuple[str, str]] = []
    title = companion.catalog.flows[FLOW].title.get("en")
    await person.says("/start")
    await person.taps(companion.catalog.ui.get("button_agree", "en"))
    open_label = next(label for label in shown(person.last) if label.startswith(title))
    script.append(("tap", open_label))
    await person.taps(open_label)
    for _ in range(100):
        prompt = (await companion.current(who)).prompt
        if prompt is None:
            return script
        labels = shown(person.last)
        if prompt.step.endswith("__again"):
            action = ("tap", prompt.options[1].label)
        elif prompt.kind is StepType.text:
            action = ("say", TYPED)
        elif prompt.kind is StepType.checklist and not any(b.ticked for b in prompt.options):
            action = ("tap", labels[0])
        elif prompt.kind is StepType.checklist:
            action = ("tap", next(b.label for b in prompt.options if b.id == "~done"))
        else:
            action = ("tap", labels[0])
        script.append(action)
        await (person.taps(action[1]) if action[0] == "tap" else person.says(action[1]))
    raise RuntimeError("the flow did not finish")


# ---------------------------------------------------------------------- the usual PTB way


def baseline_application(request: RecordingRequest, pickle_path: Path) -> Application:
    """The questions flow as a ConversationHandler: one state per step, answers in user_data."""
    catalog = load_catalog()
    flow = catalog.flows[FLOW]
    steps = [step for step in flow.steps if step.type is not StepType.message or step.wait]
    says = {step.id: step.say.get("en") for step in flow.steps}

    def keyboard(index: int, ticks: list[str]) -> InlineKeyboardMarkup | None:
        step = steps[index]
        if step.type is StepType.text:
            return InlineKeyboardMarkup([[InlineKeyboardButton("Skip", callback_data="~skip")]])
        options = [(o.id, o.get("en")) for o in step.options] or [("yes", "Yes"), ("no", "No")]
        rows = [
            [InlineKeyboardButton(("✅ " if i in ticks else "⬜ ") + label, callback_data=i)] for i, label in options
        ]
        rows.append([InlineKeyboardButton("Done ✓", callback_data="~done")])
        return InlineKeyboardMarkup(rows)

    async def ask(update: Update, context: Any, index: int) -> int:
        if index >= len(steps):
            await context.bot.send_message(update.effective_chat.id, flow.done.get("en") if flow.done else "Done")
            return ConversationHandler.END
        await context.bot.send_message(
            update.effective_chat.id, says[steps[index].id], reply_markup=keyboard(index, [])
        )
        return index

    async def start(update: Update, context: Any) -> int:
        context.user_data["answers"] = {}
        context.user_data["ticks"] = []
        return await ask(update, context, 0)

    def pressed(index: int) -> Any:
        async def handle(update: Update, context: Any) -> int:
            query = update.callback_query
            await query.answer()
            step = steps[index]
            ticks = context.user_data.setdefault("ticks", [])
            if step.type is StepType.checklist and query.data not in ("~done", "~skip"):
                ticks.append(query.data)
                await query.edit_message_reply_markup(keyboard(index, ticks))
                return index
            context.user_data["answers"][step.id] = list(ticks) if step.type is StepType.checklist else query.data
            context.user_data["ticks"] = []
            await query.edit_message_reply_markup(None)
            return await ask(update, context, index + 1)

        return handle

    def typed(index: int) -> Any:
        async def handle(update: Update, context: Any) -> int:
            context.user_data["answers"][steps[index].id] = update.message.text
            return await ask(update, context, index + 1)

        return handle

    states = {
        index: [CallbackQueryHandler(pressed(index)), MessageHandler(filters.TEXT & ~filters.COMMAND, typed(index))]
        for index in range(len(steps))
    }
    conversation = ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states=states,
        fallbacks=[],
        name="questions",
        persistent=True,
        per_message=False,
    )
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(request)
        .get_updates_request(request)
        .persistence(PicklePersistence(filepath=pickle_path))
        .concurrent_updates(PerPersonUpdateProcessor())
        .build()
    )
    application.add_handler(conversation)
    return application


def baseline_script() -> list[tuple[str, str]]:
    flow = load_catalog().flows[FLOW]
    script: list[tuple[str, str]] = [("say", "/start")]
    for step in flow.steps:
        if step.type is StepType.message and not step.wait:
            continue
        if step.type is StepType.text:
            script.append(("say", TYPED))
        elif step.type is StepType.checklist:
            script += [("tap-first", ""), ("tap", "Done ✓")]
        else:
            script.append(("tap-first", ""))
    return script


# ---------------------------------------------------------------------- driving


async def drive(
    harness: TelegramHarness,
    people: int,
    script: list[tuple[str, str]],
    prepare: Any,
    first_user: int = 10_000,
    ready: Any = None,
) -> tuple[list[float], float, float, float]:
    """Everyone's ``prepare`` first (not timed: consent, for the companion), then everyone's
    script, CONCURRENT_PEOPLE at a time. Returns each turn's latency, the elapsed time of
    the scripts, how much of it the recording layer spent playing Telegram, and the CPU
    time the process used meanwhile (steadier than wall time on a shared, loaded machine)."""
    latencies: list[float] = []
    application = harness.application
    semaphore = asyncio.Semaphore(CONCURRENT_PEOPLE)
    everyone = [harness.person(first_user + n, f"P{n}") for n in range(people)]

    async def prepared(person: Any) -> None:
        async with semaphore:
            await prepare(person)

    async def one(person: Any) -> None:
        async with semaphore:
            for kind, value in script:
                if kind == "say":
                    update = person.update_text(value)
                else:
                    label = shown(person.keyboard_message())[0] if kind == "tap-first" else value
                    update = person.update_press(label)
                started = time.perf_counter()
                await application.update_processor.process_update(update, application.process_update(update))
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(prepared(person) for person in everyone))
    if ready is not None:
        ready()
    harness.request.answering_seconds = 0.0
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(person) for person in everyone))
    return latencies, time.perf_counter() - started, harness.request.answering_seconds, time.process_time() - cpu


def summary(
    name: str, latencies: list[float], elapsed: float, answering: float, cpu: float, *, quiet: bool = False
) -> dict[str, float]:
    """``answering`` is the part of ``elapsed`` the recording layer spent playing Telegram."""
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    row = {
        "elapsed": elapsed,
        "turns": len(latencies),
        "turns_per_s": len(latencies) / elapsed,
        "mean_ms": elapsed / len(latencies) * 1000,
        "bot_ms": (elapsed - answering) / len(latencies) * 1000,
        "cpu_ms": cpu / len(latencies) * 1000,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
    }
    if quiet:
        return row
    print(
        f"{name:<38} {row['turns']:>6} turns {row['turns_per_s']:>6.0f} turns/s  {row['mean_ms']:.3f} ms/turn "
        f"(bot {row['bot_ms']:.3f}, cpu {row['cpu_ms']:.3f})  p50 {row['p50_ms']:.2f} ms  p99 {row['p99_ms']:.2f} ms"
    )
    return row


GC_CHOICES = ("companion", "both", "none")
GC_SETTLED = {"companion"}
"""Which runs get the garbage-collection settings ``companion run`` applies once it
has started (bot/memory.py): by default the companion only, as each is run for
real; ``--gc both`` gives the baseline the same, ``--gc none`` neither."""


@contextlib.contextmanager
def settled_gc(side: str) -> Iterator[None]:
    """``companion run``'s garbage-collection settings for this run, if ``side`` gets them;
    the process's own settings again afterwards, so the next run starts as it would."""
    if side not in GC_SETTLED:
        yield
        return
    threshold = gc.get_threshold()
    settle_after_start_up()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


RATE_LIMITED: set[str] = set()
"""Sides that run with `companion run`'s rate limiter (``--rate-limit``): 30 calls a second
for the whole bot and one a second per chat, as Telegram allows."""


COUNTING: set[str] = set()
"""With ``--statements``: count the SQL statements the companion's turns send (SQLAlchemy's
public ``before_cursor_execute`` event), and print them per turn by kind."""


STATEMENT_KIND = re.compile(
    r"\s*(SELECT\b.*?\bFROM\s+(\w+)|INSERT INTO\s+(\w+)|UPDATE\s+(\w+)|DELETE FROM\s+(\w+)|\w+)", re.S
)


class StatementCounter:
    """Statements sent to the database while ``counting`` is on, by their first words."""

    def __init__(self, companion: Companion) -> None:
        self.counting = False
        self.kinds: Counter[str] = Counter()
        database: Any = companion.storage.database
        engine = database.engine
        self.engine = getattr(engine, "sync_engine", engine)
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not self.counting:
            return
        found = STATEMENT_KIND.match(statement)
        kind = found.group(1).split()[0] if found else statement.split()[0]
        table = next((name for name in (found.groups()[1:] if found else ()) if name), "")
        self.kinds[f"{kind} {table}".strip()] += 1

    def report(self, turns: int) -> None:
        total = sum(self.kinds.values())
        print(f"  SQL statements per turn: {total / turns:.2f} ({total} for {turns} turns)")
        for kind, count in self.kinds.most_common():
            print(f"    {count / turns:5.2f}  {kind}")


async def bench_companion(url: str, people: int, worker: int = 0, ready: Any = None) -> dict[str, float]:
    """The companion in this process. ``worker`` keeps people and update ids apart when
    several processes share one database; ``ready`` is called just before the clock starts."""
    companion = await companion_on(url, fresh=ready is None)
    counter = StatementCounter(companion) if "companion" in COUNTING else None
    request = RecordingRequest()
    application = build_application(
        Services.around(companion), TOKEN, request=request, rate_limit="companion" in RATE_LIMITED
    )
    async with application:
        with settled_gc("companion"):  # once started, as `companion run` does
            harness = TelegramHarness(application, request, first_update_id=100_000 + worker * 100_000_000)
            script = await record_script(harness, companion, user_id=1 + worker)
            ui = companion.catalog.ui

            async def prepare(person: Any) -> None:
                await person.says("/start")
                await person.taps(ui.get("button_agree", "en"))

            def start_counting() -> None:
                if counter is not None:
                    counter.counting = True
                if ready is not None:
                    ready()

            latencies, elapsed, answering, cpu = await drive(
                harness, people, script, prepare, first_user=10_000 + worker * 1_000_000, ready=start_counting
            )
    await companion.storage.close()
    if counter is not None:
        counter.report(len(latencies))
    return summary(
        f"companion ({url.split(':')[0]})" + (f" worker {worker}" if ready else ""),
        latencies,
        elapsed,
        answering,
        cpu,
        quiet=ready is not None,
    )


def _worker(url: str, people: int, worker: int, barrier: Any, results: Any, settled: set[str]) -> None:
    GC_SETTLED.clear()
    GC_SETTLED.update(settled)  # a spawned process starts from the module's defaults
    row = asyncio.run(bench_companion(url, people, worker, ready=barrier.wait))
    results.put(row)


async def bench_processes(url: str, people: int, processes: int) -> dict[str, float]:
    """Several bot processes sharing one database, as a webhook deployment behind a load
    balancer would run: each handles its own people; the figures are for all of them."""
    database = open_database(url)
    await fresh_schema(database)
    await database.dispose()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    share = people // processes
    children = [
        context.Process(target=_worker, args=(url, share, n, barrier, results, set(GC_SETTLED)))
        for n in range(processes)
    ]
    for child in children:
        child.start()
    rows = [results.get() for _ in children]
    for child in children:
        child.join()
    turns = sum(row["turns"] for row in rows)
    elapsed = max(row["elapsed"] for row in rows)
    row = {
        "turns": turns,
        "turns_per_s": turns / elapsed,
        "mean_ms": elapsed / turns * 1000,
        "p50_ms": statistics.median(row["p50_ms"] for row in rows),
        "p99_ms": max(row["p99_ms"] for row in rows),
    }
    print(
        f"{'companion (' + url.split(':')[0] + f') x{processes} processes':<34} {turns:>6} turns  "
        f"{row['turns_per_s']:>8.0f} turns/s  (all processes together)"
    )
    return row


async def settle(url: str) -> None:
    """Let the PostgreSQL server write out what the run left in memory now, not
    during the next round: its background writes would be counted against the
    next run (SQLite's syncs wait behind them on the same disk)."""
    database = open_database(url)
    try:
        await database.run(lambda connection: connection.exec_driver_sql("CHECKPOINT"))
    finally:
        await database.dispose()
    await asyncio.sleep(1)


async def bench_baseline(people: int) -> dict[str, float]:
    request = RecordingRequest()
    with tempfile.TemporaryDirectory() as folder:
        application = baseline_application(request, Path(folder) / "state.pickle")
        async with application:
            with settled_gc("baseline"):
                harness = TelegramHarness(application, request)

                async def prepare(person: Any) -> None:
                    return None

                latencies, elapsed, answering, cpu = await drive(harness, people, baseline_script(), prepare)
    return summary("baseline (ConversationHandler+Pickle)", latencies, elapsed, answering, cpu)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("COMPANION_TEST_DATABASE_URL"))
    parser.add_argument(
        "--rounds", type=int, default=3, help="baseline and companion run in turn this often; medians are reported"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="also run this many bot processes on one database (default: only one)"
    )
    parser.add_argument(
        "--gc",
        choices=GC_CHOICES,
        default="companion",
        help="which runs get companion run's garbage-collection settings (default: the companion's, as run for real)",
    )
    parser.add_argument(
        "--rate-limit",
        action="store_true",
        help="run the companion with companion run's production rate limiter (the baseline runs without one)",
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="count the SQL statements the companion sends per turn, by kind (slows the run a little)",
    )
    args = parser.parse_args()
    if args.statements:
        COUNTING.add("companion")
    if args.rate_limit:
        RATE_LIMITED.add("companion")
    GC_SETTLED.clear()
    GC_SETTLED.update({"companion": {"companion"}, "both": {"companion", "baseline"}, "none": set()}[args.gc])
    ratios: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
    bot_ratios: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
    cpu_ratios: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
    bot_rates: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
    rates: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
    with tempfile.TemporaryDirectory() as folder:
        # Alternate the two, so drift on a shared machine falls on both alike.
        for round_ in range(args.rounds):
            baseline = await bench_baseline(args.people)
            runs = {"SQLite": f"sqlite:///{folder}/bench{round_}.db"}
            if args.postgres:
                runs["PostgreSQL"] = args.postgres
            for name, url in runs.items():
                row = await bench_companion(url, args.people)
                if name == "PostgreSQL":
                    await settle(url)
                ratios[name].append(row["mean_ms"] / baseline["mean_ms"])
                bot_ratios[name].append(row["bot_ms"] / baseline["bot_ms"])
                cpu_ratios[name].append(row["cpu_ms"] / baseline["cpu_ms"])
                rates[name].append(row["turns_per_s"])
                bot_rates[name].append(1000 / row["bot_ms"])
        print()
        for name in ratios:
            if ratios[name]:
                print(
                    f"{name}: median {statistics.median(ratios[name]):.2f}x the baseline's time per turn "
                    f"(rounds: {', '.join(f'{r:.2f}' for r in ratios[name])}; target <= 1.3x); "
                    f"median {statistics.median(rates[name]):.0f} turns/s in one process (target >= 2000)"
                )
                print(
                    f"{name}, the bots' own time (without the recording layer's stand-in for Telegram's "
                    f"servers): median {statistics.median(bot_ratios[name]):.2f}x "
                    f"(rounds: {', '.join(f'{r:.2f}' for r in bot_ratios[name])}); "
                    f"{statistics.median(bot_rates[name]):.0f} turns/s of the bot's own time"
                )
                print(
                    f"{name}, CPU time per turn (the process's, both sides; steadier on a loaded machine, "
                    f"but blind to waiting for the disk): median {statistics.median(cpu_ratios[name]):.2f}x "
                    f"(rounds: {', '.join(f'{r:.2f}' for r in cpu_ratios[name])})"
                )
        if args.processes > 1:
            await bench_processes(f"sqlite:///{folder}/shared.db", args.people, args.processes)
            if args.postgres:
                await bench_processes(args.postgres, args.people, args.processes)


if __name__ == "__main__":
    if "--wire" in sys.argv:
        # On the wire: companion run's send limiter on, 80 ms per Bot API call,
        # bursts and a reminder backlog; exits 1 when a target is missed.
        sys.argv.remove("--wire")
        from benchmarks import telegram_wire

        sys.exit(asyncio.run(telegram_wire.main()))
    asyncio.run(main())
