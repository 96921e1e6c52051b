"""Group commit: units of work queued together share one fsync, yet each is all-or-nothing and
durable when its `async with` exits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot import commands
from storage import services
from storage.db import Database
from tests.conftest import World
from tests.integration.conftest import committed_slugs

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)




async def add(db: Database, slug: str, *, commit: bool = True, fail: bool = False) -> bool:
    """One unit of work; returns whether its row was visible to another connection right after it."""
    async with db.transaction() as tx:
        await services.create(tx, slug, slug, NOW)
        await asyncio.sleep(0)  # let others queue up behind this unit
        if fail:
            raise RuntimeError("handler failed")
        if commit:
            await tx.commit()
    return slug in committed_slugs(db.path)


async def test_concurrent_units_share_commits_and_each_is_durable_when_it_returns(db: Database) -> None:
    before = db.commits
    visible = await asyncio.gather(*(add(db, f"s{i}") for i in range(50)))
    assert all(visible)  # every unit's row was on disk by the time its `async with` exited
    assert committed_slugs(db.path) == {f"s{i}" for i in range(50)}
    assert db.commits - before < 50


async def test_a_failing_unit_in_a_batch_rolls_back_alone(db: Database) -> None:
    results = await asyncio.gather(
        add(db, "kept-1"), add(db, "broken", fail=True), add(db, "kept-2"), return_exceptions=True
    )
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], RuntimeError)
    assert committed_slugs(db.path) == {"kept-1", "kept-2"}


async def test_a_unit_that_does_not_commit_rolls_back_alone_inside_a_batch(db: Database) -> None:
    await asyncio.gather(add(db, "a"), add(db, "not-committed", commit=False), add(db, "b"))
    assert committed_slugs(db.path) == {"a", "b"}


async def test_a_lone_unit_commits_at_once(db: Database) -> None:
    before = db.commits
    assert await add(db, "alone")
    assert db.commits == before + 1


async def test_a_codeword_jumps_a_queue_of_ordinary_answers(world: World) -> None:
    others = [f"+4477009000{i:02d}" for i in range(12)]
    for address in [*others, "+447700900123"]:
        ref = await world.onboard(address)
        await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    world.clock.advance(timedelta(hours=1, seconds=5))
    await world.deliver()  # everyone's check-in has started

    finished: list[str] = []

    async def say(address: str, text: str) -> None:
        await world.say(address, text)
        finished.append(address)

    ordinary = [asyncio.create_task(say(address, "1")) for address in others]
    await asyncio.sleep(0)  # they are queued for the writer first
    urgent = asyncio.create_task(say("+447700900123", "1 blue kettle"))
    await asyncio.gather(*ordinary, urgent)
    assert finished.index("+447700900123") < len(others) // 2
