"""Storage round trips and the guards that keep answers safe under concurrency.

These run on SQLite, and on PostgreSQL when COMPANION_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.services.conversation import Companion, NotRegistered, Who
from bot.services.privacy import Privacy
from bot.storage.database import open_database
from bot.storage.repository import COMPLETED, IN_PROGRESS, RESTARTED, StaleConversation, Storage
from flows.turns import DONE, PAUSE, RESTART, Pressed, Typed

ME = Who("console", "me")
NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


async def test_person_round_trip(storage: Storage) -> None:
    created = await storage.run(lambda tx: tx.create_person("telegram", "42", "sv", NOW, "Europe/Stockholm"))
    again = await storage.run(lambda tx: tx.create_person("telegram", "42", "en", NOW))
    assert again.id == created.id  # joining twice is harmless
    found = await storage.run(lambda tx: tx.person("telegram", "42"))
    assert (found.language, found.timezone, found.version) == ("sv", "Europe/Stockholm", 1)
    assert await storage.run(lambda tx: tx.person("telegram", "43")) is None


async def test_turn_round_trip_keeps_position_and_answers(storage: Storage) -> None:
    person = await storage.run(lambda tx: tx.create_person("console", "me", "en", NOW))
    position = {"flow": "kinds", "step": "mood", "answers": {"name": "Åsa 😀"}, "history": ["teach"], "ticks": []}
    run_id = await storage.run(
        lambda tx: tx.save_turn(
            person,
            run_id=None,
            flow_id="kinds",
            position=position,
            status="active",
            active_flow="kinds",
            saved={"name": "Åsa 😀"},
            now=NOW,
        )
    )
    conversation = await storage.run(lambda tx: tx.conversation("console", "me"))
    assert conversation.run.id == run_id
    assert conversation.run.position == position
    assert conversation.person.version == 2
    answers = await storage.run(lambda tx: tx.answers([run_id]))
    assert answers[run_id]["name"][0] == "Åsa 😀"


async def test_an_answer_changed_later_replaces_the_old_value(storage: Storage) -> None:
    person = await storage.run(lambda tx: tx.create_person("console", "me", "en", NOW))
    args = dict(flow_id="kinds", position={"flow": "kinds", "step": "mood"}, status="active", active_flow="kinds")
    run_id = await storage.run(lambda tx: tx.save_turn(person, run_id=None, saved={"areas": ["home"]}, now=NOW, **args))
    person = await storage.run(lambda tx: tx.person("console", "me"))
    later = NOW + dt.timedelta(minutes=5)
    await storage.run(
        lambda tx: tx.save_turn(person, run_id=run_id, saved={"areas": ["work", "home"]}, now=later, **args)
    )
    answers = (await storage.run(lambda tx: tx.answers([run_id])))[run_id]
    value, when = answers["areas"]
    assert value == ["work", "home"]
    assert when.replace(tzinfo=dt.UTC) == later


async def test_version_check_lets_exactly_one_of_two_turns_win(storage: Storage) -> None:
    await storage.run(lambda tx: tx.create_person("console", "me", "en", NOW))
    # Two processes read the same state...
    first = await storage.run(lambda tx: tx.conversation("console", "me"))
    second = await storage.run(lambda tx: tx.conversation("console", "me"))
    args = dict(run_id=None, flow_id="kinds", status="active", active_flow="kinds", now=NOW)
    # ...the first to commit wins...
    await storage.run(lambda tx: tx.save_turn(first.person, position={"step": "a"}, saved={"name": "A"}, **args))
    # ...and the second is told to retry, writing nothing.
    with pytest.raises(StaleConversation):
        await storage.run(lambda tx: tx.save_turn(second.person, position={"step": "b"}, saved={"name": "B"}, **args))
    person = await storage.run(lambda tx: tx.person("console", "me"))
    runs = await storage.run(lambda tx: tx.runs(person.id))
    assert len(runs) == 1
    answers = await storage.run(lambda tx: tx.answers([runs[0].id]))
    assert answers[runs[0].id]["name"][0] == "A"


async def test_update_ids_are_claimed_once(storage: Storage) -> None:
    assert await storage.run(lambda tx: tx.claim_update("telegram", 7, NOW)) is True
    assert await storage.run(lambda tx: tx.claim_update("telegram", 7, NOW)) is False
    assert await storage.run(lambda tx: tx.claim_update("console", 7, NOW)) is True
    pruned = await storage.run(lambda tx: tx.prune_updates(NOW + dt.timedelta(seconds=1)))
    assert pruned == 2


async def test_a_failed_transaction_writes_nothing(storage: Storage) -> None:
    def half_done(tx) -> None:
        tx.create_person("console", "me", "en", NOW)
        raise RuntimeError("crash mid-turn")

    with pytest.raises(RuntimeError):
        await storage.run(half_done)
    assert await storage.run(lambda tx: tx.person("console", "me")) is None


async def test_a_turn_is_rolled_back_whole_on_failure_and_kept_whole_on_success(
    storage: Storage,
) -> None:
    """A turn's transaction ends in exactly one ROLLBACK or COMMIT, whatever it ran."""

    def claimed_then_crash(tx) -> None:
        assert tx.claim_update("telegram", 7, NOW)
        raise RuntimeError("crash mid-turn")

    with pytest.raises(RuntimeError):
        await storage.run(claimed_then_crash)
    assert await storage.run(lambda tx: tx.claim_update("telegram", 7, NOW)) is True  # the first claim was undone
    assert await storage.run(lambda tx: tx.claim_update("telegram", 7, NOW)) is False  # the second was kept

    def both(tx) -> None:
        tx.claim_update("telegram", 8, NOW)  # one of a turn's statements
        tx.create_person("console", "both", "en", NOW)  # and any other

    await storage.run(both)
    assert await storage.run(lambda tx: tx.person("console", "both")) is not None
    assert await storage.run(lambda tx: tx.claim_update("telegram", 8, NOW)) is False


