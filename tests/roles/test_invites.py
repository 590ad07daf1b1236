"""Roles come only from one-time invites, valid 7 days, stored hashed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.roles import grants, tokens
from bot.storage.repository import Storage


async def test_an_invite_grants_its_role_once(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    alice, bob = await new_person(name="Alice"), await new_person()
    token = await storage.run(lambda tx: grants.create_invite(tx.connection, "coordinator", clock()))
    assert token.startswith(tokens.INVITE_PREFIX) and len(token) <= 64 and tokens.looks_like_token(token)
    assert await storage.run(lambda tx: grants.redeem_invite(tx.connection, alice, token, clock())) == "coordinator"
    assert await storage.run(lambda tx: grants.redeem_invite(tx.connection, bob, token, clock())) is None
    assert await storage.run(lambda tx: grants.roles_of(tx.connection, alice)) == {"coordinator"}
    assert await storage.run(lambda tx: grants.roles_of(tx.connection, bob)) == set()
    holders = await storage.run(lambda tx: grants.holders(tx.connection))
    assert [(h.person_id, h.role, h.display_name) for h in holders] == [(alice, "coordinator", "Alice")]


async def test_only_a_hash_of_the_token_is_stored(storage: Storage, clock) -> None:  # type: ignore[no-untyped-def]
    token = await storage.run(lambda tx: grants.create_invite(tx.connection, "facilitator", clock()))
    stored = await storage.run(lambda tx: tx.connection.execute(select(grants.invites.c.token_hash)).scalar_one())
    assert stored == tokens.digest(token) and token not in stored


async def test_an_expired_or_unknown_invite_grants_nothing(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person = await new_person()
    token = await storage.run(lambda tx: grants.create_invite(tx.connection, "facilitator", clock()))
    clock.advance(days=7, seconds=1)
    assert await storage.run(lambda tx: grants.redeem_invite(tx.connection, person, token, clock())) is None
    assert (
        await storage.run(lambda tx: grants.redeem_invite(tx.connection, person, "r_not-a-real-token", clock())) is None
    )
    assert await storage.run(lambda tx: grants.redeem_invite(tx.connection, person, "bad token!", clock())) is None
    assert await storage.run(lambda tx: grants.roles_of(tx.connection, person)) == set()


async def test_an_invite_just_inside_seven_days_works(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person = await new_person()
    token = await storage.run(lambda tx: grants.create_invite(tx.connection, "facilitator", clock()))
    clock.advance(days=6, hours=23)
    assert await storage.run(lambda tx: grants.redeem_invite(tx.connection, person, token, clock())) == "facilitator"


async def test_revoking_a_role_and_unknown_roles(storage: Storage, clock, new_person) -> None:  # type: ignore[no-untyped-def]
    person = await new_person()
    await storage.run(lambda tx: grants.grant(tx.connection, person, "coordinator", clock()))
    assert await storage.run(lambda tx: grants.revoke(tx.connection, person, "coordinator"))
    assert not await storage.run(lambda tx: grants.revoke(tx.connection, person, "coordinator"))
    assert await storage.run(lambda tx: grants.roles_of(tx.connection, person)) == set()
    with pytest.raises(grants.UnknownRole):
        await storage.run(lambda tx: grants.create_invite(tx.connection, "admin", clock()))


def test_deep_links_fit_telegram() -> None:
    link = tokens.deep_link("@SdmCompanionBot", tokens.new_token(tokens.INVITE_PREFIX))
    payload = link.split("?start=", 1)[1]
    assert link.startswith("https://t.me/SdmCompanionBot?start=r_")
    assert tokens.looks_like_token(payload) and len(payload) <= 64
    assert dt.timedelta(days=7) == grants.INVITE_VALID_FOR
