"""What every Telegram journey test does: agree, look up who someone is, answer a whole flow."""

from __future__ import annotations

from bot.services.conversation import Companion, Who
from flows.schema import StepType
from flows.turns import DONE, MORE_NO, NEXT, Pressed, Typed
from tests.telegram.harness import Call, Person, shown

OWN = "Can I drive <safely> & still work nights?"
"""The person's own words wherever a flow asks for typing (HTML characters on purpose)."""


def ui(companion: Companion, key: str, language: str = "en", **params: object) -> str:
    return companion.catalog.ui.get(key, language, **params)


async def agree(person: Person, companion: Companion, payload: str = "") -> None:
    """/start (with an optional deep-link payload), then "Yes" to the privacy notice."""
    await person.says(f"/start {payload}".strip())
    await person.taps(ui(companion, "button_agree", person.user["language_code"]))


async def person_id(companion: Companion, person: Person) -> int:
    record = await companion.person(Who("telegram", str(person.id)))
    assert record is not None
    return record.id


async def finish(companion: Companion, who: Who, flow_id: str, own_words: str = OWN) -> None:
    """Answer a flow through the service: first option everywhere, ``own_words`` where typed."""
    reply = await companion.open(who, flow_id)
    for _ in range(80):
        prompt = reply.prompt
        if prompt is None:
            break
        if prompt.step.endswith("__again"):
            action = Pressed(MORE_NO)
        elif prompt.kind is StepType.message:
            action = Pressed(NEXT)
        elif prompt.kind is StepType.text:
            action = Typed(own_words)
        elif prompt.kind is StepType.checklist:
            action = Pressed(DONE) if any(b.ticked for b in prompt.options) else Pressed(prompt.options[0].id)
        else:
            action = Pressed(prompt.options[0].id)
        reply = await companion.act(who, action)
    assert reply.status == "finished"


async def skips(person: Person, companion: Companion, language: str = "en") -> list[Call]:
    """Skip the question: tap Skip where the question has buttons, else type the word
    (a question answered by typing says its words instead of showing buttons)."""
    label = ui(companion, "button_skip", language)
    if person.chat and label in shown(person.chat[-1]):
        return await person.taps(label, person.chat[-1])
    return await person.says(ui(companion, "words_skip", language).split(",")[0].strip())
