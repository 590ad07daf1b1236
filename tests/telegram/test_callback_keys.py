"""Buttons are signed with the companion's own key, not one derived from the bot token, and a
key can be rotated without breaking buttons already in people's chats."""

from __future__ import annotations

from bot.adapters.telegram.app import build_application
from bot.adapters.telegram.callbacks import Callback, Signer
from bot.services.app import Services
from bot.services.conversation import Companion, Who
from bot.settings import Settings, callback_keys
from tests.telegram.conftest import TOKEN
from tests.telegram.harness import RecordingRequest, TelegramHarness, keyboard_of
from tests.telegram.talk import agree, ui

OLD, NEW = b"old-callback-key-" + b"x" * 24, b"new-callback-key-" + b"y" * 24


def test_the_signing_key_is_not_the_token_and_previous_keys_are_accepted() -> None:
    button = Callback("f", "yes", Signer(OLD).token("questions", "intro", "yes"))
    assert not Signer(TOKEN.encode()).matches(button, "questions", "intro")  # a leaked token forges nothing
    assert Signer(NEW, previous=[OLD]).matches(button, "questions", "intro")  # in flight during a rotation
    assert not Signer(NEW).matches(button, "questions", "intro")  # once the old key is dropped
    assert Signer(NEW, previous=[OLD]).flow_button("questions", "intro", "yes") == Signer(NEW).flow_button(
        "questions", "intro", "yes"
    )  # new buttons carry the new key


def test_settings_name_the_keys(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COMPANION_CALLBACK_KEY", NEW.decode())
    monkeypatch.setenv("COMPANION_CALLBACK_KEYS_PREVIOUS", f" {OLD.decode()} , ")
    assert callback_keys(Settings(), TOKEN) == (NEW, (OLD,))
    monkeypatch.delenv("COMPANION_CALLBACK_KEY")
    assert callback_keys(Settings(), TOKEN)[0] == TOKEN.encode()


async def _harness(services: Services, key: bytes, previous: tuple[bytes, ...] = ()) -> TelegramHarness:
    request = RecordingRequest()
    application = build_application(
        services, TOKEN, request=request, rate_limit=False, callback_key=key, previous_callback_keys=previous
    )
    await application.initialize()
    request.take()
    return TelegramHarness(application, request, first_update_id=500_000 + len(previous) * 1000)


async def test_a_button_from_before_a_key_rotation_still_works(companion: Companion) -> None:
    services = Services.around(companion)
    before = await _harness(services, OLD)
    robin = before.person(7401, "Robin")
    await agree(robin, companion)
    await companion.open(Who("telegram", "7401"), "questions")
    await robin.says("/menu")
    await robin.taps(robin.chat[-1]["reply_markup"]["inline_keyboard"][0][0]["text"])
    question = robin.keyboard_message()
    (_label, data), *_ = keyboard_of(question["reply_markup"])[0]
    assert data.startswith("f:")
    await before.application.shutdown()

    # Refused first (the old key is no longer accepted), then accepted while it still is.
    for previous, accepted in (((), False), ((OLD,), True)):
        after = await _harness(services, NEW, previous)
        try:
            calls = await after.process(after.updates.press(robin.user, question, data))
            moved_on = any(ui(companion, "tg_moved_on") in str(call.params.get("text")) for call in calls)
            assert moved_on is not accepted, (previous, calls)
            if accepted:  # the press was taken as the answer: the next question was sent
                assert any(call.method == "sendMessage" for call in calls)
        finally:
            await after.application.shutdown()
