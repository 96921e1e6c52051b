"""A question set's preview: the real pipeline on a throw-away database, never on real cases.

Each preview builds a fresh SQLite file in a temporary folder with fresh keys, one service using
the draft question set, one IDVA and one survivor on the simulator channel; it onboards her with a
fixed script, starts a check-in and replays the manager's typed replies so far. Nothing is kept:
the page carries the replies, so each request starts again from nothing (as `safecheck simulate`
and `safecheck demo` run the same code on their own files).
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot import commands
from bot.app import App
from bot.channels.practitioner import InboxChannel
from bot.channels.simulator import SimulatorChannel
from bot.cli.simulate import event_json
from bot.clock import FixedClock
from bot.core import Core
from bot.dispatcher import Dispatcher
from bot.pipeline import InboundMessage, handle_inbound
from bot.scheduler import TimerRunner
from storage import services
from storage.crypto import Crypto
from storage.db import Database
from storage.keys import generate
from storage.services import Service

PHONE = "+447700900999"
# As in the demo: her words set in person (no PIN), then set-up: consent, safe at any hour (so a
# check-in can start now), missed check-in consent. The preview shows what comes after: the check-in.
SECRETS = {"exit_word": "pasta", "codeword": "blue kettle", "pin": "", "duress_pin": ""}
ONBOARDING = ("{code}", "YES", "00:00-24:00", "1")
MAX_REPLIES = 40


@dataclass(frozen=True)
class Line:
    """One line of the preview's conversation: the bot's message, her reply, or what it recorded."""

    who: str  # "bot", "survivor" or "event"
    text: str


async def _deliver(app: App, sim: SimulatorChannel) -> list[Line]:
    await TimerRunner(app.core).run_due()
    await Dispatcher(app).drain()
    return [Line("bot", item.message.text) for item in sim.take(PHONE)]


async def run_preview(live: App, service: Service, questionset: str, replies: list[str]) -> list[Line]:
    """The check-in the draft question set gives, with `replies` typed in turn (the caller validated it)."""
    with tempfile.TemporaryDirectory(prefix="safecheck-preview-") as folder:
        db = await Database.open(Path(folder) / "preview.db", create=True)
        try:
            clock = FixedClock(live.clock.now())
            core = Core(db=db, crypto=Crypto(generate()), clock=clock, catalogs=live.catalogs, rand=random.Random(0))
            sim = SimulatorChannel()
            app = App(core, {sim.name: sim}, {"inbox": InboxChannel(db, clock)})
            return await _converse(app, sim, service, questionset, replies[:MAX_REPLIES])
        finally:
            await db.close()


async def _converse(
    app: App, sim: SimulatorChannel, service: Service, questionset: str, replies: list[str]
) -> list[Line]:
    now = app.clock.now()
    async with app.db.transaction() as tx:
        svc = await services.create(tx, "preview", "Preview", now, sender_name=service.sender_name)
        await services.update(tx, svc, questionset=questionset, timezone=service.timezone)
        # In English, the catalogs' source: the onboarding script is English, and the page checked the
        # draft has every text in every language the service offers.
        await services.set_languages(tx, svc, ("en_GB",), "en_GB")
        await tx.commit()
    idva = await commands.add_practitioner(app, svc, "Preview IDVA", "idva", ["inbox"])
    ref, code = await commands.enrol(
        app,
        svc,
        idva=idva,
        channel=sim.name,
        address=PHONE,
        name="Preview",
        intake="standard",
        timezone=service.timezone,
    )
    await commands.set_secrets(app, svc, ref, SECRETS, actor="preview")
    for n, text in enumerate(ONBOARDING):
        await handle_inbound(app.core, InboundMessage(sim.name, PHONE, text.format(code=code), f"onboard-{n}"))
    await _deliver(app, sim)  # onboarding's own messages are not the question set's
    await commands.checkin_now(app, svc, ref)
    lines = await _deliver(app, sim)
    for n, text in enumerate(replies):
        lines.append(Line("survivor", text))
        handled = await handle_inbound(app.core, InboundMessage(sim.name, PHONE, text, f"preview-{n}"))
        for event in handled.events:
            shown = event_json(event)
            details = ", ".join(f"{k}={v}" for k, v in shown.items() if k not in ("type", "event"))
            lines.append(Line("event", f"{shown['event']}{': ' + details if details else ''}"))
        lines += await _deliver(app, sim)
    return lines
