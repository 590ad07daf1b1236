"""Draw a flow as a Mermaid state diagram, from the same transitions the engine runs.

Content authors paste the output into any Mermaid viewer (GitHub renders it
in Markdown) to see every path through a flow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transitions.extensions import GraphMachine

from flows.machine import AGAIN, FlowMachine
from flows.schema import END, Flow


class _Drawing:
    """The model GraphMachine needs to draw; it is never run."""

    get_graph: Callable[..., Any]
    """Added by GraphMachine to the model it draws."""


def mermaid(flow: Flow, language: str = "en") -> str:
    engine_machine = FlowMachine(flow)
    states = []
    for step in flow.steps:
        states.append({"name": step.id})
        if step.repeat:
            states.append({"name": step.id + AGAIN})
    states.append({"name": END})
    model = _Drawing()
    graph = GraphMachine(
        model=model,
        states=states,
        initial=flow.steps[0].id,
        auto_transitions=False,
        graph_engine="mermaid",
        title=flow.title.get(language),
        show_conditions=True,
    )
    for trigger, source, dest, conditional in engine_machine.transitions():
        label_conditions: list[str | Callable[..., bool | None]] = (
            [_describe_rule(flow, source, dest)] if conditional else []
        )
        graph.add_transition(trigger, source, dest, conditions=label_conditions)
    return model.get_graph().draw(None)


def _describe_rule(flow: Flow, source: str, dest: str) -> str:
    """A readable name for the condition on an edge, e.g. ``decision_coming is yes``."""
    step_id = source[: -len(AGAIN)] if source.endswith(AGAIN) else source
    for rule in flow.step(step_id).next_rules(END):
        if rule.go == dest and rule.when:
            parts = []
            for condition in rule.when:
                for name in ("is_", "is_not", "has", "at_least", "at_most", "answered"):
                    value = getattr(condition, name)
                    if value is not None:
                        parts.append(f"{condition.step} {name.rstrip('_').replace('_', ' ')} {value}")
            return " and ".join(parts).replace(" ", "_")
    return "condition"