# --------------------------------------------------------------------- through the service


async def test_service_commits_each_answer_before_replying(test_companion: Companion, storage: Storage) -> None:
    await test_companion.join(ME)
    await test_companion.open(ME, "kinds")
    await test_companion.act(ME, Pressed("~next"))
    reply = await test_companion.act(ME, Typed("Sam"))
    assert reply.prompt.step == "mood"
    exported = await Privacy(test_companion.storage).export(ME)
    assert exported["flows"][0]["answers"]["name"]["value"] == "Sam"


async def test_nothing_is_stored_before_consent(test_companion: Companion, storage: Storage) -> None:
    with pytest.raises(NotRegistered):
        await test_companion.open(ME, "kinds")
    with pytest.raises(NotRegistered):
        await test_companion.act(ME, Typed("hello"), update_id=5)
    assert await Privacy(test_companion.storage).export(ME) is None
    # The claimed update id was rolled back with the refused turn.
    assert await storage.run(lambda tx: tx.claim_update("console", 5, NOW)) is True


async def test_duplicate_delivery_is_handled_once(test_companion: Companion) -> None:
    await test_companion.join(ME)
    await test_companion.open(ME, "kinds", update_id=1)
    await test_companion.act(ME, Pressed("~next"), update_id=2)
    first = await test_companion.act(ME, Typed("Sam"), update_id=3)
    again = await test_companion.act(ME, Typed("Sam"), update_id=3)
    assert first.prompt.step == "mood"
    assert again.status == "duplicate" and again.prompt is None
    current = await test_companion.current(ME)
    assert current.prompt.step == "mood"


async def test_concurrent_turns_for_one_person_are_all_applied_in_some_order(test_companion: Companion) -> None:
    await test_companion.join(ME)
    await test_companion.open(ME, "kinds")
    await test_companion.act(ME, Pressed("~next"))
    await test_companion.act(ME, Typed("Sam"))
    await test_companion.act(ME, Pressed("good"))
    # Three ticks at once (a fast triple tap, or three processes): none may be lost.
    await asyncio.gather(*(test_companion.act(ME, Pressed(option)) for option in ("home", "work", "friends")))
    reply = await test_companion.current(ME)
    ticked = {button.id for button in reply.prompt.options if button.ticked}
    # max_picks is 2: two ticks are kept and the third got the kind "pick up to 2" re-ask.
    assert len(ticked) == 2
    await test_companion.act(ME, Pressed(DONE))
    exported = await Privacy(test_companion.storage).export(ME)
    assert len(exported["flows"][0]["answers"]["areas"]["value"]) == 2


