"""What a measured phase observes, and what both phases share: the probes, the dispatcher, the timers, the drain."""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.app import App
from bot.channels.base import Channel, Outgoing
from bot.dispatcher import Dispatcher
from bot.inbound import Outcome
from bot.scheduler import TimerRunner
from storage import db as storage_db
from storage.db import Tx

T = TypeVar("T")

# How long the current task's last unit of work held the writer's thread (set by the `instrument` wrapper)
held: contextvars.ContextVar[float] = contextvars.ContextVar("held", default=math.nan)


@dataclass
class Figures:
    """What the burst phase observed."""

    inbound: int = 0
    answer_seconds: float = 0.0
    timers_fired: int = 0
    timer_seconds: float = 0.0
    drain_seconds: float = 0.0
    drained: bool = True  # False: something was still pending when wait_for_outbox gave up
    outcomes: Counter[str] = field(default_factory=Counter)
    latency: list[float] = field(default_factory=list)  # every answer: call -> return
    codeword_latency: list[float] = field(default_factory=list)  # codeword answers: call -> committed return
    codeword_service: list[float] = field(default_factory=list)  # the same answers' time on the writer's thread
    codeword_to_channel: list[float] = field(default_factory=list)  # codeword call -> a practitioner channel's send
    codeword_expected: int = 0
    delivered: int = 0  # messages the simulator phone received, setup included
    sent_at: dict[str, float] = field(default_factory=dict)  # case ref -> codeword call time, this round

    def record(self, outcome: Outcome, since: float, done: float, carries_codeword: bool) -> None:
        """File one handled answer: its outcome, and its latency from `since` until `done`."""
        self.outcomes[outcome.value] += 1
        self.latency.append(done - since)
        if carries_codeword:
            self.codeword_latency.append(done - since)
            self.codeword_service.append(held.get())


@dataclass
class Probe:
    """Where the bench-only channel wrapper files its timings: the phase being measured."""

    phase: Figures
    handed: set[str] = field(default_factory=set)  # alert ids already handed to a practitioner channel


def _time_units_on_writer() -> None:
    """Wrap storage.db's `_unit_on_writer` (each unit of work is one call to it, on the writer's thread):
    a unit carrying a `bench_span` list gets [start, end] of that call, BEGIN (or savepoint) to COMMIT."""
    original: Any = storage_db._unit_on_writer
    if getattr(original, "bench_spans", False):
        return

    def spanned(tx: Tx, unit: Any, first: bool, commit_now: bool) -> Any:
        start = time.perf_counter()
        try:
            return original(tx, unit, first, commit_now)
        finally:
            span = getattr(unit, "bench_span", None)
            if span is not None:
                span[:] = [start, time.perf_counter()]

    spanned.bench_spans = True  # type: ignore[attr-defined]
    storage_db._unit_on_writer = spanned


def instrument(app: App, probe: Probe) -> None:
    """Time how long each unit holds the writer, and the moment the dispatcher hands a codeword alert to a
    practitioner channel (bench-only wrappers; the application is not changed)."""
    _time_units_on_writer()
    db = app.db
    original_run = db.run

    async def run(unit: Callable[[Tx], Coroutine[Any, Any, T]], *, urgent: bool = False) -> T:
        span: list[float] = []

        async def timed(tx: Tx) -> T:
            return await unit(tx)

        timed.__qualname__ = getattr(unit, "__qualname__", "unit")  # --profile reports units by their name
        timed.bench_span = span  # type: ignore[attr-defined]
        held.set(math.nan)
        try:
            return await original_run(timed, urgent=urgent)
        finally:
            if len(span) == 2:
                held.set(span[1] - span[0])

    db.run = run  # type: ignore[method-assign]
    for channel in app.practitioner_channels.values():
        _time_handover(channel, probe)


def _time_handover(channel: Channel, probe: Probe) -> None:
    """Note when the dispatcher calls `send` for a codeword alert the first time (any practitioner channel).

    Only an alert's first hand-over counts: escalations of an earlier alert reuse its id.
    """
    original_send = channel.send

    async def send(address: str, message: Outgoing) -> str:
        now = time.perf_counter()
        alert_id = message.meta.get("alert_id")
        if alert_id is not None and alert_id not in probe.handed:
            probe.handed.add(alert_id)
            started = probe.phase.sent_at.get(message.meta.get("case_ref", ""))
            if started is not None and message.meta.get("reason") == "codeword":
                probe.phase.codeword_to_channel.append(now - started)
        return await original_send(address, message)

    channel.send = send  # type: ignore[method-assign]


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
    fig.timers_fired += await TimerRunner(app.core).run_due()
    t1 = time.perf_counter()
    fig.timer_seconds += t1 - t0
    return t1


async def pending_outbox(app: App) -> int:
    """Outbox rows still to send, read on the read-only connection so the poll never queues for the writer."""
    async with app.db.reading() as tx:
        return int(await tx.scalar("SELECT count(*) FROM outbox WHERE status = 'pending'"))


async def wait_for_outbox(app: App, seconds: float = 120) -> bool:
    """Wait (at most `seconds`) until the running dispatcher has sent everything pending; False if it had not."""
    deadline = time.perf_counter() + seconds
    while await pending_outbox(app):
        if time.perf_counter() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True
