"""The timer runner: fires due timers from the database; APScheduler only wakes it up.

Due times live in our own `timers` table, so a restart loses nothing: on start the runner simply
finds what fell due while the service was down and handles it (catch-up). What a due timer means
(catch-up, reminders, expiry, never stacking prompts) is decided by the pure rules in flows/timers.py;
this module loads the facts and carries the decision out, each timer as one unit of work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import alerting, case_state, daily, share_followup
from bot.core import Core
from bot.handlers import Effects
from bot.health import TIMERS_BOUND, Heartbeat
from bot.planning import case_schedule, plan_next
from bot.survivor_step import advance
from flows.model import ConversationState, Expiry, StartCheckin, Timeout
from flows.timers import Act, Slot, checkin_due, conversation_timer, slots_passed
from safety.model import AlertReason, Severity
from storage import audit, cases, checkins, outbox, services, timers
from storage.db import Tx
from storage.timers import Timer

log = logging.getLogger("safecheck.scheduler")
MAX_TIMER_FAILURES = 5
ESCALATIONS = frozenset({"escalate", share_followup.ESCALATE})  # urgent, and retried for ever


class TimerRunner:
    def __init__(self, core: Core) -> None:
        self.app = core
        self.heartbeat = Heartbeat("timers", "the timer loop has not run", TIMERS_BOUND, core.clock)  # for /healthz
        self._kinds: dict[str, Callable[[Tx, Timer, datetime], Awaitable[None]]] = {
            "checkin": self._checkin,
            "reminder": self._conversation(Timeout()),
            "expire": self._conversation(Expiry()),
            "escalate": self._escalate,
            "resume": self._resume,
            "daily": self._daily,
            share_followup.ESCALATE: self._share_escalate,
        }

    async def prepare(self) -> None:
        """Make sure every service has its daily round scheduled (idempotent)."""
        async with self.app.db.transaction() as tx:
            for service in await services.all_services(tx):
                await daily.ensure_scheduled(tx, service, self.app.clock.now())
            await tx.commit()

    async def run_due(self, case_id: int | None = None) -> int:
        """Fire every timer that is due (of one case, if given), each in its own transaction."""
        fired = 0
        while True:
            now = self.app.clock.now()
            due = await self.app.db.run(lambda tx: timers.due(tx, now, limit=100, case_id=case_id))  # noqa: B023
            self.heartbeat.beat()  # each batch read: a long catch-up is progress, not a stall
            if not due:
                break
            for timer in due:
                fired += await self._fire(timer)
        if fired:
            self.app.wake_dispatcher()
        return fired

    async def _fire(self, timer: Timer) -> int:
        now = self.app.clock.now()

        async def unit(tx: Tx) -> int:
            if not await timers.claim(tx, timer.id, now):
                return 0
            handler = self._kinds.get(timer.kind)
            if handler is None:
                log.error("unknown timer kind=%s id=%s", timer.kind, timer.id)
            else:
                await handler(tx, timer, now)
            await tx.commit()
            return 1

        try:  # one call on the writer's thread
            return await self.app.db.run(unit, urgent=timer.kind in ESCALATIONS)
        except Exception as exc:  # one broken timer must never hold up the others (escalations above all)
            await self._failed(timer, exc, now)
            return 0

    async def _failed(self, timer: Timer, exc: Exception, now: datetime) -> None:
        failures = int(timer.payload.get("failures", 0)) + 1
        # Escalations are retried for ever; anything else gives up after a few tries.
        give_up = timer.kind not in ESCALATIONS and failures >= MAX_TIMER_FAILURES
        log.error(
            "timer failed id=%s kind=%s failures=%d error=%s%s",
            timer.id,
            timer.kind,
            failures,
            type(exc).__name__,
            " (given up)" if give_up else "",
        )
        delay = min(timedelta(minutes=2**failures), timedelta(minutes=30))
        async with self.app.db.transaction() as tx:
            await timers.postpone(tx, timer.id, now + delay, {**timer.payload, "failures": failures}, done=give_up)
            await audit.log(tx, now, "system", f"timer_failed:{timer.kind}", timer.case_id, type(exc).__name__)
            if give_up and timer.case_id is not None:
                # A case's step that will not be tried again (say, a check-in that cannot start): a log line
                # alone would leave her without check-ins and nobody the wiser. Her IDVA is told.
                case = await cases.get(tx, timer.case_id)
                service = await services.get(tx, case.service_id)
                await alerting.raise_alert(tx, service, case, Severity.HIGH, AlertReason.STEP_FAILED, now)
            await tx.commit()

    async def _checkin(self, tx: Tx, timer: Timer, now: datetime) -> None:
        assert timer.case_id is not None
        case = await cases.get(tx, timer.case_id)
        if case.status != "active":
            return  # paused: the resume timer plans again; closed or withdrawn: nothing more
        tz = ZoneInfo(case.timezone)
        slot = (str(timer.payload["slot"]), timer.due_at)
        retry = bool(timer.payload.get("retry"))
        passed = [] if retry else slots_passed(await case_schedule(tx, case), tz, case.safe_windows, slot[0], now)
        convo = await checkins.conversation(tx, case.id)
        due = checkin_due(
            slot, now, tz, case.safe_windows, passed, retry=retry, conversation_open=convo.state.flow is not None
        )
        for missed in due.missed_earlier:
            await self._missed_by_system(tx, case.id, missed, now)
        if due.plan_after is not None:
            await plan_next(tx, self.app.rand, case, due.plan_after)
        if not due.start:
            await self._missed_by_system(tx, case.id, due.slot, now)
            return
        checkin_id = await checkins.open_checkin(tx, case.id, due.slot[0], due.slot[1], now)
        if checkin_id is None:
            log.info("check-in slot already handled case=%s slot=%s", case.ref, due.slot[0])  # e.g. DST repeat
            return
        service = await services.get(tx, case.service_id)
        await advance(tx, self.app, case, service, StartCheckin(), now, Effects(checkin_id=checkin_id))

    async def _missed_by_system(self, tx: Tx, case_id: int, slot: Slot, now: datetime) -> None:
        if await checkins.open_checkin(tx, case_id, slot[0], slot[1], now, status="missed_system"):
            await audit.log(tx, now, "system", "checkin_missed_by_system", case_id, slot[0])

    def _conversation(self, inp: Timeout | Expiry) -> Callable[[Tx, Timer, datetime], Awaitable[None]]:
        async def fire(tx: Tx, timer: Timer, now: datetime) -> None:
            assert timer.case_id is not None
            convo = await checkins.conversation(tx, timer.case_id)
            if convo.checkin_id != timer.payload.get("checkin_id"):
                return  # that check-in is over already: its timer has nothing left to act on
            case = await cases.get(tx, timer.case_id)
            service = await services.get(tx, case.service_id)
            started = await checkins.started_at(tx, convo.checkin_id) if convo.checkin_id is not None else None
            delivered = True
            if isinstance(inp, Expiry) and started is not None:  # asked only where the rule reads it
                delivered = await outbox.delivered_since(tx, case.id, started)
            act = conversation_timer(
                inp,
                now,
                timer.due_at,
                ZoneInfo(case.timezone),
                case.safe_windows,
                service.missed_policy.grace,
                checkin_open=convo.checkin_id is not None,
                started=started,
                delivered=delivered,
                answered=convo.state.answered,
            )
            if act is Act.SKIP:
                return
            if act in (Act.UNDELIVERED, Act.UNWATCHED):
                assert convo.checkin_id is not None
                # The system missed this one, not the survivor: it never counts against her.
                await checkins.close_checkin(tx, convo.checkin_id, "missed_system", now)
                await checkins.save_conversation(tx, case.id, checkins.Conversation(ConversationState(), None), now)
                await audit.log(tx, now, "system", act.value, case.id)
                return
            await advance(tx, self.app, case, service, inp, now, Effects(checkin_id=convo.checkin_id))

        return fire

    async def _escalate(self, tx: Tx, timer: Timer, now: datetime) -> None:
        assert timer.case_id is not None and timer.alert_id is not None
        case = await cases.get(tx, timer.case_id)
        service = await services.get(tx, case.service_id)
        await alerting.escalate(tx, service, case, timer.alert_id, int(timer.payload["step"]), now)

    async def _share_escalate(self, tx: Tx, timer: Timer, now: datetime) -> None:
        share_id, rung = int(timer.payload["share_id"]), int(timer.payload["rung"])
        await share_followup.escalate(tx, self.app.crypto, share_id, rung, now)

    async def _daily(self, tx: Tx, timer: Timer, now: datetime) -> None:
        assert timer.service_id is not None
        await daily.run(tx, await services.get(tx, timer.service_id), now)

    async def _resume(self, tx: Tx, timer: Timer, now: datetime) -> None:
        assert timer.case_id is not None
        case = await cases.get(tx, timer.case_id)
        if case.status == "paused":
            await case_state.resume(tx, self.app.rand, case, now)
            await audit.log(tx, now, "system", "resumed_after_pause", case.id)


class Waker:
    """APScheduler wakes the timer runner every second; the due times themselves are in the database."""

    def __init__(self, runner: TimerRunner, interval: float = 1.0) -> None:
        self.runner = runner
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._running: asyncio.Task[object] | None = None
        self.scheduler.add_job(
            self._run,
            "interval",
            seconds=interval,
            id="timers",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def start(self) -> None:
        self.scheduler.start()

    async def _run(self) -> None:
        self._running = asyncio.current_task()
        try:
            await self.runner.run_due()
        finally:
            self._running = None

    async def stop(self, grace: float = 30.0) -> None:
        """Stop waking; a round under way finishes first (the scheduler's shutdown would cancel it mid-way)."""
        self.scheduler.pause()
        running = self._running
        if running is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(running), grace)
        self.scheduler.shutdown(wait=False)
