"""The console chat: the companion in a terminal, on the same services as Telegram.

Everything a service user can do on Telegram is here: the conversations,
their summary (saved as a PDF to print), the name on it, the language, a
code to share it with a care coordinator (and stopping a share), a file of
everything kept, and deleting it all. What is said comes from the services
and the content (bot/services/words.py: consent, menu lines, yes and no);
this module only numbers the choices and reads what is typed. There are no
buttons here, so the companion's words about buttons are replaced by the
console's own (ui/console.<language>.yaml, see :func:`console_catalog`).

In a terminal it shows numbered options and reads typed answers. When stdin
is not a terminal it reads one answer per line and prints plainly, so it can
be scripted; at the end of input every answer is already committed, it says
so and exits with status 0, and the next run resumes at the same step.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TextIO

from bot.services import forms
from bot.services.app import Services
from bot.services.conversation import Companion, Reply, Who
from bot.services.safety import SafetyChoice
from bot.services.words import LANGUAGE_NAMES
from bot.summary.pdf import render_pdf
from flows.catalog import Catalog
from flows.formatting import format_date
from flows.reading import list_number
from flows.schema import LANGUAGES, StepType
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


class Choice(StrEnum):
    """The menu's choices after the conversations, in the order shown."""

    SUMMARY = "console_action_summary"
    NAME = "console_action_name"
    LANGUAGE = "console_action_language"
    SHARE = "console_action_share"
    EXPORT = "console_action_export"
    DELETE = "console_action_delete"


def console_catalog(catalog: Catalog) -> Catalog:
    """The content as the console says it: its own words where Telegram's speak of buttons."""
    return dataclasses.replace(catalog, ui=catalog.ui.for_channel(CHANNEL))


class EndOfInput(Exception):
    """Standard input is finished (Ctrl-D, or the end of a script)."""


class Quit(Exception):
    """The person typed a quit word (q, quit, exit) at a question: paused, and the chat ends."""


class Deleted(Exception):
    """The person deleted everything: the chat ends."""


