"""Schedules live in the database: local times, restarts, catch-up after downtime, both DST changes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import commands
from tests.conftest import World
from tests.integration.conftest import (
    CALM_ANSWERS,
    DONE,
    PHONE,
    PROMPT,
    alerts,
    answer_all,
    at,
    checkin_statuses,
    restarted,
    run_shell,
    say_to,
)

LONDON = ZoneInfo("Europe/London")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def daily_at_ten(world: World, windows: str = "1 2 3") -> str:
    ref = await world.onboard(windows=windows)
    out = await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert "next check-in 2026-11-23T10:00:00+00:00" in out
    return ref


# ---- local time ----


async def test_daily_schedule_sends_the_checkin_at_ten_london_time(world: World) -> None:
    await daily_at_ten(world)
    assert await at(world, utc(2026, 11, 23, 9, 59, 59)) == []
    assert await at(world, utc(2026, 11, 23, 10, 0)) == [PROMPT]


async def test_schedule_follows_london_summer_time(world: World) -> None:
    world.clock.set(utc(2026, 7, 6, 7, 0))  # a Monday in British Summer Time
    ref = await world.onboard()
    out = await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert "next check-in 2026-07-06T09:00:00+00:00" in out  # 10:00 BST
    assert await at(world, utc(2026, 7, 6, 8, 59)) == []
    assert await at(world, utc(2026, 7, 6, 9, 0)) == [PROMPT]


async def test_next_checkin_is_planned_after_each_one(world: World) -> None:
    ref = await daily_at_ten(world)
    assert await at(world, utc(2026, 11, 23, 10, 0)) == [PROMPT]
    assert (await answer_all(world, CALM_ANSWERS))[-1] == DONE
    shown = await commands.show_schedule(world.app, world.service_id, ref)
    assert shown["next_checkin"] == "2026-11-24T10:00:00+00:00"
    assert await at(world, utc(2026, 11, 24, 10, 0)) == [PROMPT]


# ---- restart ----


async def test_restart_mid_checkin_loses_nothing(world: World) -> None:
    ref = await daily_at_ten(world)
    assert await at(world, utc(2026, 11, 23, 10, 0)) == [PROMPT]
    await answer_all(world, ["1", "1", "1", "1"])  # talk now, safe, not afraid, no contact
    await world.say("+447700900123", "5", provider_id="before-crash")  # choking: its reply is still queued

    async with restarted(world) as app:  # the process died before delivering; a new one starts
        first = await run_shell(app, world.sim)
        assert len(first) == 1 and first[0].startswith("Another one:\nHave you separated")
        # The provider redelivers the last message it is unsure about: it is not taken twice.
        assert (await say_to(app, "5", "before-crash")).outcome.value == "duplicate"
        for n, text in enumerate(["1", "1", "1", "Zebedee came by on Sunday"]):
            assert (await say_to(app, text, f"after-restart-{n}")).outcome.value == "processed"
            assert len(await run_shell(app, world.sim)) == 1
        shown = await commands.show_case(app, world.service_id, ref, world.idva)

    [checkin] = shown["checkins"]
    assert checkin["status"] == "completed" and checkin["level"] == "urgent"
    answered = {a["question"]: (a["options"], a["text"]) for a in checkin["answers"]}
    assert answered == {
        "safe_to_talk": (["yes"], None),
        "safe_now": (["yes"], None),
        "afraid": (["no"], None),
        "contact": (["none"], None),
        "incident": (["choking"], None),
        "separation": (["no"], None),  # the two rotating questions (no history yet)
        "stalking": (["no"], None),
        "callback": (["no"], None),
        "anything_else": ([], "Zebedee came by on Sunday"),
    }
    [alert] = shown["alerts"]
    assert (alert["severity"], alert["reason"]) == ("urgent", "risk_raised")


async def test_timers_set_before_a_restart_fire_after_it(world: World) -> None:
    await daily_at_ten(world)
    await world.onboard("+447700900456")  # a second survivor, to make sure timers are per case
    await world.say("+447700900456", "blue kettle")  # urgent alert: escalation timers pending
    await world.deliver()
    async with restarted(world) as app:
        world.clock.set(utc(2026, 11, 23, 10, 0))
        # The first survivor's 10:00, and the second's default 09:30 caught up inside its window.
        assert await run_shell(app, world.sim) == [PROMPT, PROMPT]
        [alert] = await commands.list_alerts(app, world.service_id, open_only=True)
        assert [n["role"] for n in alert["notified"]] == ["idva", "duty", "manager"]  # fired late, not lost
        world.clock.set(utc(2026, 11, 23, 11, 0))
        nudges = [t for t in await run_shell(app, world.sim) if t == "Just a gentle nudge."]
        assert len(nudges) == 2


# ---- catch-up after downtime ----


async def test_checkin_due_while_down_is_sent_if_still_inside_the_safe_window(world: World) -> None:
    ref = await daily_at_ten(world, windows="1")  # mornings, 09:00-12:00
    assert await at(world, utc(2026, 11, 23, 11, 30)) == [PROMPT]
    assert await checkin_statuses(world, ref) == [("2026-11-23T10:00", "open")]


async def test_checkin_due_while_down_past_its_window_is_missed_by_the_system_silently(world: World) -> None:
    ref = await daily_at_ten(world, windows="1")
    assert await at(world, utc(2026, 11, 23, 12, 30)) == []
    assert await checkin_statuses(world, ref) == [("2026-11-23T10:00", "missed_system")]
    assert await alerts(world) == []
    # It never counts against the survivor: the next day's miss is their first, never "two in a row".
    assert await at(world, utc(2026, 11, 24, 10, 0)) == [PROMPT]
    await at(world, utc(2026, 11, 24, 13, 0))
    assert await checkin_statuses(world, ref) == [
        ("2026-11-23T10:00", "missed_system"),
        ("2026-11-24T10:00", "missed"),
    ]
    assert [a["reason"] for a in await alerts(world)] == ["missed_checkin"]


async def test_several_days_of_downtime_send_at_most_one_prompt(world: World) -> None:
    await daily_at_ten(world)
    received = await at(world, utc(2026, 11, 26, 10, 30))  # down from Monday 09:00 to Thursday 10:30
    assert received.count(PROMPT) <= 1
    assert await at(world, utc(2026, 11, 26, 10, 31)) == []


async def test_slot_still_inside_its_window_after_days_of_downtime_is_sent(world: World) -> None:
    ref = await daily_at_ten(world, windows="1")
    # Back on Thursday at 10:30: Thursday's 10:00 check-in fell due while down and its window is open.
    assert await at(world, utc(2026, 11, 26, 10, 30)) == [PROMPT]
    assert ("2026-11-26T10:00", "open") in await checkin_statuses(world, ref)


async def test_every_slot_missed_while_down_is_recorded_as_missed_by_the_system(world: World) -> None:
    ref = await daily_at_ten(world, windows="1")
    assert await at(world, utc(2026, 11, 26, 13, 0)) == []  # back on Thursday after the window
    assert await checkin_statuses(world, ref) == [
        ("2026-11-23T10:00", "missed_system"),
        ("2026-11-24T10:00", "missed_system"),
        ("2026-11-25T10:00", "missed_system"),
        ("2026-11-26T10:00", "missed_system"),
    ]
    assert await alerts(world) == []
    shown = await commands.show_schedule(world.app, world.service_id, ref)
    assert shown["next_checkin"] == "2026-11-27T10:00:00+00:00"


# ---- daylight saving ----


async def walk_the_night(world: World, start: datetime, end: datetime) -> Counter[str]:
    """Step the clock through a night, completing each check-in that arrives; count prompts per local date."""
    prompts: Counter[str] = Counter()
    when = start
    while when <= end:
        for text in await at(world, when):
            if text == PROMPT:
                prompts[when.astimezone(LONDON).date().isoformat()] += 1
                assert (await answer_all(world, CALM_ANSWERS))[-1] == DONE
        when += timedelta(minutes=5)
    return prompts


async def test_autumn_repeated_hour_gives_exactly_one_checkin(world: World) -> None:
    world.clock.set(utc(2026, 10, 24, 12, 0))
    ref = await world.onboard(windows="00:00-03:00")
    out = await commands.set_schedule(world.app, world.service_id, ref, "daily@01:30")
    assert "next check-in 2026-10-25T00:30:00+00:00" in out  # the first 01:30, still BST

    prompts = await walk_the_night(world, utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 4, 0))

    assert prompts == Counter({"2026-10-25": 1})
    assert await checkin_statuses(world, ref) == [("2026-10-25T01:30", "completed")]
    shown = await commands.show_schedule(world.app, world.service_id, ref)
    assert shown["next_checkin"] == "2026-10-26T01:30:00+00:00"  # 01:30 GMT the next night


async def test_spring_missing_hour_still_gives_exactly_one_checkin(world: World) -> None:
    world.clock.set(utc(2026, 3, 28, 12, 0))
    ref = await world.onboard(windows="00:00-03:00")
    await commands.set_schedule(world.app, world.service_id, ref, "daily@01:30")

    prompts = await walk_the_night(world, utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 4, 0))

    assert prompts == Counter({"2026-03-29": 1})
    assert await checkin_statuses(world, ref) == [("2026-03-29T01:30", "completed")]
    shown = await commands.show_schedule(world.app, world.service_id, ref)
    assert shown["next_checkin"] == "2026-03-30T00:30:00+00:00"  # 01:30 BST the next night


async def test_a_checkin_interrupted_by_days_of_downtime_sends_no_stale_reminder_and_one_prompt(world: World) -> None:
    ref = await daily_at_ten(world)
    assert await at(world, utc(2026, 11, 23, 10, 0)) == [PROMPT]  # Monday's question reaches her, then we go down
    await world.say(PHONE, "1")  # her answer is stored; the next question waits in the outbox, undelivered

    received = await at(world, utc(2026, 11, 26, 10, 30))  # back on Thursday at 10:30

    assert received == [PROMPT]  # Thursday's check-in only: no Monday reminder, no Monday question again
    statuses = dict(await checkin_statuses(world, ref))
    assert statuses["2026-11-23T10:00"] == "partial"  # what she answered on Monday is still assessed
    assert statuses["2026-11-24T10:00"] == statuses["2026-11-25T10:00"] == "missed_system"
    assert statuses["2026-11-26T10:00"] == "open"
    assert [a["reason"] for a in await alerts(world)] == []


async def test_a_checkin_whose_end_came_while_down_never_counts_as_missed_by_her(world: World) -> None:
    ref = await daily_at_ten(world)
    assert await at(world, utc(2026, 11, 23, 10, 0)) == [PROMPT]  # she may answer while nobody is listening

    await at(world, utc(2026, 11, 23, 18, 0))  # back the same evening, after the check-in's end

    assert await checkin_statuses(world, ref) == [("2026-11-23T10:00", "missed_system")]
    assert await alerts(world) == []
