"""A crash loop you can rerun: people answer while `companion run` is killed again and again.

`companion run` is started as a real subprocess, polling a Bot API played by
this script on a loopback port, and its whole process group is SIGKILLed
1-3 s after it has started polling (``--kills`` times), then started again. Meanwhile ``--people``
simulated people answer the menu flows (goals, personal medicine, questions)
as a person would, from what their chat shows: they press the first option,
tick one box and press Done, and type a unique word (``ans<person>n<seq>``)
at every question that is answered by typing. A person who hears nothing for
``--patience`` seconds acts again on what they see (a new word at a typed
question). Updates the bot has not acknowledged are handed out again after a
kill, as Telegram does.

An answer is **confirmed** when, after the person typed it at a question, the
bot delivered a different question (or the end of the flow). After the last
kill the bot runs on until every person has heard back; then it is stopped
and every confirmed answer is looked up in the database:

- lost: a confirmed word is not in the database;
- doubled: a word is stored twice;
- wrong question: a word is stored under another question than the one the
  person saw when they typed it (or under another person);
- stuck: a person who, after the last kill, never heard back.

    python benchmarks/crash_loop.py                       # SQLite, in a temporary folder
    python benchmarks/crash_loop.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/crash

The PostgreSQL database's tables are dropped and made again: give it one of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bot.adapters.telegram.callbacks import Signer  # noqa: E402
from bot.content import load_catalog  # noqa: E402
from bot.storage.database import open_database  # noqa: E402
from bot.storage.repository import Storage, answers, people  # noqa: E402
from flows.schema import StepType  # noqa: E402
from flows.turns import BACK, DONE, MORE_NO, NAVIGATION, NEXT, PAUSE, RESTART, SKIP  # noqa: E402

TOKEN = "123456:crash-loop-token-not-a-real-one"
CALLBACK_KEY = "crash-loop-callback-key-for-the-benchmark-only"
FLOWS = ("goals", "personal_medicine", "questions")
BOT = {"id": 7, "is_bot": True, "first_name": "SDM", "username": "SdmCompanionBot"}


# --------------------------------------------------------------------------- the Bot API


@dataclass
class Shown:
    message_id: int
    text: str
    keyboard: list[list[dict[str, Any]]]
    seq: int
    """When it was sent or last edited (a global counter)."""


class FakeBotApi:
    """getUpdates hands out queued updates until acknowledged; sends and edits are kept per chat."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.updates: list[dict[str, Any]] = []
        self.acknowledged = 0
        self.handed_out: dict[int, int] = {}
        self.polls = 0
        self.chats: dict[int, dict[int, Shown]] = {}
        self.ids = itertools.count(1)
        self.update_ids = itertools.count(1)
        self.seq = itertools.count(1)
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                params = json.loads(raw) if "json" in self.headers.get("Content-Type", "") else dict(parse_qsl(raw))
                result = api.answer(self.path.rsplit("/", 1)[-1], params)
                data = json.dumps({"ok": True, "result": result}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                """Quiet."""

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                """A bot killed mid-request leaves a broken connection: nothing to report."""

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/bot"

    def put(self, update: dict[str, Any]) -> int:
        with self.lock:
            update_id = next(self.update_ids)
            self.updates.append({"update_id": update_id, **update})
            self.lock.notify_all()
            return update_id

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method == "getUpdates":
            with self.lock:
                self.polls += 1
            return self._get_updates(params)
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            return self._message(method, params)
        return True

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + wait
        with self.lock:
            if offset:
                self.acknowledged = max(self.acknowledged, offset - 1)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and time.monotonic() < deadline:
                self.lock.wait(deadline - time.monotonic())
            given = list(self.updates[:100])
            for update in given:
                self.handed_out[update["update_id"]] = self.handed_out.get(update["update_id"], 0) + 1
            return given

    def _message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        markup = params.get("reply_markup")
        keyboard = (json.loads(markup) if isinstance(markup, str) else markup or {}).get("inline_keyboard", [])
        with self.lock:
            chat = self.chats.setdefault(chat_id, {})
            if method == "sendMessage":
                message_id = next(self.ids)
                chat[message_id] = Shown(message_id, params.get("text", ""), keyboard, next(self.seq))
            else:
                message_id = int(params["message_id"])
                old = chat[message_id]
                new_text = params.get("text", old.text) if method == "editMessageText" else old.text
                chat[message_id] = Shown(message_id, new_text, keyboard, next(self.seq))
            shown = chat[message_id]
            self.lock.notify_all()
        return {
            "message_id": shown.message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "P"},
            "from": BOT,
            "text": shown.text,
            **({"reply_markup": {"inline_keyboard": keyboard}} if keyboard else {}),
        }

    def view(self, chat_id: int) -> list[Shown]:
        with self.lock:
            return sorted(self.chats.get(chat_id, {}).values(), key=lambda shown: shown.message_id)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- people