async def test_pause_resume_and_menu_progress(test_companion: Companion, clock) -> None:
    await test_companion.join(ME)
    await test_companion.open(ME, "kinds")
    await test_companion.act(ME, Pressed("~next"))
    await test_companion.act(ME, Typed("Sam"))
    paused = await test_companion.act(ME, Pressed(PAUSE))
    assert paused.status == "paused"
    assert (await test_companion.current(ME)).status == "idle"
    menu = {item.flow_id: item.state for item in await test_companion.menu(ME)}
    assert menu["kinds"] == "in_progress"
    resumed = await test_companion.open(ME, "kinds")
    assert resumed.prompt.step == "mood"
    assert resumed.prompt.text == "Hi Sam. How are you today?"


async def test_restart_keeps_the_old_run_and_opens_a_new_one(test_companion: Companion, storage: Storage) -> None:
    await test_companion.join(ME)
    await test_companion.open(ME, "kinds")
    await test_companion.act(ME, Pressed("~next"))
    await test_companion.act(ME, Typed("Sam"))
    await test_companion.act(ME, Pressed(RESTART))
    person = await test_companion.person(ME)
    statuses = [run.status for run in await storage.run(lambda tx: tx.runs(person.id))]
    assert statuses == [RESTARTED, IN_PROGRESS]
    exported = await Privacy(test_companion.storage).export(ME)
    assert exported["flows"][0]["answers"]["name"]["value"] == "Sam"


async def test_completed_runs_are_kept_as_dated_records(test_companion: Companion, storage: Storage, clock) -> None:
    await test_companion.join(ME)
    for name in ("First", "Second"):
        await test_companion.open(ME, "quoting")
        await test_companion.act(ME, Pressed("yes" if name == "First" else "no"))
        clock.advance(days=1)
    person = await test_companion.person(ME)
    runs = await storage.run(lambda tx: tx.runs(person.id))
    assert [run.status for run in runs] == [COMPLETED, COMPLETED]
    latest = await storage.run(lambda tx: tx.latest_completed(person.id))
    answers = await storage.run(lambda tx: tx.answers([latest["quoting"].id]))
    assert answers[latest["quoting"].id]["recap"][0] == "no"
    menu = {item.flow_id: item for item in await test_companion.menu(ME)}
    assert menu["quoting"].state == "done"
    assert menu["quoting"].done_on == dt.date(2026, 11, 23)


async def test_quotes_from_another_flow_come_from_the_latest_finished_run(test_companion: Companion) -> None:
    await test_companion.join(ME)
    await test_companion.open(ME, "kinds")
    await test_companion.act(ME, Pressed("~next"))
    await test_companion.act(ME, Typed("Robin"))
    for _ in range(40):  # skip to the end
        reply = await test_companion.act(ME, Pressed("~skip"))
        if reply.prompt and reply.prompt.step == "sleep_ok":
            reply = await test_companion.act(ME, Pressed("yes"))
        if reply.status == "finished":
            break
    assert reply.status == "finished"
    opened = await test_companion.open(ME, "quoting")
    assert opened.prompt.text == "Last time you said your name is Robin. Still right?"


async def test_erase_leaves_nothing_behind(test_companion: Companion, storage: Storage) -> None:
    await test_companion.join(ME)
    await test_companion.open(ME, "kinds")
    await test_companion.act(ME, Pressed("~next"))
    await test_companion.act(ME, Typed("Sam"))
    person = await test_companion.person(ME)
    assert await Privacy(test_companion.storage).erase(ME) is True
    counts = await storage.run(lambda tx: tx.count_rows(person.id))
    assert counts == {"people": 0, "runs": 0, "answers": 0}
    assert await Privacy(test_companion.storage).erase(ME) is False


