"""What reaches the log and the terminal: never the bot token, never what a person wrote.

Libraries log more than the companion would: httpx puts every request URL in
its log (the URL holds the token), python-telegram-bot prints the token when
Telegram refuses it and logs whole updates (what people typed) when one
cannot be parsed. Turning those loggers down is not enough: a level can be
changed, a library can add a handler of its own, and an ERROR record still
carries its traceback. So every record is made safe *as it is created*, by a
LogRecord factory, whichever logger made it and whichever handler writes it:

- The secrets the process holds (the bot token and its secret half, the
  webhook secret) are replaced by a name, in the message, the traceback and
  the stack. The bot token is ``[bot token]`` wherever it appears.
- Telegram objects (an Update, a Message) and raw data (dicts, lists, bytes:
  an update as received) given to a log call are replaced by their kind and
  update id: ``<update 42, content withheld>``.
- PTB's request layer (``telegram.request``) sees raw responses, and PTB's
  DEBUG lines hold whole requests and updates: their arguments are withheld
  whatever their type.
- When something was withheld, the record's traceback keeps its frames and
  exception types but not the exceptions' messages, which can quote the data.

What is printed without logging (a traceback of an uncaught exception, a
warning) goes through :func:`guard_streams`, which takes the same secrets
out of everything written to stdout and stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from telegram import TelegramObject

TOKEN_NAME = "[bot token]"
SECRET_HALF_MINIMUM = 8
"""A secret (or a token's secret half) shorter than this is not redacted alone: it would match
ordinary words. Telegram's tokens have 35 characters after the colon."""
WITHHELD = "<content withheld>"
RAW_DATA_LOGGERS = ("telegram.request",)
"""Loggers that only ever see raw requests and responses."""

_secrets: dict[str, str] = {}
_ordered: tuple[tuple[str, str], ...] = ()
_lock = threading.Lock()
_installed: Callable[..., logging.LogRecord] | None = None


def keep_secret(value: str | None, name: str = TOKEN_NAME) -> None:
    """Never let ``value`` reach a log or the terminal; it is shown as ``name``.

    A bot token's secret half (after the colon) is kept secret on its own too,
    since some messages quote only the part of a URL that holds it.
    """
    if not value or (len(value) < SECRET_HALF_MINIMUM and ":" not in value):
        return  # a very short secret (a one-letter webhook secret) would blank out ordinary words
    parts = [value]
    if ":" in value:
        half = value.split(":", 1)[1]
        if len(half) >= SECRET_HALF_MINIMUM:
            parts.append(half)
    global _ordered
    with _lock:
        for part in parts:
            _secrets[part] = name
        # Longest first, so the whole token is replaced before its half is looked for.
        _ordered = tuple(sorted(_secrets.items(), key=lambda item: -len(item[0])))
    install()


def redact(text: str) -> str:
    """``text`` with every kept secret replaced by its name."""
    for value, name in _ordered:
        if value in text:
            text = text.replace(value, name)
    return text


def install() -> None:
    """Make every log record safe as it is created (once per process; later calls do nothing)."""
    global _installed
    with _lock:
        if _installed is not None:
            return
        previous = logging.getLogRecordFactory()

        def safe_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return _make_safe(previous(*args, **kwargs))

        _installed = safe_record
        logging.setLogRecordFactory(safe_record)


def _make_safe(record: logging.LogRecord) -> logging.LogRecord:
    withheld = False
    if record.args:
        raw = record.name.startswith(RAW_DATA_LOGGERS) or (
            record.levelno < logging.INFO and record.name.split(".", 1)[0] == "telegram"
        )
        # A single dict given to a log call becomes record.args itself.
        values = (record.args,) if isinstance(record.args, Mapping) else tuple(record.args)
        safe = []
        for value in values:
            shown, hidden = _describe(value, raw)
            safe.append(shown)
            withheld = withheld or hidden
        if withheld:
            record.args = tuple(safe)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep the template only, never the values
        message = f"{record.msg} {WITHHELD}"
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        text = _types_only(error) if withheld else "".join(traceback.format_exception(error)).rstrip("\n")
        record.exc_text, record.exc_info = redact(text), None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class _Shown(str):
    """What stands in for a withheld value; the same with %s and %r (no quotes)."""

    def __repr__(self) -> str:
        return str(self)


def _describe(value: object, raw: bool) -> tuple[object, bool]:
    """(what the log may show of an argument, whether something was withheld)."""
    shown, hidden = _described(value, raw)
    return (_Shown(shown) if hidden else shown), hidden


def _described(value: object, raw: bool) -> tuple[object, bool]:
    if isinstance(value, TelegramObject):
        update_id = getattr(value, "update_id", None)
        kind = "update" if isinstance(update_id, int) else type(value).__name__
        return f"<{kind}{f' {update_id}' if isinstance(update_id, int) else ''}, content withheld>", True
    if isinstance(value, Mapping):
        update_id = _update_id(value)
        return (WITHHELD if update_id is None else f"<update {update_id}, content withheld>"), True
    if isinstance(value, list | tuple):
        ids = [_update_id(item) for item in value]
        if ids and all(update_id is not None for update_id in ids):  # updates as received
            return f"<updates {', '.join(str(update_id) for update_id in ids)}, content withheld>", True
        return WITHHELD, True
    if isinstance(value, set | frozenset | bytes | bytearray | memoryview):
        return WITHHELD, True
    if raw and not isinstance(value, int | float | BaseException):
        return WITHHELD, True
    return value, False


def _update_id(value: object) -> int | None:
    """The id of an update as received (a dict), if it has a whole number there."""
    update_id = value.get("update_id") if isinstance(value, Mapping) else None
    return update_id if isinstance(update_id, int) and not isinstance(update_id, bool) else None


def _types_only(error: BaseException) -> str:
    """A traceback with its frames and the exceptions' types, without their messages."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    blocks = []
    for exception in reversed(chain):  # the first cause first, as Python prints them
        kind = type(exception)
        frames = "".join(traceback.format_tb(exception.__traceback__))
        blocks.append(f"Traceback (most recent call last):\n{frames}{kind.__module__}.{kind.__qualname__} {WITHHELD}\n")
    return "\nThe above exception led to the following one:\n\n".join(blocks).rstrip("\n")


LOG_FORMATS = ("text", "json")
"""What ``companion run --log-format`` accepts."""
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object a line (time, level, logger, message, exception), for log collectors.

    The record was made safe when it was created (see the module's docstring),
    so this only serialises it; the text is passed through :func:`redact` once
    more in case a handler changed it since."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = _types_only(record.exc_info[1])
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(log_format: str = "text", stream: TextIO | None = None) -> None:
    """Log INFO and above to ``stream`` (stderr), as plain lines or as JSON (``log_format``).

    Like :func:`logging.basicConfig`, it leaves a process whose root logger
    already has handlers alone."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    install()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


class _RedactingStream:
    """A text stream that writes everything through :func:`redact`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_streams() -> Callable[[], None]:
    """Redact kept secrets from stdout and stderr; returns a function that undoes it."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, _RedactingStream):
        sys.stdout = _RedactingStream(sys.stdout)
    if not isinstance(sys.stderr, _RedactingStream):
        sys.stderr = _RedactingStream(sys.stderr)

    def restore() -> None:
        sys.stdout, sys.stderr = saved

    return restore
