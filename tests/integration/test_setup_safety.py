"""Set-up (onboarding) keeps the survivor's controls: a quick exit pauses, a command never becomes a secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import commands
from tests.conftest import START, World
from tests.integration.conftest import PHONE, PROMPT, alerts, at, case_row, later

PAUSED = "Messages are paused. Reply RESUME to start again."
REJECTED = "Please choose another word: up to 4 words, not a command like STOP or PAUSE."


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def to_codeword_prompt(world: World) -> str:
    """Activated, consented, safe all day long, exit word 'pasta' with a one-day pause: at the codeword prompt."""
    ref, code = await world.enrol(PHONE)
    for line in [code, "YES", "00:00-24:00", "pasta", "1"]:
        await world.say(PHONE, line)
    await world.deliver()
    return ref


async def test_a_quick_exit_during_set_up_pauses_the_case_for_her_chosen_pause_and_stops_set_up(world: World) -> None:
    ref = await to_codeword_prompt(world)
    await world.say(PHONE, "pasta")
    assert await world.deliver() == []
    case = await case_row(world, ref)
    assert (case["status"], case["paused_until"]) == ("paused", "2026-11-24T09:00:00.000000Z")
    assert [(a["severity"], a["reason"]) for a in await alerts(world)] == [("raised", "exit_in_onboarding")]

    # The next words from the phone (hers or not) become no secret: set-up has stopped.
    await world.say(PHONE, "blue kettle")
    assert await world.deliver() == [PAUSED]
    assert (await case_row(world, ref))["codeword_hash"] is None

    # No check-in inside the pause, and none after it either until set-up is finished.
    assert await later(world, timedelta(hours=12)) == []
    assert await at(world, START + timedelta(days=1, minutes=1)) == []
    assert (await case_row(world, ref))["status"] == "onboarding"

    # When she writes again, set-up starts from the top, and once finished check-ins begin. (Her exit
    # word still works meanwhile, so she picks a new one rather than typing it again.)
    await world.say(PHONE, "hello")
    [consent] = await world.deliver()
    assert consent.startswith("Hi, it's Alex. Thanks for setting this up.")
    for line in ["YES", "00:00-24:00", "mango", "1", "blue kettle", "1", "SKIP"]:
        await world.say(PHONE, line)
    await world.deliver()
    assert (await case_row(world, ref))["status"] == "active"
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert await at(world, utc(2026, 11, 25, 10, 0)) == [PROMPT]


async def test_a_codeword_that_begins_with_a_command_is_refused_so_the_command_never_alerts(world: World) -> None:
    ref = await to_codeword_prompt(world)
    await world.say(PHONE, "PAUSE 4")
    assert REJECTED in (await world.deliver())[0]
    assert (await case_row(world, ref))["codeword_hash"] is None
    for line in ["blue kettle", "1", "SKIP"]:
        await world.say(PHONE, line)
    await world.deliver()

    await world.say(PHONE, "PAUSE 4")  # the command, some weeks later

    assert (await case_row(world, ref))["status"] == "paused"
    assert [a["reason"] for a in await alerts(world)] == []  # no urgent alert, no call-back


async def test_an_exit_word_that_begins_with_a_command_is_refused(world: World) -> None:
    ref, code = await world.enrol(PHONE)
    for line in [code, "YES", "00:00-24:00", "help me"]:
        await world.say(PHONE, line)
    assert REJECTED in (await world.deliver())[-2]
    assert (await case_row(world, ref))["exit_word_hash"] is None


async def test_stop_at_the_exit_word_prompt_on_a_channel_without_carrier_opt_out_is_asked_about_first(
    world: World,
) -> None:
    ref, code = await world.enrol(PHONE)
    for line in [code, "YES", "00:00-24:00"]:
        await world.say(PHONE, line)
    await world.deliver()
    await world.say(PHONE, "STOP")
    texts = await world.deliver()
    assert texts[0] == REJECTED and "Not STOP or HELP" in texts[1]
    assert (await case_row(world, ref))["status"] == "onboarding"
    await world.say(PHONE, "STOP")  # she really means it
    assert await world.deliver() == ["OK. You will not get any more messages."]
    assert (await case_row(world, ref))["status"] == "withdrawn"
    assert [a["reason"] for a in await alerts(world)] == ["withdrawn_in_onboarding"]
