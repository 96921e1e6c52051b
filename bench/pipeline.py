"""Benchmark: N simulated survivors answer check-ins through the real pipeline on a real SQLite file.

    .venv/bin/python -m bench.pipeline --survivors 1000

Everything is the production code path: `handle_inbound` on a WAL file with synchronous=FULL, real
AES-GCM and HMAC, the timer runner and a concurrently running dispatcher. Only time is pinned (a
FixedClock moved by hand) so every run fires the same timers. Two measured phases: a burst (every
survivor answers at once) and a steady rate (answers arrive open-loop at a Poisson rate, `--rate`).
Prints the figures, checks the database afterwards, and exits 1 if the pipeline lost, duplicated or
mis-alerted anything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import json
import logging
import math
import os
import platform
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.checks import Expected, verify
from bench.sqlite_raw import aiosqlite_rate, sqlite3_rate
from bench.sqlprofile import SqlProfile, python_hotspots
from bot import commands
from bot.app import App
from bot.bootstrap import open_app
from bot.channels.base import Outgoing
from bot.channels.simulator import SimulatorChannel
from bot.clock import FixedClock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.pipeline import InboundMessage, Outcome, handle_inbound
from bot.scheduler import TimerRunner
from storage import services
from storage.db import Database, Tx
from storage.keys import create_key_file

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)  # a Monday morning, before the 10:00 check-in
SCHEDULE = "daily@10:00"
ANSWERS = ("1", "yes", "1", "1", "1", "1")  # talk now, safe, not afraid, no contact, no incident, no call-back
PLAIN_TEXT = "all fine, thanks"
COLOURS = ("blue", "green", "amber", "violet", "silver", "copper", "olive", "coral")
THINGS = ("kettle", "teapot", "lantern", "ladder", "compass", "anchor", "pebble", "ribbon")
EXIT_WORD = "pasta"

_acquired: contextvars.ContextVar[float] = contextvars.ContextVar("acquired", default=0.0)


@dataclass(frozen=True)
class Survivor:
    index: int
    address: str
    ref: str
    codeword: str


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


@dataclass
class Steady(Figures):
    """What the steady-rate phase observed. Its latencies run from each answer's planned arrival time."""

    rate: float = 0.0  # offered: arrivals per second asked for
    span: float = 0.0  # planned time of the last arrival, from the phase's origin
    wall: float = 0.0  # the phase's origin to the last handle_inbound return
    start_lag: list[float] = field(default_factory=list)  # planned arrival -> the send task running
    service: list[float] = field(default_factory=list)  # every answer, from holding the writer to return
    waited: int = 0  # answers that arrived while the same survivor's previous answer was still being handled
    last_return: float = 0.0  # perf_counter of the last handle_inbound return


