"""The groups service (bot/services/groups.py) on the real databases: typed results, and access decided there."""

from __future__ import annotations

import datetime as dt

from bot.reminders import store
from bot.roles import grants
from bot.services import forms
from bot.services.app import Services
from bot.services.conversation import Companion, Reply, ReplyStatus, Who
from bot.services.groups import GroupOutcome, Groups, JoinPreview, Outcome, Refusal
from flows.turns import SKIP, Pressed, Typed
from tests.conftest import Clock

UTC = dt.UTC


async def person(companion: Companion, number: int, language: str = "en") -> Who:
    who = Who("telegram", str(number))
    await companion.join(who, language)
    return who


async def facilitator(companion: Companion, number: int) -> Who:
    who = await person(companion, number)
    me = await companion.person(who)
    assert me is not None
    await companion.storage.run(lambda tx: grants.grant(tx.connection, me.id, grants.FACILITATOR, companion.clock()))
    return who


async def answer(companion: Companion, who: Who, reply: Reply | Refusal, answers: dict[str, str]) -> Reply:
    """Type each step's answer (or press its option), skip the rest, until the flow is finished."""
    assert isinstance(reply, Reply), reply
    for _ in range(20):
        if reply.prompt is None:
            break
        given = answers.get(reply.prompt.step)
        options = {b.id for b in reply.prompt.options}
        if given is None:
            action: Typed | Pressed = Pressed(SKIP)
        elif given in options:
            action = Pressed(given)
        else:
            action = Typed(given)
        reply = await companion.act(who, action)
    assert reply.status is ReplyStatus.FINISHED, reply
    return reply


async def pending(companion: Companion, who: Who) -> list[tuple[str, str, str, dt.datetime]]:
    me = await companion.person(who)
    assert me is not None
    return await companion.storage.run(lambda tx: store.pending_for(tx.connection, me.id))


async def make_group(companion: Companion, groups: Groups, fay: Who, name: str = "Tuesdays") -> GroupOutcome:
    reply = await answer(companion, fay, await groups.open_new_group(fay), {"name": name, "timezone": "stockholm"})
    created = reply.outcome(GroupOutcome)
    assert created is not None and created.outcome is Outcome.CREATED and created.token
    assert reply.role_task  # the facilitator's own task: no service user's menu after it
    return created


