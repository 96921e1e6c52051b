"""Sent messages lose their content after their service's window; a compact delivery record stays.

Runs from the serve loop (and `safecheck tick`) a chunk at a time: each chunk is read on the read
connection and moved in its own short unit of work, so the writer is never held for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from bot.clock import Clock
from storage import deliveries, services
from storage.db import Database

log = logging.getLogger("safecheck.pruning")
EVERY = 600.0  # seconds between passes: a day's messages are moved in the first pass after their window


async def prune(db: Database, clock: Clock, chunk: int = deliveries.CHUNK) -> int:
    """Move every finished outbox row older than its service's window to its compact record; return how many."""
    now = clock.now()
    async with db.reading() as tx:
        windows = {s.id: timedelta(days=s.sent_content_days) for s in await services.all_services(tx)}
        start = await deliveries.first_outbox_id(tx)
    # A row tied to no service (an unknown sender's one neutral line): the shortest window of any.
    shortest = min(windows.values(), default=timedelta(days=services.SENT_CONTENT_DAYS))  # (no service has id 0)
    moved = 0
    while True:
        async with db.reading() as tx:
            looked = await deliveries.look(tx, start, chunk)
        if looked.last_id is None or looked.last_queued is None:
            return moved
        due = [i for i, svc, queued in looked.finished if queued < now - windows.get(svc or 0, shortest)]
        if due:
            async with db.transaction() as tx:
                moved += await deliveries.archive(tx, due)
                tx.erasing()  # the old pages of the deleted content must not stay readable in the WAL
                await tx.commit()
        if looked.last_queued >= now - shortest:  # rows are in written order: the rest are newer still
            return moved
        start = looked.last_id + 1


async def run_forever(db: Database, clock: Clock, stop: asyncio.Event, every: float = EVERY) -> None:
    """Prune until stopped; a failed pass (e.g. a locked database) is logged and tried again next time."""
    while not stop.is_set():
        try:
            moved = await prune(db, clock)
            if moved:
                log.info("sent messages pruned rows=%d", moved)
        except Exception as exc:
            log.error("pruning sent messages failed error=%s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