@dataclass
class Typed:
    person: int
    word: str
    flow: str
    step: str
    confirmed: bool = False


@dataclass
class Person:
    user_id: int
    words: list[Typed] = field(default_factory=list)
    actions: int = 0
    events: list[Any] = field(default_factory=list)
    last_heard: float = 0.0
    flows: itertools.cycle[str] = field(default_factory=lambda: itertools.cycle(FLOWS))
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": f"P{self.user_id}", "language_code": "en"}


class Steps:
    """Which question a message asks, read from its signed buttons (as the bot made them)."""

    def __init__(self) -> None:
        self.catalog = load_catalog(ROOT / "content")
        signer = Signer(CALLBACK_KEY.encode())
        self.by_data: dict[str, tuple[str, str]] = {}
        self.kinds: dict[tuple[str, str], StepType] = {}
        buttons = [*NAVIGATION, DONE, NEXT, MORE_NO, "~more", "~keep", "~why", "~suggested"]
        for flow in self.catalog.flows.values():
            for step in flow.steps:
                self.kinds[(flow.id, step.id)] = step.type
                options = [option.id for option in step.options or ()]
                ids = [*buttons, *options, *(f"+{o}" for o in options), *(f"-{o}" for o in options)]
                for button in ids:
                    with contextlib.suppress(ValueError):
                        self.by_data[signer.flow_button(flow.id, step.id, button)] = (flow.id, step.id)
                # The "add another?" step of a repeated question.
                for button in buttons:
                    with contextlib.suppress(ValueError):
                        self.by_data[signer.flow_button(flow.id, f"{step.id}__again", button)] = (
                            flow.id,
                            f"{step.id}__again",
                        )

    def of(self, shown: Shown) -> tuple[str, str] | None:
        for row in shown.keyboard:
            for key in row:
                found = self.by_data.get(key.get("callback_data", ""))
                if found is not None:
                    return found
        return None


def message_update(person: Person, words: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 1_000_000 + next(person.seq),
        "date": int(time.time()),
        "chat": {"id": person.user_id, "type": "private", "first_name": "P"},
        "from": person.user,
        "text": words,
    }
    if words.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(words.split()[0])}]
    return {"message": message}


def press_update(person: Person, shown: Shown, data: str) -> dict[str, Any]:
    message = {
        "message_id": shown.message_id,
        "date": int(time.time()),
        "chat": {"id": person.user_id, "type": "private", "first_name": "P"},
        "from": BOT,
        "text": shown.text,
        "reply_markup": {"inline_keyboard": shown.keyboard},
    }
    return {
        "callback_query": {
            "id": f"q{person.user_id}-{next(person.seq)}",
            "from": person.user,
            "chat_instance": f"ci{person.user_id}",
            "data": data,
            "message": message,
        }
    }


def buttons_of(shown: Shown) -> list[tuple[str, str]]:
    return [(key["text"], key.get("callback_data", "")) for row in shown.keyboard for key in row]


async def act(api: FakeBotApi, steps: Steps, person: Person, stop: asyncio.Event, patience: float) -> None:
    """Act on what the chat shows, wait to hear back, again and again."""
    api.put(message_update(person, "/start"))
    while not stop.is_set():
        before = api.view(person.user_id)
        latest_seq = max((shown.seq for shown in before), default=0)
        # What a person answers is the newest message: a question with its buttons. The newest
        # being an answered one (its buttons gone) means the next has not come: they ask for the menu.
        current = before[-1] if before and before[-1].keyboard else None
        typed: Typed | None = None
        if current is None:
            api.put(message_update(person, "/start" if not before else "/menu"))
        else:
            typed = choose(api, steps, person, current)
        person.events.append(
            [round(time.time(), 3), "saw", current.message_id if current else None]
            + (list(steps.of(current) or ()) if current else [])
            + ([typed.word] if typed else [])
        )
        person.actions += 1
        heard = await hear_back(api, person, latest_seq, current.message_id if current else 0, stop, patience)
        if heard is not None:
            person.events.append([round(time.time(), 3), "heard", heard.message_id, *(steps.of(heard) or ())])
            person.last_heard = time.monotonic()
            if typed is not None:
                where = steps.of(heard) if heard.keyboard else None
                typed.confirmed = where != (typed.flow, typed.step)


