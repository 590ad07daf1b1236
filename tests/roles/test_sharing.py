"""Sharing with a coordinator: codes, links, revocation, access checks and the audit log."""

from __future__ import annotations

from sqlalchemy import select

from bot.roles import grants, sharing, tokens
from bot.storage.repository import Storage


async def coordinator(storage: Storage, clock, new_person) -> int:  # type: ignore[no-untyped-def]
    person = await new_person(name="Sam (coordinator)")
    await storage.run(lambda tx: grants.grant(tx.connection, person, "coordinator", clock()))
    return person


async def code_for(storage: Storage, person: int, clock) -> str:  # type: ignore[no-untyped-def]
    return await storage.run(lambda tx: sharing.create_code(tx.connection, person, clock()))


async def link(storage: Storage, who: int, code: str, clock) -> sharing.LinkResult:  # type: ignore[no-untyped-def]
    return await storage.run(lambda tx: sharing.link(tx.connection, who, code, clock()))


async def can_view(storage: Storage, who: int, whom: int) -> bool:
    return await storage.run(lambda tx: sharing.can_view(tx.connection, who, whom))


def test_codes_are_eight_unambiguous_characters() -> None:
    for _ in range(200):
        code = tokens.new_code()
        assert len(code) == 8 and not set(code) & set("0O1IL5S8B")
    code = tokens.new_code()
    assert tokens.normalise_code(f" {code[:4].lower()}-{code[4:]} ") == code
    assert tokens.normalise_code("O0O0O0O0") is None and tokens.normalise_code("ABC") is None


