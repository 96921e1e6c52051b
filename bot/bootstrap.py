"""The composition root: the one place where the application's parts are built and wired."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.app import App
from bot.channels.base import Channel
from bot.channels.practitioner import InboxChannel, LogChannel
from bot.channels.simulator import SimulatorChannel
from bot.clock import Clock, FixedClock, OffsetClock, SystemClock
from bot.config import ConfigError, Settings
from bot.i18n import Catalogs
from storage.crypto import Crypto
from storage.db import Database
from storage.keys import load_keys


def make_clock(settings: Settings, *, moving: bool) -> Clock:
    """A pinned `--now` is a fixed instant for one-shot commands, and a shifted real clock for long runs."""
    if settings.now is None:
        return SystemClock()
    return OffsetClock(settings.now) if moving else FixedClock(settings.now)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs request URLs, which carry bot tokens; APScheduler is chatty every second.
    for noisy in ("httpx", "apscheduler", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@asynccontextmanager
async def open_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    simulator: SimulatorChannel | None = None,
    moving_clock: bool = False,
    seed: int | None = None,
) -> AsyncIterator[App]:
    """Open the database and build the app; closes everything on exit."""
    keys = load_keys(os.environ, settings.key_file)
    if not settings.db_path.exists():
        raise ConfigError(f"no database at {settings.db_path}: run `safecheck init` first (or set SAFECHECK_DB)")
    db = await Database.open(settings.db_path)
    try:
        clock = clock or make_clock(settings, moving=moving_clock)
        simulator = simulator or SimulatorChannel()
        survivor_channels: dict[str, Channel] = {simulator.name: simulator}
        practitioner_channels: dict[str, Channel] = {"inbox": InboxChannel(db, clock), "log": LogChannel()}
        yield App(
            db=db,
            crypto=Crypto(keys),
            clock=clock,
            catalogs=Catalogs(),
            survivor_channels=survivor_channels,
            practitioner_channels=practitioner_channels,
            rand=random.Random(seed),
        )
    finally:
        await db.close()
