"""Dispatch due reminders to a Bot API stub with two dispatcher processes on PostgreSQL.

    .venv/bin/python benchmarks/reminders_dispatch.py [--count 3000] [--dispatchers 2] [--database-url URL]

Everything runs on this machine: a Bot API stub (tornado, on 127.0.0.1)
records when each sendMessage arrives; each dispatcher is its own process
with its own python-telegram-bot ``Bot`` pointed at the stub and its own
connection pool. Prints the send rate, the most messages that arrived in
any one-second window (must stay ≤ 30 while the average is ≥ 29/s), and
duplicates and misses (must be 0). 3,000 at 30/s takes about 100 s.

The database given is emptied and rebuilt: use your own, e.g.
postgresql+asyncpg://postgres@127.0.0.1:5432/bench_reminders.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime as dt
import json
import multiprocessing as mp
import os
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOKEN = "123456:BENCHMARK-not-a-real-token"


# --------------------------------------------------------------------------- Bot API stub


def run_stub(port: int, log_path: str, ready: mp.Event) -> None:  # type: ignore[valid-type]
    import tornado.ioloop
    import tornado.web

    log = open(log_path, "a", buffering=1)  # noqa: SIM115 (open for the stub process's lifetime)
    counter = iter(range(1, 10**9))

    class Method(tornado.web.RequestHandler):
        def post(self, method: str) -> None:
            arrived = time.time()
            if "json" in (self.request.headers.get("Content-Type") or ""):
                params = json.loads(self.request.body or b"{}")
            else:
                params = {k: self.get_body_argument(k) for k in self.request.body_arguments}
            self.set_header("Content-Type", "application/json")
            if method == "getMe":
                result = {"id": 123456, "is_bot": True, "first_name": "Stub", "username": "StubBot"}
            else:
                chat_id = int(params.get("chat_id", 0))
                log.write(f"{arrived:.6f}\t{chat_id}\t{params.get('text', '')}\n")
                result = {
                    "message_id": next(counter),
                    "date": int(arrived),
                    "chat": {"id": chat_id, "type": "private"},
                    "text": params.get("text", ""),
                }
            self.write(json.dumps({"ok": True, "result": result}))

    app = tornado.web.Application([(r"/bot[^/]+/(\w+)", Method)])
    app.listen(port, address="127.0.0.1")
    ready.set()  # type: ignore[attr-defined]
    tornado.ioloop.IOLoop.current().start()


# --------------------------------------------------------------------------- setup and dispatchers


async def prepare(url: str, count: int) -> None:
    from sqlalchemy import insert

    from bot.reminders import store
    from bot.storage.database import open_database
    from bot.storage.models import Person
    from bot.storage.repository import Storage

    database = open_database(url)
    await database.drop_schema()
    await database.create_schema()
    storage = Storage(database)
    now = dt.datetime.now(dt.UTC)
    people = [
        {
            "channel": "telegram",
            "external_id": str(10_000 + n),
            "language": "en",
            "timezone": "Europe/London",
            "consented_at": now,
            "created_at": now,
            "version": 1,
        }
        for n in range(count)
    ]
    ids = await storage.run(
        lambda tx: (
            tx.connection.execute(insert(Person.__table__).returning(Person.__table__.c.id), people).scalars().all()
        )
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
    await storage.run(lambda tx: tx.connection.execute(insert(store.reminders), rows))
    await storage.close()


def run_dispatcher(url: str, port: int, start_at: float, results: mp.Queue) -> None:  # type: ignore[type-arg]
    async def main() -> None:
        from telegram import Bot

        from bot.reminders import store
        from bot.reminders.delivery import Outgoing, telegram_sender
        from bot.reminders.dispatcher import Dispatcher
        from bot.storage.repository import Storage

        async def composer(reminder: store.Claimed) -> Outgoing:
            return Outgoing(reminder.channel, reminder.chat_id, f"reminder {reminder.id}")

        storage = await Storage.open(url, migrate=False)
        async with Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot") as bot:
            send = telegram_sender(bot)

            async def stamped(outgoing: Outgoing) -> None:
                # The moment the dispatcher hands the message over, so the stub's log
                # can tell network delay from waiting on this process.
                await send(Outgoing(outgoing.channel, outgoing.chat_id, f"{outgoing.text}|{time.time():.6f}"))

            dispatcher = Dispatcher(storage, stamped, composer)
            await asyncio.sleep(max(0.0, start_at - time.time()))
            idle_rounds = 0
            while idle_rounds < 3:  # stop after ~1.5 s with nothing left to claim
                claimed = await dispatcher.claim()
                await dispatcher.deliver(claimed)
                if claimed:
                    idle_rounds = 0
                else:
                    idle_rounds += 1
                    await asyncio.sleep(0.5)
            await dispatcher.drain()
        await storage.close()
        results.put(vars(dispatcher.tally))

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most arrivals in any half-open window [t, t + window)."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_reminders"),
    )
    args = parser.parse_args()

    asyncio.run(prepare(args.database_url, args.count))
    context = mp.get_context("spawn")
    port = free_port()
    log_path = tempfile.mktemp(prefix="bot-api-stub-", suffix=".tsv")
    ready = context.Event()
    stub = context.Process(target=run_stub, args=(port, log_path, ready), daemon=True)
    stub.start()
    if not ready.wait(20):
        print("the Bot API stub did not start")
        return 1
    results: mp.Queue = context.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 3.0  # let every process import and connect first
    workers = [
        context.Process(target=run_dispatcher, args=(args.database_url, port, start_at, results))
        for _ in range(args.dispatchers)
    ]
    for worker in workers:
        worker.start()
    tallies = [results.get(timeout=args.count / 20 + 120) for _ in workers]
    for worker in workers:
        worker.join(30)
    stub.terminate()

    raw = [line.split("\t") for line in Path(log_path).read_text().splitlines()]
    lines = [(t, chat, text.split("|")[0]) for t, chat, text in raw]
    handed = sorted(float(text.split("|")[1]) for _, _, text in raw)
    delays = sorted(float(t) - float(text.split("|")[1]) for t, _, text in raw)
    os.unlink(log_path)
    times = sorted(float(t) for t, _, _ in lines)
    texts = Counter(text for _, _, text in lines)
    duplicates = sum(n - 1 for n in texts.values() if n > 1)
    missing = args.count - len(texts)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    peak = max_in_window(times)
    per_chat_peak = max(Counter(chat for _, chat, _ in lines).values(), default=0)
    print(f"reminders: {args.count}, dispatchers: {args.dispatchers}, backend: {args.database_url.split(':', 1)[0]}")
    print(f"sent (arrived at stub): {len(times)} in {span:.1f} s")
    print(f"average send rate: {rate:.2f} messages/s (target >= 29)")
    print(f"max in any 1-second window: {peak} (limit 30)")
    print(f"duplicates: {duplicates}, missed: {missing} (both must be 0)")
    print(f"most messages to one chat: {per_chat_peak}")
    print(f"max in any 1-second window when handed to the sender: {max_in_window(handed)}")
    if delays:
        print(
            f"hand-over to arrival: median {delays[len(delays) // 2] * 1000:.1f} ms, "
            f"99th percentile {delays[int(len(delays) * 0.99)] * 1000:.1f} ms, max {delays[-1] * 1000:.1f} ms"
        )
    late = sorted(x for t in tallies for x in t["lateness"])
    if late:
        print(
            f"slot to hand-over: median {late[len(late) // 2] * 1000:.1f} ms, "
            f"99th percentile {late[int(len(late) * 0.99)] * 1000:.1f} ms, max {late[-1] * 1000:.1f} ms"
        )
    print("per dispatcher sent: " + ", ".join(str(t["sent"]) for t in tallies))
    ok = peak <= 30 and rate >= 29 and duplicates == 0 and missing == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
