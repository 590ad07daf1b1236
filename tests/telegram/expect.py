"""What a prompt should look like on Telegram, worked out from the engine's Prompt and
the content files (not from the renderer), so tests check the renderer, not copy it."""

from __future__ import annotations

from typing import Any

from flows.schema import StepType
from flows.texts import UiTexts
from flows.turns import BACK, PAUSE, RESTART, SKIP, WHY, Prompt

LONG = 30


def answer_options(prompt: Prompt) -> list[Any]:
    return [b for b in prompt.options if not b.id.startswith("~")]


def numbered(prompt: Prompt) -> bool:
    return prompt.kind in (StepType.choice, StepType.checklist) and any(
        len(b.label) > LONG for b in answer_options(prompt)
    )


WORDS = {BACK: "words_back", WHY: "words_why", SKIP: "words_skip", PAUSE: "words_pause", RESTART: "words_restart"}


def typed_only(prompt: Prompt) -> bool:
    """Free text with nothing to tap but navigation: shown without buttons, the words said instead."""
    return prompt.kind is StepType.text and not prompt.options and all(b.id in WORDS for b in prompt.navigation)


def typed_words(prompt: Prompt, ui: UiTexts, language: str = "en") -> list[str]:
    """The word a person types for each navigation button of a typed question (its first listed word)."""
    return [ui.get(WORDS[b.id], language).split(",")[0].strip() for b in prompt.navigation]


def prompt_text(prompt: Prompt, ui: UiTexts | None = None, language: str = "en") -> str:
    """The plain text (after Telegram parsed the HTML) of a question message.

    Without ``ui`` the line naming the typed words of a typed question is left out."""
    parts = [prompt.text]
    if numbered(prompt):
        parts.append("\n".join(f"{i}. {b.label}" for i, b in enumerate(answer_options(prompt), 1)))
    hint = [prompt.hint] if prompt.hint else []
    if ui is not None and typed_only(prompt) and prompt.navigation:
        quoted = [f"“{word}”" for word in typed_words(prompt, ui, language)]
        words = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} {ui.get('tg_or', language)} {quoted[-1]}"
        hint.append(ui.get("tg_type_instead", language, words=words))
    if hint:
        parts.append(" ".join(hint))
    return "\n\n".join(parts)


def button_labels(prompt: Prompt, ui: UiTexts, language: str = "en") -> list[str]:
    """Every button label, in order, flattened over rows (none on a typed question)."""
    if typed_only(prompt):
        return []
    labels = []
    for index, button in enumerate(answer_options(prompt), 1):
        shown = str(index) if numbered(prompt) else button.label
        if prompt.kind is StepType.checklist:
            shown = ui.get("tg_ticked" if button.ticked else "tg_unticked", language, label=shown)
        labels.append(shown)
    labels += [b.label for b in prompt.options if b.id.startswith("~")]
    labels += [b.label for b in prompt.navigation]
    return labels


def shown_labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [key["text"] for row in rows for key in row]
