"""Drive the real PTB Application offline: a request layer that answers like the Bot API.

:class:`RecordingRequest` is a ``telegram.request.BaseRequest``: PTB's Bot
sends it every API call it would send to Telegram; it records the call and
answers the way the Bot API does (messages get ids, HTML is parsed into text
and entities, edits change the stored message, and the Bot API's own
refusals happen here too: text over 4096 characters, bad HTML, callback data
over 64 bytes, an edit that changes nothing). Nothing is mocked on our side:
handlers, processor, storage and engine are the real ones.

:class:`Person` plays one Telegram user: ``await alice.says("hi")``,
``await alice.taps("Yes")``; ``alice.chat`` is what their screen shows.

Reusable by any test or benchmark: build the application with
``request=RecordingRequest()`` and ``rate_limit=False``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from telegram import Update
from telegram.error import TimedOut
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "SDM Companion", "username": "sdm_companion_test_bot"}
_ENTITY_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
}


_STRAY_BRACKET = re.compile(r"<(?!/?[a-zA-Z][a-zA-Z-]*(?:\s[^<>]*)?>)|(?<![a-zA-Z\"'/-])>")


class ApiRefusal(Exception):
    """The Bot API would refuse this call (400)."""


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHtml(HTMLParser):
    """Telegram's HTML parse mode: a few tags, everything else is an error."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.entities: list[dict[str, Any]] = []
        self._open: list[tuple[str, int, dict[str, Any]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ENTITY_TAGS:
            raise ApiRefusal(f'Can\'t parse entities: unsupported start tag "{tag}"')
        self._open.append((tag, _utf16_length(self.text), dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            raise ApiRefusal(f'Can\'t parse entities: unexpected end tag "{tag}"')
        name, start, attrs = self._open.pop()
        length = _utf16_length(self.text) - start
        if length:
            entity: dict[str, Any] = {"type": _ENTITY_TAGS[name], "offset": start, "length": length}
            if name == "a":
                entity["url"] = attrs.get("href", "")
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.text += data

    def parse(self, html: str) -> tuple[str, list[dict[str, Any]]]:
        if _STRAY_BRACKET.search(html):
            raise ApiRefusal("Can't parse entities: unsupported start tag")
        self.feed(html)
        self.close()
        if self._open:
            raise ApiRefusal(f"Can't parse entities: can't find end tag \"{self._open[-1][0]}\"")
        return self.text, sorted(self.entities, key=lambda e: e["offset"])


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    return _TelegramHtml().parse(html)


@dataclass
class Call:
    """One Bot API call: its method name, parameters (as JSON values) and any files."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def text(self) -> str | None:
        return self.params.get("text")

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """The inline keyboard as rows of (label, callback data)."""
        return keyboard_of(self.params.get("reply_markup"))


def keyboard_of(markup: Any) -> list[list[tuple[str, str]]]:
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not markup:
        return []
    return [[(key["text"], key.get("callback_data", "")) for key in row] for row in markup.get("inline_keyboard", [])]


class RecordingRequest(BaseRequest):
    """Answers like the Bot API, keeps every chat's messages, and records every call."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._by_chat: dict[int, dict[int, dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._failures: dict[str, list[tuple[int, dict[str, Any]] | None]] = {}
        self._timeouts: dict[str, list[bool]] = {}
        self.answering_seconds = 0.0
        """Time spent playing Telegram (parsing HTML, keeping chats, making answers):
        work Telegram's servers do, which benchmarks can tell apart from the bot's."""

    # ------------------------------------------------------------------ BaseRequest

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        started = time.perf_counter()
        try:
            return self._do_request(url, request_data)
        finally:
            self.answering_seconds += time.perf_counter() - started

    def _do_request(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = {}
        if request_data is not None and request_data.contains_files:
            for part, value in request_data.multipart_data.items():
                content = value[1]
                files[part] = (value[0], content if isinstance(content, bytes) else content.read())
        self.calls.append(Call(name, params, files))
        timeouts = self._timeouts.get(name)
        if timeouts:
            # As httpx does when no answer comes in time: PTB raises TimedOut. The Bot API may
            # or may not have carried the call out.
            if timeouts.pop(0):
                self._answer(name, params, files)
            raise TimedOut("Timed out")
        queued = self._failures.get(name)
        failure = queued.pop(0) if queued else None
        if failure is not None:
            status, body = failure
            return status, json.dumps(body).encode()
        try:
            result = self._answer(name, params, files)
        except ApiRefusal as refusal:
            return 400, json.dumps({"ok": False, "error_code": 400, "description": f"Bad Request: {refusal}"}).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # ------------------------------------------------------------------ test helpers

    def fail_next(self, method: str, status: int, description: str, *, after: int = 0, **parameters: Any) -> None:
        """Make the next call of ``method`` (or the one ``after`` more calls) fail the way Telegram
        would (e.g. 429 RetryAfter)."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self._failures.setdefault(method, []).extend([None] * after)
        self._failures[method].append((status, body))

    def time_out_next(self, method: str, *, carried_out: bool = False) -> None:
        """Make the next call of ``method`` time out (with ``carried_out``, after the Bot API did it)."""
        self._timeouts.setdefault(method, []).append(carried_out)

    def take(self) -> list[Call]:
        """The calls since the last take (and forget them)."""
        calls, self.calls = self.calls, []
        return calls

    def chat(self, chat_id: int) -> list[dict[str, Any]]:
        """A chat's messages as the person sees them now, oldest first."""
        return list(self._by_chat.get(chat_id, {}).values())

    # ------------------------------------------------------------------ the Bot API

    def _answer(self, name: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        if name == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if name in {
            "setMyCommands",
            "deleteMyCommands",
            "setWebhook",
            "deleteWebhook",
            "sendChatAction",
            "close",
            "logOut",
        }:
            return True
        if name == "getUpdates":
            return []
        if name == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if name == "answerCallbackQuery":
            if len(params.get("text") or "") > 200:
                raise ApiRefusal("MESSAGE_TOO_LONG")
            return True
        if name == "sendMessage":
            return self._new_message(params, self._text_fields(params))
        if name == "sendDocument":
            document = params.get("document", "")
            filename = next(iter(files.values()))[0] if files else str(document)
            fields: dict[str, Any] = {
                "document": {"file_id": f"doc{next(self._ids)}", "file_unique_id": "u", "file_name": filename}
            }
            if params.get("caption"):
                fields["caption"] = params["caption"]
            return self._new_message(params, fields)
        if name == "editMessageText":
            message = self._message(params)
            fields = self._text_fields(params)
            markup = self._markup(params)
            if fields["text"] == message.get("text") and markup == message.get("reply_markup"):
                raise ApiRefusal(
                    "message is not modified: specified new message content and reply markup are exactly the same"
                )
            message.update(fields)
            self._set_markup(message, markup)
            return message
        if name == "editMessageReplyMarkup":
            message = self._message(params)
            markup = self._markup(params)
            if markup == message.get("reply_markup"):
                raise ApiRefusal("message is not modified")
            self._set_markup(message, markup)
            return message
        if name == "deleteMessage":
            self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
            self._by_chat.get(int(params["chat_id"]), {}).pop(int(params["message_id"]), None)
            return True
        return True

    def _text_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = params.get("text") or ""
        if params.get("parse_mode") == "HTML":
            text, entities = parse_html(raw)
        else:
            text, entities = raw, []
        if not text.strip():
            raise ApiRefusal("message text is empty")
        if _utf16_length(text) > 4096:
            raise ApiRefusal("message is too long")
        fields: dict[str, Any] = {"text": text}
        if entities:
            fields["entities"] = entities
        return fields

    def _markup(self, params: dict[str, Any]) -> Any:
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in (markup or {}).get("inline_keyboard", []):
            for key in row:
                data = key.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiRefusal("BUTTON_DATA_INVALID")
                if not key.get("text"):
                    raise ApiRefusal("BUTTON_TEXT_EMPTY")
        return markup or None

    @staticmethod
    def _set_markup(message: dict[str, Any], markup: Any) -> None:
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)

    def _new_message(self, params: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message_id = next(self._ids)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            **fields,
        }
        self._set_markup(message, self._markup(params))
        self.messages[(chat_id, message_id)] = message
        self._by_chat.setdefault(chat_id, {})[message_id] = message
        return message

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise ApiRefusal("message to edit not found")
        return self.messages[key]


# ---------------------------------------------------------------------- people and updates


class Updates:
    """Builds updates the way Telegram sends them, with increasing update ids."""

    def __init__(self, application: Application, first_update_id: int = 100_000) -> None:
        self.application = application
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(1_000_000)
        self._query_ids = itertools.count(1)

    def build(self, payload: dict[str, Any], update_id: int | None = None) -> Update:
        data = {"update_id": next(self._update_ids) if update_id is None else update_id, **payload}
        return Update.de_json(data, self.application.bot)

    def message(self, user: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
                "from": user,
                **fields,
            }
        }

    def text(self, user: dict[str, Any], text: str) -> Update:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.build(self.message(user, **fields))

    def press(self, user: dict[str, Any], message: dict[str, Any] | None, data: str) -> Update:
        query: dict[str, Any] = {
            "id": str(next(self._query_ids)),
            "from": user,
            "chat_instance": f"ci{user['id']}",
            "data": data,
        }
        if message is not None:
            query["message"] = message
        return self.build({"callback_query": query})


class Person:
    """One Telegram user talking to the companion through the real Application."""

    def __init__(self, harness: TelegramHarness, user_id: int, first_name: str, language_code: str = "en") -> None:
        self.harness = harness
        self.user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}

    @property
    def id(self) -> int:
        return self.user["id"]

    @property
    def chat(self) -> list[dict[str, Any]]:
        return self.harness.request.chat(self.id)

    @property
    def last(self) -> dict[str, Any]:
        return self.chat[-1]

    def keyboard_message(self) -> dict[str, Any]:
        """The newest message that has buttons."""
        for message in reversed(self.chat):
            if message.get("reply_markup"):
                return message
        raise AssertionError("no message with buttons in the chat")

    def button(self, label: str, message: dict[str, Any] | None = None) -> str:
        """The callback data of the button with this exact label."""
        message = message or self.keyboard_message()
        for row in keyboard_of(message.get("reply_markup")):
            for text, data in row:
                if text == label:
                    return data
        raise AssertionError(f"no button {label!r} in {keyboard_of(message.get('reply_markup'))}")

    def update_text(self, text: str) -> Update:
        return self.harness.updates.text(self.user, text)

    def update_press(self, label: str, message: dict[str, Any] | None = None) -> Update:
        message = message or self.keyboard_message()
        return self.harness.updates.press(self.user, message, self.button(label, message))

    async def says(self, text: str) -> list[Call]:
        return await self.harness.process(self.update_text(text))

    async def taps(self, label: str, message: dict[str, Any] | None = None) -> list[Call]:
        return await self.harness.process(self.update_press(label, message))

    async def sends(self, **fields: Any) -> list[Call]:
        """A message without text (photo, sticker, voice, location, ...)."""
        return await self.harness.process(self.harness.updates.build(self.harness.updates.message(self.user, **fields)))


class TelegramHarness:
    """The Application, its recording request layer, and people to talk to it."""

    def __init__(self, application: Application, request: RecordingRequest, first_update_id: int = 100_000) -> None:
        self.application = application
        self.request = request
        self.updates = Updates(application, first_update_id)

    def person(self, user_id: int, first_name: str = "Sam", language_code: str = "en") -> Person:
        return Person(self, user_id, first_name, language_code)

    async def process(self, update: Update) -> list[Call]:
        """Handle one update exactly as PTB would (``Application.process_update``); return the calls made."""
        self.request.take()
        await self.application.process_update(update)
        return self.request.take()

    async def deliver(self, *updates: Update) -> None:
        """Hand updates to the update processor concurrently, as PTB's fetcher does."""
        application = self.application
        await asyncio.gather(
            *(application.update_processor.process_update(u, application.process_update(u)) for u in updates)
        )


def shown(message: dict[str, Any]) -> list[str]:
    """Every button label of a message, row by row."""
    return [label for row in keyboard_of(message.get("reply_markup")) for label, _ in row]
