"""`Database.run`: a whole unit of work as one call on the writer's thread, with every guarantee of
`transaction()`: all-or-nothing, durable when it returns, group commit, urgent first."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from storage import services
from storage.db import Database, Tx, UnitSuspended
from tests.integration.conftest import committed_slugs

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)




async def add(db: Database, slug: str, *, commit: bool = True, fail: bool = False, urgent: bool = False) -> bool:
    """One unit; returns whether its row was visible to another connection right after `run` returned."""

    async def unit(tx: Tx) -> None:
        await services.create(tx, slug, slug, NOW)
        if fail:
            raise RuntimeError("handler failed")
        if commit:
            await tx.commit()

    await db.run(unit, urgent=urgent)
    return slug in committed_slugs(db.path)


async def test_a_unit_runs_whole_on_the_writer_thread_in_one_call(db: Database) -> None:
    threads: set[str] = set()

    async def unit(tx: Tx) -> int:
        for slug in ("a", "b", "c"):
            threads.add(threading.current_thread().name)
            await services.create(tx, slug, slug, NOW)
        await tx.commit()
        return len(await services.all_services(tx))

    assert await db.run(unit) == 3
    assert threads == {next(iter(threads))} and next(iter(threads)).startswith("safecheck-writer")
    assert committed_slugs(db.path) == {"a", "b", "c"}


async def test_a_unit_that_awaits_anything_but_the_database_is_refused_and_leaves_nothing(db: Database) -> None:
    async def unit(tx: Tx) -> None:
        await services.create(tx, "half", "half", NOW)
        await asyncio.sleep(0)  # would hand the writer's thread to the event loop mid-transaction
        await tx.commit()

    with pytest.raises(UnitSuspended):
        await db.run(unit)
    assert committed_slugs(db.path) == set()
    assert await add(db, "after")  # the writer is free again


async def test_queued_units_share_commits_and_each_is_durable_when_it_returns(db: Database) -> None:
    before = db.commits
    visible = await asyncio.gather(*(add(db, f"s{i}") for i in range(50)))
    assert all(visible)
    assert committed_slugs(db.path) == {f"s{i}" for i in range(50)}
    assert db.commits - before < 50


async def test_a_failing_or_uncommitted_unit_in_a_batch_rolls_back_alone(db: Database) -> None:
    results = await asyncio.gather(
        add(db, "kept-1"),
        add(db, "broken", fail=True),
        add(db, "not-committed", commit=False),
        add(db, "kept-2"),
        return_exceptions=True,
    )
    assert results[0] is True and results[3] is True and results[2] is False
    assert isinstance(results[1], RuntimeError)
    assert committed_slugs(db.path) == {"kept-1", "kept-2"}


async def test_a_failing_first_unit_leaves_the_writer_ready_for_the_next(db: Database) -> None:
    with pytest.raises(RuntimeError):
        await add(db, "broken", fail=True)
    assert await add(db, "next")
    assert committed_slugs(db.path) == {"next"}


async def test_an_urgent_unit_goes_before_ordinary_ones_already_queued(db: Database) -> None:
    order: list[str] = []

    async def unit_named(name: str) -> None:
        async def unit(tx: Tx) -> None:
            order.append(name)
            await services.create(tx, name, name, NOW)
            await tx.commit()

        await db.run(unit, urgent=name == "urgent")

    async with db.transaction() as tx:  # hold the writer while the others queue up
        ordinary = [asyncio.create_task(unit_named(f"o{i}")) for i in range(5)]
        await asyncio.sleep(0.01)
        urgent = asyncio.create_task(unit_named("urgent"))
        await asyncio.sleep(0.01)
        await tx.commit()
    await asyncio.gather(*ordinary, urgent)
    assert order[0] == "urgent"


async def test_a_cancelled_caller_does_not_leave_the_connection_mid_unit(db: Database) -> None:
    started = threading.Event()
    release = threading.Event()

    async def slow(tx: Tx) -> None:
        await services.create(tx, "slow", "slow", NOW)
        started.set()
        release.wait(5)  # the writer's thread is busy with this unit
        await tx.commit()

    task = asyncio.create_task(db.run(slow))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    await asyncio.sleep(0.01)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert db._batch is None  # its batch was settled (committed), not left open for the next unit to trip on
    assert committed_slugs(db.path) == {"slow"}
    assert await add(db, "next")  # the writer finished the unit before anyone else used it