class _RacingStorage(Storage):
    """Commits a competing turn between this turn's read and its write, once.

    That is exactly what a second bot process does when it handles the same
    person at the same moment.
    """

    def __init__(self, inner: Storage, rival: Companion) -> None:
        super().__init__(inner.database)
        self.rival = rival
        self.raced = False

    async def run(self, work):
        if self.raced:
            return await super().run(work)
        self.raced = True
        snapshot = await super().run(lambda tx: tx.conversation(ME.channel, ME.external_id))
        await self.rival.act(ME, Pressed("work"))  # the rival's turn commits first

        def stale_read(tx):
            tx.conversation = lambda channel, external_id: snapshot
            return work(tx)

        return await super().run(stale_read)


async def test_a_turn_that_loses_the_race_is_retried_on_the_fresh_position(
    test_companion: Companion, storage: Storage, test_engine, clock
) -> None:
    await test_companion.join(ME)
    await test_companion.open(ME, "kinds")
    await test_companion.act(ME, Pressed("~next"))
    await test_companion.act(ME, Typed("Sam"))
    await test_companion.act(ME, Pressed("good"))
    racing = Companion(_RacingStorage(storage, test_companion), test_engine, clock=clock)
    reply = await racing.act(ME, Pressed("home"))
    assert racing.retries == 1
    # Both ticks survive: the rival's "work" and the retried "home".
    assert {button.id for button in reply.prompt.options if button.ticked} == {"home", "work"}


async def test_flows_marked_menu_false_are_not_in_the_menu(test_companion: Companion) -> None:
    await test_companion.join(ME)
    flows = [item.flow_id for item in await test_companion.menu(ME)]
    assert "kinds" in flows
    assert "hidden" not in flows


async def test_finishing_a_flow_runs_listeners_in_the_same_transaction(
    test_companion: Companion, storage: Storage
) -> None:
    seen = []

    def remember(tx, finished) -> None:
        seen.append((finished.person.external_id, finished.answers, finished.about))
        if finished.answers.get("at") == "16:00":
            raise RuntimeError("listener failed")

    test_companion.when_finished("hidden", remember)
    await test_companion.join(ME)
    await test_companion.open(ME, "hidden")
    with pytest.raises(RuntimeError):
        await test_companion.act(ME, Pressed("16:00"))
    # The failing listener rolled the whole turn back: the answer is not saved, the question waits.
    assert (await test_companion.current(ME)).prompt.step == "at"
    reply = await test_companion.act(ME, Pressed("10:00"))
    assert reply.status == "finished"
    assert seen[-1] == ("me", {"at": "10:00"}, {})
    with pytest.raises(KeyError):
        test_companion.when_finished("no_such_flow", remember)


async def test_a_run_about_someone_else_carries_it_to_the_listener(test_companion: Companion, storage: Storage) -> None:
    seen = []
    test_companion.when_finished("hidden", lambda tx, finished: seen.append(finished.about))
    await test_companion.join(ME)
    await test_companion.open(ME, "hidden", about={"person": 7})
    # Opening the same flow about someone else closes the first run and starts afresh.
    reply = await test_companion.open(ME, "hidden", about={"person": 8})
    assert reply.prompt.step == "at"
    await test_companion.act(ME, Pressed("09:00"))
    assert seen == [{"person": 8}]
    person = await test_companion.person(ME)
    assert [run.status for run in await storage.run(lambda tx: tx.runs(person.id))] == [RESTARTED, COMPLETED]


async def test_a_completed_run_can_be_added_to_someone_elses_record_and_a_copy_removed(
    test_companion: Companion, storage: Storage
) -> None:
    await test_companion.join(ME)
    person = await test_companion.person(ME)
    run_id = await storage.run(lambda tx: tx.add_completed_run(person.id, "hidden", {"at": "11:00"}, NOW))
    latest = await storage.run(lambda tx: tx.latest_completed(person.id))
    assert latest["hidden"].id == run_id
    assert (await storage.run(lambda tx: tx.answers([run_id])))[run_id]["at"][0] == "11:00"
    assert (await test_companion.person(ME)).version == person.version  # their conversation is untouched
    await storage.run(lambda tx: tx.delete_run(run_id))
    assert await storage.run(lambda tx: tx.count_rows(person.id)) == {"people": 1, "runs": 0, "answers": 0}


