"""The steady-rate phase: every survivor answers one more check-in, the answers arriving open loop at a Poisson rate.

Every latency counts from the answer's planned arrival, so an event loop that runs late cannot hide
queueing (coordinated omission).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from bench.phase import Figures, dispatcher_running, fire_checkins, held, wait_for_outbox
from bench.survivors import REPLIES, Survivor, checkin_time, reply
from bot.app import App
from bot.channels.simulator import SimulatorChannel
from bot.clock import FixedClock
from bot.pipeline import handle_inbound


@dataclass
class Steady(Figures):
    """What the steady-rate phase observed. Its latencies run from each answer's planned arrival time."""

    rate: float = 0.0  # offered: arrivals per second asked for
    span: float = 0.0  # planned time of the last arrival, from the phase's origin
    wall: float = 0.0  # the phase's origin to the last handle_inbound return
    start_lag: list[float] = field(default_factory=list)  # planned arrival -> the send task running
    service: list[float] = field(default_factory=list)  # every answer: its time on the writer's thread
    waited: int = 0  # answers that arrived while the same survivor's previous answer was still being handled
    last_return: float = 0.0  # perf_counter of the last handle_inbound return


def plan_arrivals(n: int, rate: float, rng: random.Random) -> list[tuple[float, int, int]]:
    """Poisson arrivals at `rate`, one per answer of every survivor: (seconds from the origin, survivor, answer no.).

    The survivors, shuffled, are dealt to n // 8 lanes; each lane runs its survivors' check-ins one
    after another, and the lanes take turns, so about an eighth of the survivors are mid-check-in at
    any moment and a survivor's answers are n // 8 arrivals apart (0.4 s at 1,000 survivors and 300/s).
    Lane l starts l mod 7 turns late (the empty turns are dropped, not left as gaps in the arrivals),
    so every answer of the check-in, the codeword one included, is equally common from about the
    seventh turn to the last few: the load has the same mix throughout, apart from the ramps.
    """
    lanes = max(1, n // 8)
    order = list(range(n))
    rng.shuffle(order)
    turns: list[tuple[int, int, int, int]] = []  # (turn, lane, survivor, answer number)
    for lane in range(lanes):
        late = lane % REPLIES
        for m, i in enumerate(order[lane::lanes]):
            turns.extend((late + m * REPLIES + k, lane, i, k) for k in range(REPLIES))
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
        msg, carries_codeword = reply(s, rnd, k, codeword)
        if carries_codeword:
            st.sent_at[s.ref] = planned
        handled = await handle_inbound(app.core, msg)
        done_at = time.perf_counter()
        st.record(handled.outcome, planned, done_at, carries_codeword)
        st.service.append(held.get())
        st.last_return = max(st.last_return, done_at)
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
    clock.set(checkin_time(rnd))
    plan = plan_arrivals(len(survivors), st.rate, rng)
    async with dispatcher_running(app):
        await fire_checkins(app, st)
        await wait_for_outbox(app)  # the questions are out before the first answer arrives
        origin = await offer_load(app, st, survivors, rnd, chosen, plan)
        t2 = time.perf_counter()
        st.drained &= await wait_for_outbox(app)
        t3 = time.perf_counter()
    st.inbound += len(plan)
    st.span = plan[-1][0]
    st.wall = st.answer_seconds = st.last_return - origin
    st.drain_seconds += t3 - t2
    st.codeword_expected += len(chosen)
    sim.delivered.clear()
