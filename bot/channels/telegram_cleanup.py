"""Deleting a survivor's Telegram chat: all of it on a quick exit, or each message after N minutes.

Deletion is best effort by nature (Telegram allows it for 48 h), so a failure is logged and the
ids are kept for the next sweep; nothing else depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from bot.channels.base import SendError
from bot.channels.telegram_channel import DELETE_WINDOW, TelegramCore
from storage import cases
from storage import telegram as store

log = logging.getLogger("safecheck.telegram")
SECOND_SWEEP = 3.0  # seconds: catches a message that was already on its way when the exit came
SWEEP_EVERY = 30.0  # seconds between auto-delete rounds


async def purge_case(core: TelegramCore, case_id: int, chat_id: int, *, again: bool = True) -> int:
    """Delete every message of the case's chat still deletable (both sides); return how many ids."""
    app = core.deps
    assert app is not None
    started = time.monotonic()
    now = app.clock.now()
    async with app.db.transaction(urgent=True) as tx:
        await store.due_now(tx, case_id, now)  # a crash or a failure from here on: the sweep finishes it
        ids = await store.deletable(tx, case_id, now - DELETE_WINDOW)
        await tx.commit()
    if ids:
        try:
            await core.delete(chat_id, ids)
        except SendError as exc:
            log.error("telegram quick-exit deletion failed error=%s", exc.reason)
            return 0
        async with app.db.transaction(urgent=True) as tx:
            await store.forget(tx, case_id, ids)
            await tx.commit()
    log.info("telegram chat emptied messages=%d seconds=%.3f", len(ids), time.monotonic() - started)
    if again:
        core.background(_sweep_again(core, case_id, chat_id))
    return len(ids)


async def _sweep_again(core: TelegramCore, case_id: int, chat_id: int) -> None:
    await asyncio.sleep(SECOND_SWEEP)
    await purge_case(core, case_id, chat_id, again=False)


async def delete_due(core: TelegramCore) -> int:
    """One auto-delete round: messages whose time has come; ids past Telegram's window are dropped."""
    app = core.deps
    assert app is not None
    now = app.clock.now()
    async with app.db.reading() as tx:
        due = await store.due_deletions(tx, now)
        chats = {}
        for case_id in due:
            case = await cases.get(tx, case_id)
            address = cases.address_of(app.crypto, case)
            if address is not None:
                chats[case_id] = int(address)
    done = 0
    for case_id, ids in due.items():
        if case_id in chats:
            try:
                await core.delete(chats[case_id], ids)
            except SendError as exc:
                log.warning("telegram auto-delete failed error=%s", exc.reason)
                continue
        async with app.db.transaction() as tx:
            await store.forget(tx, case_id, ids)
            await tx.commit()
        done += len(ids)
    async with app.db.transaction() as tx:
        await store.prune(tx, now - DELETE_WINDOW)
        await tx.commit()
    return done


async def sweep_forever(core: TelegramCore, stop: asyncio.Event, every: float = SWEEP_EVERY) -> None:
    while not stop.is_set():
        try:
            await delete_due(core)
        except Exception as exc:  # a failed round must not end the loop
            log.error("telegram auto-delete round failed error=%s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
