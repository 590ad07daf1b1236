"""Paper worksheets: every part on the menu printed as a blank form, from the same content.

Many people who use mental-health services have little confidence with
technology (ShIMME), and a peer or care coordinator may go through a
worksheet with someone on paper. So ``companion worksheets`` prints each
menu flow as a form to fill in with a pen: its questions in the same words as
the chat, a box to tick for each option, lines to write on, a scale as a row
of boxes, and for a step that branches, which number to go to next ("If you
answered “No” to 7, go to 20."). The worksheets are computed from the
content, so a new flow appears without code changes, and they are drawn with
the summary's own writer, fonts and page (:mod:`bot.summary.pdf`).

Paper cannot notice crisis language, so every page says at its foot that it
is not for emergencies and gives the crisis numbers (``worksheet_help_now``,
which the content check holds to the same numbers as the crisis cards:
``bot.checks.check_worksheet_help``).

Building (:func:`build_worksheets`) gives plain data in one language;
drawing (:func:`render_worksheets`) turns it into PDF bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from reportlab.lib.units import mm

from bot.summary.fonts import BOLD, ITALIC, REGULAR, FontSet, fonts
from bot.summary.pdf import (
    LARGE,
    NORMAL,
    SOFT,
    WIDTH,
    FrameOp,
    Layout,
    Mark,
    RuleOp,
    Sizes,
    Writer,
    draw,
    foot_ops,
)
from flows.catalog import Catalog
from flows.schema import END, QUOTE, Condition, Flow, Rule, Step, StepType

BLANK = "________"
"""Stands for an earlier answer a question quotes: on paper there is none yet, so a blank to fill in."""


# ---------------------------------------------------------------------- the worksheets as data


@dataclass(frozen=True, slots=True)
class Item:
    """One step of a flow on paper, in the reader's language."""

    number: int
    question: bool
    """False for a message (words to read, nothing to fill in)."""
    text: str
    why: str | None = None
    hint: str | None = None
    """How to answer ("Tick one."), or that the question needs an answer."""
    boxes: tuple[str, ...] = ()
    """A box to tick for each of these (options, or yes and no)."""
    box_rows: int = 0
    """Empty rows with a box, for answers copied from earlier questions."""
    lines: int = 0
    """Lines to write on."""
    labelled_lines: tuple[str, ...] = ()
    """Lines to write on, each after a label ("Date:")."""
    scale: tuple[int, int] | None = None
    scale_labels: tuple[str | None, str | None] = (None, None)
    suggestion: str | None = None
    """A sentence to finish, when the chat offers a ready-made answer (its quotes as blanks)."""
    go: tuple[str, ...] = ()
    """Where to go next, when it is not simply the next number."""


@dataclass(frozen=True, slots=True)
class Worksheet:
    flow_id: str
    title: str
    description: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class WorksheetDocument:
    language: str
    title: str
    intro: str
    date_label: str
    finished: str
    help_now: str
    page_of: str
    worksheets: tuple[Worksheet, ...]
    large_print: bool = False


def menu_flows(catalog: Catalog) -> list[Flow]:
    """The flows a person chooses from the menu, in menu order: those are the worksheets."""
    return [flow for flow in catalog.ordered_flows() if flow.menu]


def blanked(text: str) -> str:
    """``text`` with each quoted earlier answer (``{goal}``, ``{goals.treatment_help}``) as a blank."""
    return QUOTE.sub(BLANK, text)


def build_worksheets(catalog: Catalog, language: str, *, large: bool = False) -> WorksheetDocument:
    """Every menu flow as a worksheet, in ``language``."""
    ui = catalog.ui
    return WorksheetDocument(
        language=language,
        title=ui.get("worksheet_title", language),
        intro=ui.get("worksheet_intro", language),
        date_label=ui.get("worksheet_date", language),
        finished=ui.get("worksheet_finished", language),
        help_now=ui.get("worksheet_help_now", language),
        page_of=ui.get("worksheet_page_of", language, page="{page}", pages="{pages}"),
        worksheets=tuple(_worksheet(catalog, flow, language) for flow in menu_flows(catalog)),
        large_print=large,
    )


