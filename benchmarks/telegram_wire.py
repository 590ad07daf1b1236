"""The Telegram benchmark on the wire: `companion run`'s send limiter on, 80 ms per Bot API call.

Run through ``benchmarks/telegram_turns.py --wire`` (or this file). People
(already agreed, each on a question of the ``questions`` flow) press at the
same moment; each press goes through PTB's real Application, the companion's
turn and its commit, then the Bot API calls, each of which takes 80 ms (40
there, 40 back) and must get a permit of the send budget (at most 30 calls in
any second). Reported:

- a press's latency (update in, reply accepted by "Telegram"), p50 and p99,
  for bursts of 32 and 100 people;
- the same with 3,000 reminders due at the same moment, sent by the dispatcher
  in the same process through the same limiter;
- turns a second when 100 people keep answering (the wire limit);
- the most calls that reached "Telegram" in any one second.

Exits 1 when a target is missed: ≥ 25 turns/s, p99 ≤ 4 s for 100 people, the
backlog adds ≤ 1 s to the p99, never more than 30 calls in any second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.adapters.telegram.app import build_application
from bot.adapters.telegram.limiter import SendLimiter
from bot.reminders.delivery import Outgoing, telegram_sender
from bot.reminders.dispatcher import Limits
from bot.services.app import Services
from bot.services.conversation import Companion
from bot.services.send_budget import send_budget
from tests.telegram.harness import Person, RecordingRequest, TelegramHarness, shown

TOKEN = "123456:BENCH-token"
DELAY = 0.08
UNLIMITED = {"answerCallbackQuery", "getMe", "setMyCommands", "getUpdates"}
TARGET_TURNS = 25.0
TARGET_P99 = 4.0
TARGET_BACKLOG = 1.0
TARGET_PER_SECOND = 30


class Wire(RecordingRequest):
    """The recording Bot API with a round trip of ``delay``; notes when each limited call arrives."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.arrivals: list[float] = []

    async def do_request(
        self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        await asyncio.sleep(self.delay / 2)
        name = url.rsplit("/", 1)[-1]
        if name not in UNLIMITED and request_data is not None and "chat_id" in request_data.parameters:
            self.arrivals.append(time.time())
        result = await super().do_request(url, method, request_data, *args, **kwargs)
        await asyncio.sleep(self.delay / 2)
        return result

    def take(self) -> list[Any]:
        self.calls.clear()  # nobody reads them here; keep memory flat
        return []


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def seed_reminders(companion: Companion, count: int) -> None:
    """``count`` people with one reminder each, all due now."""
    from sqlalchemy import insert

    from bot.reminders import store
    from bot.storage.models import Person as PersonRow

    now = dt.datetime.now(dt.UTC)
    people = [
        {
            "channel": "telegram",
            "external_id": str(500_000 + n),
            "language": "en",
            "timezone": "Europe/London",
            "consented_at": now,
            "created_at": now,
            "version": 1,
        }
        for n in range(count)
    ]
    table = PersonRow.__table__
    ids = await companion.storage.run(
        lambda tx: tx.connection.execute(insert(table).returning(table.c.id), people).scalars().all()
    )
    rows = [
        {
            "person_id": pid,
            "kind": "bench",
            "source": f"bench:{n}",
            "lead": "d0",
            "due_at": now,
            "expires_at": now + dt.timedelta(hours=1),
            "status": store.PENDING,
            "attempts": 0,
        }
        for n, pid in enumerate(ids)
    ]
    await companion.storage.run(lambda tx: tx.connection.execute(insert(store.reminders), rows))


async def press_first(application: Any, person: Person) -> float:
    """Press the first button of the person's question (or type, where it asks for words); seconds taken."""
    message = person.keyboard_message() if any(m.get("reply_markup") for m in person.chat) else None
    if message is not None and shown(message):
        update = person.update_press(shown(message)[0], message)
    else:
        update = person.update_text("Can I drive safely?")
    started = time.perf_counter()
    await application.update_processor.process_update(update, application.process_update(update))
    return time.perf_counter() - started


async def scenario(url: str, people: int, backlog: int, steps: int, delay: float) -> dict[str, float]:
    from benchmarks.telegram_turns import companion_on

    companion = await companion_on(url)
    wire = Wire(delay)
    services = Services.around(companion)
    setup = build_application(services, TOKEN, request=wire, rate_limit=False)
    limiter = SendLimiter(send_budget(companion.storage))
    application = build_application(services, TOKEN, request=wire, limiter=limiter)
    await setup.initialize()
    await application.initialize()
    prepared = TelegramHarness(setup, wire)
    measured = TelegramHarness(application, wire, first_update_id=5_000_000)
    everyone = [prepared.person(10_000 + n, f"P{n}") for n in range(people)]
    agree = companion.catalog.ui.get("button_agree", "en")
    title = companion.catalog.flows["questions"].title.get("en")

    async def ready(person: Person) -> None:
        await person.says("/start")
        await person.taps(agree)
        await person.taps(next(label for label in shown(person.last) if label.startswith(title)))

    await asyncio.gather(*(ready(person) for person in everyone))
    pressing = [measured.person(person.id, person.user["first_name"]) for person in everyone]
    stop = asyncio.Event()
    dispatching = None
    if backlog:
        await seed_reminders(companion, backlog)

        async def composer(reminder: Any) -> Outgoing:
            return Outgoing(reminder.channel, reminder.chat_id, "A reminder: your appointment is tomorrow.")

        dispatcher = services.reminders.dispatcher(
            telegram_sender(application.bot), composer, limits=Limits(permits=None)
        )
        dispatching = asyncio.create_task(dispatcher.run(stop, idle=0.2))
        await asyncio.sleep(2.0)  # the backlog is being sent at full speed
    wire.arrivals.clear()
    burst = await asyncio.gather(*(press_first(application, person) for person in pressing))
    row = {"p50": statistics.median(burst), "p99": quantile(burst, 0.99)}
    if steps:

        async def keep_answering(person: Person) -> int:
            for _ in range(steps):
                await press_first(application, person)
            return steps

        started = time.perf_counter()
        turns = sum(await asyncio.gather(*(keep_answering(person) for person in pressing)))
        row["turns_per_s"] = turns / (time.perf_counter() - started)
    row["most_per_second"] = most_in_one_second(wire.arrivals)
    stop.set()
    if dispatching is not None:
        # Let it finish the sends it handed over, so nothing is left writing to this database.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(dispatching), timeout=600)
    await application.shutdown()
    await setup.shutdown()
    await companion.storage.close()
    return row


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("COMPANION_TEST_DATABASE_URL"))
    parser.add_argument("--delay", type=float, default=DELAY, help="seconds per Bot API call (round trip)")
    parser.add_argument("--backlog", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=4, help="answers each of 100 people gives for turns/s")
    args = parser.parse_args()
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"companion-wire-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)

    def url(name: str) -> str:
        return args.postgres or f"sqlite:///{folder / name}.db"

    results = {}
    for people in (32, 100):
        for backlog in (0, args.backlog):
            steps = args.steps if (people == 100 and backlog == 0) else 0
            row = await scenario(url(f"p{people}b{backlog}"), people, backlog, steps, args.delay)
            results[(people, backlog)] = row
            extra = f"  {row['turns_per_s']:.1f} turns/s" if "turns_per_s" in row else ""
            print(
                f"{people:>4} people, {backlog:>5} reminders due: press p50 {row['p50']:.2f} s, "
                f"p99 {row['p99']:.2f} s; at most {row['most_per_second']:.0f} calls in a second{extra}",
                flush=True,
            )
    turns = results[(100, 0)]["turns_per_s"]
    p99 = results[(100, 0)]["p99"]
    added = results[(100, args.backlog)]["p99"] - p99
    most = max(row["most_per_second"] for row in results.values())
    checks = [
        (f"turns a second {turns:.1f} >= {TARGET_TURNS}", turns >= TARGET_TURNS),
        (f"p99 of a 100-person burst {p99:.2f} s <= {TARGET_P99} s", p99 <= TARGET_P99),
        (f"a {args.backlog}-reminder backlog adds {added:.2f} s <= {TARGET_BACKLOG} s", added <= TARGET_BACKLOG),
        (f"at most {most} calls in any second <= {TARGET_PER_SECOND}", most <= TARGET_PER_SECOND),
    ]
    for text, met in checks:
        print(("met:    " if met else "MISSED: ") + text)
    return 0 if all(met for _, met in checks) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
