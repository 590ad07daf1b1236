"""A person's time zone follows their language until they choose one (Swedish: Stockholm)."""

from __future__ import annotations

import io

from bot.adapters.console import CHANNEL, ConsoleChat
from bot.services.app import Services
from bot.services.conversation import Companion, Who


async def test_swedish_people_get_stockholm_and_english_people_london(companion: Companion) -> None:
    swedish = await companion.join(Who("telegram", "1"), "sv")
    english = await companion.join(Who("telegram", "2"), "en")
    chosen = await companion.join(Who("telegram", "3"), "sv", timezone="Europe/London")
    assert swedish.timezone == "Europe/Stockholm"
    assert english.timezone == "Europe/London"
    assert chosen.timezone == "Europe/London"


async def test_a_swedish_console_profile_lives_on_stockholm_time(companion: Companion) -> None:
    console = ConsoleChat(
        Services.around(companion), profile="sv1", stdin=io.StringIO("1\nq\n"), stdout=io.StringIO(), language="sv"
    )
    assert await console.run() == 0
    person = await companion.person(Who(CHANNEL, "sv1"))
    assert person is not None and person.timezone == "Europe/Stockholm"


async def test_switching_language_moves_a_default_time_zone_but_never_a_chosen_one(companion: Companion) -> None:
    default, chosen = Who("telegram", "1"), Who("telegram", "2")
    await companion.join(default, "en")
    await companion.join(chosen, "en", timezone="Europe/Dublin")
    assert await companion.set_language(default, "sv")
    assert await companion.set_language(chosen, "sv")
    assert (await companion.person(default)).timezone == "Europe/Stockholm"
    assert (await companion.person(chosen)).timezone == "Europe/Dublin"
    assert await companion.set_language(default, "en")
    assert (await companion.person(default)).timezone == "Europe/London"
