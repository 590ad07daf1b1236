"""A Bot API on a loopback port, for commands that open their own connection to Telegram.

The recording layer (harness.py) is handed to the Application in-process; a
command such as ``companion run`` or ``companion revoke-role`` builds its own
bot from settings, so these tests point COMPANION_BOT_API_URL here instead.
Every call is kept as (method, parameters).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT = {"id": 7, "is_bot": True, "first_name": "SDM", "username": "SdmCompanionBot"}
SENT = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}
"""What a send* method answers: a message, as Telegram does (PTB reads it)."""


class LocalBotApi:
    """Answers getMe with a bot, getUpdates with no updates and everything else with True, or with ``failure``
    (status, description); ``refuse_everything`` fails getMe too (a revoked token). With ``page`` a failure
    is a web page naming the path asked for, as some web servers answer a wrong address (the path holds
    the token). ``updates`` are handed out by the first getUpdates: a list as its result, or a string
    sent as the whole body (to send what does not parse). ``opening`` is how the first calls are answered,
    one item a call, before any of that: (status, description) fails the call (429 with a retry_after of
    1 s), a number of seconds answers it normally only after that long (longer than the client waits is a
    timeout)."""

    def __init__(
        self,
        failure: tuple[int, str] | None = None,
        *,
        refuse_everything: bool = False,
        page: bool = False,
        updates: list[Any] | str | None = None,
        opening: list[tuple[int, str] | float] | None = None,
    ) -> None:
        calls: list[tuple[str, dict[str, Any]]] = []
        self.calls = calls
        waiting = [updates] if updates is not None else []
        first = list(opening or [])

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                params = json.loads(raw) if "json" in self.headers.get("Content-Type", "") else dict(parse_qsl(raw))
                method = self.path.rsplit("/", 1)[-1]
                calls.append((method, params))
                kind = "application/json"
                fault = first.pop(0) if first else None
                if isinstance(fault, int | float):
                    time.sleep(fault)
                if isinstance(fault, tuple):
                    status, body = fault[0], {"ok": False, "error_code": fault[0], "description": fault[1]}
                    if fault[0] == 429:
                        body["parameters"] = {"retry_after": 1}
                elif failure is not None and (refuse_everything or method != "getMe"):
                    status, body = failure[0], {"ok": False, "error_code": failure[0], "description": failure[1]}
                    if page:
                        kind, body = "text/html", f"<pre>Cannot POST {self.path}</pre>"
                elif method == "getUpdates" and waiting:
                    given = waiting.pop()
                    status, body = 200, given if isinstance(given, str) else {"ok": True, "result": given}
                else:
                    result: Any = (
                        BOT
                        if method == "getMe"
                        else []
                        if method == "getUpdates"
                        else SENT
                        if method.startswith("send")
                        else True
                    )
                    status, body = 200, {"ok": True, "result": result}
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client stopped waiting (a timeout)
                    pass

            def log_message(self, *args: object) -> None:
                """Quiet."""

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/bot"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
