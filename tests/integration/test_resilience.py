"""Fail loud to practitioners, silent on the phone: a broken timer, message, channel or round never stops the rest."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import commands
from bot.app import App
from bot.channels.base import Capabilities, Channel, Outgoing, SendError
from bot.cli import simulate
from bot.commands import case_mode
from bot.dispatcher import Dispatcher
from bot.pipeline import Outcome
from bot.scheduler import MAX_TIMER_FAILURES, TimerRunner
from storage import inbound
from tests.conftest import START, World
from tests.integration.conftest import (
    CALM_ANSWERS,
    PHONE,
    PROMPT,
    alerts,
    answer_all,
    at,
    case_row,
    inbox,
    later,
    rows,
    scalar,
)

OTHER_PHONE = "+447700900456"
ORDINARY_REPLY = "Thanks, got it. Reply HELP for options."


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def refuse_inserts(app: App, table: str) -> None:
    """The disk refuses new rows of one table (a SQLite trigger): the real failure, not a mock."""
    async with app.db.transaction() as tx:
        await tx.execute(
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
        )
        await tx.commit()


async def accept_inserts(app: App, table: str) -> None:
    async with app.db.transaction() as tx:
        await tx.execute(f"DROP TRIGGER refuse_{table}")
        await tx.commit()


async def timer_row(world: World, kind: str, key_like: str = "%") -> dict[str, Any]:
    [row] = await rows(world.app, "SELECT * FROM timers WHERE kind = ? AND key LIKE ?", (kind, key_like))
    row["payload"] = json.loads(str(row["payload"]))
    return row


async def audit_actions(world: World, like: str) -> list[dict[str, object]]:
    return await rows(world.app, "SELECT action, case_id, detail FROM audit_log WHERE action LIKE ? ORDER BY id",
                      (like,))


async def in_checkin(world: World, address: str = PHONE) -> str:
    ref = await world.onboard(address)
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert await at(world, utc(2026, 11, 23, 10, 0)) == [PROMPT]
    return ref


async def at_last_question(world: World) -> str:
    """In a check-in, every question answered but the last, free-text one ("anything else?")."""
    ref = await in_checkin(world)
    await answer_all(world, CALM_ANSWERS[:-1])
    return ref


# ---- a failing timer ----


async def test_a_failing_timer_does_not_stop_an_escalation_due_later_in_the_same_run(world: World) -> None:
    ref = await world.onboard()
    case_id = (await case_row(world, ref))["id"]
    await commands.set_schedule(world.app, world.service_id, ref, "daily@20:00")  # nothing else falls due
    await world.say(PHONE, "blue kettle")  # urgent at 09:00: the duty rung is due at 09:05
    await world.deliver()
    world.clock.set(utc(2026, 11, 23, 9, 1))
    await commands.checkin_now(world.app, world.service_id, ref)  # a check-in timer due at 09:01
    await refuse_inserts(world.app, "checkins")  # ... which cannot start: its handler fails

    world.clock.set(utc(2026, 11, 23, 9, 6))
    await TimerRunner(world.app).run_due()
    await Dispatcher(world.app).drain()

    [text] = await inbox(world, world.duty)  # the escalation still fired, after the failed check-in
    assert f"Case {ref}: codeword" in text
    manual = await timer_row(world, "checkin", "%manual%")
    assert manual["done_at"] is None and manual["payload"]["failures"] == 1
    assert manual["due_at"] == "2026-11-23T09:08:00.000000Z"  # tried again in two minutes
    assert await audit_actions(world, "timer_failed:%") == [
        {"action": "timer_failed:checkin", "case_id": case_id, "detail": "IntegrityError"}
    ]
    assert world.sim.take() == []


async def test_a_failing_check_in_timer_backs_off_and_is_given_up_after_five_failures(world: World) -> None:
    ref = await world.onboard()
    await commands.set_schedule(world.app, world.service_id, ref, "daily@20:00")
    world.clock.set(utc(2026, 11, 23, 9, 1))
    await commands.checkin_now(world.app, world.service_id, ref)
    await refuse_inserts(world.app, "checkins")

    failures_seen = []
    for _ in range(MAX_TIMER_FAILURES):
        timer = await timer_row(world, "checkin", "%manual%")
        assert timer["done_at"] is None
        world.clock.set(datetime.fromisoformat(str(timer["due_at"])))
        assert await TimerRunner(world.app).run_due() == 0
        failures_seen.append((await timer_row(world, "checkin", "%manual%"))["payload"]["failures"])
    assert failures_seen == [1, 2, 3, 4, 5]

    given_up = await timer_row(world, "checkin", "%manual%")
    assert given_up["done_at"] is not None
    await accept_inserts(world.app, "checkins")
    assert await later(world, timedelta(hours=2)) == []  # it never fires again
    failed = await audit_actions(world, "timer_failed:%")
    assert [a["action"] for a in failed] == ["timer_failed:checkin"] * MAX_TIMER_FAILURES
    # Given up, it is not given up silently: her IDVA is told once.
    assert [(a["severity"], a["reason"]) for a in await alerts(world)] == [("high", "step_failed")]


async def test_a_cover_case_whose_theme_is_gone_gets_no_direct_question_and_her_idva_is_told(world: World) -> None:
    ref = await world.onboard()
    await case_mode.set_mode(world.app, world.service_id, ref, "cover", "salon", actor="test")
    async with world.app.db.transaction() as tx:  # a theme removed by a later release
        await tx.execute("UPDATE cases SET cover_theme = 'bakery' WHERE ref = ?", (ref,))
        await tx.commit()
    world.clock.set(utc(2026, 11, 23, 9, 1))
    await commands.checkin_now(world.app, world.service_id, ref)
    for _ in range(MAX_TIMER_FAILURES):
        timer = await timer_row(world, "checkin", "%manual%")
        world.clock.set(datetime.fromisoformat(str(timer["due_at"])))
        assert await TimerRunner(world.app).run_due() == 0
    assert await world.deliver() == []  # never the plain questions instead of her cover
    [alert] = await alerts(world)
    assert (alert["severity"], alert["reason"]) == ("high", "step_failed")
    assert [m for m in await inbox(world, world.idva) if f"Case {ref}: a scheduled step failed" in m]


async def test_a_failing_escalation_is_retried_beyond_five_failures_until_it_goes_through(world: World) -> None:
    ref = await world.onboard()
    await world.say(PHONE, "blue kettle")
    await world.deliver()
    assert len(await inbox(world, world.idva)) == 1
    await refuse_inserts(world.app, "alert_notifications")  # no rung can be recorded for a while

    world.clock.set(utc(2026, 11, 23, 9, 5))
    for _ in range(MAX_TIMER_FAILURES + 1):
        duty_rung = await timer_row(world, "escalate", "%:1")
        assert duty_rung["done_at"] is None  # an alert is never given up on
        world.clock.set(max(world.clock.now(), datetime.fromisoformat(str(duty_rung["due_at"]))))
        await TimerRunner(world.app).run_due()
    duty_rung = await timer_row(world, "escalate", "%:1")
    assert duty_rung["done_at"] is None and duty_rung["payload"]["failures"] == MAX_TIMER_FAILURES + 1
    assert await inbox(world, world.duty) == []

    await accept_inserts(world.app, "alert_notifications")
    world.clock.set(datetime.fromisoformat(str(duty_rung["due_at"])))
    await world.deliver()
    [text] = await inbox(world, world.duty)
    assert f"Case {ref}: codeword" in text
    assert [a["action"] for a in await audit_actions(world, "timer_failed:%")].count("timer_failed:escalate") >= 6


# ---- a message that cannot be processed ----


@pytest.mark.parametrize("table", ["answers", "assessments"])
async def test_message_that_fails_processing_is_kept_flagged_and_the_idva_told(world: World, table: str) -> None:
    ref = await at_last_question(world)
    await refuse_inserts(world.app, table)
    text = "he came back last night"

    handled = await world.say(PHONE, text, provider_id="SM-cannot-process")

    assert handled.outcome is Outcome.FAILED
    [kept] = await rows(world.app, "SELECT * FROM inbound_messages WHERE provider_id = 'SM-cannot-process'")
    assert kept["failed"] == 1 and kept["case_id"] == (await case_row(world, ref))["id"]
    assert kept["body_enc"] is not None and text.encode() not in kept["body_enc"]
    assert world.app.crypto.decrypt(kept["body_enc"], inbound.BODY.at(kept["id"])) == text  # a person can read it
    assert await world.deliver() == []  # nothing odd on the survivor's phone
    assert [(a["severity"], a["reason"]) for a in await alerts(world)] == [("high", "processing_failed")]
    [told] = await inbox(world, world.idva)
    assert told.startswith(f"[HIGH] Case {ref}: a message from the survivor could not be processed")

    again = await world.say(PHONE, text, provider_id="SM-cannot-process")  # the provider redelivers
    assert again.outcome is Outcome.DUPLICATE
    assert await scalar(world.app, "SELECT count(*) FROM inbound_messages WHERE provider_id = 'SM-cannot-process'") == 1
    assert len(await alerts(world)) == 1


async def test_codeword_in_a_message_that_fails_processing_still_alerts_urgently(world: World) -> None:
    ref = await at_last_question(world)
    await refuse_inserts(world.app, "answers")

    handled = await world.say(PHONE, "he came back, blue kettle", provider_id="SM-codeword-fails")

    assert handled.outcome is Outcome.FAILED
    assert sorted((a["severity"], a["reason"]) for a in await alerts(world)) == [
        ("high", "processing_failed"),
        ("urgent", "codeword"),
    ]
    await world.deliver()
    told = await inbox(world, world.idva)
    assert any(t.startswith(f"[URGENT] Case {ref}: codeword") for t in told)
    assert any(t.startswith(f"[HIGH] Case {ref}: a message from the survivor") for t in told)
    assert (await world.say(PHONE, "he came back, blue kettle", provider_id="SM-codeword-fails")).outcome is (
        Outcome.DUPLICATE
    )
    assert len(await alerts(world)) == 2  # the redelivery raises nothing twice


# ---- a practitioner nobody can reach ----


class UnreachableFor:
    """A working practitioner channel, except that every send to one practitioner fails for good."""

    capabilities = Capabilities()

    def __init__(self, inner: Channel, practitioner: int) -> None:
        self.name = inner.name
        self.inner = inner
        self.address = str(practitioner)  # practitioners without an address are sent to by id

    async def send(self, address: str, message: Outgoing) -> str:
        if address == self.address:
            raise SendError("mailbox closed", retryable=False)
        return await self.inner.send(address, message)

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        await self.inner.delete(address, provider_ids)


def idva_unreachable(world: World) -> None:
    for name in ("inbox", "log"):
        world.app.practitioner_channels[name] = UnreachableFor(world.app.practitioner_channels[name], world.idva)


async def next_tick(world: World) -> None:
    """The shell's next round in the same second: fire what is due, deliver what is queued; the clock stands."""
    await world.deliver()
    await world.deliver()


