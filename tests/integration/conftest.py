"""Integration helpers: channels that fail on purpose, a second app on the same file, looks into the database.

Everything here runs the real pipeline on a real SQLite file (the `world` fixture in tests/conftest.py);
the only stand-ins are channel classes with the Channel protocol, since failing providers are the point.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import commands
from bot.app import App
from bot.bootstrap import open_app
from bot.channels.base import Capabilities, Channel, Outgoing, SendError
from bot.channels.simulator import SimulatorChannel
from bot.dispatcher import Dispatcher
from bot.i18n import to_message
from bot.pipeline import Handled, InboundMessage, handle_inbound
from bot.scheduler import TimerRunner
from flows import replies as R
from flows.model import Reply
from storage import outbox
from storage.db import Database
from tests.conftest import World
from tests.databases import fresh_database

PHONE = "+447700900123"
PROMPT = "Hi, it's Alex. Is now a good time for a quick chat?\n1 Yes\n2 Not now"
NEUTRAL = "Sorry, this number does not accept replies."
NUDGE = "Just a gentle nudge."
DONE = "Thanks, that's everything. Take care."
WITHDRAWN = "OK. You will not get any more messages."
# A full check-in with nothing of concern: talk now, safe, not afraid, no contact, nothing happened,
# no call back, nothing else.
CALM_ANSWERS = ("1", "1", "1", "1", "1", "1", "1", "1", "SKIP")  # two rotating DASH questions before the call back


class FailingChannel:
    """A provider that is down: every send fails with the given retry policy."""

    capabilities = Capabilities()

    def __init__(self, name: str, *, retryable: bool, reason: str = "provider unavailable") -> None:
        self.name = name
        self.retryable = retryable
        self.reason = reason
        self.attempts: list[str] = []

    async def send(self, address: str, message: Outgoing) -> str:
        self.attempts.append(address)
        raise SendError(self.reason, retryable=self.retryable)

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        return None


class FlakyChannel:
    """Fails with a retryable error `failures` times, then delivers through a working channel."""

    capabilities = Capabilities()

    def __init__(self, inner: Channel, failures: int, retry_after: float | None = None) -> None:
        self.name = inner.name
        self.inner = inner
        self.failures_left = failures
        self.retry_after = retry_after
        self.attempts = 0

    async def send(self, address: str, message: Outgoing) -> str:
        self.attempts += 1
        if self.failures_left > 0:
            self.failures_left -= 1
            raise SendError("HTTP 503", retryable=True, retry_after=self.retry_after)
        return await self.inner.send(address, message)

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        await self.inner.delete(address, provider_ids)


class GatedChannel:
    """Holds its first send until the test opens the gate: a slow provider mid-delivery."""

    capabilities = Capabilities()

    def __init__(self, inner: SimulatorChannel) -> None:
        self.name = inner.name
        self.inner = inner
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def send(self, address: str, message: Outgoing) -> str:
        await message.confirm()  # the last check before the provider call; the gate is the provider's own time
        self.entered.set()
        await self.gate.wait()
        return await self.inner.send(address, replace(message, still_wanted=None))

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        await self.inner.delete(address, provider_ids)


async def rows(app: App, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Read rows straight from the database (a look, never a write)."""
    async with app.db.transaction() as tx:
        return [dict(r) for r in await tx.all(sql, params)]


async def scalar(app: App, sql: str, params: Sequence[Any] = ()) -> Any:
    async with app.db.transaction() as tx:
        return await tx.scalar(sql, params)


async def inbox(world: World, practitioner: int) -> list[str]:
    return [m["text"] for m in await commands.read_inbox(world.app, practitioner)]


async def alerts(world: World) -> list[dict[str, Any]]:
    return await commands.list_alerts(world.app, world.service_id, open_only=False)


async def checkin_statuses(world: World, ref: str, app: App | None = None) -> list[tuple[str, str]]:
    """(slot, status) of each check-in of a case, oldest first, as `case show` lists them."""
    shown = await commands.show_case(app or world.app, world.service_id, ref, world.idva)
    return [(c["slot"], c["status"]) for c in reversed(shown["checkins"])]


async def case_row(world: World, ref: str) -> dict[str, Any]:
    [row] = await rows(world.app, "SELECT * FROM cases WHERE ref = ?", (ref,))
    return row


async def at(world: World, when: datetime) -> list[str]:
    """Move the pinned clock to `when`, fire what is due and return what the phone received."""
    world.clock.set(when)
    return await world.deliver()


async def later(world: World, delta: timedelta) -> list[str]:
    world.clock.advance(delta)
    return await world.deliver()


async def answer_all(world: World, answers: Sequence[str], address: str = PHONE) -> list[str]:
    """Reply to each question in turn, delivering in between; return everything the phone received."""
    received: list[str] = []
    for text in answers:
        handled = await world.say(address, text)
        assert handled.outcome.value == "processed"
        received += await world.deliver()
    return received


async def run_shell(app: App, sim: SimulatorChannel) -> list[str]:
    """One turn of the shell of a second app: fire due timers, drain the outbox, take the phone's texts."""
    await TimerRunner(app).run_due()
    await Dispatcher(app).drain()
    return [d.message.text for d in sim.take()]


async def say_to(app: App, text: str, provider_id: str, address: str = PHONE) -> Handled:
    return await handle_inbound(app, InboundMessage("simulator", address, text, provider_id))


@asynccontextmanager
async def restarted(world: World) -> AsyncIterator[App]:
    """Close the world's app (as a crash or a deploy would) and open a fresh one on the same file."""
    await world.app.db.close()
    async with open_app(world.settings, clock=world.clock, simulator=world.sim, seed=11) as app:
        yield app


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database file of its own, for tests of the storage layer itself."""
    fresh_database(tmp_path / "store.db")
    database = await Database.open(tmp_path / "store.db")
    yield database
    await database.close()


def committed_slugs(path: Path) -> set[str]:
    """The services another connection sees: what is committed, and only that."""
    with sqlite3.connect(path) as other:
        return {row[0] for row in other.execute("SELECT slug FROM services")}


async def queue_neutral(world: World, case_id: int, address: str, params: dict[str, Any] | None = None) -> int:
    """Put one neutral line for a survivor in the outbox, as the pipeline would; its outbox id."""
    async with world.app.db.transaction() as tx:
        item = await outbox.to_survivor(
            tx,
            world.app.crypto,
            case_id=case_id,
            channel="simulator",
            address=address,
            language="en_GB",
            timezone="Europe/London",
            message=to_message(Reply(R.NEUTRAL, params=params or {})),
            now=world.clock.now(),
        )
        await tx.commit()
    return item
