"""Two quick texts of one person, one to each of two webhook processes: applied in update-id order.

Telegram delivers a webhook's updates over many connections at once, so with
two bot processes behind one address the two texts of a quick double message
can reach different processes, in either order, milliseconds apart. A review
found 12-14% of such pairs applied out of order. Here two real webhook
processes (tests/telegram/webhook_process.py: PTB's Application and webhook
server, the recording Bot API) share one real PostgreSQL database; each trial
is a person at a question asking for typed words followed by another, whose
first text (the lower update id) goes to one process and second to the other,
0-5 ms apart, the second sent first half of the time. Every trial must keep
the first text as the first answer.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.content import load_catalog
from bot.services.conversation import Companion, Who
from bot.storage.repository import Storage
from flows.engine import Engine
from tests.conftest import fresh_storage

ROOT = Path(__file__).resolve().parents[2]
SECRET = "order-test-secret-long-enough-for-the-rule-0123"
FLOW, FIRST, SECOND = "what_we_agreed", "will_do", "who_does_what"
PEOPLE = 60
AT_ONCE = 6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_process(url: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.telegram.webhook_process", url, str(port), SECRET],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), timeout=60)
    assert line.strip() == "ready", f"the webhook process did not start: {line!r}"
    return child, f"http://127.0.0.1:{port}/telegram"


@pytest.fixture
async def two_processes(postgres_url: str) -> AsyncIterator[tuple[Storage, list[str]]]:
    storage = await fresh_storage(postgres_url)
    started = [await start_process(postgres_url) for _ in range(2)]
    try:
        yield storage, [address for _, address in started]
    finally:
        for child, _ in started:
            child.terminate()
        for child, _ in started:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        await storage.close()


def text_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Pat", "language_code": "en"},
            "text": text,
        },
    }


def said(answer: Any) -> str | None:
    """A typed answer as the person wrote it (some questions keep a list of lines)."""
    return " ".join(answer) if isinstance(answer, list) else answer


async def answers_of(storage: Storage, who: Who) -> dict[str, Any]:
    def work(tx: Any) -> dict[str, Any]:
        person = tx.person(who.channel, who.external_id)
        runs = [run for run in tx.runs(person.id) if run.flow_id == FLOW]
        return {key: value for key, (value, _) in tx.answers([runs[-1].id])[runs[-1].id].items()}

    return dict(await storage.run(work))


async def test_a_quick_double_message_split_across_two_processes_is_applied_in_order(
    two_processes: tuple[Storage, list[str]],
) -> None:
    storage, addresses = two_processes
    companion = Companion(storage, Engine(load_catalog()))
    people = [Who("telegram", str(700_000 + n)) for n in range(PEOPLE)]
    for who in people:
        await companion.join(who)
        reply = await companion.open(who, FLOW)
        assert reply.prompt is not None and reply.prompt.step == FIRST
    shuffle = random.Random(13)
    # Telegram numbers a bot's updates one after another, across everyone.
    plans = [(who, 10_000 + 2 * n, shuffle.random() < 0.5, shuffle.uniform(0, 0.005)) for n, who in enumerate(people)]
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    limit = asyncio.Semaphore(AT_ONCE)

    async with httpx.AsyncClient(timeout=30) as client:
        # The bot has been running: each process has handled a turn before these, and
        # the database has seen the update just before.
        for n, address in enumerate(addresses):
            warm = Who("telegram", str(699_998 + n))
            await companion.join(warm)
            await companion.open(warm, FLOW)
            hello = await client.post(address, json=text_update(9_998 + n, 699_998 + n, "hello"), headers=headers)
            assert hello.status_code == 200
        for n in range(2):
            for _ in range(400):
                if FIRST in await answers_of(storage, Who("telegram", str(699_998 + n))):
                    break
                await asyncio.sleep(0.025)

        async def post(address: str, body: dict[str, Any], delay: float) -> None:
            await asyncio.sleep(delay)
            answer = await client.post(address, json=body, headers=headers)
            assert answer.status_code == 200

        async def trial(who: Who, update_id: int, second_first: bool, gap: float) -> tuple[Who, dict[str, Any]]:
            user = int(who.external_id)
            first = text_update(update_id, user, f"first words {user}")
            second = text_update(update_id + 1, user, f"second words {user}")
            # Which process gets which text is chosen per person, as a load balancer would.
            a, b = addresses if user % 2 else addresses[::-1]
            async with limit:
                await asyncio.gather(
                    post(a, first, gap if second_first else 0.0), post(b, second, 0.0 if second_first else gap)
                )
                for _ in range(400):
                    answers = await answers_of(storage, who)
                    if FIRST in answers and SECOND in answers:
                        return who, answers
                    await asyncio.sleep(0.025)
            return who, await answers_of(storage, who)

        results = await asyncio.gather(*(trial(*plan) for plan in plans))

    in_order = [who for who, answers in results if said(answers.get(FIRST)) == f"first words {who.external_id}"]
    out_of_order = [who for who, answers in results if said(answers.get(FIRST)) == f"second words {who.external_id}"]
    unanswered = [who for who, answers in results if FIRST not in answers or SECOND not in answers]
    assert (len(out_of_order), len(unanswered)) == (0, 0), (
        f"{len(out_of_order)} of {PEOPLE} quick pairs applied out of order, {len(unanswered)} not both applied"
    )
    assert len(in_order) == PEOPLE
    for who, answers in results:
        assert said(answers[SECOND]) == f"second words {who.external_id}"