async def test_alert_the_idva_cannot_receive_reaches_duty_at_once_not_after_five_minutes(world: World) -> None:
    ref = await world.onboard()
    idva_unreachable(world)
    await world.say(PHONE, "blue kettle")
    await next_tick(world)

    assert world.clock.now() == START
    [text] = await inbox(world, world.duty)
    assert text.startswith(f"[URGENT] Case {ref}: codeword")
    [alert] = await alerts(world)
    assert [n["role"] for n in alert["notified"]] == ["idva", "duty"]
    statuses = await rows(world.app, "SELECT practitioner_id, channel, status FROM outbox "
                                     "WHERE recipient = 'practitioner' ORDER BY id")
    assert statuses == [
        {"practitioner_id": world.idva, "channel": "log", "status": "failed"},  # inbox, then log: both refused
        {"practitioner_id": world.duty, "channel": "inbox", "status": "sent"},
    ]
    assert await inbox(world, world.manager) == []  # the rest of the ladder keeps its own time
    await later(world, timedelta(minutes=10))
    assert len(await inbox(world, world.manager)) == 1
    assert len(await inbox(world, world.duty)) == 1


async def test_one_rung_alert_the_idva_cannot_receive_goes_to_the_managers(world: World) -> None:
    ref = await world.onboard()
    idva_unreachable(world)
    await world.say(PHONE, "pasta")  # quick exit: a raised alert, for the IDVA alone
    await next_tick(world)

    [alert] = await alerts(world)
    assert (alert["severity"], alert["reason"]) == ("raised", "quick_exit")
    assert [n["role"] for n in alert["notified"]] == ["idva", "manager"]
    [text] = await inbox(world, world.manager)
    assert text.startswith(f"[RAISED] Case {ref}: quick exit used")
    assert await inbox(world, world.duty) == []
    assert await inbox(world, world.idva) == []


