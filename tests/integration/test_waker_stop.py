"""Stopping serve lets a timer round under way finish: APScheduler's shutdown alone would cancel it mid-way
(a traceback in serve's log, and the round's work left for the next start)."""

from __future__ import annotations

import asyncio
from typing import cast

from bot.scheduler import TimerRunner, Waker


class SlowRunner:
    """A timer round that takes a while, and says whether it got to its end."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.finished = False
        self.cancelled = False

    async def run_due(self) -> int:
        self.started.set()
        try:
            await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.finished = True
        return 0


async def test_stop_waits_for_the_round_under_way() -> None:
    runner = SlowRunner()
    waker = Waker(cast(TimerRunner, runner), interval=0.05)
    waker.start()
    await asyncio.wait_for(runner.started.wait(), 5)
    await waker.stop()
    assert (runner.finished, runner.cancelled) == (True, False)
