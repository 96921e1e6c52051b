"""Pacing of sends to Telegram: about 30 messages/s overall and about 1/s per chat.

PTB's AIORateLimiter paces the overall rate but not private chats, so we pace both here, around
each sendMessage. Telegram counts requests as they *arrive*, which we cannot see; but a request has
certainly arrived by the time its answer is back. So a send may leave only when fewer than `limit`
earlier sends could still fall in the same window: those in flight, and those answered less than a
window ago. That can never exceed the limit, whatever the network delays, at the price of one
round trip per window. A 429 pauses every send for its retry_after.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable


class Window:
    """At most `limit` sends in any `span` seconds, spaced at least `gap` apart when they leave."""

    def __init__(self, rate: float) -> None:
        self.limit = max(1, math.floor(rate))
        self.span = self.limit / rate
        self.gap = 1.0 / rate
        self.done: deque[float] = deque()  # when recent sends were answered, oldest first
        self.inflight = 0
        self.last = -math.inf

    def wait_time(self, now: float) -> float | None:
        """0 if a send may leave now, else seconds to wait; None: until a send in flight is answered."""
        while self.done and self.done[0] <= now - self.span:
            self.done.popleft()
        if self.inflight >= self.limit:
            return None
        ready = self.last + self.gap
        if self.inflight + len(self.done) >= self.limit:
            ready = max(ready, self.done[0] + self.span)
        return max(0.0, ready - now)

    def idle(self, now: float) -> bool:
        return self.inflight == 0 and (not self.done or self.done[-1] <= now - self.span)


class Pacer:
    def __init__(self, global_rate: float, chat_rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._chat_rate = chat_rate
        self._global = Window(global_rate)
        self._chats: dict[int, Window] = {}
        self._paused_until = 0.0
        self._changed = asyncio.Event()

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: nobody sends until `seconds` have passed."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @contextlib.asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[None]:
        """Hold a slot for one send to `chat_id`: enter when it may leave, exit once it is answered."""
        chat = self._chats.setdefault(chat_id, Window(self._chat_rate))
        windows = (self._global, chat)
        while True:
            now = self._clock()
            if now < self._paused_until:
                await asyncio.sleep(self._paused_until - now)
                continue
            waits = [w.wait_time(now) for w in windows]
            if all(x == 0 for x in waits):
                break
            timed = [x for x in waits if x is not None]
            if None in waits:  # wait for an answer (or for the timed part, whichever is later)
                changed = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=max(timed, default=1.0) or 1.0)
            else:
                await asyncio.sleep(max(timed))
        for w in windows:
            w.inflight += 1
            w.last = now
        try:
            yield
        finally:
            answered = self._clock()
            for w in windows:
                w.inflight -= 1
                w.done.append(answered)
            self._changed.set()
            self._changed = asyncio.Event()
            if len(self._chats) > 1000:  # memory stays flat over many survivors
                self._chats = {c: w for c, w in self._chats.items() if not w.idle(answered)}
