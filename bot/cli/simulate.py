"""`safecheck simulate`: play a case's survivor through the real pipeline, one stdin line per message."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from dataclasses import fields
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from bot.app import App
from bot.bootstrap import open_app
from bot.channels.segments import segments
from bot.channels.simulator import SimulatorChannel
from bot.commands import UserError, case_by_ref, service_id
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.pipeline import InboundMessage, handle_inbound
from bot.scheduler import TimerRunner
from flows.events import CheckinCompleted, Event
from storage import cases

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
        if f.name in SECRET_FIELDS:
            continue
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, timedelta):
            value = int(value.total_seconds())
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


async def deliver(app: App, sim: SimulatorChannel, printer: Printer, case_id: int, address: str) -> None:
    """Fire this case's timers and deliver this case's messages only: other survivors are not ours to touch."""
    await TimerRunner(app).run_due(case_id=case_id)
    dispatcher = Dispatcher(app)
    while await dispatcher.run_once(case_id=case_id):
        pass
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
        # Whatever the case's real channel, this case's replies are captured here instead of being sent.
        app.survivor_channels[case.channel] = sim
        await deliver(app, sim, printer, case.id, address)
        interactive = sys.stdin.isatty()
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = sys.stdin.readline()
            if not line:
                break
            text = line.rstrip("\n")
            handled = await handle_inbound(app, InboundMessage(case.channel, address, text, f"sim-{uuid.uuid4().hex}"))
            for event in handled.events:
                printer.event(event)
            await deliver(app, sim, printer, case.id, address)
    return 0
