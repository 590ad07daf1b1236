"""The audit trail lasts: rows outlive both accounts, the application cannot change or remove
them (triggers, on SQLite and PostgreSQL), and facilitators' views of members are on it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot.roles import grants, group_activity, groups, sharing
from bot.storage.audit import REFUSAL
from bot.storage.repository import Storage
from tests.roles.test_sharing import code_for, coordinator, link


async def count(storage: Storage) -> int:
    return await storage.run(
        lambda tx: tx.connection.execute(select(func.count()).select_from(sharing.access_log)).scalar_one()
    )


async def test_audit_rows_outlive_the_coordinators_and_the_persons_erasure(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person = await new_person()
    sam = await coordinator(storage, clock, new_person)
    await link(storage, sam, await code_for(storage, person, clock), clock)
    await storage.run(lambda tx: sharing.access(tx.connection, sam, person, "summary", clock()))
    looked = [
        (e.actor_id, e.subject_id, e.action, e.allowed)
        for e in await storage.run(lambda tx: sharing.trail_of(tx.connection, person))
    ]
    assert looked == [(sam, person, "link", True), (sam, person, "summary", True)]

    await storage.run(lambda tx: tx.erase_person(sam))  # the coordinator erases their account
    after = await storage.run(lambda tx: sharing.trail_of(tx.connection, person))
    assert [(e.actor_id, e.subject_id, e.action, e.allowed) for e in after] == looked
    await storage.run(lambda tx: tx.erase_person(person))  # and then the person
    # "person <sam> viewed person <person>'s summary" can still be read, by pseudonymous id only.
    assert [
        (e.actor_id, e.subject_id, e.action) for e in await storage.run(lambda tx: sharing.trail_of(tx.connection, sam))
    ] == [
        (sam, person, "link"),
        (sam, person, "summary"),
    ]
    # Ids are never reused, so the next person to sign up is not tied to these rows.
    newcomer = await new_person()
    assert newcomer not in (sam, person)
    assert await storage.run(lambda tx: sharing.trail_of(tx.connection, newcomer)) == []


@pytest.mark.parametrize(
    "statement",
    ["UPDATE access_log SET allowed = NOT allowed", "DELETE FROM access_log", "UPDATE access_log SET actor_id = NULL"],
)
async def test_the_application_cannot_change_or_remove_audit_rows(
    storage: Storage, clock, new_person, statement: str
) -> None:  # type: ignore[no-untyped-def]
    person, nosy = await new_person(), await new_person()
    await storage.run(lambda tx: sharing.access(tx.connection, nosy, person, "summary", clock()))
    before = await storage.run(lambda tx: tx.connection.execute(select(sharing.access_log)).all())
    with pytest.raises(DBAPIError) as refused:
        await storage.run(lambda tx: tx.connection.execute(text(statement)))
    assert REFUSAL in str(refused.value)
    assert await storage.run(lambda tx: tx.connection.execute(select(sharing.access_log)).all()) == before
    # Appending still works.
    await storage.run(lambda tx: sharing.access(tx.connection, nosy, person, "review", clock()))
    assert await count(storage) == len(before) + 1


async def test_truncate_is_refused_on_postgresql(pg_storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    await pg_storage.run(lambda tx: sharing.operator_read(tx.connection, 1, "operator_export", clock()))
    with pytest.raises(DBAPIError) as refused:
        await pg_storage.run(lambda tx: tx.connection.execute(text("TRUNCATE access_log")))
    assert REFUSAL in str(refused.value)
    assert await count(pg_storage) == 1


async def test_a_facilitators_view_of_members_is_audited_per_member(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    fran, ann, bo = await new_person(name="Fran"), await new_person(), await new_person()
    await storage.run(lambda tx: grants.grant(tx.connection, fran, grants.FACILITATOR, clock()))
    group, token = await storage.run(
        lambda tx: groups.create_group(tx.connection, fran, "Tuesdays", "Europe/London", clock())
    )
    for member in (ann, bo):
        await storage.run(
            lambda tx, member=member: groups.join(tx.connection, member, token, consented=True, now=clock())
        )
    shown = await storage.run(lambda tx: group_activity.members_of(tx.connection, fran, group.id, clock()))
    assert {m.person_id for m in shown} == {ann, bo}
    await storage.run(lambda tx: groups.member_list(tx.connection, fran, group.id, clock()))
    for member in (ann, bo):
        trail = await storage.run(lambda tx, member=member: sharing.trail_of(tx.connection, member))
        assert [(e.actor_id, e.action, e.allowed) for e in trail] == [(fran, "group_members", True)] * 2
    # A facilitator of another group sees nothing and leaves no row about the members.
    other = await new_person()
    await storage.run(lambda tx: grants.grant(tx.connection, other, grants.FACILITATOR, clock()))
    with pytest.raises(groups.NotAllowed):
        await storage.run(lambda tx: group_activity.members_of(tx.connection, other, group.id, clock()))
    assert len(await storage.run(lambda tx: sharing.trail_of(tx.connection, ann))) == 2
