"""The dispatcher: delivers the outbox at least once, with retries, backoff and channel fallback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import alerting, monthly_report
from bot.alert_text import alert_link, render_practitioner
from bot.app import App
from bot.channels.base import Outgoing, SendError, Silenced
from flows.delivery import FRESH, REPLY_USEFUL_FOR, Timeliness, backoff, retry, timeliness
from flows.events import SafeWindow
from safety.model import AlertReason, Severity
from storage import alerts, cases, outbox, practitioners, services
from storage.db import Tx
from storage.outbox import Busy, Claimed, OutboxItem

log = logging.getLogger("safecheck.dispatcher")
MAX_ATTEMPTS = 6  # per channel of a practitioner's alert; then fall back to the next channel, or fail loudly
LONDON = ZoneInfo("Europe/London")
ROUND_GAP = 0.005  # seconds: under a burst of commits, one outbox read serves many of them
ADDRESSLESS = ("inbox", "log")  # practitioner channels that deliver by practitioner id


@dataclass(frozen=True)
class Result:
    item: OutboxItem
    provider_id: str | None = None
    error: SendError | None = None
    skipped: bool = False  # cancelled by an exit or a withdrawal while it waited: not sent
    later: Timeliness | None = None  # a survivor's message not sent now: it waits, or it has expired


Recipient = tuple[str, int | None, str]


def expiry(item: OutboxItem) -> datetime:
    return item.expires_at or item.created_at + REPLY_USEFUL_FOR  # rows from before expiry was recorded


def _queue_of(item: Claimed) -> Recipient:
    """A survivor's messages form one queue, kept in order; each alert to a practitioner goes on its
    own, so alerts never wait for one another (each stands alone, with its own fallback)."""
    if item.recipient == "practitioner":
        return ("practitioner", item.id, "")
    return ("survivor", item.case_id, "" if item.case_id is not None else item.channel)


def _busy(recipients: set[Recipient]) -> Busy:
    """The recipients being served, as the claim leaves them out in its SQL."""
    return Busy(
        cases=frozenset(key for kind, key, _ in recipients if kind == "survivor" and key is not None),
        channels=frozenset(channel for kind, key, channel in recipients if kind == "survivor" and key is None),
        items=frozenset(key for kind, key, _ in recipients if kind == "practitioner" and key is not None),
    )


def workspace_link(workspace_url: str | None, message: dict[str, object]) -> str | None:
    """Where a practitioner acts on this message in the workspace: an alert's page, or the alert queue for a
    daily summary. None without a workspace URL (channels then name the CLI's commands) or for anything else."""
    if not workspace_url:
        return None
    if message.get("alert_id"):  # an alert (a share carries a share_id)
        return alert_link(workspace_url, message["alert_id"])
    if message.get("kind") == "digest":
        return f"{workspace_url.rstrip('/')}/alerts"
    return None


class Dispatcher:
    """Each recipient's queue is delivered by its own task, so a slow provider or a paced chat never
    holds up anyone else: an urgent alert raised meanwhile goes out in the next round, at once."""

    def __init__(self, app: App, concurrency: int = 32, after: int = 0) -> None:
        self.app = app
        self._after = after  # deliver only rows written after this id (simulate: its own replies)
        # Survivors' messages share `concurrency` sends at a time; alerts have their own, so an alert
        # never waits for a slot behind a burst of replies.
        self._limits = {"survivor": asyncio.Semaphore(concurrency), "practitioner": asyncio.Semaphore(concurrency)}
        self._busy: set[Recipient] = set()  # recipients whose queue is being delivered
        self._waiting: set[Recipient] = set()  # busy recipients with more due: look again when done
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished: list[tuple[Recipient, list[Result]]] = []  # sent, waiting to be recorded
        self._recorder: asyncio.Task[None] | None = None

    async def run_once(self, case_id: int | None = None) -> int:
        """Deliver what is due now (to one case's survivor, if given) and wait for it; return how many items."""
        started = await self.start_round(case_id)
        await self.wait_idle()
        return started

    async def start_round(self, case_id: int | None = None) -> int:
        """Start delivering what is due to every recipient not already being served; return how many items."""
        app = self.app
        # A recipient being served may have rows its task has sent but not recorded yet: the claim
        # leaves it out (or its messages would go twice), and its task wakes us when it is done.
        in_flight = set(self._busy)
        self._waiting |= in_flight
        async with app.db.reading() as tx:  # not behind the writer: survivors' messages keep flowing
            claimed = await outbox.claim(tx, app.clock.now(), _busy(in_flight), after=self._after, case_id=case_id)
        # One queue per recipient keeps each person's messages in order; recipients go in parallel.
        queues: dict[Recipient, list[Claimed]] = defaultdict(list)
        for item in claimed:
            queues[_queue_of(item)].append(item)
        started = 0
        for recipient, queue in queues.items():
            queue.sort(key=lambda item: item.id)  # written order, even when a retry fell due later
            if recipient in self._busy:  # started by a round that overlapped this one
                self._waiting.add(recipient)
                continue
            self._busy.add(recipient)
            task = asyncio.create_task(self._deliver(recipient, queue))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += len(queue)
        return started

    async def wait_idle(self) -> None:
        """Wait until every delivery started so far is recorded."""
        while self._tasks:
            await asyncio.gather(*self._tasks)

    async def _deliver(self, recipient: Recipient, queue: list[Claimed]) -> None:
        results: list[Result] = []
        try:
            async with self._limits[recipient[0]]:
                for claimed in queue:
                    try:
                        item = claimed.item()  # parsed only now that it goes
                    except ValueError:  # a bug wrote it: it stays pending (/healthz shows it), no one else waits
                        log.error("outbox row unreadable outbox=%s", claimed.id)
                        break
                    result = await self._send(item)
                    results.append(result)
                    if result.error is not None:
                        break  # the rest wait, so that this person's messages never arrive out of order
        finally:
            # Recorded together with whatever else finished meanwhile: one transaction, not one each.
            self._finished.append((recipient, results))
            if self._recorder is None or self._recorder.done():
                self._recorder = asyncio.create_task(self._record_finished())
                self._tasks.add(self._recorder)
                self._recorder.add_done_callback(self._tasks.discard)

    async def _record_finished(self) -> None:
        while self._finished:
            batch, self._finished = self._finished, []
            try:
                await self._record([r for _, results in batch for r in results])
            except Exception as exc:  # e.g. a locked database: the items stay pending and are tried again
                log.error("recording deliveries failed error=%s", type(exc).__name__)
            finally:
                for recipient, _ in batch:
                    self._busy.discard(recipient)
                    if recipient in self._waiting:
                        self._waiting.discard(recipient)
                        self.app.wake_dispatcher()

    async def _send(self, item: OutboxItem) -> Result:
        app = self.app
        try:
            if item.recipient == "survivor":
                timely = await self._timeliness(item)
                if not timely.go:
                    return Result(item, later=timely)
                channel = app.survivor_channels.get(item.channel)
                address = outbox.address_of(app.crypto, item)
                if channel is None or address is None:
                    raise SendError(f"no survivor channel {item.channel}", retryable=False)
                rendered = app.catalogs.render(item.message, item.language, item.timezone)
                # What a transport may need beyond the words: e.g. Telegram deletes a case's messages.
                meta = {"case_id": str(item.case_id or ""), "outbox_id": str(item.id), "key": item.message["key"]}
                still_wanted = self._still_pending(item)
                message = Outgoing(rendered.text, rendered.options, {**rendered.meta, **meta}, still_wanted)
            else:
                channel = app.practitioner_channels.get(item.channel)
                if channel is None:
                    raise SendError(f"no practitioner channel {item.channel}", retryable=False)
                address = await self._practitioner_address(item)
                if item.message.get("kind") == monthly_report.KIND and item.channel == "email":
                    from bot import (
                        monthly_mail,
                    )  # the report's PDF stack: loaded only once a month, not by every CLI run

                    return Result(
                        item, provider_id=await channel.send(address, await monthly_mail.outgoing(app, item.message))
                    )
                link = workspace_link(app.workspace_url, item.message)
                message = Outgoing(
                    render_practitioner(item.message, item.practitioner_id, app.workspace_url),
                    meta={
                        **({"link": link} if link else {}),
                        **{
                            k: str(item.message[k])
                            for k in ("alert_id", "case_ref", "severity", "reason", "level", "facts", "share_id")
                            if item.message.get(k) is not None
                        },
                        "at": item.created_at.isoformat(),  # when this practitioner was to be told
                        "outbox_id": str(item.id),  # e.g. SMS delivery reports find the item by it
                    },
                )
            return Result(item, provider_id=await channel.send(address, message))
        except Silenced:
            return Result(item, skipped=True)  # cancelled by an exit or a withdrawal while it waited its turn
        except SendError as exc:
            return Result(item, error=exc)
        except Exception as exc:  # an unexpected bug in a channel must not stop other deliveries
            # Only the type: provider errors quote numbers and message text, which must not reach logs.
            log.error("send crashed outbox=%s channel=%s error=%s", item.id, item.channel, type(exc).__name__)
            return Result(item, error=SendError(type(exc).__name__, retryable=True))

    def _still_pending(self, item: OutboxItem) -> Callable[[], Awaitable[bool]]:
        """Whether a survivor's message may still go: read from the database, not from this process's memory,
        so an exit or a withdrawal committed by any process silences it."""

        async def check() -> bool:
            async with self.app.db.reading() as tx:
                return await outbox.is_pending(tx, item.id)

        return check

    async def _practitioner_address(self, item: OutboxItem) -> str:
        """The address of this channel entry; the practitioner's id for channels that take none (inbox, log)."""
        assert item.practitioner_id is not None
        async with self.app.db.reading() as tx:
            found = await practitioners.channels(tx, self.app.crypto, item.practitioner_id)
        if item.position < len(found) and found[item.position].address:
            return str(found[item.position].address)
        if item.channel in ADDRESSLESS:
            return str(item.practitioner_id)
        # e.g. a Telegram chat not linked yet: never guess an address; the next channel takes over.
        raise SendError(f"no {item.channel} address for this practitioner", retryable=False)

    async def _record(self, results: list[Result]) -> None:
        now = self.app.clock.now()
        # Ahead of queued answers: until its sends are recorded a recipient is busy, and nothing more
        # goes to her. Behind a burst of answers that wait would be seconds, and the backlog would
        # grow with the burst instead of draining. (One unit for the whole round: a few ms.)
        await self.app.db.run(lambda tx: self._record_in(tx, results, now), urgent=True)

    async def _record_in(self, tx: Tx, results: list[Result], now: datetime) -> None:
        """The round's results as one unit of work, on the writer's thread."""
        for r in results:
            item = r.item
            if r.skipped:
                await outbox.cancel(tx, item.id, "cancelled by a quick exit or withdrawal")
            elif r.later is not None and r.later.wait_until is not None:
                await outbox.wait_until(tx, item.id, r.later.wait_until)
            elif r.later is not None:
                log.warning("survivor message expired before it could go outbox=%s", item.id)
                await outbox.expire(tx, item.id, "no longer of use")
            elif r.error is None:
                await outbox.mark_sent(tx, item.id, r.provider_id, now)
                await self._note_sent(tx, item, r.provider_id, now)
            elif r.error.retryable and item.recipient == "survivor":
                await self._retry_survivor(tx, item, r.error, now)
            elif r.error.retryable and item.attempts + 1 < MAX_ATTEMPTS:
                delay = backoff(item.attempts, r.error.retry_after)
                await outbox.retry_later(tx, item.id, r.error.reason, now + delay)
            else:
                await self._give_up(tx, item, r.error.reason, now)
        survivors = {r.item.case_id for r in results if r.item.recipient == "survivor" and r.item.case_id}
        if survivors and await cases.any_withdrawn(tx, survivors):
            tx.erasing()  # the address of her last message (her withdrawal's answer) must not stay in the WAL
        await tx.commit()

    async def _safe_times(self, tx: Tx, item: OutboxItem) -> tuple[ZoneInfo, tuple[SafeWindow, ...]]:
        if item.case_id is None:  # an unknown sender: no safe times are known
            return LONDON, ()
        case = await cases.get(tx, item.case_id)
        return ZoneInfo(case.timezone), case.safe_windows

    async def _timeliness(self, item: OutboxItem) -> Timeliness:
        """Whether her message may go now (flows.delivery): only one that had to wait needs her safe times."""
        now = self.app.clock.now()
        tz, windows = LONDON, tuple[SafeWindow, ...]()
        if now - item.created_at > FRESH:
            async with self.app.db.reading() as tx:
                tz, windows = await self._safe_times(tx, item)
        return timeliness(now, item.created_at, expiry(item), tz, windows)

    async def _retry_survivor(self, tx: Tx, item: OutboxItem, error: SendError, now: datetime) -> None:
        """A provider that fails for a while (5xx, 429, timeouts) is tried again for as long as the message is
        of use, inside her safe times (flows.delivery): an outage is never a false "channel dead"."""
        tz, windows = await self._safe_times(tx, item)
        again = retry(now, item.attempts, error.retry_after, expiry(item), tz, windows)
        if again.wait_until is None:
            log.warning("survivor message expired undelivered outbox=%s channel=%s", item.id, item.channel)
            await outbox.expire(tx, item.id, error.reason)
        else:
            await outbox.retry_later(tx, item.id, error.reason, again.wait_until)

    async def _note_sent(self, tx: Tx, item: OutboxItem, provider_id: str | None, now: datetime) -> None:
        """A channel may keep its own record of what it sent (SMS: for delivery reports), in this same
        transaction: one commit for the whole round instead of one per message."""
        channels = self.app.survivor_channels if item.recipient == "survivor" else self.app.practitioner_channels
        note = getattr(channels.get(item.channel), "note_sent", None)
        if note is not None and provider_id is not None:
            await note(tx, provider_id, now)

    async def _give_up(self, tx: Tx, item: OutboxItem, reason: str, now: datetime) -> None:
        if item.recipient == "practitioner" and item.practitioner_id is not None:
            names = await practitioners.channel_names(tx, item.practitioner_id)
            if item.position + 1 < len(names):
                log.warning(
                    "alert delivery falling back outbox=%s from=%s to=%s",
                    item.id,
                    item.channel,
                    names[item.position + 1],
                )
                await outbox.move_to(tx, item.id, names[item.position + 1], item.position + 1, reason, now)
                return
            log.error(
                "alert delivery failed on every channel outbox=%s alert=%s practitioner=%s",
                item.id,
                item.alert_id,
                item.practitioner_id,
            )
            await outbox.fail(tx, item.id, reason)
            if item.alert_id is not None:
                await alerting.undeliverable(tx, item.alert_id, item.practitioner_id, now)
            return
        await outbox.fail(tx, item.id, reason)
        log.error("survivor delivery failed outbox=%s channel=%s", item.id, item.channel)
        if item.case_id is not None and not await alerts.open_exists(tx, item.case_id, AlertReason.CHANNEL_DEAD.value):
            # The channel is dead: the IDVA must know (once), since check-ins no longer reach the survivor.
            case = await cases.get(tx, item.case_id)
            service = await services.get(tx, case.service_id)
            await alerting.raise_alert(tx, service, case, Severity.RAISED, AlertReason.CHANNEL_DEAD, now)

    async def run_forever(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Deliver until stopped; wake at once when a commit queued something or a recipient is free."""
        failures = 0
        while not stop.is_set():
            self.app.outbox_ready.clear()
            try:
                await self.start_round()
                failures = 0
            except Exception as exc:  # e.g. a locked database: back off and go on, never stop delivering
                failures += 1
                log.error("dispatcher round failed error=%s failures=%d", type(exc).__name__, failures)
                await asyncio.sleep(min(2**failures * 0.1, 30))
                continue
            await asyncio.sleep(ROUND_GAP)  # commits come in bursts: one read serves many of them
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.app.outbox_ready.wait(), timeout=idle)
        await self.wait_idle()  # what was handed to a provider is recorded before we stop

    async def drain(self, rounds: int = 20) -> None:
        """Deliver until nothing due is left (the CLI and tests use this)."""
        for _ in range(rounds):
            if not await self.run_once():
                return
