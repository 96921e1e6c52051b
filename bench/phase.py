"""What a measured phase observes, and what both phases share: the probes, the dispatcher, the timers, the drain."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.app import App
from bot.channels.base import Outgoing
from bot.dispatcher import Dispatcher
from bot.pipeline import Outcome
from bot.scheduler import TimerRunner
from storage.db import Tx

T = TypeVar("T")

# perf_counter when the current task got the writer (set by the `instrument` wrapper)
acquired: contextvars.ContextVar[float] = contextvars.ContextVar("acquired", default=0.0)


@dataclass
class Figures:
    """What the burst phase observed."""

    inbound: int = 0
    answer_seconds: float = 0.0
    timers_fired: int = 0
    timer_seconds: float = 0.0
    drain_seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    latency: list[float] = field(default_factory=list)  # every answer: call -> return
    codeword_latency: list[float] = field(default_factory=list)  # codeword answers: call -> committed return
    codeword_service: list[float] = field(default_factory=list)  # the same, from holding the writer lock
    codeword_to_inbox: list[float] = field(default_factory=list)  # codeword call -> alert in the IDVA's inbox
    codeword_expected: int = 0
    delivered: int = 0  # messages the simulator phone received, setup included
    sent_at: dict[str, float] = field(default_factory=dict)  # case ref -> codeword call time, this round

    def record(self, outcome: Outcome, since: float, done: float, carries_codeword: bool) -> None:
        """File one handled answer: its outcome, and its latency from `since` until `done`."""
        self.outcomes[outcome.value] += 1
        self.latency.append(done - since)
        if carries_codeword:
            self.codeword_latency.append(done - since)
            self.codeword_service.append(done - acquired.get())


@dataclass
class Probe:
    """Where the bench-only inbox wrapper files its timings: the phase being measured."""

    idva: str  # the assigned IDVA's inbox address
    phase: Figures


def instrument(app: App, probe: Probe) -> None:
    """Note when each task gets the writer, and when an alert lands in an IDVA's inbox (bench-only wrappers)."""
    db = app.db
    original_tx = db.transaction

    @asynccontextmanager
    async def transaction(urgent: bool = False) -> AsyncIterator[Tx]:
        async with original_tx(urgent) as tx:
            acquired.set(time.perf_counter())
            yield tx

    db.transaction = transaction  # type: ignore[method-assign]
    original_run = db.run

    async def run(unit: Callable[[Tx], Coroutine[Any, Any, T]], *, urgent: bool = False) -> T:
        started: list[float] = []

        async def timed(tx: Tx) -> T:  # on the writer's thread: the moment this unit got the writer
            started.append(time.perf_counter())
            return await unit(tx)

        timed.__qualname__ = getattr(unit, "__qualname__", "unit")  # --profile reports units by their name
        try:
            return await original_run(timed, urgent=urgent)
        finally:
            if started:
                acquired.set(started[0])

    db.run = run  # type: ignore[method-assign]
    inbox = app.practitioner_channels["inbox"]
    original_send = inbox.send

    async def send(address: str, message: Outgoing) -> str:
        result = await original_send(address, message)
        phase = probe.phase
        started = phase.sent_at.get(message.meta.get("case_ref", ""))
        # Only the first rung (the assigned IDVA): escalations of yesterday's alerts go to duty and manager.
        if started is not None and address == probe.idva and message.meta.get("reason") == "codeword":
            phase.codeword_to_inbox.append(time.perf_counter() - started)
        return result

    inbox.send = send  # type: ignore[method-assign]


@asynccontextmanager
async def dispatcher_running(app: App) -> AsyncIterator[None]:
    """Run a `Dispatcher.run_forever` alongside, as in `safecheck serve`, and stop it on the way out."""
    stop = asyncio.Event()
    dispatcher = asyncio.create_task(Dispatcher(app).run_forever(stop))
    try:
        yield
    finally:
        stop.set()
        app.wake_dispatcher()
        await dispatcher


async def fire_checkins(app: App, fig: Figures) -> float:
    """Start every check-in due at the clock's time, timing the timer runner; returns perf_counter at the end."""
    t0 = time.perf_counter()
    fig.timers_fired += await TimerRunner(app).run_due()
    t1 = time.perf_counter()
    fig.timer_seconds += t1 - t0
    return t1


async def pending_outbox(app: App) -> int:
    async with app.db.transaction() as tx:
        return int(await tx.scalar("SELECT count(*) FROM outbox WHERE status = 'pending'"))


async def wait_for_outbox(app: App, seconds: float = 120) -> None:
    """Wait (at most `seconds`) until the running dispatcher has sent everything pending."""
    deadline = time.perf_counter() + seconds
    while await pending_outbox(app) and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)
