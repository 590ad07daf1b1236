"""/mydata holds everything kept about a person, and /delete leaves nothing anywhere.

The person here has rows in every kind of table the companion has: answers,
a share with a coordinator (and the coordinator's audited look at it), a group
membership with attendance and feedback, an appointment with its reminders.
Which tables refer to a person is read from the schema, so a table added
later is checked too.
"""

from __future__ import annotations

import datetime as dt
import json

from bot.reminders import appointments
from bot.roles import grants, group_activity, groups, sharing
from bot.services.conversation import Companion, Who
from bot.storage.repository import person_columns
from flows.turns import Typed
from tests.conftest import Clock
from tests.telegram.harness import TelegramHarness
from tests.telegram.talk import agree, finish, person_id, ui


async def test_everything_about_a_person_is_exported_and_then_erased(
    harness: TelegramHarness, companion: Companion, clock: Clock
) -> None:
    sam = harness.person(3001, "Sam")
    await agree(sam, companion)
    await finish(companion, Who("telegram", "3001"), "questions")
    # A reply waiting in the outbox (the turn committed, its sending not yet done).
    assert (await companion.act(Who("telegram", "3001"), Typed("Still there?"), 77_001)).outbox_id is not None
    sam_id = await person_id(companion, sam)
    coordinator_id = (await companion.storage.run(lambda tx: tx.create_person("telegram", "3002", "en", clock()))).id
    facilitator_id = (await companion.storage.run(lambda tx: tx.create_person("telegram", "3003", "en", clock()))).id
    now = clock()

    def everything(tx) -> None:  # type: ignore[no-untyped-def]
        c = tx.connection
        grants.grant(c, coordinator_id, grants.COORDINATOR, now)
        grants.grant(c, facilitator_id, grants.FACILITATOR, now)
        code = sharing.create_code(c, sam_id, now)
        assert sharing.link(c, coordinator_id, code, now).status == "linked"
        assert sharing.access(c, coordinator_id, sam_id, "summary", now)
        group, token = groups.create_group(c, facilitator_id, "Tuesday group", "Europe/London", now)
        assert groups.join(c, sam_id, token, consented=True, now=now) is not None
        session = group_activity.schedule(
            c, facilitator_id, group.id, dt.datetime(2026, 11, 24, 18, 0), place=None, now=now
        )
        later = session.starts_at + dt.timedelta(hours=3)
        group_activity.set_attended(c, facilitator_id, session.id, sam_id, True, later)
        assert group_activity.save_feedback(c, sam_id, session.id, {"level": "about_right"}, later)
        appointments.set_appointment(c, sam_id, dt.datetime(2026, 12, 10, 14, 30), "Europe/London", "Room 2", now)
        # What the safety policy remembers, a mark on an answer, and a coordinator's notes about Sam.
        tx.save_safety_state(sam_id, {"signals": [now.isoformat()]}, now)
        questions = tx.latest_completed(sam_id)["questions"]
        tx.mark_answers(sam_id, questions.id, ["own"], "stopping_medicine", now)
        coordinator = tx.person_by_id(coordinator_id)
        about = {"flow": "what_we_agreed", "step": "will_do", "answers": {}, "about": {"person_id": sam_id}}
        tx.save_turn(
            coordinator,
            run_id=None,
            flow_id="what_we_agreed",
            position=about,
            status="active",
            active_flow="what_we_agreed",
            saved={"will_do": "Notes"},
            now=now,
        )

    await companion.storage.run(everything)
    before = await companion.storage.run(lambda tx: tx.rows_referring_to(sam_id))
    touched = {name for name, count in before.items() if count}
    # Every table that can refer to a person is exercised here (else this test would prove less than it says).
    expected = {f"{table.name}.{column.name}" for table, column in person_columns()} | {"people.id"}
    untouched = (
        expected
        - touched
        - {
            "role_invites.redeemed_by",  # Sam was never invited to a role
            "roles.person_id",  # ...so holds none
            "groups.facilitator_id",  # ...and runs no group
            "shares.coordinator_id",  # Sam is the one sharing, not the coordinator
            "access_log.actor_id",  # ...and looked at nobody
            "code_failures.person_id",  # Sam typed no wrong codes
            "blocked_chats.person_id",  # Sam did not block the bot
            "chat_pace.person_id",  # nothing was sent by the dispatcher yet
        }
    )
    assert untouched == set(), f"tables this test does not fill: {sorted(untouched)}"

    # /mydata: the file holds the answers and every other record, minus secrets.
    calls = await sam.says("/mydata")
    (document,) = [call for call in calls if call.method == "sendDocument"]
    ((_, (_, data)),) = document.files.items()
    exported = json.loads(data)
    other = exported["other_records"]
    assert {
        "shares",
        "access_log",
        "group_members",
        "session_attendance",
        "session_feedback",
        "appointments",
        "reminders",
        "safety_states",
        "answer_marks",
    } <= set(other)
    assert "runs" not in other  # a coordinator's notes about Sam are the coordinator's, not exported to Sam
    assert other["appointments"][0]["note"] == "Room 2"
    assert "about_right" in json.dumps(other["session_feedback"])
    assert "hash" not in json.dumps(other)
    assert any(flow["flow"] == "questions" for flow in exported["flows"])

    # /delete: nothing left that refers to Sam, in any table.
    await sam.says("/delete")
    await sam.taps(ui(companion, "button_tg_delete_yes"))
    after = await companion.storage.run(lambda tx: tx.rows_referring_to(sam_id))
    assert after == {name: 0 for name in after}
    # Except the audit trail, which names Sam by pseudonymous id only and outlives the account.
    trail = await companion.storage.run(lambda tx: sharing.trail_of(tx.connection, sam_id))
    assert [(e.actor_id, e.action) for e in trail if e.subject_id == sam_id][:2] == [
        (coordinator_id, "link"),
        (coordinator_id, "summary"),
    ]
    # The coordinator and facilitator still exist; only Sam's traces are gone.
    assert await companion.storage.run(lambda tx: tx.person_by_id(coordinator_id)) is not None
