"""`safecheck simulate`: play a case's survivor through the real pipeline, one stdin line per message."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import uuid
from dataclasses import fields
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from bot import instance_lock
from bot.app import App
from bot.bootstrap import open_app
from bot.channels.segments import segments
from bot.channels.simulator import SimulatorChannel
from bot.commands import UserError, case_by_ref, operator, service_id
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.pipeline import InboundMessage, handle_inbound
from bot.scheduler import TimerRunner
from flows.events import CheckinCompleted, Event
from storage import audit, cases, outbox

SECRET_FIELDS = {"phrase"}  # never printed, even to the operator's terminal


def event_json(event: Event) -> dict[str, Any]:
    """An event as JSON for managers testing a question set. Secret phrases are never printed."""
    out: dict[str, Any] = {"type": "event", "event": type(event).__name__}
    if isinstance(event, CheckinCompleted):
        out.update(
            level=event.assessment.level.label,
            score=event.assessment.score,
            change=event.change.change.value,
            complete=event.complete,
        )
        return out
    for f in fields(event):
        value = getattr(event, f.name)
        if f.name in SECRET_FIELDS or (value is None and f.default is None):
            continue  # a secret; or an optional detail this event does not have
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, timedelta):
            value = int(value.total_seconds())
        elif isinstance(value, tuple) and all(isinstance(item, str) for item in value):
            value = list(value)  # codes, such as an alert's facts
        elif not isinstance(value, (str, int, bool)):
            value = str(value)
        out[f.name] = value
    return out


class Printer:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def reply(self, text: str) -> None:
        if self.as_json:
            # What the reply would cost as an SMS: managers keep question sets short and GSM-7.
            cost = segments(text)
            line = {"type": "reply", "text": text, "segments": cost.count, "encoding": cost.encoding}
            print(json.dumps(line, ensure_ascii=False), flush=True)
        else:
            print("\n".join(f"< {line}" for line in text.splitlines()), flush=True)

    def event(self, event: Event) -> None:
        if self.as_json:
            print(json.dumps(event_json(event), ensure_ascii=False), flush=True)


async def deliver(
    app: App, sim: SimulatorChannel, printer: Printer, case_id: int, address: str, after: int = 0
) -> None:
    """Fire this case's timers and deliver this case's messages only: other survivors are not ours to touch.

    Only rows written after `after` go: what was queued before a simulation on a live case began belongs
    to her real channel and is left exactly as it was, for `serve` to send.
    """
    await TimerRunner(app.core).run_due(case_id=case_id)
    dispatcher = Dispatcher(app, after=after)
    for _ in range(20):  # bounded: a row that cannot be recorded stays due
        if not await dispatcher.run_once(case_id=case_id):
            break
    for item in sim.take(address):
        printer.reply(item.message.text)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    sim = SimulatorChannel()
    printer = Printer(args.json)
    async with open_app(settings, simulator=sim, moving_clock=True) as app:
        async with app.db.transaction() as tx:
            svc = await service_id(tx, args.service)
            case = await case_by_ref(tx, args.case, svc)
        address = cases.address_of(app.crypto, case)
        if address is None:
            raise UserError(f"case {case.ref} has no contact address any more (consent withdrawn)")
        live = case.channel != sim.name
        if live and not args.force:
            raise UserError(
                f"case {case.ref} is on {case.channel}, a live channel: simulate would answer as her on her real case "
                "(its alerts are real); add --force for that (her queued messages are left for serve to send)"
            )
        # Forced on a live case: no serve may send this simulation's replies to her real phone meanwhile.
        with instance_lock.hold(settings.db_path, "simulate") if live else contextlib.nullcontext():
            await simulate(app, sim, printer, case, address, live)
    return 0


async def simulate(
    app: App, sim: SimulatorChannel, printer: Printer, case: cases.Case, address: str, live: bool
) -> None:
    async with app.db.transaction() as tx:
        after = await outbox.last_id(tx) if live else 0
        detail = f"channel={case.channel}" + (" forced" if live else "")
        await audit.log(tx, app.clock.now(), operator(), "simulate_started", case.id, detail)
        await tx.commit()
    if live:
        print(f"(simulating on {case.channel}: replies show here, not on her phone; alerts are real)", file=sys.stderr)
    # Whatever the case's real channel, this simulation's replies are captured here instead of being sent.
    app.survivor_channels[case.channel] = sim
    try:
        await deliver(app, sim, printer, case.id, address, after)
        interactive = sys.stdin.isatty()
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = sys.stdin.readline()
            if not line:
                break
            text = line.rstrip("\n")
            said = InboundMessage(case.channel, address, text, f"sim-{uuid.uuid4().hex}")
            handled = await handle_inbound(app.core, said)
            for event in handled.events:
                printer.event(event)
            await deliver(app, sim, printer, case.id, address, after)
    finally:
        if live:  # a reply of ours still queued (behind one of hers) must never reach her phone later
            async with app.db.transaction() as tx:
                await outbox.cancel_for_survivor_after(tx, case.id, after, "simulation ended")
                await tx.commit()
