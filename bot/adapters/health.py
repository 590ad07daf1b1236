"""``/healthz`` and ``/metrics`` on a small port of their own, for a load balancer and Prometheus.

Served by ``companion run`` on its own event loop with asyncio's streams (no
web framework), apart from the webhook's port so that it can stay private to
the machine or the cluster while the webhook faces the proxy:

- ``GET /healthz``: 200 when the database answers and its schema is the
  code's, else 503, with a one-line JSON body saying which.
- ``GET /metrics``: Prometheus' text format, counts only (turns, sends,
  429s, crisis cards, reminders waiting), never a person, an id or a word.

Anything else gets 404 or 405; a request line or headers over 8 KiB, or
slower than 5 seconds, are cut off. Nothing it answers depends on what a
request carries besides its method and path.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from bot.services.counts import Counts
from bot.services.operators import Operators, Status

log = logging.getLogger(__name__)

HEAD_LIMIT = 8 * 1024
"""The most a request line and its headers may take (no body is ever read)."""
READ_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str
    kind: str = "application/json"


REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


def metrics_text(counts: Counts, status: Status | None) -> str:
    """The Prometheus exposition of ``counts`` (and of what ``status`` found, when the database answered)."""
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, value: int) -> None:
        lines.extend((f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"))

    metric("companion_turns_total", "counter", "Conversation turns committed by this process.", counts.turns)
    metric(
        "companion_sends_total",
        "counter",
        "Messages, edits and files Telegram accepted from this process.",
        counts.sends,
    )
    metric(
        "companion_rate_limited_total",
        "counter",
        "Bot API answers of 429 (flood control) to this process.",
        counts.rate_limited,
    )
    metric(
        "companion_crisis_cards_total",
        "counter",
        "Replies from this process that carried the crisis card or the supporters' card.",
        counts.crisis_cards,
    )
    metric("companion_database_up", "gauge", "1 when the database answered this scrape.", int(status is not None))
    if status is not None:
        metric(
            "companion_schema_current", "gauge", "1 when the database schema is the code's.", int(status.schema_current)
        )
        metric(
            "companion_reminders_pending",
            "gauge",
            "Reminders waiting to be sent (all processes).",
            status.pending_reminders,
        )
        metric(
            "companion_reminders_due",
            "gauge",
            "Reminders due now and not yet sent (all processes).",
            status.due_reminders,
        )
        if status.outbox_depth is not None:
            metric("companion_outbox_depth", "gauge", "Messages waiting in the delivery outbox.", status.outbox_depth)
    return "\n".join(lines) + "\n"


class HealthServer:
    """The two endpoints over ``operators`` (the database) and ``counts`` (this process)."""

    def __init__(self, operators: Operators, counts: Counts) -> None:
        self.operators = operators
        self.counts = counts
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int | None:
        """The port it listens on (useful when started on port 0)."""
        if self._server is None or not self._server.sockets:
            return None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._serve, host, port, limit=HEAD_LIMIT)
        log.info("health and metrics on http://%s:%d/healthz and /metrics", host, self.port or port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _status(self) -> Status | None:
        try:
            return await self.operators.status()
        except Exception as error:  # the database is down: say so, never crash the bot
            log.warning("health check: the database did not answer (%s)", type(error).__name__)
            return None

    async def answer(self, method: str, path: str) -> Answer:
        path = path.split("?", 1)[0]
        if path not in ("/healthz", "/metrics"):
            return Answer(404, json.dumps({"error": "not found"}))
        if method not in ("GET", "HEAD"):
            return Answer(405, json.dumps({"error": "GET only"}))
        status = await self._status()
        if path == "/metrics":
            return Answer(200, metrics_text(self.counts, status), "text/plain; version=0.0.4; charset=utf-8")
        if status is None:
            return Answer(503, json.dumps({"database": "unreachable"}))
        body = {"database": "reachable", "schema": status.schema, "schema_current": status.schema_current}
        return Answer(200 if status.schema_current else 503, json.dumps(body))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            except (asyncio.LimitOverrunError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                return  # too long, cut short or too slow: closed without an answer
            parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            if len(parts) != 3:
                answer = Answer(400, json.dumps({"error": "bad request"}))
            else:
                answer = await self.answer(parts[0], parts[1])
            body = answer.body.encode()
            writer.write(
                (
                    f"HTTP/1.1 {answer.status} {REASONS[answer.status]}\r\n"
                    f"Content-Type: {answer.kind}\r\nContent-Length: {len(body)}\r\n"
                    "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
                ).encode()
                + (b"" if parts and parts[0] == "HEAD" else body)
            )
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
