"""Callback data for buttons: short, signed, and tied to the question they belong to.

Telegram gives 64 bytes of callback data and sends back whatever the client
says, so a button carries ``f:<token>:<button id>`` where the token is a keyed
hash (HMAC) of the flow, the step and the button. When the person presses it,
:class:`bot.services.conversation.Companion` checks the token against the step they are
on *in the same transaction* as the turn. A button from an older question, or
data somebody made up, changes nothing: it fails the check.

Other buttons are not tied to a question: consent (``c:``), the menu (``m:``),
language (``l:``), the erase confirmation (``d:``), the summary's
follow-ups (``s:``) and the safety question and card (``k:<choice>:<token>``,
the token tying "keep it as my answer" to the message it keeps; see bot.services.safety).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

CALLBACK_DATA_LIMIT = 64
TOKEN_LENGTH = 8
TOKENS_KEPT = 8192

CONSENT, MENU, LANGUAGE, DELETE, FLOW, SUMMARY, SAFETY = "c", "m", "l", "d", "f", "s", "k"


@dataclass(frozen=True, slots=True)
class Callback:
    kind: str
    value: str
    token: str = ""


class Signer:
    """Makes and checks the per-question tokens. The keys never leave the process.

    ``key`` signs new buttons; ``previous`` keys are still accepted, so buttons already
    in people's chats keep working while a key is rotated (COMPANION_CALLBACK_KEY and
    COMPANION_CALLBACK_KEYS_PREVIOUS, see bot/settings.py).
    """

    def __init__(self, key: bytes, previous: Iterable[bytes] = ()) -> None:
        self._key = _derive(key)
        self._previous = tuple(_derive(old) for old in previous if old and old != key)
        # A token depends only on the question and the button, and every turn checks
        # one and makes several: keep the most recent (bounded, so made-up data cannot grow it).
        self._tokens = functools.lru_cache(maxsize=TOKENS_KEPT)(self._token)

    def token(self, flow_id: str, step: str, button: str) -> str:
        return self._tokens(flow_id, step, button)

    def _token(self, flow_id: str, step: str, button: str, key: bytes | None = None) -> str:
        message = f"{flow_id}\0{step}\0{button}".encode()
        digest = hmac.new(key or self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:6]).decode()[:TOKEN_LENGTH]

    def flow_button(self, flow_id: str, step: str, button: str) -> str:
        data = f"{FLOW}:{self.token(flow_id, step, button)}:{button}"
        if len(data.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data for button '{button}' is longer than {CALLBACK_DATA_LIMIT} bytes")
        return data

    def matches(self, callback: Callback, flow_id: str, step: str) -> bool:
        if hmac.compare_digest(callback.token, self.token(flow_id, step, callback.value)):
            return True
        return any(
            hmac.compare_digest(callback.token, self._token(flow_id, step, callback.value, old))
            for old in self._previous
        )


def _derive(key: bytes) -> bytes:
    return hashlib.sha256(b"sdm-companion callback key\0" + key).digest()


def simple(kind: str, value: str) -> str:
    return f"{kind}:{value}"


def parse(data: str | None, extra_kinds: Iterable[str] = ()) -> Callback | None:
    """Read callback data; None if it is not something this companion made.

    ``extra_kinds`` are the prefixes feature extensions own (see bot.adapters.telegram.extensions).
    """
    if not data or len(data.encode()) > CALLBACK_DATA_LIMIT:
        return None
    kind, _, rest = data.partition(":")
    if kind == FLOW:
        token, _, button = rest.partition(":")
        if len(token) != TOKEN_LENGTH or not button:
            return None
        return Callback(FLOW, button, token)
    if (kind in (CONSENT, MENU, LANGUAGE, DELETE, SUMMARY, SAFETY) or kind in extra_kinds) and rest:
        return Callback(kind, rest)
    return None
