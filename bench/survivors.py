"""The simulated survivors: who they are, how the benchmark onboards them, and what they answer a check-in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import commands
from bot.app import App
from bot.channels.simulator import SimulatorChannel
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.inbound import Outcome
from bot.pipeline import InboundMessage, handle_inbound
from storage import services
from storage.db import Database
from storage.keys import create_key_file

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)  # a Monday morning, before the 10:00 check-in
SCHEDULE = "daily@10:00"
# Talk now, safe, not afraid, no contact, no incident, "no" to the two rotating DASH questions, no call-back.
ANSWERS = ("1", "yes", "1", "1", "1", "1", "1", "1")
REPLIES = len(ANSWERS) + 1  # messages per check-in: the answers above and a free text
PLAIN_TEXT = "all fine, thanks"
COLOURS = ("blue", "green", "amber", "violet", "silver", "copper", "olive", "coral")
THINGS = ("kettle", "teapot", "lantern", "ladder", "compass", "anchor", "pebble", "ribbon")
EXIT_WORD = "pasta"
ONBOARD_TOGETHER = 25  # survivors onboarded concurrently during setup


@dataclass(frozen=True)
class Survivor:
    index: int
    address: str
    ref: str
    codeword: str


def checkin_time(day: int) -> datetime:
    """10:00 on the benchmark's `day` (0 is the first): when SCHEDULE's check-ins are due."""
    return START.replace(hour=10) + timedelta(days=day)


def reply(s: Survivor, rnd: int, k: int, codeword: bool) -> tuple[InboundMessage, bool]:
    """Survivor `s`'s answer number `k` in round `rnd`, and whether it carries their codeword (only the last can)."""
    carries_codeword = codeword and k == len(ANSWERS)
    text = ANSWERS[k] if k < len(ANSWERS) else (f"all fine, {s.codeword}" if codeword else PLAIN_TEXT)
    return InboundMessage("simulator", s.address, text, f"r{rnd}-{s.index}-{k}"), carries_codeword


async def create_service(settings: Settings) -> int:
    create_key_file(settings.key_file)
    db = await Database.open(settings.db_path, create=True)
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


async def onboard(app: App, service_id: int, idva: int, i: int) -> Survivor:
    """Enrol survivor `i`, set their words in person, activate and set up with 4 messages in order, and
    set the daily schedule."""
    address = f"+4477009{i:05d}"
    codeword = f"{COLOURS[i % len(COLOURS)]} {THINGS[(i // len(COLOURS)) % len(THINGS)]}"
    ref, code = await commands.enrol(app, service_id, idva=idva, channel="simulator", address=address,
                                     name=f"Survivor {i}", intake="medium")
    words = {"exit_word": EXIT_WORD, "codeword": codeword, "pin": "", "duress_pin": ""}
    await commands.set_secrets(app, service_id, ref, words, actor="bench")
    for k, text in enumerate((code, "YES", "1 2 3", "1")):
        handled = await handle_inbound(app.core, InboundMessage("simulator", address, text, f"setup-{i}-{k}"))
        if handled.outcome is not Outcome.PROCESSED:
            raise SystemExit(f"setup: onboarding message {k} of survivor {i} was {handled.outcome.value}")
    await commands.set_schedule(app, service_id, ref, SCHEDULE)
    return Survivor(i, address, ref, codeword)


async def onboard_all(app: App, sim: SimulatorChannel, service_id: int, n: int) -> tuple[list[Survivor], int]:
    """Enrol, activate and onboard every survivor through the real pipeline, then set the daily schedule.

    ONBOARD_TOGETHER survivors are onboarded at once (each one's messages in order), so their units of
    work share group commits and a 5,000-survivor setup takes a minute rather than two.
    """
    idva = 0
    for name, role in (("Ida", "idva"), ("Dan", "duty"), ("Meg", "manager")):
        pid = await commands.add_practitioner(app, service_id, name, role, ["inbox", "log"])
        idva = idva or pid
    dispatcher = Dispatcher(app)
    survivors: list[Survivor] = []
    for first in range(0, n, ONBOARD_TOGETHER):
        group = range(first, min(n, first + ONBOARD_TOGETHER))
        survivors.extend(await asyncio.gather(*(onboard(app, service_id, idva, i) for i in group)))
        if len(survivors) % 100 < ONBOARD_TOGETHER:
            await deliver_all(dispatcher, sim)  # keep the outbox as small as a running service would
    await deliver_all(dispatcher, sim)
    return survivors, idva
