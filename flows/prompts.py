"""Say a step: the question with its buttons, earlier answers quoted, answers in words.

:class:`Prompts` is built once per catalog. Prompts that depend on nothing but
the step (no quotes, no earlier answers as options) are built once and shared,
as are each step's fixed buttons and the interface texts without
placeholders; everything else is built for the turn.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flows.catalog import Catalog
from flows.formatting import example_date, format_date
from flows.schema import QUOTE, Flow, Step, StepType
from flows.turns import (
    BACK,
    DONE,
    KEEP,
    MORE_NO,
    MORE_YES,
    NEXT,
    PAUSE,
    SKIP,
    USE_SUGGESTION,
    WHY,
    Button,
    Context,
    Position,
    Prompt,
)

COMMON_HOURS = (9, 10, 11, 12, 13, 14, 15, 16)
"""Times offered as buttons for a time question; others can be typed."""

PROMPT_CACHE_LIMIT = 50_000
"""Shared prompts kept at most (per flow, step, language, first or not, ticks)."""


class Prompts:
    """Builds what a person is shown at a step. Build once per catalog; share freely."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.steps = {flow_id: {step.id: step for step in flow.steps} for flow_id, flow in catalog.flows.items()}
        self._static = {
            flow_id: {step.id: _is_static(step) for step in flow.steps} for flow_id, flow in catalog.flows.items()
        }
        self._fixed_options: dict[tuple[str, str, str, str], tuple[Button, ...]] = {}
        self._ui_cache: dict[tuple[str, str], str] = {}
        self._prompt_cache: dict[tuple[Any, ...], Prompt] = {}

    def ui(self, key: str, context: Context, **params: Any) -> str:
        """An interface text in the person's language, its {placeholders} filled; the
        channel's own wording (``console_<key>``) where the content has one."""
        if context.channel and self.catalog.ui.has(f"{context.channel}_{key}"):
            key = f"{context.channel}_{key}"
        if params:
            return self.catalog.ui.get(key, context.language, **params)
        cache_key = (key, context.language)
        text = self._ui_cache.get(cache_key)
        if text is None:
            text = self._ui_cache[cache_key] = self.catalog.ui.get(key, context.language)
        return text

    # ----------------------------------------------------------------- the question

    def prompt(
        self, flow: Flow, step: Step, position: Position, context: Context, asking_again: bool = False
    ) -> Prompt:
        """The question as an adapter shows it. Prompts that depend on nothing but
        the step (no quotes, no earlier answers as options) are built once and
        shared; they are immutable."""
        if position.revisiting or not self._static[flow.id][step.id] or step.id in position.last_time:
            return self._build_prompt(flow, step, position, context, asking_again)
        key = (flow.id, position.step, context.language, context.channel, bool(position.history), tuple(position.ticks))
        prompt = self._prompt_cache.get(key)
        if prompt is None:
            prompt = replace(self._build_prompt(flow, step, position, context, asking_again), shared=True)
            if len(self._prompt_cache) < PROMPT_CACHE_LIMIT:
                self._prompt_cache[key] = prompt
        return prompt

    def _build_prompt(
        self, flow: Flow, step: Step, position: Position, context: Context, asking_again: bool = False
    ) -> Prompt:
        language = context.language
        navigation: list[Button] = []
        if position.history or asking_again:
            navigation.append(Button(BACK, self.ui("button_back", context)))
        if asking_again:
            assert step.repeat is not None
            text = self.quote(flow, step.repeat.ask.get(language), position, context)
            options = (
                Button(MORE_YES, self.ui("button_add_another", context)),
                Button(MORE_NO, self.ui("button_no_more", context)),
            )
            navigation.append(Button(PAUSE, self.ui("button_pause", context)))
            return Prompt(
                step=position.step, kind=StepType.yes_no, text=text, options=options, navigation=tuple(navigation)
            )
        text = self.quote(flow, self.said(step, context), position, context)
        buttons: list[Button] = []
        hint: str | None = None
        if step.type is StepType.message:
            buttons.append(Button(NEXT, self.ui("button_next", context)))
        elif step.type is StepType.checklist:
            ticks = position.ticks
            buttons.extend(
                Button(button.id, button.label, button.id in ticks) if button.id in ticks else button
                for button in self.options(flow, step, position, context)
            )
            buttons.append(Button(DONE, self.ui("button_done", context)))
            hint = (
                self.ui("hint_checklist", context)
                if step.max_picks is None
                else self.ui("hint_checklist_limit", context, limit=step.max_picks)
            )
        elif step.type is StepType.text:
            suggestion = self.suggestion(flow, step, position, context)
            if suggestion is not None:
                text = f"{text}\n\n{suggestion}"
                buttons.append(Button(USE_SUGGESTION, self.ui("button_use_suggestion", context)))
            hint = self.ui("hint_text", context, limit=step.max_length)
        elif step.type is StepType.scale:
            buttons.extend(self.options(flow, step, position, context))
            if step.min_label and step.max_label:
                hint = self.ui(
                    "hint_scale",
                    context,
                    low=step.min,
                    high=step.max,
                    low_label=step.min_label.get(language),
                    high_label=step.max_label.get(language),
                )
        elif step.type is StepType.date:
            buttons.extend(self.options(flow, step, position, context))
            hint = self.ui("hint_date", context, example=example_date(context))
        elif step.type is StepType.time:
            buttons.extend(self.options(flow, step, position, context))
            hint = self.ui("hint_time", context)
        else:
            buttons.extend(self.options(flow, step, position, context))
        if position.revisiting and step.id in position.answers and step.type is not StepType.message:
            shown = self.describe(flow, step.id, position.answers, language)
            if step.repeat:
                shown = str(position.answers[step.id][-1])
            text = f"{text}\n\n{self.ui('your_answer', context, answer=shown)}"
            buttons.append(Button(KEEP, self.ui("button_keep", context)))
        elif self.offers_last_time(step, position):
            shown = self.describe(flow, step.id, position.last_time, language)
            text = f"{text}\n\n{self.ui('your_answer_last_time', context, answer=shown)}"
            buttons.append(Button(KEEP, self.ui("button_keep", context)))
        if step.why:
            navigation.append(Button(WHY, self.ui("button_why", context)))
        if not step.required and step.type is not StepType.message:
            navigation.append(Button(SKIP, self.ui("button_skip", context)))
        navigation.append(Button(PAUSE, self.ui("button_pause", context)))
        return Prompt(
            step=position.step,
            kind=step.type,
            text=text,
            options=tuple(buttons),
            navigation=tuple(navigation),
            max_length=step.max_length if step.type is StepType.text else None,
            hint=hint,
        )

    @staticmethod
    def offers_last_time(step: Step, position: Position) -> bool:
        """Whether this question offers to keep the answer from the last time the part was done.

        Not once answered in this run, and not where the options are this run's own earlier
        answers (options_from): those may not be there again."""
        return (
            step.is_question
            and step.id in position.last_time
            and step.id not in position.answers
            and not step.options_from
        )

    @staticmethod
    def said(step: Step, context: Context) -> str:
        """A step's words; a reminder not to stop suddenly is said once a day, then its short form."""
        if step.stop_reminder and context.reminded and step.reminded is not None:
            return step.reminded.get(context.language)
        return step.say.get(context.language)

    # ----------------------------------------------------------------- buttons

    def options(self, flow: Flow, step: Step, position: Position, context: Context) -> list[Button]:
        """The buttons for a step: its fixed options (built once per language) plus earlier answers."""
        key = (flow.id, step.id, context.language, context.channel)
        fixed = self._fixed_options.get(key)
        if fixed is None:
            fixed = self._fixed_options[key] = tuple(self._build_options(step, context))
        if not step.options_from:
            return list(fixed)
        buttons = list(fixed)
        for source in step.options_from:
            buttons.extend(self.answer_options(flow, source, position.answers, context.language))
        return buttons

    def _build_options(self, step: Step, context: Context) -> list[Button]:
        if step.type is StepType.yes_no:
            return [Button("yes", self.ui("button_yes", context)), Button("no", self.ui("button_no", context))]
        if step.type is StepType.scale:
            return [Button(str(n), str(n)) for n in range(step.min, step.max + 1)]
        if step.type is StepType.date:
            if step.when == "past":
                return [Button("+0", self.ui("button_today", context))]
            return [
                Button("+7", self.ui("button_in_a_week", context)),
                Button("+14", self.ui("button_in_two_weeks", context)),
                Button("+28", self.ui("button_in_four_weeks", context)),
            ]
        if step.type is StepType.time:
            return [Button(f"{hour:02d}:00", f"{hour:02d}:00") for hour in COMMON_HOURS]
        return [Button(option.id, option.get(context.language)) for option in step.options]

    def answer_options(self, flow: Flow, source: str, answers: dict[str, Any], language: str) -> list[Button]:
        """Earlier answers offered as options: chosen options keep their id, typed items get ``step.n``."""
        value = answers.get(source)
        if value is None or (source) not in self.steps[flow.id]:
            return []
        source_step = self.steps[flow.id][source]
        values = value if isinstance(value, list) else [value]
        if source_step.type in (StepType.choice, StepType.checklist):
            labels = {
                button.id: button.label
                for button in self.options(flow, source_step, Position(flow.id, source, answers), Context(language))
            }
            labels.update(_in_full(source_step, language))
            return [Button(item, labels.get(item) or str(item)) for item in values]
        return [Button(f"{source}.{index}", str(item)) for index, item in enumerate(values, start=1)]

    # ----------------------------------------------------------------- answers in words

    def describe(self, flow: Flow, step_id: str, answers: dict[str, Any], language: str) -> str:
        """An answer in words, in the person's language (for quoting and summaries)."""
        value = answers.get(step_id)
        if value is None or (step_id) not in self.steps[flow.id]:
            return self.catalog.ui.get("not_answered", language)
        step = self.steps[flow.id][step_id]
        if step.type is StepType.yes_no:
            return self.catalog.ui.get("button_yes" if value == "yes" else "button_no", language)
        if step.type in (StepType.choice, StepType.checklist):
            labels = {
                button.id: button.label
                for button in self.options(flow, step, Position(flow.id, step_id, answers), Context(language))
            }
            labels.update(_in_full(step, language))
            values = value if isinstance(value, list) else [value]
            return ", ".join(labels.get(str(item), str(item)) for item in values)
        if step.type is StepType.date:
            return format_date(value, language)
        if isinstance(value, list):
            return "; ".join(str(item) for item in value)
        return str(value)

    def suggestion(self, flow: Flow, step: Step, position: Position, context: Context) -> str | None:
        """The ready-made answer, or None if it quotes something the person did not answer:
        a one-tap answer must never save "(not answered)" in their words."""
        if step.suggest is None:
            return None
        template = step.suggest.get(context.language)
        for match in QUOTE.finditer(template):
            other, step_id = match.group(1), match.group(2)
            answers = position.answers if other is None or other == flow.id else context.earlier.get(other, {})
            if answers.get(step_id) in (None, "", []):
                return None
        return self.quote(flow, template, position, context)

    def quote(self, flow: Flow, text: str, position: Position, context: Context) -> str:
        """``text`` with each ``{step}`` and ``{flow.step}`` replaced by that answer in words."""
        if "{" not in text:
            return text
        return QUOTE.sub(lambda match: self._quoted(flow, match, position, context), text)

    def _quoted(self, flow: Flow, match: Any, position: Position, context: Context) -> str:
        other, step_id = match.group(1), match.group(2)
        if other is None or other == flow.id:
            if step_id in self.steps[flow.id]:
                return self.describe(flow, step_id, position.answers, context.language)
            return match.group(0)
        source = self.catalog.flows.get(other)
        if source is None or step_id not in self.steps[other]:
            return match.group(0)
        return self.describe(source, step_id, context.earlier.get(other, {}), context.language)


def _is_static(step: Step) -> bool:
    """True if the step's prompt never depends on the person's answers."""
    texts = [step.say, step.suggest, step.repeat.ask if step.repeat else None]
    quotes = any("{" in value for text in texts if text for value in text.translations().values() if value)
    return not quotes and not step.options_from and not step.stop_reminder


def _in_full(step: Step, language: str) -> dict[str, str]:
    """Options whose button says them shorter, in their whole wording (for summaries and quotes)."""
    return {option.id: option.words(language) for option in step.options if option.in_full is not None}
