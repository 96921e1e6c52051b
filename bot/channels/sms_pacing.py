"""Pace sends from one SMS sender: so many segments a second, practitioners' alerts first."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools


class Pacer:
    """Hands out send slots `cost / rate` seconds apart; waiting alerts go before waiting replies.

    A carrier delivers about one segment a second from a long code, and Twilio queues the rest:
    pacing here keeps that queue short, so an alert is not stuck behind a burst of check-ins.
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._free_at = 0.0  # loop time when the next slot is free
        self._waiting: list[tuple[int, int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._runner: asyncio.Task[None] | None = None

    async def slot(self, cost: int = 1, *, urgent: bool = False) -> None:
        """Wait for a turn to send a message of `cost` segments."""
        loop = asyncio.get_running_loop()
        if not self._waiting and loop.time() >= self._free_at:
            self._free_at = loop.time() + cost * self.interval
            return
        turn: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (0 if urgent else 1, next(self._order), cost, turn))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._hand_out())
        await turn

    async def _hand_out(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            delay = self._free_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            _, _, cost, turn = heapq.heappop(self._waiting)  # the most urgent of those waiting now
            if turn.done():  # its sender stopped waiting
                continue
            turn.set_result(None)
            self._free_at = max(loop.time(), self._free_at) + cost * self.interval

    async def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for *_, turn in self._waiting:
            turn.cancel()
        self._waiting.clear()