# ---- a dispatcher round that raises ----


class StumblingDispatcher(Dispatcher):
    """Its first round fails as a locked database would; later rounds are the real thing."""

    stumbles = 1

    async def start_round(self, case_id: int | None = None) -> int:
        if self.stumbles:
            self.stumbles -= 1
            raise sqlite3.OperationalError("database is locked")
        return await super().start_round(case_id)


async def test_dispatcher_keeps_delivering_after_a_round_fails(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    ref = await world.onboard()
    await world.say(PHONE, "blue kettle")  # an urgent alert waits in the outbox
    stop = asyncio.Event()
    dispatcher = StumblingDispatcher(world.app)
    running = asyncio.create_task(dispatcher.run_forever(stop, idle=0.05))
    try:
        async with asyncio.timeout(5):
            while not await rows(world.app, "SELECT body FROM inbox WHERE practitioner_id = ?", (world.idva,)):
                await asyncio.sleep(0.02)
        assert not running.done()
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=5)

    assert dispatcher.stumbles == 0
    [text] = await inbox(world, world.idva)
    assert text.startswith(f"[URGENT] Case {ref}: codeword")
    assert [d.message.text for d in world.sim.take()] == [ORDINARY_REPLY]
    failed = [r.getMessage() for r in caplog.records if r.name == "safecheck.dispatcher"]
    assert "dispatcher round failed error=OperationalError failures=1" in failed


