"""Pacing of sends to Telegram: about 30 messages/s overall and about 1/s per chat.

PTB's AIORateLimiter paces the overall rate but not private chats, so we pace both here, before
each sendMessage. Slots are handed out in order of asking; a 429 pauses everything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Aim a little under the limit: Telegram counts arrivals, and a send that leaves on time can
# still arrive a few milliseconds early relative to the one before it.
SAFETY = 0.97


class Pacer:
    def __init__(
        self,
        global_rate: float,
        chat_rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._global_gap = 1.0 / (global_rate * SAFETY)
        self._chat_gap = 1.0 / (chat_rate * SAFETY)
        self._clock = clock
        self._sleep = sleep
        self._global_next = 0.0
        self._chat_next: dict[int, float] = {}
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: nobody sends until `seconds` have passed."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def wait(self, chat_id: int) -> None:
        """Return when a message to `chat_id` may go out."""
        while True:
            now = self._clock()
            ready = max(self._chat_next.get(chat_id, 0.0), self._paused_until)
            if ready > now:
                await self._pause_for(ready - now)
                continue
            slot = max(now, self._global_next)
            self._global_next = slot + self._global_gap
            self._chat_next[chat_id] = slot + self._chat_gap
            if slot > now:
                await self._pause_for(slot - now)
            if self._clock() >= self._paused_until:
                break  # else a 429 arrived while we waited: queue again behind the pause
        self._forget_idle(now)

    async def _pause_for(self, seconds: float) -> None:
        await self._sleep(seconds)

    def _forget_idle(self, now: float) -> None:
        """Chats whose gap has passed need no entry (keeps memory flat over many survivors)."""
        if len(self._chat_next) > 1000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