async def test_a_code_links_once_and_the_person_sees_who_can_view(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person = await new_person(name="Robin")
    sam = await coordinator(storage, clock, new_person)
    other = await coordinator(storage, clock, new_person)
    code = await code_for(storage, person, clock)
    assert not await can_view(storage, sam, person)  # an unlinked coordinator sees nothing
    assert await link(storage, sam, code.lower(), clock) == sharing.LinkResult("linked", person)
    assert await can_view(storage, sam, person)
    assert await link(storage, other, code, clock) == sharing.LinkResult("invalid")  # reused code
    assert not await can_view(storage, other, person)
    viewers = await storage.run(lambda tx: sharing.viewers(tx.connection, person))
    assert [(v.coordinator_id, v.display_name) for v in viewers] == [(sam, "Sam (coordinator)")]
    sharers = await storage.run(lambda tx: sharing.sharers(tx.connection, sam, clock()))
    assert [(s.person_id, s.display_name) for s in sharers] == [(person, "Robin")]


async def test_an_expired_code_and_a_replaced_code_do_not_work(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person = await new_person()
    sam = await coordinator(storage, clock, new_person)
    old = await code_for(storage, person, clock)
    new = await code_for(storage, person, clock)
    assert (await link(storage, sam, old, clock)).status == "invalid"
    clock.advance(hours=24, seconds=1)
    assert (await link(storage, sam, new, clock)).status == "invalid"
    assert not await can_view(storage, sam, person)


async def test_revoking_a_share_takes_effect_at_once(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person = await new_person()
    sam = await coordinator(storage, clock, new_person)
    await link(storage, sam, await code_for(storage, person, clock), clock)
    assert await storage.run(lambda tx: sharing.access(tx.connection, sam, person, "view_summary", clock()))
    assert await storage.run(lambda tx: sharing.revoke(tx.connection, person, sam, clock()))
    assert not await storage.run(lambda tx: sharing.access(tx.connection, sam, person, "view_summary", clock()))
    assert await storage.run(lambda tx: sharing.viewers(tx.connection, person)) == []
    assert await storage.run(lambda tx: sharing.sharers(tx.connection, sam, clock())) == []
    # Sharing again later makes a fresh live share.
    await link(storage, sam, await code_for(storage, person, clock), clock)
    assert await can_view(storage, sam, person)


async def test_losing_the_coordinator_role_ends_access(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person = await new_person()
    sam = await coordinator(storage, clock, new_person)
    await link(storage, sam, await code_for(storage, person, clock), clock)
    await storage.run(lambda tx: grants.revoke(tx.connection, sam, "coordinator"))
    assert not await can_view(storage, sam, person)


async def test_a_service_user_cannot_act_as_a_coordinator(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person, nosy = await new_person(), await new_person()
    code = await code_for(storage, person, clock)
    assert (await link(storage, nosy, code, clock)).status == "not_allowed"
    assert await storage.run(lambda tx: sharing.sharers(tx.connection, nosy, clock())) == []
    assert not await storage.run(lambda tx: sharing.access(tx.connection, nosy, person, "view_summary", clock()))
    # The code was not spent by the refused attempt.
    sam = await coordinator(storage, clock, new_person)
    assert (await link(storage, sam, code, clock)).status == "linked"


async def test_a_coordinator_cannot_link_to_their_own_code(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    sam = await coordinator(storage, clock, new_person)
    assert (await link(storage, sam, await code_for(storage, sam, clock), clock)).status == "invalid"
    assert not await can_view(storage, sam, sam)


async def test_guessing_is_rate_limited_and_says_nothing_about_real_codes(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person = await new_person()
    guesser = await coordinator(storage, clock, new_person)
    honest = await coordinator(storage, clock, new_person)
    real = await code_for(storage, person, clock)
    wrong = [tokens.new_code() for _ in range(sharing.MAX_FAILURES)]
    results = [await link(storage, guesser, guess, clock) for guess in wrong if guess != real]
    assert {r.status for r in results} == {"invalid"}
    # Locked out: now even the real code is refused, with the same answer as any other.
    assert (await link(storage, guesser, real, clock)).status == "too_many_tries"
    assert (await link(storage, guesser, tokens.new_code(), clock)).status == "too_many_tries"
    assert not await can_view(storage, guesser, person)
    # Another account is not affected, and the lock lifts after the window.
    clock.advance(hours=1, seconds=1)
    assert (await link(storage, guesser, "ZZZZ-ZZZZ", clock)).status == "invalid"
    assert (await link(storage, honest, real, clock)).status == "linked"


async def test_every_access_is_audited_without_content(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person, nosy = await new_person(), await new_person()
    sam = await coordinator(storage, clock, new_person)
    await link(storage, sam, await code_for(storage, person, clock), clock)
    await storage.run(lambda tx: sharing.access(tx.connection, sam, person, "summary_pdf", clock()))
    await storage.run(lambda tx: sharing.access(tx.connection, nosy, person, "summary_pdf", clock()))
    trail = await storage.run(lambda tx: sharing.audit_trail(tx.connection, person))
    assert [(actor, action, allowed) for actor, action, allowed, _ in trail] == [
        (sam, "link", True),
        (sam, "summary_pdf", True),
        (nosy, "summary_pdf", False),
    ]
    columns = set(sharing.access_log.c.keys())
    assert columns == {"id", "actor_id", "subject_id", "action", "allowed", "at"}


async def test_erasing_a_person_erases_their_shares_and_codes_and_keeps_the_audit_rows(
    storage: Storage, clock, new_person
) -> None:  # type: ignore[no-untyped-def]
    person = await new_person()
    sam = await coordinator(storage, clock, new_person)
    await link(storage, sam, await code_for(storage, person, clock), clock)
    await code_for(storage, person, clock)
    await storage.run(lambda tx: tx.erase_person(person))

    def count(table) -> int:  # type: ignore[no-untyped-def]
        return len(storage_rows[table.name])

    storage_rows = {}
    for table in (sharing.shares, sharing.codes, sharing.access_log):
        storage_rows[table.name] = await storage.run(lambda tx, table=table: tx.connection.execute(select(table)).all())
    assert count(sharing.shares) == 0 and count(sharing.codes) == 0
    # The audit trail outlives the person (pseudonymous ids, no cascade): who looked stays on record.
    assert [(row.actor_id, row.subject_id, row.action) for row in storage_rows["access_log"]] == [(sam, person, "link")]
    assert await storage.run(lambda tx: grants.roles_of(tx.connection, sam)) == {"coordinator"}


async def test_simultaneous_wrong_codes_are_counted_one_at_a_time(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    """Twenty wrong codes at once from one account: no more than the limit are evaluated
    (on PostgreSQL the transactions really run side by side)."""
    import asyncio

    sam = await coordinator(storage, clock, new_person)
    results = await asyncio.gather(*(link(storage, sam, f"ZZZZ{n:0>4}".replace("0", "Z"), clock) for n in range(20)))
    assert sorted(r.status for r in results).count("invalid") == sharing.MAX_FAILURES
    assert await storage.run(lambda tx: sharing.recent_failures(tx.connection, sam, clock())) == sharing.MAX_FAILURES


async def test_a_global_limit_stops_many_accounts_adding_up_their_guesses(
    storage: Storage, clock, new_person, caplog
) -> None:  # type: ignore[no-untyped-def]
    import logging

    person = await new_person()
    real = await code_for(storage, person, clock)
    accounts = sharing.MAX_GLOBAL_FAILURES // sharing.MAX_FAILURES
    with caplog.at_level(logging.WARNING, logger="bot.roles.sharing"):
        for _ in range(accounts):
            guesser = await coordinator(storage, clock, new_person)
            for _ in range(sharing.MAX_FAILURES):
                assert (await link(storage, guesser, "ZZZZ-ZZZZ", clock)).status == "invalid"
    tripped = [r for r in caplog.records if "share-code guessing" in r.getMessage()]
    assert len(tripped) == 1 and "ZZZZ" not in tripped[0].getMessage()
    # A fresh account with the right code is refused too, until the window passes.
    honest = await coordinator(storage, clock, new_person)
    assert (await link(storage, honest, real, clock)).status == "too_many_tries"
    clock.advance(hours=1, seconds=1)
    assert (await link(storage, honest, real, clock)).status == "linked"


async def test_code_hashes_are_salted_per_database_and_slow(storage: Storage, clock, new_person, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A stolen database does not give codes away to a quick offline search."""
    import hashlib

    from tests.conftest import fresh_storage

    person = await new_person()
    code = await code_for(storage, person, clock)
    (stored,) = await storage.run(lambda tx: tx.connection.execute(select(sharing.codes.c.code_hash)).scalars().all())
    assert stored != hashlib.sha256(code.encode()).hexdigest()
    salt = await storage.run(lambda tx: sharing.code_salt(tx.connection))
    assert len(salt) == 16 and stored == tokens.code_digest(code, salt)
    assert tokens.SCRYPT_N >= 2**12
    # Another database has its own salt: the same code hashes differently there.
    other = await fresh_storage(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert await other.run(lambda tx: sharing.code_salt(tx.connection)) != salt
    finally:
        await other.close()
    sam = await coordinator(storage, clock, new_person)
    assert (await link(storage, sam, code, clock)).status == "linked"
