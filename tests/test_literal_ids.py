"""No flow or step id of the content is written as a literal in bot/, outside the declared forms.

Python that names a flow or a step directly breaks silently when the content
renames it (a renamed ``remind`` once planned no reminders). Every id the code
relies on is declared in ``bot/services/forms.py``, which the content check
holds to the content. A few words are both an id in the content and a name of
the code's own (a table, a record's field, a kind of reminder); they are
listed here, each with the reason, so a new one is a decision, not an accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

from flows.catalog import Catalog

ROOT = Path(__file__).parent.parent
DECLARED = {"bot/services/forms.py"}
OWN_NAMES = {
    # Record fields and FHIR value types that happen to be step ids too.
    ("bot/fhir.py", "date"): "FHIR answer types (valueDate, valueTime) and the Questionnaire item's field",
    ("bot/fhir.py", "time"): "FHIR answer types",
    ("bot/fhir.py", "name"): "a FHIR HumanName field",
    ("bot/reminders/messages.py", "date"): "the placeholder names of the reminder text",
    ("bot/reminders/messages.py", "time"): "the placeholder names of the reminder text",
    ("bot/reminders/messages.py", "appointment"): "the kind of a reminder's source (appointment:<id>)",
    ("bot/reminders/appointments.py", "timezone"): "a column of the appointments table",
    ("bot/reminders/appointments.py", "note"): "a column of the appointments table",
    ("bot/services/privacy.py", "timezone"): "a field of the person's exported record",
    ("bot/services/conversation.py", "timezone"): "a field of the person's record",
    ("bot/storage/repository.py", "timezone"): "a column of the people table",
    ("bot/storage/models.py", "session_feedback"): "a table name",
    ("bot/roles/group_activity.py", "session_feedback"): "the kind of a reminder's source",
    ("bot/roles/group_activity.py", "group_message"): "the kind of a reminder's source",
    # The feedback a session keeps is stored under the code's own names, whatever
    # the content calls its steps (bot/services/groups.py maps them from the form).
    ("bot/services/groups.py", "most_useful"): "a stored feedback key",
    ("bot/services/groups.py", "least_useful"): "a stored feedback key",
    ("bot/services/groups.py", "level"): "a stored feedback key",
    ("bot/roles/group_activity.py", "most_useful"): "a stored feedback key",
    ("bot/roles/group_activity.py", "least_useful"): "a stored feedback key",
    ("bot/roles/group_activity.py", "level"): "a stored feedback key",
    ("bot/adapters/telegram/summary.py", "name"): "the summary's name field",
    ("bot/adapters/telegram/reminders.py", "message"): "a Telegram object's name",
    ("bot/logs.py", "time"): "a field of a JSON log line",
    ("bot/logs.py", "level"): "a field of a JSON log line",
    ("bot/logs.py", "message"): "a field of a JSON log line",
    ("bot/cli.py", "collaborate"): "the name of the `companion report collaborate` command",
}


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _found(catalog: Catalog, root: Path) -> list[str]:
    ids = {flow_id: "flow" for flow_id in catalog.flows}
    for flow in catalog.flows.values():
        for step in flow.steps:
            ids.setdefault(step.id, "step")
    found = []
    for path in sorted((root / "bot").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name in DECLARED or "/migrations/" in name:
            continue
        for line, value in _literals(path):
            if value in ids and (name, value) not in OWN_NAMES:
                found.append(f"{name}:{line}: the {ids[value]} id '{value}' (declare it in bot/services/forms.py)")
    return found


def test_no_flow_or_step_id_is_a_literal_outside_the_forms(catalog: Catalog) -> None:
    assert _found(catalog, ROOT) == []


def test_a_flow_id_written_in_an_adapter_is_found(catalog: Catalog, tmp_path: Path) -> None:
    adapter = tmp_path / "bot" / "adapters" / "new.py"
    adapter.parent.mkdir(parents=True)
    adapter.write_text('async def go(services, who):\n    await services.conversation.open(who, "goals")\n')
    assert _found(catalog, tmp_path) == [
        "bot/adapters/new.py:2: the flow id 'goals' (declare it in bot/services/forms.py)"
    ]
