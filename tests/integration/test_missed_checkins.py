"""Unanswered check-ins: one gentle reminder, then missed, and an alert for two in a row if agreed."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import commands
from tests.conftest import World
from tests.integration.conftest import CALM_ANSWERS, NUDGE, PROMPT, alerts, at, checkin_statuses, inbox


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def case_checked_daily(world: World, missed_consent: str = "1") -> str:
    ref = await world.onboard(missed_consent=missed_consent)
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    return ref


async def miss_a_day(world: World, day: int) -> None:
    assert await at(world, utc(2026, 11, day, 10, 0)) == [PROMPT]
    assert await at(world, utc(2026, 11, day, 11, 0)) == [NUDGE, PROMPT]
    assert await at(world, utc(2026, 11, day, 13, 0)) == []


async def test_no_reply_gets_one_reminder_after_an_hour_and_is_missed_after_three(world: World) -> None:
    ref = await case_checked_daily(world)
    assert await at(world, utc(2026, 11, 23, 10, 0)) == [PROMPT]
    assert await at(world, utc(2026, 11, 23, 10, 59)) == []
    assert await at(world, utc(2026, 11, 23, 11, 0)) == [NUDGE, PROMPT]
    assert await at(world, utc(2026, 11, 23, 12, 59)) == []
    assert await checkin_statuses(world, ref) == [("2026-11-23T10:00", "open")]
    assert await at(world, utc(2026, 11, 23, 13, 0)) == []  # missed quietly: nothing to the phone
    assert await checkin_statuses(world, ref) == [("2026-11-23T10:00", "missed")]
    # The survivor agreed at onboarding: a missed check-in is a RAISED alert for the IDVA.
    assert [(a["severity"], a["reason"]) for a in await alerts(world)] == [("raised", "missed_checkin")]


async def test_reply_after_the_reminder_cancels_the_miss(world: World) -> None:
    ref = await case_checked_daily(world)
    assert await at(world, utc(2026, 11, 23, 10, 0)) == [PROMPT]
    assert await at(world, utc(2026, 11, 23, 11, 0)) == [NUDGE, PROMPT]
    await world.say("+447700900123", "1")
    await world.deliver()
    await at(world, utc(2026, 11, 23, 13, 0))
    # The window closed with one answer given: assessed as partial, never counted as missed.
    assert await checkin_statuses(world, ref) == [("2026-11-23T10:00", "partial")]
    await miss_a_day(world, 24)
    # The next day's miss is the first in a row: an ordinary missed alert, not "two in a row".
    assert [a["reason"] for a in await alerts(world)] == ["missed_checkin"]


async def test_two_missed_checkins_in_a_row_alert_the_idva_when_agreed(world: World) -> None:
    ref = await case_checked_daily(world, missed_consent="1")
    await miss_a_day(world, 23)
    assert [a["reason"] for a in await alerts(world)] == ["missed_checkin"]
    await miss_a_day(world, 24)
    [first, alert] = await alerts(world)
    assert (first["severity"], first["reason"]) == ("raised", "missed_checkin")
    assert (alert["severity"], alert["reason"]) == ("high", "missed_twice")
    [_, text] = await inbox(world, world.idva)
    assert f"Case {ref}: two check-ins missed in a row" in text
    assert await checkin_statuses(world, ref) == [("2026-11-23T10:00", "missed"), ("2026-11-24T10:00", "missed")]


async def test_two_missed_checkins_without_consent_raise_no_alert(world: World) -> None:
    ref = await case_checked_daily(world, missed_consent="2")
    await miss_a_day(world, 23)
    await miss_a_day(world, 24)
    await miss_a_day(world, 25)
    assert await alerts(world) == []
    assert await inbox(world, world.idva) == []
    assert [status for _, status in await checkin_statuses(world, ref)] == ["missed", "missed", "missed"]


async def test_an_answered_checkin_between_misses_resets_the_run(world: World) -> None:
    ref = await case_checked_daily(world)
    await miss_a_day(world, 23)
    assert await at(world, utc(2026, 11, 24, 10, 0)) == [PROMPT]
    for text in CALM_ANSWERS:
        await world.say("+447700900123", text)
    await world.deliver()
    assert [status for _, status in await checkin_statuses(world, ref)] == ["missed", "completed"]
    await miss_a_day(world, 25)
    assert [a["reason"] for a in await alerts(world)] == ["missed_checkin", "missed_checkin"]  # never "twice"