def choose(api: FakeBotApi, steps: Steps, person: Person, shown: Shown) -> Typed | None:
    pairs = buttons_of(shown)
    datas = [data for _, data in pairs]
    if any(data.startswith("c:yes") for data in datas):
        api.put(press_update(person, shown, next(d for d in datas if d.startswith("c:yes"))))
        return None
    if any(data.startswith("k:") for data in datas):
        data = next((d for d in datas if d.startswith("k:no")), datas[0])
        api.put(press_update(person, shown, data))
        return None
    if any(data.startswith("m:") for data in datas):
        wanted = next(person.flows)
        data = next((d for d in datas if d == f"m:{wanted}"), None) or next(d for d in datas if d.startswith("m:"))
        api.put(press_update(person, shown, data))
        return None
    where = steps.of(shown)
    if where is None:
        api.put(message_update(person, "/menu"))
        return None
    flow_id, step_id = where
    kind = steps.kinds.get(where)
    own = [data for data in datas if data.startswith("f:") and data.rsplit(":", 1)[1] not in NAVIGATION]
    if step_id.endswith("__again"):
        data = next((d for d in own if d.endswith(f":{MORE_NO}")), own[0] if own else datas[0])
        api.put(press_update(person, shown, data))
        return None
    if kind is StepType.text:
        word = f"ans{person.user_id}n{next(person.seq)}"
        typed = Typed(person.user_id, word, flow_id, step_id)
        person.words.append(typed)
        api.put(message_update(person, word))
        return typed
    if kind is StepType.checklist:
        ticked = any(label.startswith("✅") for label, _ in pairs)
        done = next((d for d in own if d.endswith(f":{DONE}")), None)
        options = [d for d in own if d.rsplit(":", 1)[1].startswith("+")]
        data = done if (ticked and done) or not options else options[0]
        api.put(press_update(person, shown, data))
        return None
    skip_these = (BACK, SKIP, PAUSE, RESTART)
    data = next((d for d in own if d.rsplit(":", 1)[1] not in skip_these), datas[0])
    api.put(press_update(person, shown, data))
    return None


async def hear_back(
    api: FakeBotApi, person: Person, after_seq: int, current: int, stop: asyncio.Event, patience: float
) -> Shown | None:
    """The reply to what the person just did: a new message, or the question they answered changed
    in place (a tick), once the bot has been quiet a moment. An older message edited late (the
    echo under a question answered before) is not a reply."""

    def replies() -> list[Shown]:
        return [
            shown
            for shown in api.view(person.user_id)
            if shown.seq > after_seq and shown.message_id >= current and (shown.message_id > current or shown.keyboard)
        ]

    deadline = time.monotonic() + patience
    while time.monotonic() < deadline and not stop.is_set():
        if replies():
            await asyncio.sleep(0.15)  # a reply can come in parts
            return max(replies(), key=lambda shown: shown.seq)
        await asyncio.sleep(0.05)
    return None


# --------------------------------------------------------------------------- the bot


def start_bot(api: FakeBotApi, database: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "COMPANION_BOT_API_URL": api.url,
        "COMPANION_DATABASE_URL": database,
        "COMPANION_CALLBACK_KEY": CALLBACK_KEY,
    }
    command = [str(Path(sys.executable).parent / "companion"), "run"]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


async def polling(api: FakeBotApi, limit: float = 60.0) -> None:
    """Until the bot (just started) asks for updates: it has started, and the kill comes 1-3 s after."""
    with api.lock:
        before = api.polls
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with api.lock:
            if api.polls > before:
                return
        await asyncio.sleep(0.05)


