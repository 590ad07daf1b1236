"""What a prompt should look like on Telegram, worked out from the engine's Prompt and
the content files (not from the renderer), so tests check the renderer, not copy it."""

from __future__ import annotations

from typing import Any

from flows.schema import StepType
from flows.texts import UiTexts
from flows.turns import Prompt

LONG = 30


def answer_options(prompt: Prompt) -> list[Any]:
    return [b for b in prompt.options if not b.id.startswith("~")]


def numbered(prompt: Prompt) -> bool:
    return prompt.kind in (StepType.choice, StepType.checklist) and any(
        len(b.label) > LONG for b in answer_options(prompt)
    )


def prompt_text(prompt: Prompt) -> str:
    """The plain text (after Telegram parsed the HTML) of a question message."""
    parts = [prompt.text]
    if numbered(prompt):
        parts.append("\n".join(f"{i}. {b.label}" for i, b in enumerate(answer_options(prompt), 1)))
    if prompt.hint:
        parts.append(prompt.hint)
    return "\n\n".join(parts)


def button_labels(prompt: Prompt, ui: UiTexts, language: str = "en") -> list[str]:
    """Every button label, in order, flattened over rows."""
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
