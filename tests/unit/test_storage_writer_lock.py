"""The writer lock: first come, first served, but urgent work (a codeword, an alert) goes first."""

from __future__ import annotations

import asyncio

import pytest

from storage.writer_lock import WriterLock


async def take(lock: WriterLock, name: str, order: list[str], urgent: bool = False) -> None:
    await lock.acquire(urgent)
    order.append(name)
    await asyncio.sleep(0)
    lock.release()


async def test_ordinary_waiters_are_served_in_arrival_order() -> None:
    lock, order = WriterLock(), []
    await lock.acquire()
    tasks = [asyncio.create_task(take(lock, f"o{i}", order)) for i in range(4)]
    await asyncio.sleep(0)
    lock.release()
    await asyncio.gather(*tasks)
    assert order == ["o0", "o1", "o2", "o3"]


async def test_an_urgent_waiter_is_served_before_every_ordinary_one() -> None:
    lock, order = WriterLock(), []
    await lock.acquire()
    tasks = [asyncio.create_task(take(lock, f"o{i}", order)) for i in range(3)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(take(lock, "urgent", order, urgent=True)))
    await asyncio.sleep(0)
    lock.release()
    await asyncio.gather(*tasks)
    assert order == ["urgent", "o0", "o1", "o2"]
    assert not lock.locked() and lock.waiting == 0


async def test_a_cancelled_waiter_does_not_keep_the_lock() -> None:
    lock, order = WriterLock(), []
    await lock.acquire()
    doomed = asyncio.create_task(take(lock, "doomed", order))
    after = asyncio.create_task(take(lock, "after", order))
    await asyncio.sleep(0)
    doomed.cancel()
    lock.release()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    await after
    assert order == ["after"]
    assert not lock.locked()
