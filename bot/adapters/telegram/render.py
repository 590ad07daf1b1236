"""Turn the engine's prompts and texts into Telegram messages (HTML) and keyboards.

Everything a person or an author wrote is HTML-escaped here, so a "<" in an
answer or a flow never breaks a message. Messages longer than Telegram's 4096
characters are split between paragraphs; only the last part carries the
buttons.

A question answered by typing (free text with nothing to tap but Back, Skip,
Pause or "Why do you ask?") has no buttons: it says the words that do the
same ("skip", "back"...), which the adapter reads as those buttons. That way
a typed answer costs one message, and no question above it keeps buttons
(see "Fewer calls per answer" in the README).

Option labels longer than :data:`LONG_LABEL` do not fit a phone-width button,
so such questions list the options as numbered lines in the message and the
buttons carry the numbers.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.adapters.telegram.callbacks import SAFETY
from bot.services.safety import SafetyPrompt
from flows.schema import StepType
from flows.turns import BACK, PAUSE, RESTART, SKIP, WHY, Button, Prompt

MESSAGE_LIMIT = 4096
LONG_LABEL = 30
"""Longest option label shown on a button; longer ones become a numbered list."""
NUMBERS_PER_ROW = 5
SCALE_PER_ROW = 6
SHORT_NAVIGATION = 12
"""Navigation labels this short share a row (up to three)."""

TYPED_WORDS = {BACK: "words_back", WHY: "words_why", SKIP: "words_skip", PAUSE: "words_pause", RESTART: "words_restart"}
"""Navigation a typed question offers as words: button id -> the ui text listing its words."""

Text = Callable[..., str]
"""Looks up an interface text for the person's language: text(key, **params)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready to send: HTML parts (each ≤ 4096) and the keyboard for the last."""

    parts: tuple[str, ...]
    keyboard: InlineKeyboardMarkup | None = None

    def after(self, texts: Sequence[str]) -> Rendered:
        """The same message with plain texts (escaped here) said first; the keyboard is reused."""
        if not texts:
            return self
        return replace(self, parts=tuple(split_html([*(escape(text) for text in texts), *self.parts])))


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def split_html(blocks: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join HTML blocks with blank lines into messages of at most ``limit`` characters.

    A block is whole HTML (tags balanced). A block longer than the limit must
    be plain escaped text; it is cut at a line break or space, never inside an
    entity like ``&amp;``.
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        if not block:
            continue
        for piece in _cut(block, limit):
            candidate = f"{current}\n\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def _cut(block: str, limit: int) -> list[str]:
    pieces = []
    while len(block) > limit:
        window = block[:limit]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        entity = window.rfind("&", 0, cut)
        if entity != -1 and ";" not in window[entity:cut]:
            cut = entity
        pieces.append(block[:cut].rstrip())
        block = block[cut:].lstrip()
    pieces.append(block)
    return [piece for piece in pieces if piece]


def text_message(texts: Sequence[str], keyboard: InlineKeyboardMarkup | None = None) -> Rendered:
    """Plain texts (escaped here), one paragraph each."""
    return Rendered(tuple(split_html(escape(text) for text in texts)), keyboard)


def long_options(prompt: Prompt) -> bool:
    return prompt.kind in (StepType.choice, StepType.checklist) and any(
        len(button.label) > LONG_LABEL for button in _answer_options(prompt)
    )


def _answer_options(prompt: Prompt) -> list[Button]:
    """The options a person chooses between (not Done / Next / Keep)."""
    return [button for button in prompt.options if not button.id.startswith("~")]


def prompt_message(prompt: Prompt, text: Text, data: Callable[[Button], str], before: Sequence[str] = ()) -> Rendered:
    """A question with its buttons; ``before`` are texts said first in the same message."""
    numbered = long_options(prompt)
    blocks = [escape(item) for item in before]
    blocks.append(escape(prompt.text))
    if numbered:
        blocks.append(
            "\n".join(f"{index}. {escape(button.label)}" for index, button in enumerate(_answer_options(prompt), 1))
        )
    typed = typed_only(prompt)
    hint = [prompt.hint] if prompt.hint else []
    if typed and prompt.navigation:
        quoted = [f"“{word}”" for word in typed_words(prompt, text)]
        words = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} {text('tg_or')} {quoted[-1]}"
        hint.append(text("tg_type_instead", words=words))
    if hint:
        blocks.append(f"<i>{escape(' '.join(hint))}</i>")
    return Rendered(tuple(split_html(blocks)), None if typed else keyboard(prompt, text, data, numbered))


