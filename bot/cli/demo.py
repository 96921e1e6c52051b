"""`safecheck demo`: the whole loop in a terminal — you play the survivor, you watch the IDVA's side."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bot import commands
from bot.app import App
from bot.bootstrap import open_app
from bot.channels.base import Channel, Outgoing
from bot.channels.simulator import Delivered, SimulatorChannel
from bot.clock import SystemClock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.pipeline import InboundMessage, handle_inbound
from bot.scheduler import TimerRunner, Waker
from safety.model import Severity
from safety.policy import DEFAULT_ALERT_POLICY, parse_alert_policy
from storage import alerts, audit, outbox, services
from storage.db import Database
from storage.keys import create_key_file

PHONE = "+447700900123"
DEMO_SECRETS = {"exit_word": "pasta", "codeword": "blue kettle", "pin": "", "duress_pin": ""}
SCRIPT = [
    "{code}",
    "YES",
    "00:00-24:00",  # any hour, so the scripted demo can check in whenever it is run
    "1",
    "/checkin",
    "1",
    "yes",
    "a little",
    "2",
    "none of these",
    "no",  # two of the rotating DASH questions
    "no",
    "1",
    "I'm fine, just need the blue kettle back",
    "/wait",
    "/ack",
    "/quit",
]


def fast_policy(speed: float) -> str:
    """The default ladder, sped up so a demo shows escalation in seconds rather than minutes."""
    raw = {
        severity.value: [
            {"after_minutes": step.after.total_seconds() / 60 / speed, "role": step.role.value}
            for step in DEFAULT_ALERT_POLICY.ladder(severity)
        ]
        for severity in Severity
    }
    parse_alert_policy(raw)  # validate what we built
    return json.dumps(raw)


class Screen:
    """Prints both sides: the survivor's phone and the practitioners' alerts."""

    def phone(self, item: Delivered) -> None:
        print("\n".join(f"  📱 {line}" for line in item.message.text.splitlines()), flush=True)

    def practitioner(self, who: str, text: str) -> None:
        print(f"  🔔 [{who}] {text}", flush=True)


class WatchedInbox:
    """Wraps the inbox channel so the demo shows each alert as it is delivered."""

    name = "inbox"

    def __init__(self, inner: Channel, screen: Screen, names: dict[str, str]) -> None:
        self.inner = inner
        self.capabilities = inner.capabilities
        self.screen = screen
        self.names = names

    async def send(self, address: str, message: Outgoing) -> str:
        provider_id = await self.inner.send(address, message)
        self.screen.practitioner(self.names.get(address, address), message.text)
        return provider_id

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        return None


async def setup(settings: Settings, speed: float) -> tuple[dict[str, str], str, str]:
    create_key_file(settings.key_file)
    db = await Database.open(settings.db_path, create=True)
    try:
        async with db.transaction() as tx:
            now = SystemClock().now()
            svc = await services.create(tx, "demo", "Demo IDVA service", now)
            await services.update(tx, svc, alert_policy=fast_policy(speed))
            await audit.log(tx, now, "demo", "service_created")
            await tx.commit()
    finally:
        await db.close()
    async with open_app(settings) as app:
        names = {}
        for name, role in (("Sam (IDVA)", "idva"), ("Dee (duty IDVA)", "duty"), ("Max (manager)", "manager")):
            pid = await commands.add_practitioner(app, svc, name, role, ["inbox"])
            names[str(pid)] = name
        ref, code = await commands.enrol(
            app, svc, idva=1, channel="simulator", address=PHONE, name="Jo Demo", intake="high"
        )
        # Her words are chosen in person with her IDVA, never over her channel.
        await commands.set_secrets(app, svc, ref, DEMO_SECRETS, actor="demo")
    return names, ref, code


async def read_line(auto: list[str] | None, pace: float) -> str | None:
    if auto is not None:
        if not auto:
            return None
        await asyncio.sleep(pace)
        line = auto.pop(0)
        print(f"> {line}", flush=True)
        return line
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.rstrip("\n") if line else None


async def settled(app: App, seconds: float = 10.0) -> None:
    """Wait (a bounded time) until nothing is left for the dispatcher to send now."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        async with app.db.reading() as tx:
            if not await outbox.due(tx, app.clock.now(), limit=1):
                return
        await asyncio.sleep(0.02)


