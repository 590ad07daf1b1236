"""The bot's send limiter: never more than 30 calls to Telegram in any second, replies
before reminders before group messages, and a 429 pauses only the chat it was for.

Calls go through PTB's real ExtBot, with the limiter as its rate_limiter, to
the recording Bot API (with a network delay) or, for two processes, to a Bot
API on a loopback port; arrival times are taken where Telegram would see them.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.adapters.telegram.limiter import SendLimiter
from bot.adapters.telegram.sending import CompanionBot
from bot.services.send_budget import MemoryBudget, Priority
from bot.storage.repository import Storage
from tests.telegram.conftest import TOKEN
from tests.telegram.harness import RecordingRequest

DELAY = 0.02
"""Seconds each way between the bot and the Bot API."""
ROOT = Path(__file__).resolve().parents[2]


class Arrivals(RecordingRequest):
    """The recording Bot API, noting when each call arrives (half way through its round trip)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[tuple[float, str, Any]] = []

    async def do_request(
        self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        await asyncio.sleep(DELAY)
        name = url.rsplit("/", 1)[-1]
        chat = dict(request_data.parameters).get("chat_id") if request_data else None
        self.arrived.append((time.perf_counter(), name, chat))
        result = await super().do_request(url, method, request_data, *args, **kwargs)
        await asyncio.sleep(DELAY)
        return result


def most_in_one_second(times: list[float]) -> int:
    """The largest number of arrivals within any one-second window."""
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def a_bot(request: Arrivals, limiter: SendLimiter) -> CompanionBot:
    bot = CompanionBot(TOKEN, request=request, rate_limiter=limiter)
    await bot.initialize()
    return bot


async def test_no_second_holds_more_than_30_calls() -> None:
    request = Arrivals()
    bot = await a_bot(request, SendLimiter(MemoryBudget()))
    try:
        await asyncio.gather(*(bot.send_html(1000 + n, f"Hello {n}") for n in range(75)))
    finally:
        await bot.shutdown()
    sent = [moment for moment, name, _ in request.arrived if name == "sendMessage"]
    assert len(sent) == 75
    assert most_in_one_second(sent) == 30  # the budget is used, and never more


async def test_answering_a_press_is_never_held_back() -> None:
    request = Arrivals()
    bot = await a_bot(request, SendLimiter(MemoryBudget()))
    try:
        started = time.perf_counter()
        sends = asyncio.gather(*(bot.send_html(2000 + n, "Hello") for n in range(40)))
        await asyncio.sleep(0.1)
        await bot.answer_press("query-1")
        answered = next(moment for moment, name, _ in request.arrived if name == "answerCallbackQuery")
        await sends
    finally:
        await bot.shutdown()
    last_send = max(moment for moment, name, _ in request.arrived if name == "sendMessage")
    assert answered - started < last_send - started - 0.5  # it did not wait behind the 40 sends


async def test_replies_go_before_reminders_and_reminders_before_group_messages() -> None:
    request = Arrivals()
    # One permit, free again soon after each answer: every call waits its turn.
    bot = await a_bot(request, SendLimiter(MemoryBudget(permits=1, window=0.01)))
    chats = {Priority.GROUP: range(-900, -895), Priority.REMINDER: range(3000, 3005), Priority.REPLY: range(4000, 4005)}
    try:
        calls = []
        for priority in (Priority.GROUP, Priority.REMINDER, Priority.REPLY):  # the least urgent asks first
            for chat in chats[priority]:
                calls.append(asyncio.ensure_future(bot.send_chat_action(chat, "typing", rate_limit_args=int(priority))))
            await asyncio.sleep(0)
        await asyncio.gather(*calls)
    finally:
        await bot.shutdown()
    order = [chat for _, name, chat in request.arrived if name == "sendChatAction"]
    kinds = [
        next(priority for priority, ids in chats.items() if int(chat) in ids) for chat in order[1:]
    ]  # the first took the free permit before anyone else asked
    assert kinds == sorted(kinds), kinds


async def test_a_429_for_one_chat_pauses_only_that_chat() -> None:
    request = Arrivals()
    request.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    bot = await a_bot(request, SendLimiter(MemoryBudget()))
    try:
        started = time.perf_counter()
        slowed = asyncio.ensure_future(bot.send_html(5001, "First"))
        await asyncio.sleep(DELAY * 3)  # the 429 has come back
        await bot.send_html(5002, "Another chat")
        other = time.perf_counter()
        await slowed
        first = time.perf_counter()
    finally:
        await bot.shutdown()
    to_first = [chat for _, name, chat in request.arrived if name == "sendMessage" and int(chat) == 5001]
    assert len(to_first) == 2  # refused once, then sent
    assert other - started < 0.5  # the other chat was not paused
    assert first - started >= 1.0  # the refused chat waited as Telegram said


class WireLog:
    """A Bot API on a loopback port that notes when each call arrives (threads: calls overlap)."""

    def __init__(self) -> None:
        arrived: list[tuple[float, str]] = []
        self.arrived = arrived
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                method = self.path.rsplit("/", 1)[-1]
                with lock:
                    arrived.append((time.time(), method))
                bot = {"id": 7, "is_bot": True, "first_name": "SDM", "username": "SdmCompanionBot"}
                body = json.dumps({"ok": True, "result": bot if method == "getMe" else True}).encode()
                time.sleep(DELAY)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/bot"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


SENDER = """
import asyncio, sys
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest
from bot.adapters.telegram.limiter import SendLimiter
from bot.services.send_budget import SharedBudget
from bot.storage.repository import Storage

async def main(url, api, first, count, priority):
    storage = await Storage.open(url, migrate=False)
    limiter = SendLimiter(SharedBudget(storage))
    bot = ExtBot("123456:TEST-token", base_url=api, rate_limiter=limiter, request=HTTPXRequest(connection_pool_size=64))
    async with bot:
        await asyncio.gather(*(
            bot.send_chat_action(first + n, "typing", rate_limit_args=priority) for n in range(count)
        ))
    await storage.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
"""


async def test_two_processes_on_postgresql_never_send_more_than_30_in_a_second(
    pg_storage: Storage, postgres_url: str
) -> None:
    """A bot process and a reminder dispatcher process sending at once, one budget between them."""
    api = WireLog()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", SENDER, postgres_url, api.url, str(first), "45", str(int(priority))],
                env=env,
                cwd=ROOT,
            )
            for first, priority in ((10_000, Priority.REPLY), (20_000, Priority.REMINDER))
        ]
        for process in processes:
            assert await asyncio.to_thread(process.wait, 120) == 0
    finally:
        api.close()
    sent = [moment for moment, method in api.arrived if method == "sendChatAction"]
    assert len(sent) == 90
    assert most_in_one_second(sent) <= 30