@dataclass
class ConsoleChat:
    services: Services
    profile: str
    stdin: TextIO
    stdout: TextIO
    language: str = "en"
    """The language of a new profile (from ``--language`` or the system)."""
    interactive: bool = False
    switch_to: str | None = None
    """``--language`` given: an existing profile switches to it."""
    folder: Path = field(default_factory=Path.cwd)
    """Where the summary and the data file are saved."""

    @property
    def companion(self) -> Companion:
        return self.services.conversation

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
                choice = await self._menu()
                if choice is None:
                    self._say(self._t("console_bye"))
                    return 0
                if isinstance(choice, Choice):
                    await self._do(choice)
                else:
                    await self._converse(await self.companion.open(self.who, choice))
        except Quit:
            self._say(self._t("console_saved_bye"))
            return 0
        except Deleted:
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
            if self.switch_to is not None and self.switch_to != person.language:
                await self._set_language(self.switch_to)
            return True
        if self.switch_to is not None:
            self.language = self.switch_to
        words = self.services.words
        consent = words.consent(self.language)
        for text in consent.texts:
            self._say(text)
            self._say("")
        self._say(consent.question)
        options = [consent.agree, consent.decline]
        while True:
            self._numbered(options)
            answer = self._read().strip()
            if words.is_quit(answer):
                # "or q to quit" is said under this question too: nothing is kept, as at the end of input.
                raise EndOfInput
            picked = self._pick(answer, options)
            if picked == 0 or (picked is None and words.is_yes(answer)):
                await self.companion.join(self.who, self.language)
                self._say(self._t("agreed"))
                return True
            if picked == 1 or (picked is None and words.is_no(answer)):
                self._say(self._t("declined"))
                return False
            outside = self.companion.outside(answer, self.language)
            if outside is not None:
                await self._converse(outside)
                self._say(consent.question)
            else:
                self._say(self._t("console_unknown_menu"))

    async def _menu(self) -> str | Choice | None:
        """A flow id, one of the other choices, or None to quit."""
        words = self.services.words
        while True:
            flows = await self.companion.menu(self.who)
            choices = list(Choice)
            self._say("")
            self._say(words.menu_intro(self.language))
            self._numbered([words.menu_line(flow, self.language) for flow in flows])
            self._say(self._t("console_more"))
            self._numbered([self._t(choice) for choice in choices], start=len(flows) + 1)
            self._say(self._t("console_quit"))
            while True:
                line = self._read().strip()
                if words.is_quit(line):
                    return None
                number = list_number(line.lower())
                if number is not None and 1 <= number <= len(flows):
                    return flows[number - 1].flow_id
                if number is not None and 1 <= number - len(flows) <= len(choices):
                    return choices[number - len(flows) - 1]
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
            if self.services.words.is_quit(line):
                # "q = quit" at the menu means the same at a question: never saved as an answer.
                self._show(await self.companion.act(self.who, Pressed(PAUSE)))
                raise Quit
            action = self._action(line, reply.prompt)
            reply = await self.companion.act(self.who, action)

    # ------------------------------------------------------------------ the other choices

    async def _do(self, choice: Choice) -> None:
        if choice is Choice.SUMMARY:
            await self._summary()
        elif choice is Choice.NAME:
            await self._converse(await self.companion.open(self.who, forms.MY_NAME.flow))
        elif choice is Choice.LANGUAGE:
            await self._language()
        elif choice is Choice.SHARE:
            await self._share()
        elif choice is Choice.EXPORT:
            await self._export()
        elif choice is Choice.DELETE:
            await self._delete()

    async def _summary(self) -> None:
        document = await self.services.summaries.document(self.who)
        if document is None:
            return
        if document.is_empty:
            self._say("")
            self._say(document.nothing_yet or self._t("summary_nothing_yet_no_flow"))
            return
        self._save(self._t("tg_summary_filename"), render_pdf(document), "console_summary_saved")

    async def _export(self) -> None:
        data = await self.services.privacy.export(self.who)
        if data is None:
            self._say(self._t("tg_nothing_kept"))
            return
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        self._save(self._t("console_export_filename"), text.encode("utf-8"), "console_export_saved")

    def _save(self, name: str, data: bytes, said: str) -> None:
        path = self.folder / name
        self._say("")
        try:
            path.write_bytes(data)
        except OSError:
            self._say(self._t("console_file_failed", path=path))
            return
        self._say(self._t(said, path=path))

    async def _language(self) -> None:
        codes = [code for code in LANGUAGES if code in LANGUAGE_NAMES]
        self._say("")
        self._say(self._t("tg_language_question"))
        picked = await self._choose([self._t(LANGUAGE_NAMES[code]) for code in codes])
        if picked is not None:
            await self._set_language(codes[picked])

    async def _set_language(self, language: str) -> None:
        await self.companion.set_language(self.who, language)
        self.language = language
        self._say(self._t("tg_language_set"))

    async def _share(self) -> None:
        sharing = self.services.sharing
        offer = await sharing.offer(self.who)
        if offer is None:
            return
        if offer.sections:
            listed = [f"• {title}" for title in offer.sections]
            sections = "\n".join([*listed, self._t("roles_share_sections_later")])
        else:
            sections = self._t("roles_share_sections_empty")
        self._say("")
        self._say(self._t("roles_share_explain", sections=sections))
        self._say("")
        if offer.display_name:
            self._say(self._t("roles_share_name", name=offer.display_name))
        else:
            self._say(self._t("roles_share_no_name"))
        self._say("")
        self._say(self._t("roles_share_question"))
        picked = await self._choose([self._t("button_roles_share_yes"), self._t("button_roles_share_no")], yes_no=True)
        self._say("")
        if picked == 0:
            code = await sharing.create_code(self.who)
            self._say(self._t("roles_share_code", code=code))
        else:
            self._say(self._t("roles_share_declined"))
        await self._viewers()

    async def _viewers(self) -> None:
        """Who can see the summary now, each with a way to stop sharing with them."""
        sharing = self.services.sharing
        viewers = await sharing.viewers(self.who)
        if not viewers:
            return
        names = [viewer.display_name or self._t("roles_unnamed_coordinator") for viewer in viewers]
        self._say("")
        self._say(self._t("roles_sharing_list"))
        for name, viewer in zip(names, viewers, strict=True):
            self._say(
                self._t(
                    "roles_sharing_item", name=name, date=format_date(viewer.since.date().isoformat(), self.language)
                )
            )
        picked = await self._choose(
            [*(self._t("button_roles_stop", name=name) for name in names), self._t("console_keep_sharing")]
        )
        if picked is None or picked == len(viewers):
            return
        stopped = await sharing.stop(self.who, viewers[picked].coordinator_id)
        self._say(self._t("roles_stopped" if stopped else "roles_already_stopped", name=names[picked]))

    async def _delete(self) -> None:
        self._say("")
        self._say(self._t("tg_delete_question"))
        picked = await self._choose([self._t("button_tg_delete_yes"), self._t("button_tg_delete_no")], yes_no=True)
        if picked != 0:
            self._say(self._t("tg_delete_kept"))
            return
        erased = await self.services.privacy.erase(self.who)
        self._say(self._t("tg_deleted" if erased else "tg_nothing_kept"))
        raise Deleted

    async def _choose(self, options: Sequence[str], *, yes_no: bool = False) -> int | None:
        """The index of the option typed (its number or its words; a typed yes or no when ``yes_no``);
        None when the person typed a word that means quit or back."""
        words = self.services.words
        self._numbered(list(options))
        while True:
            line = self._read().strip()
            picked = self._pick(line, options)
            if picked is not None:
                return picked
            if yes_no and words.is_yes(line):
                return 0
            if yes_no and words.is_no(line):
                return 1
            if words.is_quit(line) or words.means("words_back", line):
                return None
            # Anything else typed is read for signs of risk, as everywhere.
            reply = await self.companion.act(self.who, Typed(line)) if line else Reply()
            if reply.crisis or reply.safety is not None or reply.messages:
                await self._converse(reply)
                self._numbered(list(options))
                continue
            self._say(self._t("console_unknown_menu"))

    # ------------------------------------------------------------------ input

    @staticmethod
    def _pick(line: str, options: Sequence[str]) -> int | None:
        """The option typed by its number or in full."""
        lowered = line.strip().lower()
        number = list_number(lowered)
        if number is not None and 1 <= number <= len(options):
            return number - 1
        return next((index for index, option in enumerate(options) if lowered and lowered == option.lower()), None)

    def _action(self, line: str, prompt: Prompt) -> Action:
        text = line.strip()
        words = self.services.words
        for key, button in _WORDS.items():
            if words.means(key, text):
                return Pressed(button)
        if not text and prompt.kind is StepType.message:
            return Pressed(NEXT)
        if not text and prompt.kind is StepType.checklist:
            return Pressed(DONE)
        numbered = self._numbered_options(prompt)
        number = list_number(text.lower())
        if number is not None and numbered and 1 <= number <= len(numbered):
            return Pressed(numbered[number - 1].id)
        return Typed(text)

    async def _answer_safety(self, reply: Reply) -> Reply:
        """Read the person's choice under a card or the safety question (a number, yes or no)."""
        safety = reply.safety
        assert safety is not None
        words = self.services.words
        registered = await self.companion.person(self.who) is not None
        ids = [button.id for button in safety.buttons]
        while True:
            line = self._read().strip()
            number = list_number(line.lower())
            choice: str | None = None
            if number is not None and 1 <= number <= len(ids):
                choice = ids[number - 1]
            elif words.is_yes(line) and SafetyChoice.YES in ids:
                choice = SafetyChoice.YES
            elif words.is_no(line) and SafetyChoice.NO in ids:
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
        if reply.language:
            self.language = reply.language
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
        if prompt.hint:
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

    def _numbered(self, labels: list[str], start: int = 1) -> None:
        for index, label in enumerate(labels, start=start):
            self._say(f"  {index}. {label}")

    def _say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    # ------------------------------------------------------------------ words

    def _t(self, key: str, **params: object) -> str:
        return self.companion.catalog.ui.get(key, self.language, **params)

    def _words_example(self, key: str) -> str:
        return self._t(key).split(",")[0].strip()