async def test_what_a_listener_returns_arrives_on_that_turns_reply(test_companion: Companion) -> None:
    test_companion.when_finished("hidden", lambda tx, finished: ("planned", finished.answers["at"]))
    test_companion.when_finished("hidden", lambda tx, finished: None)  # nothing to report
    await test_companion.join(ME)
    opened = await test_companion.open(ME, "hidden")
    assert opened.outcomes == []
    reply = await test_companion.act(ME, Pressed("13:00"))
    assert reply.outcomes == [("planned", "13:00")]


async def _sqlite_with_me(path: Path) -> Storage:
    storage = Storage(open_database(f"sqlite:///{path}"))
    await storage.database.create_schema()
    await storage.run(lambda tx: tx.create_person("console", "me", "en", NOW))
    return storage


async def test_sqlite_waits_for_another_process_without_stopping_other_turns(tmp_path: Path) -> None:
    """While another process holds SQLite's write lock, a turn waits asynchronously:
    the event loop goes on (other people's updates are read and answered)."""
    storage = await _sqlite_with_me(tmp_path / "shared.db")
    other = sqlite3.connect(tmp_path / "shared.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    waiting = asyncio.create_task(storage.run(lambda tx: tx.person("console", "me")))
    ticks = 0
    for _ in range(5):
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 5 and not waiting.done()
    other.execute("COMMIT")
    other.close()
    found = await asyncio.wait_for(waiting, timeout=2)
    assert found is not None and found.external_id == "me"
    await storage.close()


async def test_sqlite_gives_up_after_the_lock_timeout_and_stays_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.storage.database as database_module

    monkeypatch.setattr(database_module, "LOCK_TIMEOUT_SECONDS", 0.05)
    storage = await _sqlite_with_me(tmp_path / "locked.db")
    other = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await storage.run(lambda tx: tx.person("console", "me"))
    other.execute("COMMIT")
    other.close()
    found = await storage.run(lambda tx: tx.person("console", "me"))
    assert found is not None and found.external_id == "me"
    await storage.close()


async def test_sqlite_checkpoints_in_the_background(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Turns only append to the WAL; a background thread copies it back into the database."""
    import bot.storage.checkpointer as checkpointer_module

    monkeypatch.setattr(checkpointer_module, "INTERVAL_SECONDS", 0.02)
    storage = await _sqlite_with_me(tmp_path / "wal.db")
    for n in range(20):
        await storage.run(lambda tx, n=n: tx.create_person("console", f"p{n}", "en", NOW))
    checkpointer = storage.database._checkpointer
    assert checkpointer is not None
    for _ in range(200):
        if checkpointer.last is not None and checkpointer.last[2] > 0:
            break
        await asyncio.sleep(0.01)
    assert checkpointer.last is not None
    blocked, frames, copied = checkpointer.last
    assert blocked == 0 and copied == frames > 0  # every page the turns appended went back into the file
    await storage.close()
    assert not checkpointer._thread.is_alive()


async def test_sqlite_never_builds_on_a_transaction_a_failure_left_open(tmp_path: Path) -> None:
    storage = await _sqlite_with_me(tmp_path / "open.db")
    driver = await storage.run(lambda tx: tx.connection.connection.driver_connection)
    driver.execute("BEGIN IMMEDIATE")  # as if something had failed between BEGIN and SQLAlchemy's begin
    driver.execute("UPDATE people SET language = 'sv'")
    found = await storage.run(lambda tx: tx.person("console", "me"))
    assert found is not None and found.language == "en"  # the stray write was rolled back, not committed
    await storage.close()


async def _terminate(postgres_url: str, pid: int | None = None) -> None:
    """End server connections to the test database: one (by pid), or all but this one."""
    import asyncpg

    connection = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        if pid is not None:
            await connection.execute("SELECT pg_terminate_backend($1)", pid)
        else:
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        await connection.close()


async def test_postgres_turns_carry_on_after_the_server_closed_pooled_connections(
    pg_storage: Storage, postgres_url: str
) -> None:
    """A restart or an idle timeout closes pooled connections; the next turns still work."""
    await pg_storage.run(lambda tx: tx.create_person("console", "me", "en", NOW))
    await _terminate(postgres_url)
    for update_id in (1, 2, 3):
        assert await pg_storage.run(lambda tx, u=update_id: tx.claim_update("console", u, NOW)) is True
    assert await pg_storage.run(lambda tx: tx.person("console", "me")) is not None


async def test_postgres_work_cut_off_mid_transaction_runs_again_once(pg_storage: Storage, postgres_url: str) -> None:
    from sqlalchemy.util import await_only

    attempts: list[int] = []

    def work(tx) -> bool:  # type: ignore[no-untyped-def]
        attempts.append(1)
        claimed = tx.claim_update("console", 77, NOW)
        if len(attempts) == 1:
            # The server goes away after the first statement of the first attempt.
            await_only(_terminate(postgres_url, tx.connection.connection.driver_connection.get_server_pid()))
        tx.person("console", "me")
        return claimed

    assert await pg_storage.run(work) is True
    assert len(attempts) == 2
    assert await pg_storage.run(lambda tx: tx.claim_update("console", 77, NOW)) is False  # kept exactly once


async def test_a_stale_turn_is_refused_and_moves_nothing(storage: Storage) -> None:
    """The version check on the write itself (on PostgreSQL, one statement with the move)."""
    person = await storage.run(lambda tx: tx.create_person("console", "me", "en", NOW))
    args = dict(flow_id="kinds", status="active", active_flow="kinds", saved={}, now=NOW)
    run_id = await storage.run(lambda tx: tx.save_turn(person, run_id=None, position={"step": "a"}, **args))
    read = await storage.run(lambda tx: tx.person("console", "me"))
    await storage.run(lambda tx: tx.save_turn(read, run_id=run_id, position={"step": "b"}, **args))
    with pytest.raises(StaleConversation):  # ``read`` is one version behind now
        await storage.run(
            lambda tx: tx.save_turn(read, run_id=run_id, position={"step": "c"}, **{**args, "saved": {"x": 1}})
        )
    conversation = await storage.run(lambda tx: tx.conversation("console", "me"))
    assert conversation.run.position == {"step": "b"} and conversation.person.version == read.version + 1
    assert await storage.run(lambda tx: tx.answers([run_id])) == {run_id: {}}


async def test_the_id_of_an_erased_person_is_never_given_again(storage: Storage) -> None:
    first = await storage.run(lambda tx: tx.create_person("telegram", "1", "en", NOW))
    last = await storage.run(lambda tx: tx.create_person("telegram", "2", "en", NOW))
    await storage.run(lambda tx: tx.erase_person(last.id))
    after = await storage.run(lambda tx: tx.create_person("telegram", "3", "en", NOW))
    assert after.id not in (first.id, last.id)
    assert after.id > last.id


async def test_erasing_a_person_ends_every_run_about_them(test_companion: Companion, storage: Storage) -> None:
    """A colleague's unfinished notes about someone go with that someone, answers and all."""
    subject = Who("console", "subject")
    await test_companion.join(ME)
    await test_companion.join(subject)
    subject_record = await test_companion.person(subject)
    await test_companion.open(ME, "kinds", about={"person_id": subject_record.id})
    await test_companion.act(ME, Pressed("~next"))
    await test_companion.act(ME, Typed("Notes about them"))
    me = await test_companion.person(ME)
    assert (await storage.run(lambda tx: tx.count_rows(me.id)))["answers"] == 1
    await Privacy(test_companion.storage).erase(subject)
    assert await storage.run(lambda tx: tx.count_rows(me.id)) == {"people": 1, "runs": 0, "answers": 0}
    assert (await test_companion.current(ME)).status == "idle"
    references = await storage.run(lambda tx: tx.rows_referring_to(subject_record.id))
    assert set(references.values()) == {0}
