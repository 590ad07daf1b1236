"""One ``transitions`` state machine per flow: where a person goes next.

A :class:`FlowMachine` is built once per flow, when content loads, and shared
by everyone. Each move lends it a tiny throw-away model holding one person's
state and answers, so a move costs microseconds and no machine is ever built
per person.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine

from flows.schema import END, Flow, Step

AGAIN = "__again"
"""Suffix of the machine state that asks "add another?" after a repeating step."""


class _Model:
    """The per-move model lent to a shared machine: just a state and the answers."""

    __slots__ = ("answers", "state")

    def __init__(self, state: str, answers: dict[str, Any]) -> None:
        self.state = state
        self.answers = answers


class FlowMachine:
    """One flow's states and transitions, built once and shared by everyone.

    States are the step ids, ``<id>__again`` for repeating steps, and ``end``.
    The ``next`` trigger follows the flow's rules (conditions are checked on
    the model's answers, first match wins); ``again`` loops a repeating step.
    """

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        states = [step.id for step in flow.steps]
        states += [step.id + AGAIN for step in flow.steps if step.repeat]
        states.append(END)
        self.machine = Machine(
            model=None,
            states=states,
            initial=flow.steps[0].id,
            auto_transitions=False,
            send_event=True,
        )
        for step in flow.steps:
            source = step.id
            if step.repeat:
                self.machine.add_transition("next", step.id, step.id + AGAIN)
                self.machine.add_transition("again", step.id + AGAIN, step.id)
                source = step.id + AGAIN
            for rule in step.next_rules(flow.following(step.id)):
                conditions = [_condition(rule.when)] if rule.when else []
                self.machine.add_transition("next", source, rule.go, conditions=conditions)
        self._next = self.machine.events["next"]
        self._again = self.machine.events["again"] if any(s.repeat for s in flow.steps) else None

    def next_state(self, state: str, answers: dict[str, Any]) -> str:
        model = _Model(state, answers)
        self._next.trigger(model)
        return model.state

    def again_state(self, state: str, answers: dict[str, Any]) -> str:
        model = _Model(state, answers)
        assert self._again is not None
        self._again.trigger(model)
        return model.state

    def transitions(self) -> list[tuple[str, str, str, bool]]:
        """(trigger, source, dest, conditional) for every transition, for graphs and checks."""
        out: list[tuple[str, str, str, bool]] = []
        for name, event in self.machine.events.items():
            for source, transitions in event.transitions.items():
                # Every transition goes to a step (the machine has no internal ones, whose dest is None).
                out.extend(
                    (name, source, transition.dest, bool(transition.conditions))
                    for transition in transitions
                    if transition.dest is not None
                )
        return out


def _condition(conditions: list[Any]) -> Any:
    def holds(event_data: Any) -> bool:
        answers = event_data.model.answers
        return all(condition.holds(answers) for condition in conditions)

    return holds


def step_of(state: str) -> tuple[str, bool]:
    """Split a machine state into (step id, asking "add another?")."""
    if state.endswith(AGAIN):
        return state[: -len(AGAIN)], True
    return state, False


def valid_state(steps: dict[str, Step], state: str) -> bool:
    """True if ``state`` is still a state of the flow whose steps (by id) are given.

    A saved position can outlive its step when content changes."""
    if state == END:
        return True
    step_id, asking_again = step_of(state)
    step = steps.get(step_id)
    return step is not None and (not asking_again or step.repeat is not None)
