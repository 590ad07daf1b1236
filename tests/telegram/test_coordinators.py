"""The care coordinator's and the person's journeys through the real Application (issue 6)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.roles import grants
from bot.services.conversation import Companion, Who
from tests.telegram.coordinator_helpers import (
    BOT_USERNAME,
    OWN,
    agree,
    audit,
    finish,
    flows_of,
    harness,  # noqa: F401 - the fixture
    link,
    make_code,
    make_coordinator,
    messages_to,
    pdf_text,
    person_id,
    sent,
    ui,
)
from tests.telegram.harness import Call, TelegramHarness, keyboard_of, shown
from tests.telegram.talk import skips

WILL_DO = "Walk to the park <every> morning & text Jo"
WHO = "My nurse rings me in two weeks"
CHANGE = "Try the lower dose at night, as the doctor said"


async def test_the_whole_coordinator_journey(harness: TelegramHarness, companion: Companion, clock) -> None:  # type: ignore[no-untyped-def]
    # An invite opened before agreeing to the privacy notice is carried through "yes".
    alex = harness.person(801, "Alex")
    alex.user["last_name"] = "Morgan"
    token = await companion.storage.run(lambda tx: grants.create_invite(tx.connection, grants.COORDINATOR, clock()))
    assert token.startswith("r_")
    await alex.says(f"/start {token}")
    calls = await alex.taps(ui(companion, "button_agree"))
    assert alex.last["text"] == "\n\n".join(
        [ui(companion, "roles_granted_coordinator"), ui(companion, "roles_shown_as", name="Alex Morgan")]
    )
    # The role's commands go to this chat only, in both languages; the public list is untouched.
    scoped = sent(calls, "setMyCommands")
    assert len(scoped) == 2
    for call in scoped:
        assert _json(call.params["scope"]) == {"type": "chat", "chat_id": 801}
        names = [command["command"] for command in _commands(call)]
        assert names[-2:] == ["people", "link"] and "share" in names
    assert {call.params.get("language_code") for call in scoped} == {None, "sv"}

    # Robin fills in a part, then shares with Alex.
    robin = harness.person(802, "Robin")
    await agree(robin, companion)
    robin_who = Who("telegram", "802")
    await finish(companion, robin_who, "questions")
    await finish(companion, robin_who, "goals")
    await companion.open(robin_who, "my_name")
    await robin.says("Robin")
    code = await make_code(robin, companion)
    calls = await alex.says(f"/link {code[:4].lower()}-{code[4:]}")
    assert alex.last["text"] == ui(companion, "roles_link_done", name="Robin")
    (_told,) = messages_to(calls, 802)
    assert robin.last["text"] == ui(companion, "roles_told_linked", name="Alex Morgan")
    assert shown(robin.last) == [ui(companion, "button_roles_undo")]

    # /people: Robin, with "Summary" and "Review together".
    await alex.says("/people")
    assert alex.chat[-2]["text"] == ui(companion, "roles_people_intro")
    assert alex.last["text"].startswith("Robin, sharing since ")
    assert shown(alex.last) == [ui(companion, "button_roles_summary"), ui(companion, "button_roles_review")]
    people_message = alex.last

    calls = await alex.taps(ui(companion, "button_roles_summary"), people_message)
    (document,) = sent(calls, "sendDocument")
    assert int(document.params["chat_id"]) == 801
    assert document.params["caption"] == ui(companion, "roles_summary_caption", name="Robin")
    text = pdf_text(document)
    assert "My questions" in text and OWN in text

    # Review together: one message per section, Next, Back, and at the end "what we agreed".
    await alex.taps(ui(companion, "button_roles_review"), people_message)
    first = alex.last
    assert first["text"].startswith(ui(companion, "roles_review_intro", name="Robin"))
    assert "Part 1 of " in first["text"]
    total = int(first["text"].split("Part 1 of ", 1)[1].split(":", 1)[0])
    assert total >= 2
    assert shown(first) == [ui(companion, "button_next")]
    await alex.taps(ui(companion, "button_next"))
    assert "Part 2 of " in alex.last["text"]
    assert shown(first) == []  # the step before keeps its text, loses its buttons
    await alex.taps(ui(companion, "button_back"))
    assert "Part 1 of " in alex.last["text"]
    for number in range(2, total + 1):
        await alex.taps(ui(companion, "button_next"))
        assert f"Part {number} of {total}" in alex.last["text"]
    assert OWN in "\n".join(message["text"] for message in alex.chat[-total:])
    assert shown(alex.last) == [ui(companion, "button_back"), ui(companion, "button_roles_agree")]

    await alex.taps(ui(companion, "button_roles_agree"))
    assert alex.chat[-2]["text"] == ui(companion, "roles_agreed_start", name="Robin")
    await alex.says(WILL_DO)
    await alex.says(WHO)
    await alex.taps(ui(companion, "button_no_more"))
    await alex.taps(ui(companion, "button_yes"))
    await alex.says(CHANGE)
    calls = await alex.taps(ui(companion, "button_in_four_weeks"))

    # Robin gets it, in their voice, with the care about medicine changes.
    (_to_robin,) = messages_to(calls, 802)
    said = robin.last["text"]
    assert said.startswith(ui(companion, "roles_agreed_for_person", name="Alex Morgan"))
    assert "Between now and my next appointment I will\n• " + WILL_DO in said
    assert WHO in said and CHANGE in said
    review_day = (clock().date() + dt.timedelta(weeks=4)).strftime("%d/%m/%Y")
    assert review_day in said
    assert said.endswith(ui(companion, "roles_agreed_medicine_care"))
    assert alex.last["text"] == ui(companion, "roles_agreed_sent", name="Robin")

    # It is on Robin's record (and next summary), and nothing of it on Alex's.
    robin_id, alex_id = await person_id(companion, robin), await person_id(companion, alex)
    assert ("what_we_agreed", "completed") in await flows_of(companion, robin_id)
    assert not any(flow == "what_we_agreed" for flow, _ in await flows_of(companion, alex_id))
    calls = await robin.says("/summary")
    (summary,) = sent(calls, "sendDocument")
    text = pdf_text(summary)
    assert "What we agreed last time" in text
    assert "Walk to the park <every> morning & text Jo" in text.replace("\n", " ")

    # Every look was audited: who, what, whom; never content (the table has no room for it).
    rows = [row for row in await audit(companion) if row[2] != "list_people"]
    assert rows == [
        (alex_id, robin_id, "link", True),
        (alex_id, robin_id, "summary", True),
        *[(alex_id, robin_id, "review", True)] * (total + 2),  # the start, Next, Back, then Next to the end
        (alex_id, robin_id, "agreement_open", True),
        (alex_id, robin_id, "agreement", True),
    ]
    assert (alex_id, None, "list_people", True) in await audit(companion)


async def test_the_persons_journey_share_see_who_and_stop(
    harness: TelegramHarness, companion: Companion, clock
) -> None:  # type: ignore[no-untyped-def]
    alex = await make_coordinator(harness, companion, clock, 811, "Alex Morgan")
    robin = harness.person(812, "Robin")
    await agree(robin, companion)
    await finish(companion, Who("telegram", "812"), "questions")

    # /share says exactly what would be seen, and asks first.
    await robin.says("/share")
    expected = "\n\n".join(
        [
            ui(
                companion,
                "roles_share_explain",
                sections="• Most important today\n• My questions\n" + ui(companion, "roles_share_sections_later"),
            ),
            ui(companion, "roles_share_no_name"),
            ui(companion, "roles_share_question"),
        ]
    )
    assert robin.last["text"] == expected
    assert shown(robin.last) == [
        ui(companion, "button_roles_share_yes"),
        ui(companion, "button_roles_share_no"),
        ui(companion, "button_roles_add_name"),
    ]
    await robin.taps(ui(companion, "button_roles_share_no"))
    assert robin.last["text"] == ui(companion, "roles_share_declined")

    code = await make_code(robin, companion)
    assert len(code) == 8
    assert robin.last["text"] == "\n\n".join(
        [
            ui(companion, "roles_share_code", code=f"{code[:4]} {code[4:]}"),
            ui(companion, "roles_share_link", link=f"https://t.me/{BOT_USERNAME}?start=s_{code}"),
        ]
    )

    # The coordinator opens the link instead of typing the code.
    await alex.says(f"/start s_{code}")
    assert alex.last["text"] == ui(companion, "roles_link_done", name=ui(companion, "roles_person_unnamed"))
    await alex.says("/people")
    people_message = alex.last
    await alex.taps(ui(companion, "button_roles_review"), people_message)
    walk = alex.last

    # /sharing lists Alex with a one-tap stop; it works at once.
    await robin.says("/sharing")
    assert robin.last["text"].startswith(ui(companion, "roles_sharing_list") + "\n\nAlex Morgan, since ")
    await robin.taps(ui(companion, "button_roles_stop", name="Alex Morgan"))
    assert robin.last["text"] == ui(companion, "roles_stopped", name="Alex Morgan")
    await robin.says("/sharing")
    assert robin.last["text"] == ui(companion, "roles_sharing_none")

    # Alex can no longer see anything: /people is empty and old buttons refuse.
    await alex.says("/people")
    assert alex.last["text"] == ui(companion, "roles_people_none")
    calls = await alex.taps(ui(companion, "button_roles_summary"), people_message)
    assert sent(calls, "sendDocument") == []
    assert alex.last["text"] == ui(companion, "roles_no_access")
    # The walk starts with the top third (Next only): press its "what we agreed" as an old button would.
    calls = await harness.process(harness.updates.press(alex.user, walk, f"co:a:{await person_id(companion, robin)}"))
    assert alex.last["text"] == ui(companion, "roles_no_access")
    assert (await companion.current(Who("telegram", "811"))).status == "idle"  # no notes were started
    await harness.process(harness.updates.press(alex.user, walk, f"co:r:{await person_id(companion, robin)}:0"))
    assert alex.last["text"] == ui(companion, "roles_no_access")
    assert not any(OWN in (call.text or "") for call in calls)
    robin_id, alex_id = await person_id(companion, robin), await person_id(companion, alex)
    assert (await audit(companion))[-3:] == [
        (alex_id, robin_id, "summary", False),
        (alex_id, robin_id, "agreement_open", False),
        (alex_id, robin_id, "review", False),
    ]


async def test_the_undo_when_told_stops_sharing(harness: TelegramHarness, companion: Companion, clock) -> None:  # type: ignore[no-untyped-def]
    alex = await make_coordinator(harness, companion, clock, 821, "Alex Morgan")
    robin = harness.person(822, "Robin")
    await agree(robin, companion)
    await link(harness, companion, clock, robin, alex)
    await robin.taps(ui(companion, "button_roles_undo"))
    assert robin.last["text"] == ui(companion, "roles_stopped", name="Alex Morgan")
    # A second tap on the same (stale) button changes nothing and says so kindly.
    told = next(m for m in reversed(robin.chat) if m["text"] == ui(companion, "roles_told_linked", name="Alex Morgan"))
    assert keyboard_of(told.get("reply_markup")) == []
    await harness.process(harness.updates.press(robin.user, told, f"sh:stop:{await person_id(companion, alex)}"))
    assert robin.last["text"] == ui(companion, "roles_already_stopped")
    await alex.says("/people")
    assert alex.last["text"] == ui(companion, "roles_people_none")


async def test_swedish_words_for_a_swedish_person(harness: TelegramHarness, companion: Companion, clock) -> None:  # type: ignore[no-untyped-def]
    alex = await make_coordinator(harness, companion, clock, 831, "Alex Morgan")
    kim = harness.person(832, "Kim", "sv")
    await agree(kim, companion)
    await kim.says("/share")
    assert kim.last["text"].startswith(
        ui(companion, "roles_share_explain", "sv", sections=ui(companion, "roles_share_sections_empty", "sv"))
    )
    await kim.taps(ui(companion, "button_roles_share_yes", "sv"))
    code = kim.last["text"].split(": ", 1)[1][:9].replace(" ", "")
    await alex.says(f"/link {code}")
    assert kim.last["text"] == ui(companion, "roles_told_linked", "sv", name="Alex Morgan")
    assert alex.last["text"] == ui(companion, "roles_link_done", name=ui(companion, "roles_person_unnamed"))
    # Alex works in English; what was agreed reaches Kim in Swedish, in Kim's voice.
    await alex.says("/people")
    await alex.taps(ui(companion, "button_roles_review"))
    await alex.taps(ui(companion, "button_roles_agree"))
    await alex.says("Gå en promenad varje dag")
    await skips(alex, companion)
    await alex.taps(ui(companion, "button_no"))
    await alex.taps(ui(companion, "button_in_two_weeks"))
    assert kim.last["text"].startswith(ui(companion, "roles_agreed_for_person", "sv", name="Alex Morgan"))
    assert "Fram till mitt nästa besök ska jag\n• Gå en promenad varje dag" in kim.last["text"]
    assert ui(companion, "roles_agreed_medicine_care", "sv") not in kim.last["text"]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _commands(call: Call) -> list[dict[str, str]]:
    return _json(call.params["commands"])
