"""The fake Twilio API on an event loop in its own thread, for synchronous tests (the browser tests:
Playwright's sync API keeps a loop running in the test thread). Same fake, same signed webhooks."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from tests.fakes.twilio_api import FakeTwilio, Sent

T = TypeVar("T")


class ThreadedTwilio:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-twilio", daemon=True)
        self.thread.start()
        self.fake: FakeTwilio = self._run(self._make())

    async def _make(self) -> FakeTwilio:
        return await FakeTwilio().start()  # its asyncio.Event must belong to this loop

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=60)

    @property
    def base_url(self) -> str:
        return self.fake.base_url

    def text_in(self, url: str, from_: str, to: str, body: str) -> int:
        """A person texts our number: Twilio's signed webhook to `url`; returns the HTTP status."""
        status, _, _ = self._run(self.fake.text_in(url, from_, to, body))
        return status

    def to(self, number: str) -> list[Sent]:
        """What Twilio was asked to send to `number` so far (a copy, taken on the fake's loop)."""
        return self._run(self._to(number))

    async def _to(self, number: str) -> list[Sent]:
        return self.fake.to(number)

    def wait_for(self, number: str, count: int, what: str, timeout: float = 15.0) -> list[Sent]:
        """Until at least `count` messages went to `number` (the sender is another process), or fail."""
        deadline = time.monotonic() + timeout
        while len(sent := self.to(number)) < count:
            assert time.monotonic() < deadline, f"Twilio was never asked to send {what}: {[m.body for m in sent]}"
            time.sleep(0.05)
        return sent

    def close(self) -> None:
        self._run(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