# ---- simulate touches one case only ----


async def test_simulate_delivers_only_the_simulated_cases_messages_and_alerts(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = await world.onboard(PHONE)
    theirs = await world.onboard(OTHER_PHONE)
    for ref in (mine, theirs):
        await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    world.clock.set(utc(2026, 11, 23, 10, 0))
    await TimerRunner(world.app).run_due()  # both check-ins start: two prompts queued, none sent
    for phone in (PHONE, OTHER_PHONE):
        await world.say(phone, "yes, blue kettle")  # an alert for each case, queued too
    capsys.readouterr()

    mine_id = (await case_row(world, mine))["id"]
    await simulate.deliver(world.app, world.sim, simulate.Printer(as_json=True), mine_id, PHONE)

    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    replies = [p["text"] for p in printed if p["type"] == "reply"]
    assert replies and replies[0] == PROMPT
    assert world.sim.take() == []  # everything delivered was this case's, and was printed
    theirs_id = (await case_row(world, theirs))["id"]
    pending = await rows(world.app, "SELECT status, message FROM outbox WHERE recipient = 'survivor' "
                                    "AND case_id = ? AND created_at >= '2026-11-23T10' ORDER BY id", (theirs_id,))
    assert pending and {p["status"] for p in pending} == {"pending"}
    assert json.loads(pending[0]["message"])["key"].startswith("Hi, it's {sender}.")  # their prompt waits
    their_alerts = await rows(world.app, "SELECT o.status FROM outbox o JOIN alerts a ON a.id = o.alert_id "
                                         "WHERE a.case_id = ?", (theirs_id,))
    assert their_alerts == [{"status": "pending"}]
    told = await inbox(world, world.idva)
    assert [t for t in told if f"Case {mine}:" in t] and not [t for t in told if f"Case {theirs}:" in t]


# ---- the codeword's message is not kept raw ----


async def test_codeword_message_keeps_no_raw_body_but_its_free_text_answer_is_recorded(world: World) -> None:
    ref = await at_last_question(world)
    text = "Zebedee came by, blue kettle"
    handled = await world.say(PHONE, text, provider_id="SM-codeword-answer")
    assert handled.outcome is Outcome.PROCESSED
    assert (await world.deliver())[-1] == "Thanks, that's everything. Take care."

    [message] = await rows(world.app, "SELECT body_enc, failed FROM inbound_messages "
                                      "WHERE provider_id = 'SM-codeword-answer'")
    assert message == {"body_enc": None, "failed": 0}
    kept_bodies = await scalar(world.app, "SELECT count(*) FROM inbound_messages WHERE body_enc IS NOT NULL "
                                          "AND case_id IS NOT NULL")
    assert kept_bodies > 0  # ordinary answers' messages are kept: only the codeword's is not
    shown = await commands.show_case(world.app, world.service_id, ref, world.idva)
    [checkin] = shown["checkins"]
    assert {"question": "anything_else", "options": [], "text": text, "unanswered": False} in checkin["answers"]
    assert ("urgent", "codeword") in [(a["severity"], a["reason"]) for a in await alerts(world)]
