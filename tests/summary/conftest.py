"""Fixtures for the summary: test flows for every section, and a person who
answers them through the real Companion service and a real database."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.content import DEFAULT_CONTENT_DIR, read_documents
from bot.services.conversation import Companion, Reply, Who
from bot.storage.repository import Storage
from flows.catalog import Catalog
from flows.engine import Engine
from flows.machine import AGAIN
from flows.schema import StepType
from flows.turns import DONE, MORE_NO, MORE_YES, NEXT, SKIP, Action, Pressed, Prompt, Typed

SUMMARY_CONTENT = Path(__file__).parent / "content"

Plan = Mapping[str, Any]
"""Step id -> answer: text (str), texts for a repeating step (list[str]), option ids for a
checklist (list[str]), an option id / "yes" / "no" (str), or a number for a scale (int).
Steps not in the plan are skipped."""


def summary_catalog() -> Catalog:
    """Shipped texts and sections, with the test flows and the test layout."""
    documents = read_documents(DEFAULT_CONTENT_DIR)
    test = read_documents(SUMMARY_CONTENT)
    documents.flows = test.flows
    documents.extra.update(test.extra)
    return Catalog.build(documents)


@pytest.fixture(scope="session")
def s_engine() -> Engine:
    return Engine(summary_catalog())


@pytest.fixture
async def s_companion(storage: Storage, s_engine: Engine, clock: Any) -> Companion:
    return Companion(storage, s_engine, clock=clock)


async def play(companion: Companion, who: Who, flow_id: str, plan: Plan | Callable[[Prompt], list[Action]]) -> Reply:
    """Go through a flow answering from the plan; returns the finishing reply."""
    reply = await companion.open(who, flow_id)
    added: dict[str, int] = {}
    for _ in range(500):
        if reply.status == "finished":
            return reply
        prompt = reply.prompt
        assert prompt is not None, reply
        for action in _actions(prompt, plan, added):
            reply = await companion.act(who, action)
            assert reply.status != "idle", (prompt, action)
    raise AssertionError(f"{flow_id} did not finish")


def _actions(prompt: Prompt, plan: Plan | Callable[[Prompt], list[Action]], added: dict[str, int]) -> list[Action]:
    if prompt.kind is StepType.message:
        return [Pressed(NEXT)]
    if prompt.step.endswith(AGAIN):
        step = prompt.step[: -len(AGAIN)]
        wanted = _wanted(plan, step, prompt)
        return [Pressed(MORE_YES if added.get(step, 0) < wanted else MORE_NO)]
    if callable(plan):
        return plan(prompt)
    value = plan.get(prompt.step)
    if value is None:
        return [Pressed(SKIP)]
    if prompt.kind is StepType.text:
        if isinstance(value, list):
            index = added.get(prompt.step, 0)
            added[prompt.step] = index + 1
            return [Typed(value[index])]
        return [Typed(value)]
    if prompt.kind is StepType.checklist:
        return [*(Pressed(option) for option in value), Pressed(DONE)]
    return [Pressed(str(value))]


def _wanted(plan: Plan | Callable[[Prompt], list[Action]], step: str, prompt: Prompt) -> int:
    if callable(plan):
        return 10**6
    value = plan.get(step)
    return len(value) if isinstance(value, list) else 1


def maximal(text: Callable[[int], str]) -> Callable[[Prompt], list[Action]]:
    """A plan for any flow: the longest text allowed, every option, the top of every scale."""
    counts: dict[str, int] = {}

    def plan(prompt: Prompt) -> list[Action]:
        if prompt.kind is StepType.text:
            counts[prompt.step] = counts.get(prompt.step, 0) + 1
            return [Typed(text(prompt.max_length or 500))]
        if prompt.kind is StepType.checklist:
            # Past a max_picks limit the engine re-asks kindly; the first picks stay ticked.
            return [*(Pressed(option.id) for option in prompt.options if option.id != DONE), Pressed(DONE)]
        if prompt.kind is StepType.scale:
            return [Pressed(prompt.options[-1].id)]
        if prompt.kind is StepType.yes_no:
            return [Pressed("yes")]
        return [Pressed(prompt.options[0].id)]

    return plan