def _worksheet(catalog: Catalog, flow: Flow, language: str) -> Worksheet:
    numbers = {step.id: number for number, step in enumerate(flow.steps, start=1)}
    words = _Words(catalog, flow, language, numbers)
    items = []
    reminded = False
    for step in flow.steps:
        # On one sheet the whole reminder not to stop suddenly is given once, as in the chat.
        text = step.reminded.get(language) if step.stop_reminder and reminded and step.reminded else None
        reminded = reminded or step.stop_reminder
        items.append(words.item(step, text or step.say.get(language)))
    return Worksheet(flow.id, flow.title.get(language), flow.description.get(language), tuple(items))


class _Words:
    """The words around one flow's steps: hints, boxes and where to go next."""

    def __init__(self, catalog: Catalog, flow: Flow, language: str, numbers: dict[str, int]) -> None:
        self.catalog = catalog
        self.flow = flow
        self.language = language
        self.numbers = numbers

    def ui(self, key: str, **params: object) -> str:
        return self.catalog.ui.get(key, self.language, **params)

    def item(self, step: Step, said: str) -> Item:
        number = self.numbers[step.id]
        go = tuple(self.directions(step))
        why = f"{self.ui('worksheet_why')} {step.why.get(self.language)}" if step.why else None
        if not step.is_question:
            return Item(number, False, blanked(said), why=why, go=go)
        hints = []
        boxes: tuple[str, ...] = ()
        box_rows = lines = 0
        labelled: tuple[str, ...] = ()
        scale = None
        scale_labels: tuple[str | None, str | None] = (None, None)
        suggestion = None
        kind = step.type
        if kind in (StepType.choice, StepType.checklist):
            boxes = tuple(option.words(self.language) for option in step.options)
            if kind is StepType.choice:
                hints.append(self.ui("worksheet_tick_one"))
            elif step.max_picks is not None:
                hints.append(self.ui("worksheet_tick_up_to", limit=step.max_picks))
            else:
                hints.append(self.ui("worksheet_tick_any"))
            if step.options_from:
                sources = [str(self.numbers[source]) for source in step.options_from]
                hints.append(self.ui("worksheet_from_earlier", questions=self.listed(sources, "worksheet_and")))
                box_rows = step.max_picks or (2 if kind is StepType.choice else 4)
        elif kind is StepType.yes_no:
            boxes = (self.ui("button_yes"), self.ui("button_no"))
        elif kind is StepType.scale:
            scale = (step.min, step.max)
            scale_labels = (
                step.min_label.get(self.language) if step.min_label else None,
                step.max_label.get(self.language) if step.max_label else None,
            )
            hints.append(self.ui("worksheet_scale"))
        elif kind is StepType.date:
            labelled = (self.ui("worksheet_date"),)
        elif kind is StepType.time:
            labelled = (self.ui("worksheet_time"),)
        elif kind is StepType.text:
            lines = min(6, max(2, step.max_length // 100 + 1))
            if step.repeat is not None:
                lines = max(lines, min(step.repeat.max, 5))
            if step.suggest is not None:
                suggestion = f"{self.ui('worksheet_suggest')} {blanked(step.suggest.get(self.language))}"
        if step.required:
            hints.append(self.ui("worksheet_required"))
        # "Tick any that fit." once: many questions already say how to answer.
        hints = [hint for hint in hints if hint not in said]
        return Item(
            number,
            True,
            blanked(said),
            why=why,
            hint=" ".join(hints) or None,
            boxes=boxes,
            box_rows=box_rows,
            lines=lines,
            labelled_lines=labelled,
            scale=scale,
            scale_labels=scale_labels,
            suggestion=suggestion,
            go=go,
        )

    # ------------------------------------------------------------------ where to go next

    def directions(self, step: Step) -> Iterator[str]:
        """ "If …, go to 12." for each rule, when the next step is not simply the next number.

        Rules are taken in the order the companion tries them; neighbouring rules
        that go to the same place are said as one ("If … or …, go to 18.")."""
        following = self.flow.following(step.id)
        rules = step.next_rules(following)
        if all(rule.go == following for rule in rules):
            return
        conditional = [rule for rule in rules if rule.when]
        last = rules[-1]
        for target, group in _neighbours(conditional):
            condition = self.conditions(group)
            if target == END:
                yield self.ui("worksheet_go_to_end", condition=condition)
            else:
                yield self.ui("worksheet_go_to", condition=condition, target=self.numbers[target])
        if last.when:
            return  # next_rules always ends unconditionally; kept for safety
        prefix = "worksheet_otherwise" if conditional else "worksheet_now"
        if last.go == END:
            yield self.ui(f"{prefix}_end")
        else:
            yield self.ui(f"{prefix}_go_to", target=self.numbers[last.go])

    def conditions(self, rules: list[Rule]) -> str:
        """Rules that go to the same place, as one condition: "you answered “No” to 13, 14 or 15"."""
        parts = [self.parts(condition) for condition in rules[0].when]
        if len(parts) == 1 and all(
            len(rule.when) == 1 and self.parts(rule.when[0])[:2] == parts[0][:2] for rule in rules
        ):
            key, params, _ = parts[0]
            numbers = [self.parts(rule.when[0])[2] for rule in rules]
            return self.ui(key, question=self.listed(numbers, "worksheet_or"), **params)
        return f" {self.ui('worksheet_or')} ".join(self.condition(rule) for rule in rules)

    def condition(self, rule: Rule) -> str:
        """All of a rule's conditions; neighbours that ask the same of different questions are said once."""
        groups: list[tuple[str, dict[str, object], list[str]]] = []
        for condition in rule.when:
            key, params, number = self.parts(condition)
            if groups and groups[-1][:2] == (key, params):
                groups[-1][2].append(number)
            else:
                groups.append((key, params, [number]))
        return f" {self.ui('worksheet_and')} ".join(
            self.ui(key, question=self.listed(numbers, "worksheet_and"), **params) for key, params, numbers in groups
        )

    def parts(self, condition: Condition) -> tuple[str, dict[str, object], str]:
        """The text's key, its words other than the question, and the question's number."""
        question = str(self.numbers.get(condition.step, 0))
        if condition.answered is not None:
            return ("worksheet_if_answered" if condition.answered else "worksheet_if_not_answered"), {}, question
        if condition.at_least is not None:
            return "worksheet_if_at_least", {"value": condition.at_least}, question
        if condition.at_most is not None:
            return "worksheet_if_at_most", {"value": condition.at_most}, question
        if condition.has is not None:
            return "worksheet_if_has", {"answer": self.answer(condition.step, condition.has)}, question
        if condition.is_not is not None:
            return "worksheet_if_is_not", {"answer": self.answer(condition.step, condition.is_not)}, question
        return "worksheet_if_is", {"answer": self.answer(condition.step, condition.is_ or "")}, question

    def answer(self, step_id: str, value: str) -> str:
        """An option id as the words next to its box."""
        step = self.flow.step(step_id)
        if step.type is StepType.yes_no:
            return self.ui("button_yes" if value == "yes" else "button_no")
        for option in step.options:
            if option.id == value:
                return option.words(self.language)
        return value

    def listed(self, items: list[str], joiner: str) -> str:
        if len(items) < 2:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.ui(joiner)} {items[-1]}"


def _neighbours(rules: list[Rule]) -> Iterator[tuple[str, list[Rule]]]:
    """Rules in order, neighbours with the same target together (merging only neighbours keeps the order)."""
    group: list[Rule] = []
    for rule in rules:
        if group and rule.go != group[-1].go:
            yield group[-1].go, group
            group = []
        group.append(rule)
    if group:
        yield group[-1].go, group


# ---------------------------------------------------------------------- drawing


def render_worksheets(document: WorksheetDocument) -> bytes:
    """The worksheets as A4 PDF bytes: each starts on a new page."""
    font_set = fonts()
    layout = lay_out_worksheets(document, font_set)
    return draw(
        layout,
        font_set,
        language=document.language,
        title=document.title,
        subject=document.title,
        footer=lambda number, total: foot_ops(
            font_set,
            [document.help_now],
            document.page_of.replace("{page}", str(number)).replace("{pages}", str(total)),
        ),
    )


def lay_out_worksheets(document: WorksheetDocument, font_set: FontSet | None = None) -> Layout:
    layout = Layout()
    sizes = LARGE if document.large_print else NORMAL
    sheet = _Sheet(Writer(font_set or fonts(), sizes, layout), sizes)
    for index, worksheet in enumerate(document.worksheets):
        if index:
            layout.new_page()
        sheet.worksheet(document, worksheet)
    return layout


class _Sheet:
    """Places one worksheet's parts with the summary's writer."""

    def __init__(self, writer: Writer, sizes: Sizes) -> None:
        self.writer = writer
        self.layout = writer.layout
        self.sizes = sizes
        self.indent = sizes.body * 2.6
        """Where the words of a numbered item start (the number sits before them)."""
        self.box = sizes.body * 0.95
        self.row = sizes.leading * 1.45
        """The height of a row of boxes: room for a pen."""
        self.line = sizes.leading * 1.8
        """The height of a line to write on."""

    def worksheet(self, document: WorksheetDocument, worksheet: Worksheet) -> None:
        writer, sizes, layout = self.writer, self.sizes, self.layout
        layout.add(Mark(worksheet.title, layout.y, 0))
        writer.paragraph([(BOLD, worksheet.title)], size=sizes.title, leading=sizes.title * 1.2)
        writer.paragraph([(REGULAR, worksheet.description)], grey=SOFT)
        layout.y -= 1.5 * mm
        writer.paragraph([(ITALIC, document.intro)])
        self.labelled_line(document.date_label, 0.0, WIDTH / 2)
        layout.y -= 2 * mm
        layout.add(RuleOp(0, WIDTH, layout.y, 0.8))
        for item in worksheet.items:
            self.item(item)
        layout.y -= 3 * mm
        writer.paragraph([(ITALIC, document.finished)])

    def item(self, item: Item) -> None:
        writer, sizes, layout = self.writer, self.sizes, self.layout
        layout.y -= 2.2 * mm
        # Keep a question's first lines with the start of its answer.
        layout.need(sizes.leading * 2 + (self.row if item.question else 0))
        style = BOLD if item.question else REGULAR
        # The number stands right-aligned before the first line, so 9 and 19 line up.
        layout.need(sizes.leading)
        lift = (sizes.leading - sizes.body) / 2 + 0.22 * sizes.body
        number = f"{item.number}."
        x = self.indent - sizes.body * 0.5 - writer.width(number, BOLD, sizes.body)
        writer.place(x, layout.y - sizes.leading + lift, BOLD, number, sizes.body, 0.0, False)
        writer.paragraph([(style, item.text)], indent=self.indent)
        for note in (item.why, item.hint):
            if note:
                writer.paragraph([(ITALIC, note)], indent=self.indent, grey=SOFT)
        if item.suggestion:
            writer.paragraph([(REGULAR, item.suggestion)], indent=self.indent)
        self.boxes(item.boxes)
        for _ in range(item.box_rows):
            self.box_row()
        for label in item.labelled_lines:
            self.labelled_line(label, self.indent, WIDTH * 0.6)
        for _ in range(item.lines):
            self.write_line()
        if item.scale is not None:
            self.scale(*item.scale, item.scale_labels)
        if item.go:
            layout.y -= 1 * mm
        for direction in item.go:
            writer.paragraph([(BOLD, direction)], indent=self.indent)

    # ------------------------------------------------------------------ parts

    def boxes(self, labels: tuple[str, ...]) -> None:
        """A box before each label: two to a row when every label fits half the width."""
        if not labels:
            return
        writer, sizes, layout = self.writer, self.sizes, self.layout
        gap = self.box + sizes.body * 0.6
        half = (WIDTH - self.indent) / 2
        if all(writer.width(label, REGULAR, sizes.body) + gap + 6 <= half for label in labels):
            for start in range(0, len(labels), 2):
                layout.need(self.row)
                layout.y -= self.row
                for column, label in enumerate(labels[start : start + 2]):
                    x = self.indent + column * half
                    self._box(x, layout.y + 3)
                    writer.place(x + gap, layout.y + 3, REGULAR, label, sizes.body, 0.0, False)
            return
        lift = (sizes.leading - sizes.body) / 2 + 0.22 * sizes.body
        for label in labels:
            layout.need(self.row)
            layout.y -= self.row - sizes.leading
            # The paragraph's first line goes on this page, at this baseline.
            self._box(self.indent, layout.y - sizes.leading + lift)
            writer.paragraph([(REGULAR, label)], indent=self.indent + gap)

    def box_row(self) -> None:
        """An empty row: a box and a line to write the answer on."""
        layout = self.layout
        gap = self.box + self.sizes.body * 0.6
        layout.need(self.line)
        layout.y -= self.line
        self._box(self.indent, layout.y + 3)
        layout.add(RuleOp(self.indent + gap, WIDTH, layout.y + 2, 0.5))

    def write_line(self) -> None:
        self.layout.need(self.line)
        self.layout.y -= self.line
        self.layout.add(RuleOp(self.indent, WIDTH, self.layout.y + 1, 0.5))

    def labelled_line(self, label: str, x: float, right: float) -> None:
        writer, sizes, layout = self.writer, self.sizes, self.layout
        layout.need(self.line)
        layout.y -= self.line
        writer.place(x, layout.y + 3, BOLD, label, sizes.body, 0.0, False)
        layout.add(RuleOp(x + writer.width(label, BOLD, sizes.body) + 4, right, layout.y + 2, 0.5))

    def scale(self, low: int, high: int, labels: tuple[str | None, str | None]) -> None:
        """A row of boxes, one per number, the numbers above them and the ends' words below."""
        writer, sizes, layout = self.writer, self.sizes, self.layout
        size = sizes.body * 1.6
        step = min(size * 1.9, (WIDTH - self.indent) / (high - low + 1))
        height = sizes.leading * 2 + size + 4
        layout.need(height)
        layout.y -= sizes.leading
        numbers_y = layout.y + 3
        layout.y -= size + 2
        for index, value in enumerate(range(low, high + 1)):
            x = self.indent + index * step
            label = str(value)
            writer.place(
                x + (size - writer.width(label, BOLD, sizes.body)) / 2, numbers_y, BOLD, label, sizes.body, 0.0, False
            )
            layout.add(FrameOp(x, layout.y, size))
        low_label, high_label = labels
        if low_label or high_label:
            layout.y -= sizes.leading
            if low_label:
                writer.place(self.indent, layout.y + 3, ITALIC, low_label, sizes.body, SOFT, False)
            if high_label:
                right = self.indent + (high - low) * step + size
                width = writer.width(high_label, ITALIC, sizes.body)
                writer.place(right - width, layout.y + 3, ITALIC, high_label, sizes.body, SOFT, False)

    def _box(self, x: float, baseline: float) -> None:
        """A box standing on the line of text at ``baseline``."""
        self.layout.add(FrameOp(x, baseline - 1.5, self.box))
