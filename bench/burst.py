"""The burst phase: the day's check-ins fire, then every survivor answers at once while the dispatcher runs."""

from __future__ import annotations

import asyncio
import time

from bench.phase import Figures, dispatcher_running, fire_checkins, wait_for_outbox
from bench.survivors import REPLIES, Survivor, checkin_time, reply
from bot.app import App
from bot.channels.simulator import SimulatorChannel
from bot.clock import FixedClock
from bot.pipeline import handle_inbound


async def answer(app: App, fig: Figures, s: Survivor, rnd: int, codeword: bool) -> None:
    """One survivor replying to the whole check-in, each message after the previous one was handled."""
    for k in range(REPLIES):
        msg, carries_codeword = reply(s, rnd, k, codeword)
        started = time.perf_counter()
        if carries_codeword:
            fig.sent_at[s.ref] = started
        handled = await handle_inbound(app.core, msg)
        fig.record(handled.outcome, started, time.perf_counter(), carries_codeword)


async def run_round(app: App, clock: FixedClock, sim: SimulatorChannel, survivors: list[Survivor], fig: Figures,
                    rnd: int, chosen: set[int]) -> None:
    """Fire the day's check-ins, then let every survivor answer at once while the dispatcher runs."""
    clock.set(checkin_time(rnd))
    fig.sent_at.clear()
    async with dispatcher_running(app):
        t1 = await fire_checkins(app, fig)
        await asyncio.gather(*(answer(app, fig, s, rnd, s.index in chosen) for s in survivors))
        t2 = time.perf_counter()
        fig.drained &= await wait_for_outbox(app)
        t3 = time.perf_counter()
    fig.inbound += len(survivors) * REPLIES
    fig.answer_seconds += t2 - t1
    fig.drain_seconds += t3 - t2
    fig.codeword_expected += len(chosen)
    sim.delivered.clear()
