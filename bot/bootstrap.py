"""The composition root: the one place where the application's parts are built and wired."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager

from bot import instance_lock
from bot.app import App
from bot.channels.base import Channel
from bot.channels.practitioner import InboxChannel, LogChannel
from bot.channels.simulator import SimulatorChannel
from bot.clock import Clock, FileOffsetClock, FixedClock, OffsetClock, SystemClock
from bot.config import ConfigError, Settings
from bot.core import Core
from bot.i18n import Catalogs
from bot.transport import Transport, configured
from storage import keyring
from storage.crypto import Crypto
from storage.db import Database
from storage.keys import KeyConfigError, KeyMaterial, key_source, load_keys, staging_path


def make_clock(settings: Settings, *, moving: bool) -> Clock:
    """A pinned `--now` is a fixed instant for one-shot commands, and a shifted real clock for long runs."""
    if settings.clock_file is not None:
        return FileOffsetClock(settings.clock_file)
    if settings.now is None:
        return SystemClock()
    return OffsetClock(settings.now) if moving else FixedClock(settings.now)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs request URLs, which carry bot tokens; APScheduler is chatty every second.
    for noisy in ("httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def adopt_keys(db: Database, keys: KeyMaterial, settings: Settings, clock: Clock) -> None:
    """Refuse keys that are not this database's, in one line, before anything is read or written with them."""
    try:
        await keyring.adopt(db, keys, key_source(os.environ, settings.key_file), clock.now())
    except KeyConfigError as exc:
        staged = staging_path(settings.key_file)
        if staged.exists():  # a rotation changed the database, then stopped before the key file
            raise KeyConfigError(
                f"{exc}. A key rotation was interrupted after the database moved to its new keys: they are in "
                f"{staged}; check it and move it over {settings.key_file}"
            ) from None
        raise


@asynccontextmanager
async def open_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    simulator: SimulatorChannel | None = None,
    moving_clock: bool = False,
    seed: int | None = None,
    transports: Sequence[Transport] | None = None,
    lock: str | None = None,
) -> AsyncIterator[App]:
    """Open the database and build the app; closes everything on exit.

    `transports` defaults to those configured in the environment (Telegram, SMS, e-mail). With
    `lock` (the command's name), the app also holds the database's one-deliverer lock.
    """
    keys = load_keys(os.environ, settings.key_file)
    if not settings.db_path.exists():
        raise ConfigError(f"no database at {settings.db_path}: run `safecheck init` first (or set SAFECHECK_DB)")
    built = list(configured(settings) if transports is None else transports)  # bad settings fail before opening
    db = await Database.open(settings.db_path)
    held = ExitStack()
    try:
        if lock is not None:  # after the file proved to be our database: no lock file beside anything else
            held.enter_context(instance_lock.hold(settings.db_path, lock))
        clock = clock or make_clock(settings, moving=moving_clock)
        await adopt_keys(db, keys, settings, clock)
        simulator = simulator or SimulatorChannel()
        survivor_channels: dict[str, Channel] = {simulator.name: simulator}
        practitioner_channels: dict[str, Channel] = {"inbox": InboxChannel(db, clock), "log": LogChannel()}
        for transport in built:
            if transport.survivor_channel is not None:
                survivor_channels[transport.name] = transport.survivor_channel
            if transport.practitioner_channel is not None:
                practitioner_channels[transport.name] = transport.practitioner_channel
        core = Core(db=db, crypto=Crypto(keys), clock=clock, catalogs=Catalogs(), rand=random.Random(seed))
        yield App(core, survivor_channels, practitioner_channels, built, workspace_url=settings.workspace_base)
    finally:
        for transport in built:
            try:
                await transport.close()
            except Exception as exc:  # closing one must not keep the others (or the database) open
                logging.getLogger("safecheck").error("closing %s failed error=%s", transport.name, type(exc).__name__)
        await db.close()
        held.close()
