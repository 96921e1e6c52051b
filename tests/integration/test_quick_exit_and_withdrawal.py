"""The survivor's controls: the quick exit silences everything at once; withdrawal stops and erases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot import commands
from bot.dispatcher import Dispatcher
from bot.pipeline import Outcome
from tests.conftest import World
from tests.integration.conftest import (
    CALM_ANSWERS,
    NEUTRAL,
    PHONE,
    PROMPT,
    WITHDRAWN,
    GatedChannel,
    alerts,
    answer_all,
    at,
    case_row,
    checkin_statuses,
    inbox,
    rows,
    scalar,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def in_checkin(world: World) -> str:
    """Onboarded (exit word 'pasta', one-day pause after it), check-ins daily at 10:00, one started."""
    ref = await world.onboard()
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert await at(world, utc(2026, 11, 23, 10, 0)) == [PROMPT]
    return ref


# ---- quick exit ----


async def test_exit_word_mid_checkin_sends_nothing_more_not_even_queued_replies(world: World) -> None:
    ref = await in_checkin(world)
    await world.say(PHONE, "1")  # its reply (the next question) is queued, not yet sent
    handled = await world.say(PHONE, "  Pasta! ")
    assert handled.outcome is Outcome.PROCESSED
    assert await world.deliver() == []
    statuses = await rows(world.app, "SELECT status FROM outbox WHERE recipient = 'survivor' AND case_id IS NOT NULL "
                                     "AND created_at >= '2026-11-23T10:00:00'")
    assert [s["status"] for s in statuses] == ["sent", "cancelled"]  # the prompt went; the rest never will
    assert await checkin_statuses(world, ref) == [("2026-11-23T10:00", "exited")]


async def test_quick_exit_pauses_for_the_chosen_time_and_tells_the_idva(world: World) -> None:
    ref = await in_checkin(world)
    world.clock.set(utc(2026, 11, 23, 10, 1))
    await world.say(PHONE, "pasta")
    await world.deliver()
    case = await case_row(world, ref)
    assert case["status"] == "paused"
    assert case["paused_until"] == "2026-11-24T10:01:00.000000Z"  # the one day chosen at onboarding
    [alert] = await alerts(world)
    assert (alert["severity"], alert["reason"]) == ("raised", "quick_exit")
    assert [n["role"] for n in alert["notified"]] == ["idva"]
    [text] = await inbox(world, world.idva)
    assert f"Case {ref}: quick exit used" in text
    # The exit word itself is not kept anywhere readable.
    [body] = await rows(world.app, "SELECT body_enc FROM inbound_messages ORDER BY id DESC LIMIT 1")
    assert body["body_enc"] is None


async def test_checkin_due_inside_the_exit_pause_is_not_sent_and_checkins_resume_after(world: World) -> None:
    ref = await in_checkin(world)
    world.clock.set(utc(2026, 11, 23, 10, 1))
    await world.say(PHONE, "pasta")
    assert await world.deliver() == []
    assert await at(world, utc(2026, 11, 23, 11, 0)) == []  # no reminder for the exited check-in
    assert await at(world, utc(2026, 11, 24, 10, 0)) == []  # inside the pause
    assert await at(world, utc(2026, 11, 24, 10, 2)) == []  # pause over: resumes quietly
    assert (await case_row(world, ref))["status"] == "active"
    assert await at(world, utc(2026, 11, 25, 10, 0)) == [PROMPT]
    assert await checkin_statuses(world, ref) == [("2026-11-23T10:00", "exited"), ("2026-11-25T10:00", "open")]


async def test_codeword_during_the_exit_pause_still_alerts(world: World) -> None:
    await in_checkin(world)
    await world.say(PHONE, "pasta")
    await world.deliver()
    world.clock.set(utc(2026, 11, 23, 20, 0))
    await world.say(PHONE, "blue kettle")
    await world.deliver()
    assert [(a["severity"], a["reason"]) for a in await alerts(world)] == [
        ("raised", "quick_exit"),
        ("urgent", "codeword"),
    ]


async def test_message_already_in_flight_does_not_let_later_ones_out_after_quick_exit(world: World) -> None:
    await in_checkin(world)
    gated = GatedChannel(world.sim)
    world.app.survivor_channels["simulator"] = gated
    await world.say(PHONE, "maybe?")  # not an option: a re-ask and the question again, two messages
    sending = asyncio.create_task(Dispatcher(world.app).run_once())
    await asyncio.wait_for(gated.entered.wait(), timeout=5)  # the first is with the provider now

    await world.say(PHONE, "pasta")
    gated.gate.set()
    await asyncio.wait_for(sending, timeout=5)

    await Dispatcher(world.app).drain()
    delivered = [d.message.text for d in world.sim.take()]
    assert delivered == ["Sorry, I didn't catch that. Please reply with one of the numbers."]


async def test_message_delivered_during_a_quick_exit_is_recorded_as_sent_with_its_provider_id(world: World) -> None:
    await in_checkin(world)
    gated = GatedChannel(world.sim)
    world.app.survivor_channels["simulator"] = gated
    await world.say(PHONE, "1")
    sending = asyncio.create_task(Dispatcher(world.app).run_once())
    await asyncio.wait_for(gated.entered.wait(), timeout=5)
    await world.say(PHONE, "pasta")
    gated.gate.set()
    await asyncio.wait_for(sending, timeout=5)

    [on_phone] = world.sim.take()
    # What reached the phone must be on record, with the provider's id, so it can be found (and on
    # Telegram deleted) later; "cancelled" would say it never went out.
    [row] = await rows(world.app, "SELECT status, provider_id FROM outbox WHERE recipient = 'survivor' "
                                  "ORDER BY id DESC LIMIT 1")
    assert row == {"status": "sent", "provider_id": on_phone.provider_id}


# ---- withdrawal ----


async def test_stop_withdraws_consent_erases_and_sends_only_the_confirmation(world: World) -> None:
    ref = await in_checkin(world)
    await answer_all(world, [*CALM_ANSWERS[:-1], "Zebedee came round on Sunday"])
    await at(world, utc(2026, 11, 24, 10, 0))
    await world.say(PHONE, "1")
    await world.deliver()

    await world.say(PHONE, "STOP")
    assert await world.deliver() == [WITHDRAWN]

    case = await case_row(world, ref)
    assert case["status"] == "withdrawn" and case["closed_at"] is not None
    assert (case["address_enc"], case["address_hash"], case["name_enc"]) == (None, None, None)
    consents = await rows(world.app, "SELECT topic, agreed, text_version FROM consents WHERE case_id = ? ORDER BY id",
                          (case["id"],))
    assert consents[-1] == {"topic": "checkins", "agreed": 0, "text_version": "withdrawal"}
    assert await scalar(world.app, "SELECT count(*) FROM answers") == 0
    assert await scalar(world.app, "SELECT count(*) FROM outbox WHERE address_enc IS NOT NULL") == 0
    assert await scalar(world.app, "SELECT count(*) FROM timers WHERE case_id = ? AND done_at IS NULL "
                                   "AND kind != 'escalate'", (case["id"],)) == 0
    [withdrawn_alert] = [a for a in await alerts(world) if a["reason"] == "consent_withdrawn"]
    assert withdrawn_alert["severity"] == "raised"
    shown = await commands.show_case(world.app, world.service_id, ref, world.idva)
    assert (shown["address"], shown["name"], shown["safe_windows"]) == (None, None, [])
    assert all(c["answers"] == [] for c in shown["checkins"])
    assert [c["level"] for c in shown["checkins"]][-1] == "standard"  # the service's record: levels and dates

    for day in (25, 26, 27, 28, 29, 30):
        assert await at(world, utc(2026, 11, day, 10, 0)) == []
        assert await at(world, utc(2026, 11, day, 13, 0)) == []
    await world.say(PHONE, "hello?")
    # Answered exactly like a number that was never enrolled, tied to no case: nothing is revealed.
    assert await world.deliver() == [NEUTRAL]
    [last] = await rows(world.app, "SELECT case_id FROM outbox ORDER BY id DESC LIMIT 1")
    assert last["case_id"] is None
    await world.say("+447700900999", "hello?")
    assert await world.deliver() == [NEUTRAL]


async def test_withdrawal_erases_every_message_body_including_the_withdrawal_itself(world: World) -> None:
    await in_checkin(world)
    await answer_all(world, [*CALM_ANSWERS[:-1], "Zebedee came round on Sunday"])
    await world.say(PHONE, "STOP")
    await world.deliver()
    kept = await rows(world.app, "SELECT provider_id FROM inbound_messages WHERE body_enc IS NOT NULL")
    assert kept == []


async def test_after_withdrawal_her_number_is_a_stranger_tied_to_no_case(world: World) -> None:
    ref = await world.onboard()
    await world.say(PHONE, "STOP")
    assert await world.deliver() == [WITHDRAWN]
    world.clock.set(utc(2026, 12, 2, 22, 0))

    # Erasure means her number and her codeword are gone: Safecheck can no longer recognise either.
    await world.say(PHONE, "he is back, blue kettle", provider_id="after-withdrawal")

    assert await world.deliver() == [NEUTRAL]
    [stored] = await rows(world.app, "SELECT case_id, body_enc FROM inbound_messages WHERE provider_id = ?",
                          ("after-withdrawal",))
    assert (stored["case_id"], stored["body_enc"]) == (None, None)
    assert [a["reason"] for a in await alerts(world)] == ["consent_withdrawn"]
    assert (await case_row(world, ref))["status"] == "withdrawn"


async def test_withdrawn_survivor_can_be_enrolled_again_on_the_same_number(world: World) -> None:
    old = await world.onboard()
    await world.say(PHONE, "STOP")
    await world.deliver()
    new = await world.onboard()
    assert new != old
    await world.say(PHONE, "HELP")
    assert (await world.deliver())[0].startswith("Options:")
