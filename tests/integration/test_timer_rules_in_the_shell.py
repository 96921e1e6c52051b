"""The scheduler carries out the pure timer rules (flows/timers.py) as decided: what they skip is never queued."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import commands
from tests.conftest import World
from tests.integration.conftest import PROMPT, at, checkin_statuses, scalar

SURVIVOR_ROWS = "SELECT count(*) FROM outbox WHERE recipient = 'survivor'"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_a_reminder_due_outside_her_safe_times_is_never_queued(world: World) -> None:
    ref = await world.onboard(windows="1")  # mornings only, 09:00-12:00
    await commands.set_schedule(world.app, world.service_id, ref, "daily@11:30")
    assert await at(world, utc(2026, 11, 23, 11, 30)) == [PROMPT]
    queued = await scalar(world.app, SURVIVOR_ROWS)

    assert await at(world, utc(2026, 11, 23, 12, 30)) == []  # its reminder fell due after her window closed

    assert await scalar(world.app, SURVIVOR_ROWS) == queued  # not held for later either: never written
    assert await checkin_statuses(world, ref) == [("2026-11-23T11:30", "open")]
