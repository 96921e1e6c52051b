"""Inbound messages: stored exactly once, unknown senders learn nothing, strange text never breaks the pipeline."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot import commands
from bot.pipeline import MAX_STORED_TEXT, Outcome
from storage import inbound
from tests.conftest import World
from tests.integration.conftest import CALM_ANSWERS, NEUTRAL, PHONE, PROMPT, alerts, answer_all, rows, scalar

HELP_FIRST_LINE = "Options:"


async def start_checkin(world: World, ref: str) -> None:
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    world.clock.advance(timedelta(hours=1))
    assert await world.deliver() == [PROMPT]


# ---- dedupe ----


async def test_redelivered_inbound_message_is_processed_once(world: World) -> None:
    ref = await world.onboard()
    await start_checkin(world, ref)
    first = await world.say(PHONE, "1", provider_id="SM-redelivered")
    queued = await scalar(world.app, "SELECT count(*) FROM outbox WHERE recipient = 'survivor'")
    again = await world.say(PHONE, "1", provider_id="SM-redelivered")

    assert first.outcome is Outcome.PROCESSED
    assert again.outcome is Outcome.DUPLICATE and again.events == ()
    assert await scalar(world.app, "SELECT count(*) FROM inbound_messages WHERE provider_id = 'SM-redelivered'") == 1
    assert await scalar(world.app, "SELECT count(*) FROM outbox WHERE recipient = 'survivor'") == queued
    assert await scalar(world.app, "SELECT count(*) FROM answers") == 1
    texts = await world.deliver()
    assert len(texts) == 1 and texts[0].startswith("Thanks. First one:")  # the next question, once


async def test_redelivered_command_is_answered_once(world: World) -> None:
    await world.onboard()
    await world.say(PHONE, "HELP", provider_id="tg-77")
    await world.say(PHONE, "HELP", provider_id="tg-77")
    texts = await world.deliver()
    assert [t.split("\n")[0] for t in texts] == [HELP_FIRST_LINE]


async def test_concurrent_redeliveries_are_processed_exactly_once(world: World) -> None:
    ref = await world.onboard()
    await start_checkin(world, ref)
    before = await scalar(world.app, "SELECT count(*) FROM outbox")

    results = await asyncio.gather(*(world.say(PHONE, "1", provider_id="SM-race") for _ in range(8)))

    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes.count(Outcome.PROCESSED.value) == 1
    assert outcomes.count(Outcome.DUPLICATE.value) == 7
    assert await scalar(world.app, "SELECT count(*) FROM inbound_messages WHERE provider_id = 'SM-race'") == 1
    assert await scalar(world.app, "SELECT count(*) FROM answers") == 1
    assert await scalar(world.app, "SELECT count(*) FROM outbox") == before + 1
    assert len(await world.deliver()) == 1


async def test_same_provider_id_from_the_unknown_sender_is_answered_once(world: World) -> None:
    for _ in range(3):
        await world.say("+447700900999", "hello?", provider_id="SM-stranger-1")
    assert await world.deliver() == [NEUTRAL]


# ---- unknown senders ----


async def snapshot(world: World) -> dict[str, list[dict[str, object]]]:
    tables = ("cases", "conversations", "checkins", "answers", "assessments", "consents", "alerts", "timers",
              "schedules")
    return {t: await rows(world.app, f"SELECT * FROM {t} ORDER BY rowid") for t in tables}


async def test_unknown_sender_gets_only_the_neutral_reply_and_no_case_is_touched(world: World) -> None:
    ref = await world.onboard()
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    audit_before = await scalar(world.app, "SELECT count(*) FROM audit_log")
    before = await snapshot(world)

    handled = await world.say("+447700900999", "hi it's me, blue kettle")  # another survivor's codeword

    assert handled.outcome is Outcome.UNKNOWN_SENDER and handled.events == ()
    assert await world.deliver() == [NEUTRAL]
    stranger = await rows(world.app, "SELECT recipient, status FROM outbox WHERE case_id IS NULL")
    assert stranger == [{"recipient": "survivor", "status": "sent"}]
    assert await snapshot(world) == before
    assert await alerts(world) == []
    assert await scalar(world.app, "SELECT count(*) FROM audit_log") == audit_before
    [stored] = await rows(world.app, "SELECT case_id, body_enc FROM inbound_messages ORDER BY id DESC LIMIT 1")
    assert stored == {"case_id": None, "body_enc": None}  # a stranger's words are not kept


@pytest.mark.parametrize("text", ["pasta", "STOP", "HELP", "RESUME", "1", "blue kettle"])
async def test_unknown_sender_commands_and_secrets_change_nothing(world: World, text: str) -> None:
    await world.onboard()
    before = await snapshot(world)
    await world.say("+447700900555", text)
    assert await world.deliver() == [NEUTRAL]
    assert await snapshot(world) == before


async def test_wrong_activation_code_gets_the_same_neutral_reply(world: World) -> None:
    ref, _code = await world.enrol("+447700900321")
    await world.say("+447700900321", "WRONG-CODE")
    assert await world.deliver() == [NEUTRAL]
    [case] = await rows(world.app, "SELECT status FROM cases WHERE ref = ?", (ref,))
    assert case["status"] == "pending"


# ---- strange and huge messages ----

STRANGE = [
    pytest.param("👍🏽👩‍👩‍👧 ok 🇬🇧", id="emoji"),
    pytest.param("\u200fمرحبا\u200f yes \u202eevil\u202c", id="rtl-marks"),
    pytest.param("y\u200be\u200ds\u2060\ufeff", id="zero-width"),
    pytest.param("\x00\x07\x1b[31mred\x1b[0m\r\n\t\x7f", id="control-chars"),
    pytest.param("\ud800 lone surrogate \udfff", id="lone-surrogates"),
    pytest.param("a" * 20_000, id="20000-chars"),
    pytest.param("🙂" * 20_000, id="20000-emoji"),
    pytest.param("", id="empty"),
    pytest.param("\n\n   \n", id="whitespace"),
    pytest.param("é" * 5_000 + "\u0301" * 5_000, id="combining-marks"),
]


@pytest.mark.parametrize("text", STRANGE)
async def test_strange_message_outside_a_checkin_is_stored_once_and_answered(world: World, text: str) -> None:
    await world.onboard()
    before = await scalar(world.app, "SELECT count(*) FROM inbound_messages")
    handled = await world.say(PHONE, text, provider_id="strange-1")
    assert handled.outcome is Outcome.PROCESSED
    await world.say(PHONE, text, provider_id="strange-1")
    assert await scalar(world.app, "SELECT count(*) FROM inbound_messages") == before + 1
    [stored] = await rows(
        world.app, "SELECT id, body_enc, case_id FROM inbound_messages WHERE provider_id = 'strange-1'"
    )
    assert stored["case_id"] is not None
    body = world.app.crypto.decrypt(stored["body_enc"], inbound.BODY.at(stored["id"]))
    assert body == text[:MAX_STORED_TEXT]
    assert len(await world.deliver()) == 1  # one ordinary reply


@pytest.mark.parametrize("text", STRANGE)
async def test_strange_free_text_answer_is_recorded_once_without_error(world: World, text: str) -> None:
    ref = await world.onboard()
    await start_checkin(world, ref)
    await answer_all(world, CALM_ANSWERS[:-1])  # every answer but the free text
    handled = await world.say(PHONE, text, provider_id="strange-free-text")
    assert handled.outcome is Outcome.PROCESSED
    assert await world.deliver() == ["Thanks, that's everything. Take care."]
    shown = await commands.show_case(world.app, world.service_id, ref, world.idva)
    [checkin] = shown["checkins"]
    assert checkin["status"] == "completed"
    free = [a for a in checkin["answers"] if a["question"] == "anything_else"]
    assert len(free) == 1
    kept = free[0]["text"]
    assert kept is None or (0 < len(kept) <= len(text))
    assert await alerts(world) == []


async def test_codeword_wrapped_in_rtl_marks_zero_width_and_emoji_alerts_once(world: World) -> None:
    await world.onboard()
    await world.say(PHONE, "\u200f🙂 BLUE\u200b KETTLE!! \u202e👍🏽")
    [alert] = await alerts(world)
    assert (alert["severity"], alert["reason"]) == ("urgent", "codeword")
    texts = await world.deliver()
    assert texts == ["Thanks, got it. Reply HELP for options."]  # the screen looks ordinary