def kill(bot: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(bot.pid, signal.SIGKILL)
    bot.wait()


async def fresh_database(url: str) -> str:
    """A PostgreSQL database emptied (its tables are made by `companion run`'s migrations)."""
    if url.startswith("postgresql"):
        database = open_database(url)
        await database.drop_schema()
        await database.dispose()
    return url


async def read_answers(url: str) -> list[tuple[int, str, str, Any]]:
    """(person's Telegram id, flow, step, value) for every answer in the database."""
    storage = await Storage.open(url, migrate=False)
    try:
        rows = await storage.run(
            lambda tx: tx.connection.execute(
                select(people.c.external_id, answers.c.flow_id, answers.c.key, answers.c.value).join(
                    people, people.c.id == answers.c.person_id
                )
            ).all()
        )
    finally:
        await storage.close()
    return [(int(row[0]), row[1], row[2], row[3]) for row in rows]


async def main(arguments: argparse.Namespace) -> dict[str, Any]:
    random.seed(arguments.seed)
    steps = Steps()
    api = FakeBotApi()
    folder = Path(tempfile.mkdtemp(prefix="crash-loop-"))
    database = await fresh_database(arguments.database or f"sqlite:///{folder / 'companion.db'}")
    log = folder / "bot.log"
    people = [Person(6000 + index) for index in range(arguments.people)]
    stop = asyncio.Event()
    bot = start_bot(api, database, log)
    tasks = [asyncio.create_task(act(api, steps, person, stop, arguments.patience)) for person in people]
    kills = 0
    started = last_kill = time.monotonic()
    try:
        for _ in range(arguments.kills):
            await polling(api)
            await asyncio.sleep(random.uniform(1.0, 3.0))
            kill(bot)
            kills += 1
            bot = start_bot(api, database, log)
        last_kill = time.monotonic()
        # Let everyone hear back after the last kill.
        deadline = time.monotonic() + arguments.settle
        while time.monotonic() < deadline and not all(p.last_heard > last_kill for p in people):
            await asyncio.sleep(0.5)
        await asyncio.sleep(3.0)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        kill(bot)
        api.close()
    stuck = [p.user_id for p in people if p.last_heard <= last_kill]
    stored = await read_answers(database)
    by_word: dict[str, list[tuple[int, str, str]]] = {}
    for person_id, flow_id, key, value in stored:
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str) and item.startswith("ans"):
                by_word.setdefault(item, []).append((person_id, flow_id, key))
    words = [typed for person in people for typed in person.words]
    confirmed = [typed for typed in words if typed.confirmed]
    lost = [t for t in confirmed if t.word not in by_word]
    doubled = [word for word, places in by_word.items() if len(places) > 1]
    wrong = [
        t for t in words if t.word in by_word and any(place != (t.person, t.flow, t.step) for place in by_word[t.word])
    ]
    unconfirmed_saved = [t for t in words if not t.confirmed and t.word in by_word]
    text_log = log.read_text(errors="replace")
    (folder / "people.json").write_text(json.dumps({p.user_id: p.events for p in people}))
    redelivered = sum(1 for count in api.handed_out.values() if count > 1)
    return {
        "database": "postgresql" if database.startswith("postgresql") else "sqlite",
        "kills": kills,
        "seconds": round(time.monotonic() - started, 1),
        "people": len(people),
        "actions": sum(p.actions for p in people),
        "typed": len(words),
        "confirmed": len(confirmed),
        "confirmed_lost": len(lost),
        "doubled": len(doubled),
        "wrong_question": len(wrong),
        "stuck": len(stuck),
        "unconfirmed_but_saved": len(unconfirmed_saved),
        "updates_handed_out_again": redelivered,
        "errors_in_log": text_log.count(" ERROR "),
        "log": str(log),
        "examples": {
            "lost": [(t.word, t.flow, t.step) for t in lost[:5]],
            "wrong": [(t.word, t.step, by_word.get(t.word)) for t in wrong[:5]],
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--patience", type=float, default=20.0, help="seconds a person waits before acting again")
    parser.add_argument(
        "--settle", type=float, default=60.0, help="seconds after the last kill for everyone to hear back"
    )
    parser.add_argument("--seed", type=int, default=1)
    result = asyncio.run(main(parser.parse_args()))
    print(json.dumps(result, indent=2))
    failing = ("confirmed_lost", "doubled", "wrong_question", "stuck")
    sys.exit(1 if any(result[name] for name in failing) else 0)