@dataclass
class Probe:
    """Where the bench-only inbox wrapper files its timings: the phase being measured."""

    idva: str  # the assigned IDVA's inbox address
    phase: Figures


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__.splitlines()[0])
    p.add_argument("--survivors", type=int, default=1000, help="simulated survivors (default 1000)")
    p.add_argument("--checkins", type=int, default=1, help="check-in rounds, one a day (default 1)")
    p.add_argument("--codeword-share", type=float, default=0.1,
                   help="fraction who put their codeword in the free-text answer (default 0.1)")
    p.add_argument("--db", type=Path, default=None, help="folder for the database (default: a fresh temp dir)")
    p.add_argument("--seed", type=int, default=1,
                   help="seed for who uses the codeword and for the arrival times (default 1)")
    p.add_argument("--raw-seconds", type=float, default=3.0, help="length of each raw insert-rate run (default 3)")
    p.add_argument("--rate", type=float, default=150.0,
                   help="steady-rate phase: answers per second, Poisson, open loop (default 150; 0 skips the phase)")
    p.add_argument("--profile", action="store_true",
                   help="profile the burst phase: SQLite time per statement and cProfile of our code")
    args = p.parse_args(argv)
    if args.survivors < 1 or args.checkins < 1 or args.raw_seconds <= 0:
        p.error("--survivors, --checkins and --raw-seconds must be positive")
    if not 0.0 <= args.rate < math.inf:
        p.error("--rate must be 0 (no steady-rate phase) or a positive number of answers per second")
    if not 0.0 <= args.codeword_share <= 1.0:
        p.error("--codeword-share must be between 0 and 1")
    if args.db is not None and not args.db.is_dir():
        p.error(f"--db {args.db} is not an existing folder")
    if args.db is not None and any((args.db / name).exists() for name in ("bench.db", "bench.key")):
        p.error(f"--db {args.db} already holds bench.db or bench.key from an earlier run: "
                "delete them or pick another folder")
    return args


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile in milliseconds (nan when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def jround(value: float, digits: int = 1) -> float | None:
    """Round for the JSON line; NaN (no samples) becomes null, since NaN is not JSON."""
    return None if math.isnan(value) else round(value, digits)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def share_under(values: list[float], seconds: float) -> float:
    """The fraction of values below `seconds` (nan when empty)."""
    return sum(v < seconds for v in values) / len(values) if values else math.nan


def instrument(app: App, probe: Probe) -> None:
    """Note when each task gets the writer, and when an alert lands in an IDVA's inbox (bench-only wrappers)."""
    db = app.db
    original_tx = db.transaction

    @asynccontextmanager
    async def transaction(urgent: bool = False) -> AsyncIterator[Tx]:
        async with original_tx(urgent) as tx:
            _acquired.set(time.perf_counter())
            yield tx

    db.transaction = transaction  # type: ignore[method-assign]
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


async def create_service(settings: Settings) -> int:
    create_key_file(settings.key_file)
    db = await Database.open(settings.db_path)
    try:
        async with db.transaction() as tx:
            service_id = await services.create(tx, "bench", "Bench service", START.astimezone(UTC))
            await tx.commit()
    finally:
        await db.close()
    return service_id


async def deliver_all(dispatcher: Dispatcher, sim: SimulatorChannel) -> None:
    """Drain the outbox completely and forget what the phone received (the listener counted it)."""
    while await dispatcher.run_once():
        pass
    sim.delivered.clear()  # SimulatorChannel.take() is quadratic: fine for tests, not for 10^4 messages


async def onboard_all(app: App, sim: SimulatorChannel, service_id: int, n: int) -> tuple[list[Survivor], int]:
    """Enrol, activate and onboard every survivor through the real pipeline, then set the daily schedule."""
    idva = 0
    for name, role in (("Ida", "idva"), ("Dan", "duty"), ("Meg", "manager")):
        pid = await commands.add_practitioner(app, service_id, name, role, ["inbox", "log"])
        idva = idva or pid
    dispatcher = Dispatcher(app)
    survivors = []
    for i in range(n):
        address = f"+4477009{i:05d}"
        codeword = f"{COLOURS[i % len(COLOURS)]} {THINGS[(i // len(COLOURS)) % len(THINGS)]}"
        ref, code = await commands.enrol(app, service_id, idva=idva, channel="simulator", address=address,
                                         name=f"Survivor {i}", intake="medium")
        for k, text in enumerate((code, "YES", "1 2 3", EXIT_WORD, "1", codeword, "1", "SKIP")):
            handled = await handle_inbound(app, InboundMessage("simulator", address, text, f"setup-{i}-{k}"))
            if handled.outcome is not Outcome.PROCESSED:
                raise SystemExit(f"setup: onboarding message {k} of survivor {i} was {handled.outcome.value}")
        await commands.set_schedule(app, service_id, ref, SCHEDULE)
        survivors.append(Survivor(i, address, ref, codeword))
        if i % 100 == 99:
            await deliver_all(dispatcher, sim)  # keep the outbox as small as a running service would
    await deliver_all(dispatcher, sim)
    return survivors, idva


async def answer(app: App, fig: Figures, s: Survivor, rnd: int, codeword: bool) -> None:
    """One survivor replying to the whole check-in, each message after the previous one was handled."""
    texts = (*ANSWERS, f"all fine, {s.codeword}" if codeword else PLAIN_TEXT)
    for k, text in enumerate(texts):
        msg = InboundMessage("simulator", s.address, text, f"r{rnd}-{s.index}-{k}")
        carries_codeword = codeword and k == len(texts) - 1
        started = time.perf_counter()
        if carries_codeword:
            fig.sent_at[s.ref] = started
        handled = await handle_inbound(app, msg)
        done = time.perf_counter()
        fig.outcomes[handled.outcome.value] += 1
        fig.latency.append(done - started)
        if carries_codeword:
            fig.codeword_latency.append(done - started)
            fig.codeword_service.append(done - _acquired.get())


async def pending_outbox(app: App) -> int:
    async with app.db.transaction() as tx:
        return int(await tx.scalar("SELECT count(*) FROM outbox WHERE status = 'pending'"))


async def wait_for_outbox(app: App, seconds: float = 120) -> None:
    """Wait (at most `seconds`) until the running dispatcher has sent everything pending."""
    deadline = time.perf_counter() + seconds
    while await pending_outbox(app) and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)