async def test_a_group_from_creation_to_report_through_the_service(companion: Companion, clock: Clock) -> None:
    groups = Services.around(companion).groups
    fay = await facilitator(companion, 7001)
    created = await make_group(companion, groups, fay)
    assert created.group_name == "Tuesdays" and created.group_id is not None
    group_id, token = created.group_id, created.token
    assert token is not None

    mia, bo = await person(companion, 7002), await person(companion, 7003, "sv")
    preview = await groups.preview(mia, token)
    assert isinstance(preview, JoinPreview) and (preview.group.name, preview.already_member) == ("Tuesdays", False)
    for who, name in ((mia, "Mia"), (bo, "Bo")):
        joined = await groups.join(who, token, name)
        assert not isinstance(joined, Refusal) and joined.id == group_id
    again = await groups.preview(mia, token)
    assert isinstance(again, JoinPreview) and again.already_member

    opened = await groups.open_schedule(fay, group_id)
    reply = await answer(companion, fay, opened, {"date": "26/11/2026", "time": "18:00", "place": "Room 4"})
    scheduled = reply.outcome(GroupOutcome)
    assert scheduled is not None and scheduled.outcome is Outcome.SESSION_SET and scheduled.group_id == group_id
    assert reply.messages == []  # a run about a group: the flow's "your answers are saved" is not said
    # 18:00 in Stockholm is 17:00 UTC: the day before and two hours before, for each member.
    # After the session (90 minutes): the feedback offer.
    due = [(lead, when) for _, _, lead, when in await pending(companion, mia)]
    assert due == [
        ("d1", dt.datetime(2026, 11, 25, 17, tzinfo=UTC)),
        ("m120", dt.datetime(2026, 11, 26, 15, tzinfo=UTC)),
        ("feedback", dt.datetime(2026, 11, 26, 18, 30, tzinfo=UTC)),
    ]

    panel = await groups.panel(fay, group_id)
    assert not isinstance(panel, Refusal)
    assert panel.members == 2 and [s.place for s in panel.upcoming] == ["Room 4"]
    assert await groups.set_leads(fay, group_id, 2) == ("d1",)
    assert [lead for _, _, lead, _ in await pending(companion, bo)] == ["d1", "feedback"]
    muted = await groups.set_muted(bo, group_id, True)
    assert not isinstance(muted, Refusal) and muted.muted
    assert await pending(companion, bo) == []  # muted: no reminders and no feedback offer either
    members = await groups.members(fay, group_id)
    assert not isinstance(members, Refusal)
    assert [(m.name, m.muted) for m in members.members] == [("Mia", False), ("Bo", True)]

    # Before the session: nobody can give feedback yet, and it is not in the past list.
    (session,) = panel.upcoming
    assert await groups.open_feedback(mia, session.id) is Refusal.NOT_MEMBER
    past = await groups.past(fay, group_id)
    assert not isinstance(past, Refusal) and past.sessions == ()

    clock.now = dt.datetime(2026, 11, 26, 19, tzinfo=UTC)
    mia_id = (await companion.person(mia)).id  # type: ignore[union-attr]
    ticked = await groups.mark_attendance(fay, session.id, mia_id, True)
    assert not isinstance(ticked, Refusal) and ticked.came == {mia_id}
    ticked = await groups.mark_attendance(fay, session.id, mia_id, True)  # a second tap changes nothing more
    assert not isinstance(ticked, Refusal) and ticked.came == {mia_id}
    for who, words in ((mia, "Role play"), (bo, "Rollspel")):
        reply = await answer(companion, who, await groups.open_feedback(who, session.id), {"most_useful": words})
        thanks = reply.outcome(GroupOutcome)
        assert thanks is not None and thanks.outcome is Outcome.FEEDBACK_SAVED

    report = await groups.report(fay, group_id)
    assert not isinstance(report, Refusal)
    (item,) = report.sessions
    assert (item.came, item.answers, item.most_useful) == (["Mia"], 2, ["Role play", "Rollspel"])

    left = await groups.leave(mia, group_id)
    assert not isinstance(left, Refusal) and left.id == group_id
    assert await groups.leave(mia, group_id) is Refusal.NOT_MEMBER
    assert await groups.open_feedback(mia, session.id) is Refusal.NOT_MEMBER


async def test_every_facilitator_action_is_refused_to_service_users_and_other_facilitators(
    companion: Companion, clock: Clock
) -> None:
    groups = Services.around(companion).groups
    fay = await facilitator(companion, 7101)
    created = await make_group(companion, groups, fay)
    group_id, token = created.group_id, created.token
    assert group_id is not None and token is not None
    mia = await person(companion, 7102)
    await groups.join(mia, token, "Mia")
    reply = await answer(
        companion, fay, await groups.open_schedule(fay, group_id), {"date": "26/11/2026", "time": "18:00"}
    )
    session_id = reply.outcome(GroupOutcome).session_id  # type: ignore[union-attr]
    assert session_id is not None
    mia_id = (await companion.person(mia)).id  # type: ignore[union-attr]
    before = await pending(companion, mia)

    gus = await facilitator(companion, 7103)
    stranger = Who("telegram", "7199")  # never agreed to anything

    def attempts(who: Who) -> list:  # type: ignore[type-arg]
        return [
            groups.panel(who, group_id),
            groups.members(who, group_id),
            groups.upcoming(who, group_id),
            groups.past(who, group_id),
            groups.group(who, group_id),
            groups.report(who, group_id),
            groups.new_invite(who, group_id),
            groups.set_leads(who, group_id, 0),
            groups.session(who, session_id),
            groups.attendance(who, session_id),
            groups.mark_attendance(who, session_id, mia_id, True),
            groups.cancel_session(who, session_id),
            groups.open_schedule(who, group_id),
            groups.open_message(who, group_id),
            groups.open_move(who, session_id),
        ]

    for who, refusal in ((mia, Refusal.NOT_FACILITATOR), (gus, Refusal.NOT_YOURS), (stranger, Refusal.NOT_REGISTERED)):
        for attempt in attempts(who):
            assert await attempt is refusal
    assert await groups.open_new_group(mia) is Refusal.NOT_FACILITATOR
    assert await groups.own_groups(mia) is Refusal.NOT_FACILITATOR
    assert await groups.own_groups(gus) == ()
    assert await groups.set_leads(fay, group_id, 99) is Refusal.NOT_YOURS  # not a choice that is offered
    # Nothing changed, and no flow was opened for anyone refused.
    assert await pending(companion, mia) == before
    for who in (mia, gus):
        assert (await companion.current(who)).status is ReplyStatus.IDLE
    # The old invite still works: the refused new_invite made no new one.
    assert isinstance(await groups.preview(gus, token), JoinPreview)
    # A member may not mute, leave or give feedback for a group they are not in.
    assert await groups.set_muted(gus, group_id, True) is Refusal.NOT_MEMBER
    assert await groups.leave(gus, group_id) is Refusal.NOT_MEMBER
    clock.now = dt.datetime(2026, 11, 26, 19, tzinfo=UTC)
    assert await groups.open_feedback(gus, session_id) is Refusal.NOT_MEMBER
    # Ticking someone who is not in the group is refused and writes nothing.
    gus_id = (await companion.person(gus)).id  # type: ignore[union-attr]
    assert await groups.mark_attendance(fay, session_id, gus_id, True) is Refusal.NOT_YOURS
    sheet = await groups.attendance(fay, session_id)
    assert not isinstance(sheet, Refusal) and sheet.came == frozenset()


