"""How a feature adds itself to the Telegram companion without touching its core.

Care coordinators' and facilitators' journeys are features of their own, each
in its own module. A module builds an :class:`Extension` from the shared
:class:`~bot.adapters.telegram.handlers.TelegramCompanion` (so it can use its helpers:
``companion``, ``ui``, ``_send``, ``_registered``...) and declares:

- ``commands``: slash commands it answers (``/share``, ``/people``...);
- ``buttons``: the callback-data kinds it owns (a short prefix such as ``"h"``
  for ``h:<value>``); everything after the first colon is its value, which the
  handler must treat as untrusted;
- ``start_payloads``: deep-link payload prefixes (``/start r_<token>``). They
  run only for people who have agreed to the privacy notice: a payload opened
  before consent is carried through the consent button and run after it;
- ``public_commands``: commands listed in Telegram's menu for everyone;
- ``finished``: what to do after someone finishes one of its flows (the
  answers are already committed; e.g. tell the person a coordinator wrote
  down what was agreed). It runs after the reply to the person is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, Update

from bot.services.conversation import Reply, Who

if TYPE_CHECKING:
    from bot.adapters.telegram.handlers import TelegramCompanion

CommandFunction = Callable[[Update, Any], Awaitable[None]]
ButtonFunction = Callable[[Update, CallbackQuery, Who, str], Awaitable[None]]
StartFunction = Callable[[Update, Who, str], Awaitable[None]]
FinishedFunction = Callable[[Who, "Reply"], Awaitable[None]]


@dataclass
class Extension:
    name: str
    commands: dict[str, CommandFunction] = field(default_factory=dict)
    buttons: dict[str, ButtonFunction] = field(default_factory=dict)
    start_payloads: dict[str, StartFunction] = field(default_factory=dict)
    public_commands: tuple[str, ...] = ()
    finished: dict[str, FinishedFunction] = field(default_factory=dict)


ExtensionFactory = Callable[["TelegramCompanion"], Extension]
