"""DASH coverage through the real pipeline: every rotating risk factor is asked within `within` check-ins
she answers, whether she answers every day or misses a fortnight, because the shell reads which
questions her recent answered check-ins asked (storage.checkins.recent_questions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import commands
from flows.loader import load_default
from tests.conftest import World
from tests.integration.conftest import CALM_ANSWERS, answer_all, at, rows

QS = load_default()
ROTATING = [q.id for q in QS.rotating]
assert QS.rotation is not None
WITHIN = QS.rotation.within
FIRST = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def rotating_asked(world: World) -> list[list[str]]:
    """For each answered check-in, oldest first, the rotating questions it asked."""
    found = await rows(
        world.app, "SELECT checkin_id, question FROM answers ORDER BY checkin_id, id"
    )
    by_checkin: dict[int, list[str]] = {}
    for row in found:
        by_checkin.setdefault(row["checkin_id"], []).append(row["question"])
    return [[q for q in asked if q in ROTATING] for _, asked in sorted(by_checkin.items())]


def longest_waits(asked: list[list[str]]) -> dict[str, int]:
    """For each rotating question, the most answered check-ins it waited (from the start) to be asked."""
    waits = {}
    for question in ROTATING:
        at_ = [n for n, questions in enumerate(asked, start=1) if question in questions]
        assert at_, f"{question} was never asked in {asked}"
        waits[question] = max(b - a for a, b in zip([0, *at_], at_, strict=False))
    return waits


async def day(world: World, n: int, answered: bool) -> None:
    when = FIRST + timedelta(days=n)
    received = await at(world, when)
    assert received, f"no check-in on day {n}"
    if answered:
        await answer_all(world, CALM_ANSWERS)
    else:
        await at(world, when + timedelta(hours=3, minutes=1))  # the window closes: missed


async def test_a_survivor_who_answers_every_day_is_asked_every_factor_within_five(world: World) -> None:
    ref = await world.onboard(missed_consent="2")
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    for n in range(2 * WITHIN):
        await day(world, n, answered=True)
    asked = await rotating_asked(world)
    assert len(asked) == 2 * WITHIN and all(len(questions) == 2 for questions in asked)
    assert max(longest_waits(asked).values()) <= WITHIN


async def test_a_fortnight_of_missed_check_ins_does_not_hide_when_each_factor_was_asked(world: World) -> None:
    ref = await world.onboard(missed_consent="2")
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    present = [True] + [False] * 14 + [True] * (WITHIN + 1)
    for n, answered in enumerate(present):
        await day(world, n, answered)
    asked = await rotating_asked(world)
    assert len(asked) == present.count(True)
    assert max(longest_waits(asked).values()) <= WITHIN, asked
