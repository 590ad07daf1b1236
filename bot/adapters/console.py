"""The console chat: the companion in a terminal, with the same engine and storage.

In a terminal it shows numbered options and reads typed answers. When stdin
is not a terminal it reads one answer per line and prints plainly, so it can
be scripted; at the end of input every answer is already committed, it says
so and exits with status 0, and the next run resumes at the same step.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from typing import TextIO

from bot.services.conversation import Companion, FlowProgress, Reply, Who
from bot.services.safety import SafetyChoice
from flows.reading import list_number
from flows.schema import StepType
from flows.turns import BACK, DONE, KEEP, NEXT, PAUSE, RESTART, SKIP, WHY, Action, Pressed, Prompt, Typed

CHANNEL = "console"


@cache
def _line_editing() -> bool:
    """Load readline (where Python has it) so input() edits lines in a terminal; once."""
    try:
        import readline  # noqa: F401
    except ImportError:
        return False
    return True


# ui text key listing the words that mean a navigation button.
_WORDS = {
    "words_back": BACK,
    "words_skip": SKIP,
    "words_pause": PAUSE,
    "words_restart": RESTART,
    "words_why": WHY,
    "words_done": DONE,
    "words_keep": KEEP,
}


class EndOfInput(Exception):
    """Standard input is finished (Ctrl-D, or the end of a script)."""


class Quit(Exception):
    """The person typed a quit word (q, quit, exit) at a question: paused, and the chat ends."""


@dataclass
class ConsoleChat:
    companion: Companion
    profile: str
    stdin: TextIO
    stdout: TextIO
    language: str = "en"
    interactive: bool = False

    @property
    def who(self) -> Who:
        return Who(CHANNEL, self.profile)

    async def run(self) -> int:
        try:
            if not await self._consented():
                return 0
            reply = await self.companion.current(self.who)
            if reply.prompt is not None:
                self._say(self._t("welcome_back"))
                await self._converse(reply)
            while True:
                flow_id = await self._menu()
                if flow_id is None:
                    self._say(self._t("console_bye"))
                    return 0
                await self._converse(await self.companion.open(self.who, flow_id))
        except Quit:
            self._say(self._t("console_saved_bye"))
            return 0
        except EndOfInput:
            person = await self.companion.person(self.who)
            self._say("")
            self._say(self._t("console_saved_bye") if person else self._t("console_bye"))
            return 0

    # ------------------------------------------------------------------ steps

    async def _consented(self) -> bool:
        person = await self.companion.person(self.who)
        if person is not None:
            self.language = person.language
            return True
        for key in ("welcome", "not_for_emergencies", "privacy"):
            self._say(self._t(key))
            self._say("")
        self._say(self._t("consent_question"))
        options = [self._t("button_agree"), self._t("button_decline")]
        while True:
            self._numbered(options)
            answer = self._read().strip().lower()
            if answer in ("1", options[0].lower()) or answer in self._words("words_yes"):
                await self.companion.join(self.who, self.language)
                self._say(self._t("agreed"))
                return True
            if answer in ("2", options[1].lower()) or answer in self._words("words_no"):
                self._say(self._t("declined"))
                return False
            outside = self.companion.outside(answer, self.language)
            if outside is not None:
                await self._converse(outside)
                self._say(self._t("consent_question"))
            else:
                self._say(self._t("console_unknown_menu"))

    async def _menu(self) -> str | None:
        while True:
            flows = await self.companion.menu(self.who)
            self._say("")
            self._say(self._t("menu_intro"))
            self._numbered([self._menu_line(flow) for flow in flows])
            self._say(self._t("console_quit"))
            while True:
                line = self._read().strip()
                answer = line.lower()
                if answer in self._words("words_quit"):
                    return None
                number = list_number(answer)
                if number is not None and 1 <= number <= len(flows):
                    return flows[number - 1].flow_id
                # Words typed at the menu are read for signs of risk like any other.
                reply = await self.companion.act(self.who, Typed(line)) if line else Reply()
                if reply.crisis or reply.safety is not None or reply.messages:
                    await self._converse(reply)
                    break
                self._say(self._t("console_unknown_menu"))

    async def _converse(self, reply: Reply) -> None:
        """Show replies and read answers until the flow is paused or finished."""
        while True:
            self._show(reply)
            if reply.safety is not None:
                reply = await self._answer_safety(reply)
                continue
            if reply.prompt is None or reply.status in ("paused", "finished", "idle"):
                return
            line = self._read()
            if line.strip().lower() in self._words("words_quit"):
                # "q = quit" at the menu means the same at a question: never saved as an answer.
                self._show(await self.companion.act(self.who, Pressed(PAUSE)))
                raise Quit
            action = self._action(line, reply.prompt)
            reply = await self.companion.act(self.who, action)

    # ------------------------------------------------------------------ input

    def _action(self, line: str, prompt: Prompt) -> Action:
        text = line.strip()
        lowered = text.lower()
        for key, button in _WORDS.items():
            if lowered in self._words(key):
                return Pressed(button)
        if not text and prompt.kind is StepType.message:
            return Pressed(NEXT)
        if not text and prompt.kind is StepType.checklist:
            return Pressed(DONE)
        numbered = self._numbered_options(prompt)
        number = list_number(lowered)
        if number is not None and numbered and 1 <= number <= len(numbered):
            return Pressed(numbered[number - 1].id)
        return Typed(text)

    async def _answer_safety(self, reply: Reply) -> Reply:
        """Read the person's choice under a card or the safety question (a number, yes or no)."""
        safety = reply.safety
        assert safety is not None
        registered = await self.companion.person(self.who) is not None
        ids = [button.id for button in safety.buttons]
        while True:
            line = self._read().strip()
            lowered = line.lower()
            number = list_number(lowered)
            choice: str | None = None
            if number is not None and 1 <= number <= len(ids):
                choice = ids[number - 1]
            elif lowered in self._words("words_yes") and SafetyChoice.YES in ids:
                choice = SafetyChoice.YES
            elif lowered in self._words("words_no") and SafetyChoice.NO in ids:
                choice = SafetyChoice.NO
            if choice is not None:
                if not registered:
                    return self.companion.outside_answer(SafetyChoice(choice), self.language)
                return await self.companion.answer_safety(self.who, SafetyChoice(choice), safety.token)
            if line and registered:
                # Something else typed: it is read like any message (what was held is let go).
                return await self.companion.act(self.who, Typed(line))
            self._say(self._t("console_unknown_menu"))

    def _read(self) -> str:
        if self.interactive and self.stdin is sys.stdin and self.stdout is sys.stdout:
            # In a terminal, input() with readline gives line editing: the arrow keys move
            # the cursor instead of printing ^[[D, and Up brings back the last line.
            _line_editing()
            try:
                return input("> ")
            except EOFError:
                raise EndOfInput from None
        if self.interactive:
            self.stdout.write("> ")
            self.stdout.flush()
        line = self.stdin.readline()
        if line == "":
            raise EndOfInput
        return line.rstrip("\n")

    # ------------------------------------------------------------------ output

    def _show(self, reply: Reply) -> None:
        for index, message in enumerate(reply.messages):
            self._say("")
            if reply.crisis and index == 0:
                # The crisis card stands apart from everything else on screen.
                rule = "=" * 60
                self._say(f"{rule}\n{message}\n{rule}")
                continue
            self._say(message)
        if reply.safety is not None:
            self._say("")
            self._say(reply.safety.text)
            self._numbered([button.label for button in reply.safety.buttons])
            return
        prompt = reply.prompt
        if prompt is None:
            return
        self._say("")
        self._say(prompt.text)
        if prompt.kind is StepType.scale:
            self._say("  " + "  ".join(button.label for button in prompt.options))
        else:
            numbered = self._numbered_options(prompt)
            self._numbered(
                [
                    ("[x] " if b.ticked else "[ ] ") + b.label
                    if prompt.kind is StepType.checklist and not b.id.startswith("~")
                    else b.label
                    for b in numbered
                ]
            )
        if prompt.kind is StepType.checklist:
            # The Telegram hint says "tap"; here people type.
            self._say(self._t("console_checklist_hint"))
        elif prompt.hint:
            self._say(prompt.hint)
        self._say(self._navigation_line(prompt))

    def _numbered_options(self, prompt: Prompt) -> list:
        """Options shown with a number. Scales are typed as numbers; Done and Next are words."""
        if prompt.kind is StepType.scale:
            return []
        return [button for button in prompt.options if button.id not in (NEXT, DONE)]

    def _navigation_line(self, prompt: Prompt) -> str:
        words = []
        for button in prompt.navigation:
            for key, value in _WORDS.items():
                if value == button.id:
                    words.append(f"{self._words_example(key)} = {button.label.strip('‹› ')}")
        if any(button.id == NEXT for button in prompt.options):
            words.insert(0, f"Enter = {self._t('button_next').strip('‹› ')}")
        return "(" + ", ".join(words) + ")" if words else ""

    def _menu_line(self, flow: FlowProgress) -> str:
        if flow.state == "done" and flow.done_on:
            state = self._t("menu_done", date=flow.done_on.isoformat())
        else:
            state = self._t(f"menu_{flow.state}")
        return f"{flow.title} ({state})"

    def _numbered(self, labels: list[str]) -> None:
        for index, label in enumerate(labels, start=1):
            self._say(f"  {index}. {label}")

    def _say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    # ------------------------------------------------------------------ words

    def _t(self, key: str, **params: object) -> str:
        return self.companion.catalog.ui.get(key, self.language, **params)

    def _words(self, key: str) -> set[str]:
        ui = self.companion.catalog.ui
        words: set[str] = set()
        for language in ui.languages():
            words.update(w.strip().lower() for w in ui.get(key, language).split(","))
        return {w for w in words if w}

    def _words_example(self, key: str) -> str:
        return self._t(key).split(",")[0].strip()