async def run_round(app: App, clock: FixedClock, sim: SimulatorChannel, survivors: list[Survivor], fig: Figures,
                    rnd: int, chosen: set[int]) -> None:
    """Fire the day's check-ins, then let every survivor answer at once while the dispatcher runs."""
    clock.set(START.replace(hour=10) + timedelta(days=rnd))
    fig.sent_at.clear()
    stop = asyncio.Event()
    dispatcher = asyncio.create_task(Dispatcher(app).run_forever(stop))
    try:
        t0 = time.perf_counter()
        fired = await TimerRunner(app).run_due()
        t1 = time.perf_counter()
        await asyncio.gather(*(answer(app, fig, s, rnd, s.index in chosen) for s in survivors))
        t2 = time.perf_counter()
        await wait_for_outbox(app)
        t3 = time.perf_counter()
    finally:
        stop.set()
        app.wake_dispatcher()
        await dispatcher
    fig.timers_fired += fired
    fig.timer_seconds += t1 - t0
    fig.inbound += len(survivors) * (len(ANSWERS) + 1)
    fig.answer_seconds += t2 - t1
    fig.drain_seconds += t3 - t2
    fig.codeword_expected += len(chosen)
    sim.delivered.clear()


def plan_arrivals(n: int, rate: float, rng: random.Random) -> list[tuple[float, int, int]]:
    """Poisson arrivals at `rate`, one per answer of every survivor: (seconds from the origin, survivor, answer no.).

    The survivors, shuffled, are dealt to n // 8 lanes; each lane runs its survivors' check-ins one
    after another, and the lanes take turns, so about an eighth of the survivors are mid-check-in at
    any moment and a survivor's answers are n // 8 arrivals apart (0.4 s at 1,000 survivors and 300/s).
    Lane l starts l mod 7 turns late (the empty turns are dropped, not left as gaps in the arrivals),
    so every answer of the check-in, the codeword one included, is equally common from about the
    seventh turn to the last few: the load has the same mix throughout, apart from the ramps.
    """
    per_survivor = len(ANSWERS) + 1
    lanes = max(1, n // 8)
    order = list(range(n))
    rng.shuffle(order)
    turns: list[tuple[int, int, int, int]] = []  # (turn, lane, survivor, answer number)
    for lane in range(lanes):
        late = lane % per_survivor
        for m, i in enumerate(order[lane::lanes]):
            turns.extend((late + m * per_survivor + k, lane, i, k) for k in range(per_survivor))
    turns.sort()
    plan = []
    at = 0.0
    for _, _, i, k in turns:
        at += rng.expovariate(rate)
        plan.append((at, i, k))
    return plan


async def send_at(app: App, st: Steady, s: Survivor, k: int, rnd: int, codeword: bool, planned: float,
                  previous: asyncio.Future[None] | None, done: asyncio.Future[None]) -> None:
    """One answer, sent as soon as its task runs (at its planned arrival); timed from the planned arrival."""
    try:
        st.start_lag.append(time.perf_counter() - planned)
        if previous is not None and not previous.done():
            st.waited += 1  # the survivor's previous answer is still being handled: keep their answers in order
            await previous
        carries_codeword = codeword and k == len(ANSWERS)
        text = ANSWERS[k] if k < len(ANSWERS) else (f"all fine, {s.codeword}" if codeword else PLAIN_TEXT)
        if carries_codeword:
            st.sent_at[s.ref] = planned
        handled = await handle_inbound(app, InboundMessage("simulator", s.address, text, f"r{rnd}-{s.index}-{k}"))
        done_at = time.perf_counter()
        st.outcomes[handled.outcome.value] += 1
        st.latency.append(done_at - planned)
        st.service.append(done_at - _acquired.get())
        st.last_return = max(st.last_return, done_at)
        if carries_codeword:
            st.codeword_latency.append(done_at - planned)
            st.codeword_service.append(done_at - _acquired.get())
    finally:
        done.set_result(None)


async def offer_load(app: App, st: Steady, survivors: list[Survivor], rnd: int, chosen: set[int],
                     plan: list[tuple[float, int, int]]) -> float:
    """Start every answer at its planned time, each in its own task, whatever is still in progress (open loop).

    Returns the origin (perf_counter) that the planned times count from.
    """
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []
    previous: dict[int, asyncio.Future[None]] = {}
    all_started: asyncio.Future[None] = loop.create_future()
    origin_loop = loop.time() + 0.05  # loop.time() and perf_counter are both CLOCK_MONOTONIC on Linux,
    origin = origin_loop + (time.perf_counter() - loop.time())  # but keep the offset to be exact anywhere

    def start(j: int, at: float, i: int, k: int) -> None:
        done = loop.create_future()
        tasks.append(asyncio.create_task(
            send_at(app, st, survivors[i], k, rnd, i in chosen, origin + at, previous.get(i), done)))
        previous[i] = done
        if j == len(plan) - 1:
            all_started.set_result(None)

    for j, (at, i, k) in enumerate(plan):
        loop.call_at(origin_loop + at, start, j, at, i, k)
    await all_started
    await asyncio.gather(*tasks)
    return origin


async def run_steady(app: App, clock: FixedClock, sim: SimulatorChannel, survivors: list[Survivor], st: Steady,
                     rnd: int, chosen: set[int], rng: random.Random) -> None:
    """Fire the day's check-ins and deliver them; then every survivor answers, the answers arriving at st.rate/s."""
    clock.set(START.replace(hour=10) + timedelta(days=rnd))
    plan = plan_arrivals(len(survivors), st.rate, rng)
    stop = asyncio.Event()
    dispatcher = asyncio.create_task(Dispatcher(app).run_forever(stop))
    try:
        t0 = time.perf_counter()
        fired = await TimerRunner(app).run_due()
        t1 = time.perf_counter()
        await wait_for_outbox(app)  # the questions are out before the first answer arrives
        origin = await offer_load(app, st, survivors, rnd, chosen, plan)
        t2 = time.perf_counter()
        await wait_for_outbox(app)
        t3 = time.perf_counter()
    finally:
        stop.set()
        app.wake_dispatcher()
        await dispatcher
    st.timers_fired += fired
    st.timer_seconds += t1 - t0
    st.inbound += len(plan)
    st.span = plan[-1][0]
    st.wall = st.answer_seconds = st.last_return - origin
    st.drain_seconds += t3 - t2
    st.codeword_expected += len(chosen)
    sim.delivered.clear()


def steady_summary(st: Steady) -> dict[str, Any]:
    cw = st.codeword_latency
    return {
        "rate_offered": st.rate, "rate_offered_realised": round(st.inbound / st.span, 1),
        "rate_achieved": round(st.inbound / st.wall, 1), "inbound": st.inbound, "seconds": round(st.wall, 2),
        "checkins_started_per_s": round(st.timers_fired / st.timer_seconds, 1) if st.timer_seconds else None,
        "writer_busy_answers": round(sum(st.service) / st.wall, 3),
        "codeword_alert_ms": {"p50": jround(pct(cw, 50), 1), "p99": jround(pct(cw, 99), 1),
                              "max": jround(pct(cw, 100), 1), "n": len(cw)},
        "codeword_alert_in_tx_ms": {"p50": jround(pct(st.codeword_service, 50), 2),
                                    "p99": jround(pct(st.codeword_service, 99), 2)},
        "alerts_under_100ms": jround(share_under(cw, 0.1), 3),
        "codeword_to_inbox_ms": {"p50": jround(pct(st.codeword_to_inbox, 50), 1),
                                 "p99": jround(pct(st.codeword_to_inbox, 99), 1)},
        "any_answer_ms": {"p50": jround(pct(st.latency, 50), 1), "p99": jround(pct(st.latency, 99), 1),
                          "max": jround(pct(st.latency, 100), 1)},
        "start_lag_ms": {"p99": jround(pct(st.start_lag, 99), 2), "max": jround(pct(st.start_lag, 100), 2)},
        "waited_on_own_previous": st.waited,
    }


def steady_rows(st: Steady) -> list[tuple[str, str, str]]:
    cw = st.codeword_latency
    under = share_under(cw, 0.1)
    return [
        ("offered rate", f"{st.rate:,.0f} msg/s",
         f"{st.inbound} answers planned over {st.span:.1f} s: {st.inbound / st.span:,.0f}/s in this draw"),
        ("achieved rate", f"{st.inbound / st.wall:,.0f} msg/s",
         f"all handled {st.wall:.1f} s after the phase began"),
        ("writer busy with answers", f"{sum(st.service) / st.wall:.0%}",
         "answers' BEGIN..COMMIT over the phase; the queue grows steeply as this nears 100 %"),
        ("check-ins started/s (timers)", f"{st.timers_fired / st.timer_seconds:,.0f}",
         f"{st.timers_fired} timers in {st.timer_seconds:.2f} s, before the first answer"),
        ("codeword -> alert committed", f"{pct(cw, 50):,.0f} / {pct(cw, 99):,.0f} / {pct(cw, 100):,.0f} ms",
         f"p50/p99/max of {len(cw)}" + (" (p99 = max below 100 samples)" if len(cw) < 100 else "")),
        ("  of which holding the writer", f"{pct(st.codeword_service, 50):.1f} / {pct(st.codeword_service, 99):.1f}"
         f" / {pct(st.codeword_service, 100):.1f} ms", "BEGIN..COMMIT"),
        ("alerts committed under 100 ms", "n/a" if math.isnan(under) else f"{under:.1%}",
         f"{sum(v < 0.1 for v in cw)} of {len(cw)}"),
        ("codeword -> IDVA inbox", f"{pct(st.codeword_to_inbox, 50):,.0f} / {pct(st.codeword_to_inbox, 99):,.0f}"
         " ms", f"p50/p99 of {len(st.codeword_to_inbox)}, delivered by the dispatcher"),
        ("any answer, arrival -> return", f"{pct(st.latency, 50):,.1f} / {pct(st.latency, 99):,.1f} / "
         f"{pct(st.latency, 100):,.0f} ms", f"p50/p99/max of {len(st.latency)}"),
        ("send start lag", f"{pct(st.start_lag, 50):.2f} / {pct(st.start_lag, 99):.2f} / "
         f"{pct(st.start_lag, 100):.1f} ms", "planned arrival -> task running (event-loop lateness, counted above)"),
        ("answers behind their own previous", f"{st.waited}",
         "arrived while the same survivor's previous answer was still in progress"),
        ("outbox drain after last answer", f"{st.drain_seconds:.2f} s", ""),
    ]


def machine() -> dict[str, Any]:
    return {
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(terse=True),
    }


async def bench(args: argparse.Namespace, folder: Path) -> int:
    settings = Settings(db_path=folder / "bench.db", key_file=folder / "bench.key")
    os.environ.pop("SAFECHECK_KEY", None)  # use the key file created here, never a key from the environment
    rng = random.Random(args.seed)
    n = args.survivors
    load_before = os.getloadavg()[0]
    raw_before = await aiosqlite_rate(folder, args.raw_seconds)

    t0 = time.perf_counter()
    service_id = await create_service(settings)
    clock = FixedClock(START)
    fig = Figures()
    st = Steady(rate=args.rate)

    def received(_: object) -> None:
        fig.delivered += 1

    sim = SimulatorChannel(listener=received)
    sql = SqlProfile()
    profiler = cProfile.Profile()
    # The SQL timer wraps every aiosqlite call, so it is installed only when asked for.
    with sql.installed() if args.profile else nullcontext(sql):
        async with open_app(settings, clock=clock, simulator=sim, seed=args.seed) as app:
            survivors, idva = await onboard_all(app, sim, service_id, n)
            setup_seconds = time.perf_counter() - t0
            rss_setup = peak_rss_mib()
            probe = Probe(idva=str(idva), phase=fig)
            instrument(app, probe)
            sql.enabled = True
            if args.profile:
                profiler.enable()
            # At least one codeword answer whenever the share is above zero, so small runs still time an alert.
            k = min(n, max(1, round(n * args.codeword_share))) if args.codeword_share > 0 else 0
            for rnd in range(args.checkins):
                chosen = set(rng.sample(range(n), k))
                await run_round(app, clock, sim, survivors, fig, rnd, chosen)
            if args.profile:
                profiler.disable()
            sql.enabled = False  # --profile covers the burst only: its report divides by the burst's wall time
            if args.rate > 0:
                # One more day: every survivor answers one more check-in, the answers arriving at --rate per second.
                probe.phase = st
                chosen = set(rng.sample(range(n), k))
                await run_steady(app, clock, sim, survivors, st, args.checkins, chosen, rng)
    rss_peak = peak_rss_mib()
    raw_after = await aiosqlite_rate(folder, args.raw_seconds)
    raw_sqlite3 = sqlite3_rate(folder, args.raw_seconds)
    steady = args.rate > 0
    bad = fig.outcomes + st.outcomes
    checks = verify(settings.db_path, Expected(
        survivors=n, rounds=args.checkins + steady, inbound=n * 8 + fig.inbound + st.inbound,
        codeword_answers=fig.codeword_expected + st.codeword_expected,
        bad_outcomes=sum(v for k, v in bad.items() if k != Outcome.PROCESSED.value), delivered=fig.delivered,
    ))

    raw = (raw_before + raw_after) / 2
    rate = fig.inbound / fig.answer_seconds
    info = machine()
    cw = fig.codeword_latency
    summary = {
        "survivors": n, "rounds": args.checkins, "codeword_share": args.codeword_share,
        "inbound_per_s": round(rate, 1), "inbound": fig.inbound, "answer_s": round(fig.answer_seconds, 2),
        "checkins_started_per_s": round(fig.timers_fired / fig.timer_seconds, 1) if fig.timer_seconds else None,
        "codeword_alert_ms": {"p50": jround(pct(cw, 50), 1), "p99": jround(pct(cw, 99), 1),
                              "max": jround(pct(cw, 100), 1), "n": len(cw)},
        "codeword_alert_in_tx_ms": {"p50": jround(pct(fig.codeword_service, 50), 2),
                                    "p99": jround(pct(fig.codeword_service, 99), 2)},
        "codeword_to_inbox_ms": {"p50": jround(pct(fig.codeword_to_inbox, 50), 1),
                                 "p99": jround(pct(fig.codeword_to_inbox, 99), 1)},
        "raw_aiosqlite_per_s": round(raw, 1), "raw_sqlite3_per_s": round(raw_sqlite3, 1),
        "fraction_of_raw": round(rate / raw, 3), "peak_rss_mib": round(rss_peak, 1),
        "steady": steady_summary(st) if steady else None,
        "setup_s": round(setup_seconds, 1), "ok": all(got == want for _, got, want in checks), **info,
    }

    print(f"Safecheck pipeline benchmark — {info['nproc']} cores, Python {info['python']}, SQLite {info['sqlite']}, "
          f"{info['platform']}")
    print(f"load average (1 min): {load_before:.2f} at start, {info['load_avg_1m']:.2f} at end — other processes "
          "on these cores slow every figure below")
    kept = "kept" if args.db is not None else "a temp dir, deleted at exit"
    print(f"database: {settings.db_path} ({kept}; WAL, synchronous=FULL, AES-GCM + HMAC as in production)")
    print(f"setup: {n} survivors enrolled and onboarded ({n * 8} messages via handle_inbound) "
          f"in {setup_seconds:.1f} s ({n * 8 / setup_seconds:.0f} msg/s incl. enrol, schedule, delivery); "
          f"RSS {rss_setup:.0f} MiB")
    print(f"burst phase: {args.checkins} round(s) x {n} survivors x {len(ANSWERS) + 1} answers, all survivors at "
          f"once; {fig.codeword_expected} codeword answers (share {args.codeword_share:g}, seed {args.seed})")
    print()
    rows = [
        ("inbound messages/s", f"{rate:,.0f}", f"{fig.inbound} msgs in {fig.answer_seconds:.2f} s"),
        ("check-ins started/s (timers)", f"{summary['checkins_started_per_s']:,.0f}",
         f"{fig.timers_fired} timers in {fig.timer_seconds:.2f} s"),
        ("codeword -> alert committed", f"{pct(cw, 50):,.0f} / {pct(cw, 99):,.0f} / {pct(cw, 100):,.0f} ms",
         f"p50/p99/max of {len(cw)}, incl. queueing behind {n} concurrent survivors"),
        ("  of which holding the writer", f"{pct(fig.codeword_service, 50):.1f} / {pct(fig.codeword_service, 99):.1f}"
         f" / {pct(fig.codeword_service, 100):.1f} ms", "the same alert with no queue: BEGIN..COMMIT"),
        ("codeword -> IDVA inbox", f"{pct(fig.codeword_to_inbox, 50):,.0f} / {pct(fig.codeword_to_inbox, 99):,.0f}"
         " ms", f"p50/p99 of {len(fig.codeword_to_inbox)}, delivered by the dispatcher"),
        ("any answer, call -> return", f"{pct(fig.latency, 50):,.0f} / {pct(fig.latency, 99):,.0f} ms", "p50/p99"),
        ("raw durable inserts/s, aiosqlite", f"{raw:,.0f}",
         f"before {raw_before:,.0f}, after {raw_after:,.0f}; 1 row per commit"),
        ("raw durable inserts/s, sqlite3", f"{raw_sqlite3:,.0f}", "same settings, no thread hop"),
        ("pipeline / raw aiosqlite", f"{rate / raw:.1%}", "inbound msgs/s over raw commits/s"),
        ("outbox drain after last answer", f"{fig.drain_seconds:.2f} s", ""),
        ("peak RSS", f"{rss_peak:,.0f} MiB", f"after setup {rss_setup:,.0f} MiB"),
    ]
    for name, value, note in rows:
        print(f"  {name:<34} {value:>24}   {note}")
    if steady:
        print()
        print(f"steady-rate phase: 1 more round, {n} survivors x {len(ANSWERS) + 1} answers arriving open-loop at "
              f"{args.rate:g}/s (Poisson); {st.codeword_expected} codeword answers; every latency counts from the "
              "answer's planned arrival")
        if st.inbound / st.wall < 0.95 * st.inbound / st.span:
            print("  OVERLOADED: the pipeline fell behind the offered rate, so the queue (and every latency below) "
                  "grew for the whole phase: these are not steady-state figures; try a lower --rate")
        print()
        for name, value, note in steady_rows(st):
            print(f"  {name:<34} {value:>24}   {note}")
    print()
    print("checks (read back from the database file):")
    for name, got, want in checks:
        print(f"  {'ok  ' if got == want else 'FAIL'} {name}: {got}" + ("" if got == want else f" (expected {want})"))
    if args.profile:
        print()
        print(sql.report(fig.timer_seconds + fig.answer_seconds + fig.drain_seconds))
        print()
        print(python_hotspots(profiler))
    print()
    print(json.dumps(summary, separators=(",", ":")))
    return 0 if summary["ok"] else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s %(message)s")
    if args.db is not None:
        return asyncio.run(bench(args, args.db.resolve()))
    with tempfile.TemporaryDirectory(prefix="safecheck-bench-") as tmp:
        return asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
