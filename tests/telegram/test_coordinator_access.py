"""Every access rule of the coordinator's side, through the real Application."""

from __future__ import annotations

import json

from bot.roles import grants, sharing
from bot.services.conversation import Companion, Who
from tests.telegram.coordinator_helpers import (
    agree,
    audit,
    finish,
    flows_of,
    harness,  # noqa: F401 - the fixture
    link,
    make_code,
    make_coordinator,
    messages_to,
    person_id,
    sent,
    ui,
)
from tests.telegram.harness import TelegramHarness
from tests.telegram.talk import skips


async def press(harness: TelegramHarness, person, data: str):  # type: ignore[no-untyped-def]
    """A button press with made-up callback data, on the person's last message."""
    return await harness.process(harness.updates.press(person.user, person.last, data))


async def test_a_service_user_gets_a_kind_no_and_nothing_else(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    robin = harness.person(901, "Robin")
    await agree(robin, companion)
    await finish(companion, Who("telegram", "901"), "questions")
    sam = harness.person(902, "Sam")
    await agree(sam, companion)
    code = await make_code(robin, companion)
    for command in ("/people", "/link", f"/link {code}", f"/start s_{code}"):
        calls = await sam.says(command)
        assert sam.last["text"] == ui(companion, "roles_coordinators_only"), command
        assert messages_to(calls, 901) == []
    # The code was not spent by the refused tries: a real coordinator can still use it.
    alex = await make_coordinator(harness, companion, clock, 903, "Alex Morgan")
    await alex.says(f"/link {code}")
    assert alex.last["text"] == ui(companion, "roles_link_done", name=ui(companion, "roles_person_unnamed"))
    robin_id, sam_id = await person_id(companion, robin), await person_id(companion, sam)
    # Forged coordinator buttons from a service user: refused, audited, nothing sent.
    for data in (f"co:s:{robin_id}", f"co:r:{robin_id}", f"co:r:{robin_id}:3", f"co:a:{robin_id}"):
        calls = await press(harness, sam, data)
        assert sent(calls, "sendDocument") == []
        assert sam.last["text"] == ui(companion, "roles_no_access")
    assert (await companion.current(Who("telegram", "902"))).status == "idle"
    rows = [row for row in await audit(companion) if row[0] == sam_id]
    assert rows == [
        (sam_id, None, "list_people", False),
        (sam_id, None, "link", False),  # /link CODE
        (sam_id, None, "link", False),  # the s_ link
        (sam_id, robin_id, "summary", False),
        (sam_id, robin_id, "review", False),
        (sam_id, robin_id, "review", False),
        (sam_id, robin_id, "agreement_open", False),
    ]


async def test_an_unlinked_coordinator_and_forged_ids_see_nothing(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    alex = await make_coordinator(harness, companion, clock, 911, "Alex Morgan")
    robin = harness.person(912, "Robin")
    kim = harness.person(913, "Kim")
    for person in (robin, kim):
        await agree(person, companion)
        await finish(companion, Who("telegram", str(person.id)), "questions")
    await link(harness, companion, clock, robin, alex)  # Alex sees Robin, not Kim
    kim_id, alex_id = await person_id(companion, kim), await person_id(companion, alex)
    await alex.says("/people")
    for data in (
        f"co:s:{kim_id}",
        f"co:r:{kim_id}",
        f"co:r:{kim_id}:1",
        f"co:a:{kim_id}",
        "co:s:999999",
        "co:s:-1",
        "co:s:1 OR 1=1",
        "co:zz:1",
    ):
        calls = await press(harness, alex, data)
        assert sent(calls, "sendDocument") == []
        assert alex.last["text"] == ui(companion, "roles_no_access"), data
    assert (await companion.current(Who("telegram", "911"))).status == "idle"
    refused = [row for row in await audit(companion) if row[0] == alex_id and not row[3]]
    assert refused == [
        (alex_id, kim_id, "summary", False),
        (alex_id, kim_id, "review", False),
        (alex_id, kim_id, "review", False),
        (alex_id, kim_id, "agreement_open", False),
        (alex_id, None, "summary", False),  # an id that names nobody
    ]
    # A person cannot stop someone else's share by forging a coordinator id.
    await press(harness, kim, f"sh:stop:{alex_id}")
    assert kim.last["text"] == ui(companion, "roles_already_stopped")
    await alex.says("/people")
    assert alex.last["text"].startswith(ui(companion, "roles_person_unnamed") + ", sharing since ")


async def test_codes_reused_expired_and_guessed(harness: TelegramHarness, companion: Companion, clock) -> None:  # type: ignore[no-untyped-def]
    alex = await make_coordinator(harness, companion, clock, 921, "Alex Morgan")
    jo = await make_coordinator(harness, companion, clock, 922, "Jo Lind")
    robin = harness.person(923, "Robin")
    await agree(robin, companion)
    failed = ui(companion, "roles_link_failed")

    used = await make_code(robin, companion)
    await alex.says(f"/link {used}")
    calls = await jo.says(f"/link {used}")  # reused
    assert jo.last["text"] == failed
    assert messages_to(calls, 923) == []  # the person is told nothing about a failed try

    expired = await make_code(robin, companion)
    clock.advance(hours=24, seconds=1)
    await jo.says(f"/link {expired}")
    assert jo.last["text"] == failed

    await jo.says("/link ZZZZZZZZ")  # never existed
    assert jo.last["text"] == failed
    await jo.says("/link hello")  # not even a code
    assert jo.last["text"] == failed
    await jo.says("/link")
    assert jo.last["text"] == ui(companion, "roles_link_how")
    # Five wrong codes within the hour (the reused one is a day old now): even a right one is refused.
    jo_id = await person_id(companion, jo)
    assert await companion.storage.run(lambda tx: sharing.recent_failures(tx.connection, jo_id, clock())) == 3
    right = await make_code(robin, companion)
    for wrong in ("AAAAAAAA", "CCCC-DDDD"):
        await jo.says(f"/link {wrong}")
        assert jo.last["text"] == failed
    calls = await jo.says(f"/link {right}")
    assert jo.last["text"] == ui(companion, "roles_link_too_many")
    assert messages_to(calls, 923) == []
    await jo.says("/link ZZZZZZZZ")
    assert jo.last["text"] == ui(companion, "roles_link_too_many")
    clock.advance(hours=1, seconds=1)
    await jo.says(f"/link {right}")
    assert jo.last["text"] == ui(companion, "roles_link_done", name=ui(companion, "roles_person_unnamed"))


async def test_invites_work_once(harness: TelegramHarness, companion: Companion, clock) -> None:  # type: ignore[no-untyped-def]
    alex = harness.person(931, "Alex")
    jo = harness.person(932, "Jo")
    for person in (alex, jo):
        await agree(person, companion)
    token = await companion.storage.run(lambda tx: grants.create_invite(tx.connection, grants.FACILITATOR, clock()))
    await alex.says(f"/start {token}")
    assert alex.last["text"] == ui(companion, "roles_granted_facilitator")
    calls = await jo.says(f"/start {token}")  # used
    assert jo.last["text"] == ui(companion, "roles_invite_bad")
    assert sent(calls, "setMyCommands") == []
    old = await companion.storage.run(lambda tx: grants.create_invite(tx.connection, grants.COORDINATOR, clock()))
    clock.advance(days=7, seconds=1)
    await jo.says(f"/start {old}")  # expired
    assert jo.last["text"] == ui(companion, "roles_invite_bad")
    await jo.says("/start r_NotARealTokenButLongEnough123")  # unknown
    assert jo.last["text"] == ui(companion, "roles_invite_bad")
    jo_id = await person_id(companion, jo)
    assert await companion.storage.run(lambda tx: grants.roles_of(tx.connection, jo_id)) == set()
    # A facilitator is not a coordinator.
    await alex.says("/people")
    assert alex.last["text"] == ui(companion, "roles_coordinators_only")


async def test_the_public_command_list_is_the_service_users(harness: TelegramHarness, companion: Companion) -> None:
    application = harness.application
    harness.request.take()
    await application.post_init(application)
    calls = sent(harness.request.take(), "setMyCommands")
    assert len(calls) == 2
    for call in calls:
        assert "scope" not in call.params
        commands = call.params["commands"]
        names = [c["command"] for c in (json.loads(commands) if isinstance(commands, str) else commands)]
        assert "share" in names and "sharing" in names
        assert "people" not in names and "link" not in names


async def test_stopping_sharing_mid_review_tells_the_coordinator_and_keeps_only_their_draft(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    alex = await make_coordinator(harness, companion, clock, 941, "Alex Morgan")
    robin = harness.person(942, "Robin")
    await agree(robin, companion)
    await finish(companion, Who("telegram", "942"), "questions")
    await link(harness, companion, clock, robin, alex)
    await alex.says("/people")
    await alex.taps(ui(companion, "button_roles_review"))
    await alex.taps(ui(companion, "button_next"))  # past the top third of the summary
    await alex.taps(ui(companion, "button_roles_agree"))
    await alex.says("Something Robin said")
    alex_id, robin_id = await person_id(companion, alex), await person_id(companion, robin)
    assert ("what_we_agreed", "in_progress") in await flows_of(companion, alex_id)

    await robin.says("/sharing")
    calls = await robin.taps(ui(companion, "button_roles_stop", name="Alex Morgan"))
    # The coordinator is told at once, and what they wrote is their draft: not in progress, not on Robin's record.
    (told,) = messages_to(calls, 941)
    assert told.text.startswith(ui(companion, "roles_share_ended", name=ui(companion, "roles_person_unnamed")))
    assert ui(companion, "roles_draft_kept") in told.text
    assert ("what_we_agreed", "withdrawn") in await flows_of(companion, alex_id)
    assert ("what_we_agreed", "in_progress") not in await flows_of(companion, alex_id)
    assert (await companion.current(Who("telegram", "941"))).status == "idle"
    assert not any(flow == "what_we_agreed" for flow, _ in await flows_of(companion, robin_id))
    # Only Alex sees it, and can delete it.
    await alex.taps(ui(companion, "button_roles_drafts"))
    assert "Something Robin said" in alex.last["text"]
    await alex.taps(ui(companion, "button_roles_draft_discard"))
    assert alex.last["text"] == ui(companion, "roles_draft_discarded")
    assert not any(flow == "what_we_agreed" for flow, _ in await flows_of(companion, alex_id))


async def test_losing_access_before_the_last_answer_saves_nothing_anywhere(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    alex = await make_coordinator(harness, companion, clock, 951, "Alex Morgan")
    robin = harness.person(952, "Robin")
    await agree(robin, companion)
    await link(harness, companion, clock, robin, alex)
    await alex.says("/people")
    await alex.taps(ui(companion, "button_roles_review"))
    assert alex.last["text"] == ui(companion, "roles_review_empty", name=ui(companion, "roles_person_unnamed"))
    await alex.taps(ui(companion, "button_roles_agree"))
    await alex.says("Walk more")
    await skips(alex, companion)
    await alex.taps(ui(companion, "button_no"))
    alex_id, robin_id = await person_id(companion, alex), await person_id(companion, robin)
    # The operator takes the role away while the last question is open.
    await companion.storage.run(lambda tx: grants.revoke(tx.connection, alex_id, grants.COORDINATOR))
    calls = await alex.taps(ui(companion, "button_in_four_weeks"))
    assert alex.last["text"] == ui(companion, "roles_agreed_not_saved")
    assert messages_to(calls, 952) == []
    assert not any(flow == "what_we_agreed" for flow, _ in await flows_of(companion, robin_id))
    assert not any(flow == "what_we_agreed" for flow, _ in await flows_of(companion, alex_id))
    assert (await audit(companion))[-1] == (alex_id, robin_id, "agreement", False)


async def test_a_person_who_blocked_the_bot_still_gets_it_on_their_record(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    alex = await make_coordinator(harness, companion, clock, 961, "Alex Morgan")
    robin = harness.person(962, "Robin")
    await agree(robin, companion)
    await link(harness, companion, clock, robin, alex)
    await alex.says("/people")
    await alex.taps(ui(companion, "button_roles_review"))
    await alex.taps(ui(companion, "button_roles_agree"))
    await alex.says("Walk more")
    await skips(alex, companion)
    await alex.taps(ui(companion, "button_no"))
    harness.request.blocked.add(962)
    await alex.taps(ui(companion, "button_in_four_weeks"))
    assert alex.last["text"] == ui(companion, "roles_agreed_not_delivered", name=ui(companion, "roles_person_unnamed"))
    robin_id = await person_id(companion, robin)
    assert ("what_we_agreed", "completed") in await flows_of(companion, robin_id)


async def test_a_double_tap_makes_one_code(harness: TelegramHarness, companion: Companion, clock) -> None:  # type: ignore[no-untyped-def]
    robin = harness.person(971, "Robin")
    await agree(robin, companion)
    await robin.says("/share")
    update = robin.update_press(ui(companion, "button_roles_share_yes"))
    await harness.process(update)
    await harness.process(update)  # Telegram delivers the same update again
    codes = [m for m in robin.chat if m["text"].startswith("Your code: ")]
    assert len(codes) == 1


async def test_a_person_who_deletes_everything_mid_review_leaves_nothing_behind(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    alex = await make_coordinator(harness, companion, clock, 981, "Alex Morgan")
    robin = harness.person(982, "Robin")
    await agree(robin, companion)
    await link(harness, companion, clock, robin, alex)
    await alex.says("/people")
    await alex.taps(ui(companion, "button_roles_review"))
    await alex.taps(ui(companion, "button_roles_agree"))
    await alex.says("Walk more")
    await skips(alex, companion)
    await alex.taps(ui(companion, "button_no"))
    alex_id = await person_id(companion, alex)
    await robin.says("/delete")
    await robin.taps(ui(companion, "button_tg_delete_yes"))
    # The coordinator's unfinished notes about Robin went with Robin, at once.
    assert not any(flow == "what_we_agreed" for flow, _ in await flows_of(companion, alex_id))
    calls = await alex.taps(ui(companion, "button_in_four_weeks"))
    assert messages_to(calls, 982) == []
    assert alex.chat[-2]["text"] != ui(companion, "roles_agreed_sent", name="Robin")
    assert not any(flow == "what_we_agreed" for flow, _ in await flows_of(companion, alex_id))


async def test_an_erased_persons_id_and_notes_never_reach_the_next_person(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    """A coordinator's unfinished notes about Q must not land on N's record when N signs up after Q left."""
    alex = await make_coordinator(harness, companion, clock, 991, "Alex Morgan")
    quinn = harness.person(992, "Quinn")
    await agree(quinn, companion)
    await link(harness, companion, clock, quinn, alex)
    quinn_id = await person_id(companion, quinn)
    await alex.says("/people")
    await alex.taps(ui(companion, "button_roles_review"))
    await alex.taps(ui(companion, "button_roles_agree"))
    await alex.says("Quinn will halve the dose")
    await skips(alex, companion)
    await alex.taps(ui(companion, "button_no"))
    await quinn.says("/delete")
    await quinn.taps(ui(companion, "button_tg_delete_yes"))

    nico = harness.person(993, "Nico")
    await agree(nico, companion)
    nico_id = await person_id(companion, nico)
    assert nico_id != quinn_id
    await link(harness, companion, clock, nico, alex)
    calls = await alex.taps(ui(companion, "button_in_four_weeks"))
    assert all("halve the dose" not in call.params.get("text", "") for call in messages_to(calls, 993))
    assert not any(flow == "what_we_agreed" for flow, _ in await flows_of(companion, nico_id))


async def test_a_share_that_stops_during_the_last_answer_leaves_the_coordinator_a_draft(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    """The race: the share ends between the coordinator's read and their last answer's commit.
    The check inside that last turn refuses the write; what they wrote becomes their draft."""
    alex = await make_coordinator(harness, companion, clock, 985, "Alex Morgan")
    robin = harness.person(986, "Robin")
    await agree(robin, companion)
    await link(harness, companion, clock, robin, alex)
    await alex.says("/people")
    await alex.taps(ui(companion, "button_roles_review"))
    await alex.taps(ui(companion, "button_roles_agree"))
    await alex.says("Walk more")
    await skips(alex, companion)
    await alex.taps(ui(companion, "button_no"))
    alex_id, robin_id = await person_id(companion, alex), await person_id(companion, robin)
    # The share ends without the usual hand-over of the draft (as when the two turns race).
    await companion.storage.run(lambda tx: sharing.revoke(tx.connection, robin_id, alex_id, clock()))
    calls = await alex.taps(ui(companion, "button_in_four_weeks"))
    assert alex.last["text"] == ui(companion, "roles_agreed_draft")
    assert messages_to(calls, 986) == []
    assert ("what_we_agreed", "withdrawn") in await flows_of(companion, alex_id)
    assert not any(flow == "what_we_agreed" for flow, _ in await flows_of(companion, robin_id))


async def test_a_coordinators_delete_leaves_the_audit_of_what_they_looked_at(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    """A coordinator cannot erase the evidence of their access by erasing their account."""
    robin = harness.person(1802, "Robin")
    await agree(robin, companion)
    await finish(companion, Who("telegram", "1802"), "questions")
    alex = await make_coordinator(harness, companion, clock, 1801, "Alex Morgan")
    await link(harness, companion, clock, robin, alex)
    await alex.says("/people")
    await alex.taps(ui(companion, "button_roles_summary"), alex.last)
    robin_id, alex_id = await person_id(companion, robin), await person_id(companion, alex)
    before = [row for row in await audit(companion) if row[1] == robin_id]
    assert before == [(alex_id, robin_id, "link", True), (alex_id, robin_id, "summary", True)]

    await alex.says("/delete")
    await alex.taps(ui(companion, "button_tg_delete_yes"))
    assert await companion.storage.run(lambda tx: tx.person_by_id(alex_id)) is None
    assert [row for row in await audit(companion) if row[1] == robin_id] == before
    # Robin's own /mydata still shows who looked.
    calls = await robin.says("/mydata")
    (document,) = [call for call in calls if call.method == "sendDocument"]
    ((_, (_, data)),) = document.files.items()
    rows = json.loads(data)["other_records"]["access_log"]
    assert [(r["actor_id"], r["action"]) for r in rows if r["subject_id"] == robin_id] == [
        (actor, action) for actor, _, action, _ in before
    ]


async def test_a_revoked_and_reinvited_coordinator_starts_with_no_shares(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    robin = harness.person(1902, "Robin")
    await agree(robin, companion)
    await finish(companion, Who("telegram", "1902"), "questions")
    alex = await make_coordinator(harness, companion, clock, 1901, "Alex Morgan")
    await link(harness, companion, clock, robin, alex)
    alex_id = await person_id(companion, alex)
    # As `companion revoke-role` does it.
    await companion.storage.run(lambda tx: grants.revoke(tx.connection, alex_id, grants.COORDINATOR))
    # Robin sees at once that Alex can no longer see the summary.
    await robin.says("/sharing")
    assert robin.last["text"] == ui(companion, "roles_sharing_none")

    # The operator invites the same account again: nobody's summary comes back with the role.
    token = await companion.storage.run(lambda tx: grants.create_invite(tx.connection, grants.COORDINATOR, clock()))
    await alex.says(f"/start {token}")
    assert await companion.storage.run(lambda tx: grants.has_role(tx.connection, alex_id, grants.COORDINATOR))
    calls = await alex.says("/people")
    assert alex.last["text"] == ui(companion, "roles_people_none")
    assert sent(calls, "sendDocument") == []
    robin_id = await person_id(companion, robin)
    assert not await companion.storage.run(lambda tx: sharing.can_view(tx.connection, alex_id, robin_id))
    # Robin can choose to share again, with a new code.
    await link(harness, companion, clock, robin, alex)
    assert await companion.storage.run(lambda tx: sharing.can_view(tx.connection, alex_id, robin_id))
