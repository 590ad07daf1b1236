"""How a feature joins the Telegram companion: what it answers, and the core it may use.

Each feature (sharing, coordinators, groups, reminders, the summary, privacy,
the small commands) is a module that builds a :class:`Feature` from the
:class:`Core` and declares what it answers:

- ``commands``: slash commands (``/share``, ``/people``...);
- ``buttons``: the callback-data kinds it owns (a short prefix such as ``"sh"``
  for ``sh:<value>``); routed to it by PTB's own pattern matching. The value is
  untrusted: it only says what to *try*;
- ``start_payloads``: deep-link payload prefixes (``/start r_<token>``), run
  only for people who have agreed to the privacy notice (a payload opened
  before consent is carried through the consent button);
- ``public_commands``: commands listed in Telegram's menu for everyone;
- ``finished``: what to say after someone finishes one of its flows (the
  answers are committed; it runs after the reply is shown).

Features depend on the :class:`Core` protocol only, never on each other or on
the class that implements it, and are composed explicitly in app.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram import CallbackQuery, Message, Update

from bot.adapters.telegram.chat import Chat
from bot.adapters.telegram.render import Rendered
from bot.services.app import Services
from bot.services.conversation import Reply, Who
from flows.texts import UiTexts

CommandFunction = Callable[[Update, Any], Coroutine[Any, Any, None]]
ButtonFunction = Callable[[Update, CallbackQuery, Who, str], Awaitable[None]]
StartFunction = Callable[[Update, Who, str], Awaitable[None]]
FinishedFunction = Callable[[Who, Reply], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Registered:
    """Someone who agreed to the privacy notice, writing in a chat (from a command or a message)."""

    who: Who
    language: str
    chat_id: int


@dataclass(frozen=True, slots=True)
class Pressed:
    """Someone who agreed, pressing a button (the press is answered and its update claimed)."""

    who: Who
    language: str
    chat_id: int
    message: Message | None
    person_id: int


class Core(Protocol):
    """What the core of the Telegram companion offers every feature."""

    services: Services
    chat: Chat
    ui: UiTexts
    features: list[Feature]

    def text(self, key: str, language: str, **params: object) -> str: ...

    async def language_of(self, who: Who, fallback_code: str | None = None) -> str: ...

    async def registered(self, update: Update, *, claim: bool = True) -> Registered | None:
        """The person if they agreed (and the update is new); otherwise they are asked for consent."""
        ...

    async def pressed(self, update: Update, query: CallbackQuery, who: Who) -> Pressed | None:
        """Answer the press; the presser if they agreed and the press is new (else consent is asked)."""
        ...

    async def ask_consent(
        self, chat_id: int, language: str, *, first: bool, payload: str = "", before: Sequence[str] = ()
    ) -> None: ...

    async def show_reply(self, chat_id: int, who: Who, reply: Reply, language: str) -> None: ...

    async def close_and_reply(
        self, message: Message | None, query: CallbackQuery, who: Who, reply: Reply, language: str
    ) -> None: ...

    async def moved_on(self, query: CallbackQuery, who: Who, language_code: str | None) -> None: ...

    async def send_menu(self, chat_id: int, who: Who, language: str, before: Sequence[str] = ()) -> None: ...

    async def say(self, chat_id: int, texts: Sequence[str], pairs: Sequence[tuple[str, str]] = ()) -> None:
        """Plain texts, with a button for each (label, callback data) pair."""
        ...

    async def tell(self, person_channel: str, external_id: str, rendered: Rendered) -> bool:
        """Send to someone other than the one who acted; False if Telegram will not deliver it."""
        ...

    def bot_username(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    commands: Mapping[str, CommandFunction] = field(default_factory=dict)
    buttons: Mapping[str, ButtonFunction] = field(default_factory=dict)
    start_payloads: Mapping[str, StartFunction] = field(default_factory=dict)
    public_commands: tuple[str, ...] = ()
    finished: Mapping[str, FinishedFunction] = field(default_factory=dict)


FeatureFactory = Callable[[Core], Feature]