async def command(app: App, line: str, ref: str, speed: float) -> bool:
    """Demo-only commands (start with /). Return False to quit."""
    if line == "/quit":
        return False
    if line == "/checkin":
        print(f"({await commands.checkin_now(app, 1, ref)})", flush=True)
        await TimerRunner(app.core).run_due()  # start it now, not at the waker's next tick
    elif line == "/wait":
        seconds = 5 * 60 / speed + 1.5
        print(
            f"(waiting {seconds:.0f} s: nobody has acknowledged, so the alert escalates to the duty IDVA)", flush=True
        )
        await asyncio.sleep(seconds)
    elif line == "/ack":
        async with app.db.transaction() as tx:
            open_alerts = await alerts.list_for_service(tx, 1, open_only=True)
        for alert in open_alerts:
            print(f"(Sam acknowledges alert {alert.id}) {await commands.ack(app, alert.id, 1)}", flush=True)
    else:
        print("demo commands: /checkin /wait /ack /quit", flush=True)
    return True


def check_numbers(fast: float, pace: float) -> None:
    """Refuse, before anything is created, a speed-up or a pace that makes no sense (NaN fails both)."""
    if not 1 <= fast <= 1000:
        raise commands.UserError(f"--fast must be a speed-up from 1 (real time) to 1000, not {fast:g}")
    if not 0 <= pace <= 60:
        raise commands.UserError(f"--pace must be from 0 to 60 seconds between scripted lines, not {pace:g}")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    check_numbers(args.fast, args.pace)
    folder = Path(tempfile.mkdtemp(prefix="safecheck-demo-"))
    settings = replace(settings, db_path=folder / "demo.db", key_file=folder / "demo.key")
    auto = args.auto or not sys.stdin.isatty()
    speed = max(1.0, args.fast * (5 if auto else 1))
    names, ref, code = await setup(settings, speed)
    screen = Screen()
    sim = SimulatorChannel(listener=screen.phone)
    print(f"Safecheck demo — data in {folder} (a fresh SQLite file; no tokens, no internet).")
    print(f"Case {ref} is enrolled (intake: high). You are the survivor on {PHONE}; the IDVA gave you the code {code}.")
    print("You chose your words with your IDVA in person: exit word 'pasta', codeword 'blue kettle'.")
    print("Set-up asks for consent, safe times (type 00:00-24:00 so the demo can check in at any hour)")
    print("and whether missed check-ins may be flagged. Then type /checkin for a check-in,")
    print("use your codeword inside any answer, or your exit word. /wait lets escalation run; /ack acknowledges.")
    print(f"Escalation is sped up {speed:g}x for the demo. Lines with 🔔 are what practitioners receive.\n")
    async with open_app(settings, simulator=sim, moving_clock=True) as app:
        inbox = app.practitioner_channels["inbox"]
        app.practitioner_channels["inbox"] = WatchedInbox(inbox, screen, names)
        stop = asyncio.Event()
        runner = TimerRunner(app.core)
        waker = Waker(runner, interval=0.5)
        waker.start()
        dispatcher = asyncio.create_task(Dispatcher(app).run_forever(stop, idle=0.2))
        if auto:
            print("(stdin is not a terminal or --auto was given: playing a scripted survivor)\n", flush=True)
        script = [line.format(code=code) for line in SCRIPT] if auto else None
        n = 0
        try:
            while (line := await read_line(script, args.pace)) is not None:
                if line.startswith("/"):
                    if not await command(app, line.strip(), ref, speed):
                        break
                else:
                    n += 1
                    await handle_inbound(app.core, InboundMessage("simulator", PHONE, line, f"demo-{n}"))
                await asyncio.sleep(min(0.3, args.pace))  # let the replies show before the next prompt
                if auto:
                    await settled(app)  # a scripted survivor reads the phone before answering
        finally:
            await asyncio.sleep(0.5)
            stop.set()
            await waker.stop()
            await dispatcher
        async with app.db.transaction() as tx:
            summary = await alerts.list_for_service(tx, 1)
        print(f"\nDemo over: {len(summary)} alert(s) raised; data left in {folder}.")
    return 0