async def test_the_listeners_check_again_when_the_flow_is_finished(companion: Companion, clock: Clock) -> None:
    """The role or the session can go while the facilitator is still answering: nothing is written then."""
    groups = Services.around(companion).groups
    fay = await facilitator(companion, 7201)
    created = await make_group(companion, groups, fay)
    group_id = created.group_id
    assert group_id is not None
    scheduled = await answer(
        companion, fay, await groups.open_schedule(fay, group_id), {"date": "26/11/2026", "time": "18:00"}
    )
    session_id = scheduled.outcome(GroupOutcome).session_id  # type: ignore[union-attr]

    # Moving a session that is cancelled halfway through the questions.
    opened = await groups.open_move(fay, session_id)  # type: ignore[arg-type]
    assert isinstance(opened, Reply)
    assert not isinstance(await groups.cancel_session(fay, session_id), Refusal)  # type: ignore[arg-type]
    moved = await answer(companion, fay, opened, {"date": "27/11/2026", "time": "18:00"})
    assert moved.outcome(GroupOutcome) == GroupOutcome(Outcome.NOT_YOURS)

    # A time already passed, or none: nothing planned, and they are told why.
    past = await answer(
        companion, fay, await groups.open_schedule(fay, group_id), {"date": "22/11/2026", "time": "09:00"}
    )
    assert past.outcome(GroupOutcome) == GroupOutcome(Outcome.SESSION_IN_PAST, group_id)
    empty = await answer(companion, fay, await groups.open_message(fay, group_id), {})
    assert empty.outcome(GroupOutcome) == GroupOutcome(Outcome.MESSAGE_EMPTY, group_id)

    # The role taken away while writing to the group: nothing is sent.
    opened = await groups.open_message(fay, group_id)
    me = await companion.person(fay)
    assert me is not None
    await companion.storage.run(lambda tx: grants.revoke(tx.connection, me.id, grants.FACILITATOR))
    sent = await answer(companion, fay, opened, {forms.GROUP_MESSAGE.message.id: "See you Tuesday"})
    assert sent.outcome(GroupOutcome) == GroupOutcome(Outcome.NOT_YOURS)
    assert await groups.panel(fay, group_id) is Refusal.NOT_FACILITATOR


async def test_a_full_group_and_a_wrong_link_are_refused(companion: Companion, clock: Clock) -> None:
    groups = Services.around(companion).groups
    fay = await facilitator(companion, 7301)
    created = await make_group(companion, groups, fay)
    assert created.token is not None
    for number in range(7302, 7302 + 12):
        joined = await groups.join(await person(companion, number), created.token, None)
        assert not isinstance(joined, Refusal)
    late = await person(companion, 7399)
    assert await groups.join(late, created.token, "Late") is Refusal.GROUP_FULL
    assert await groups.join(late, "g_" + "x" * 32, "Late") is Refusal.UNKNOWN_LINK
    assert await groups.preview(late, "g_" + "x" * 32) is Refusal.UNKNOWN_LINK
    fresh = await groups.new_invite(fay, created.group_id)  # type: ignore[arg-type]
    assert not isinstance(fresh, Refusal) and fresh.token and fresh.token != created.token
    assert await groups.preview(late, created.token) is Refusal.UNKNOWN_LINK  # the old link stopped working