def typed_only(prompt: Prompt) -> bool:
    """A question answered only by typing: nothing to tap but navigation, which becomes words."""
    return (
        prompt.kind is StepType.text
        and not prompt.options
        and all(button.id in TYPED_WORDS for button in prompt.navigation)
    )


def typed_words(prompt: Prompt, text: Text) -> list[str]:
    """The first word of each navigation button's words, in the button's order."""
    return [text(TYPED_WORDS[button.id]).split(",")[0].strip() for button in prompt.navigation]


def keyboard(prompt: Prompt, text: Text, data: Callable[[Button], str], numbered: bool) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    checklist = prompt.kind is StepType.checklist

    def label(button: Button, shown: str) -> str:
        if not checklist or button.id.startswith("~"):
            return shown
        return text("tg_ticked" if button.ticked else "tg_unticked", label=shown)

    options = _answer_options(prompt)
    others = [button for button in prompt.options if button.id.startswith("~")]
    if checklist:
        # Each tick button carries what it does ("+id" ticks, "-id" unticks), so two
        # quick taps on the same button change the list once, not tick-then-untick.
        options = [Button(("-" if b.ticked else "+") + b.id, b.label, b.ticked) for b in options]
    if numbered:
        row: list[InlineKeyboardButton] = []
        for index, button in enumerate(options, 1):
            row.append(InlineKeyboardButton(label(button, str(index)), callback_data=data(button)))
            if len(row) == NUMBERS_PER_ROW:
                rows.append(row)
                row = []
        if row:
            rows.append(row)
    elif prompt.kind is StepType.scale:
        for start in range(0, len(options), SCALE_PER_ROW):
            rows.append(
                [InlineKeyboardButton(b.label, callback_data=data(b)) for b in options[start : start + SCALE_PER_ROW]]
            )
    elif prompt.kind in (StepType.yes_no, StepType.date):
        rows.append([InlineKeyboardButton(b.label, callback_data=data(b)) for b in options])
    else:
        rows.extend([InlineKeyboardButton(label(b, b.label), callback_data=data(b))] for b in options)
    rows.extend([InlineKeyboardButton(b.label, callback_data=data(b))] for b in others)
    # Navigation keeps its order: short labels share a row (up to three), long ones get their own.
    short: list[InlineKeyboardButton] = []
    for button in prompt.navigation:
        key = InlineKeyboardButton(button.label, callback_data=data(button))
        if len(button.label) > SHORT_NAVIGATION:
            if short:
                rows.append(short)
                short = []
            rows.append([key])
            continue
        short.append(key)
        if len(short) == 3:
            rows.append(short)
            short = []
    if short:
        rows.append(short)
    return InlineKeyboardMarkup(rows)


def safety_message(safety: SafetyPrompt, before: Sequence[str] = ()) -> Rendered:
    """The safety question or what follows a card, its buttons tied to the held message's token."""
    pairs = [(button.label, f"{SAFETY}:{button.id}:{safety.token}") for button in safety.buttons]
    return text_message([*before, safety.text], buttons(pairs))


def buttons(pairs: Iterable[tuple[str, str]], per_row: int = 1) -> InlineKeyboardMarkup:
    """A keyboard of (label, callback data) pairs."""
    items = [InlineKeyboardButton(label, callback_data=value) for label, value in pairs]
    return InlineKeyboardMarkup([items[i : i + per_row] for i in range(0, len(items), per_row)])
