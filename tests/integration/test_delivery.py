"""The outbox: written with its cause in one transaction, delivered at least once, retried, never dropped."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import commands
from bot.channels.base import Capabilities, Outgoing
from bot.dispatcher import MAX_ATTEMPTS, Dispatcher
from bot.pipeline import Outcome
from tests.conftest import START, World
from tests.integration.conftest import (
    PHONE,
    PROMPT,
    FailingChannel,
    FlakyChannel,
    alerts,
    inbox,
    later,
    rows,
    scalar,
)

LONDON = ZoneInfo("Europe/London")
SAFE_NOW_QUESTION = "Thanks. First one:\nAre you safe right now?\n1 Yes\n2 No\n3 Not sure"


async def in_checkin(world: World) -> str:
    ref = await world.onboard()
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    assert await later(world, timedelta(hours=1)) == [PROMPT]
    return ref


async def codeword_alert(world: World) -> int:
    await world.say(PHONE, "blue kettle")
    [alert] = await alerts(world)
    return int(alert["id"])


async def practitioner_outbox(world: World, practitioner: int) -> list[dict[str, object]]:
    return await rows(
        world.app,
        "SELECT channel, position, status, attempts, last_error, alert_id FROM outbox "
        "WHERE recipient = 'practitioner' AND practitioner_id = ? ORDER BY id",
        (practitioner,),
    )


# ---- same transaction ----


async def test_reply_and_answer_are_committed_together_before_any_delivery(world: World) -> None:
    await in_checkin(world)
    await world.say(PHONE, "1")
    # Nothing was delivered yet, yet both the answer and the reply it caused are on disk.
    with sqlite3.connect(world.settings.db_path) as other:
        answers = other.execute("SELECT question FROM answers").fetchall()
        pending = other.execute(
            "SELECT count(*) FROM outbox WHERE recipient = 'survivor' AND status = 'pending'"
        ).fetchone()[0]
    assert answers == [("safe_to_talk",)]
    assert pending == 1
    assert await world.deliver() == [SAFE_NOW_QUESTION]


async def test_failed_outbox_write_leaves_no_answer_and_redelivery_succeeds(world: World) -> None:
    await in_checkin(world)
    async with world.app.db.transaction() as tx:  # the disk refuses outbox rows for a moment
        await tx.execute(
            "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
        )
        await tx.commit()
    inbound_before = await scalar(world.app, "SELECT count(*) FROM inbound_messages")
    convo_before = await rows(world.app, "SELECT state, checkin_id FROM conversations")

    with pytest.raises(sqlite3.DatabaseError, match="disk trouble"):
        await world.say(PHONE, "1", provider_id="SM-retry-me")

    assert await scalar(world.app, "SELECT count(*) FROM answers") == 0
    assert await scalar(world.app, "SELECT count(*) FROM inbound_messages") == inbound_before
    assert await rows(world.app, "SELECT state, checkin_id FROM conversations") == convo_before

    async with world.app.db.transaction() as tx:
        await tx.execute("DROP TRIGGER refuse_outbox")
        await tx.commit()
    # The provider redelivers (the webhook got an error): it is processed now, not taken for a duplicate.
    assert (await world.say(PHONE, "1", provider_id="SM-retry-me")).outcome is Outcome.PROCESSED
    assert await scalar(world.app, "SELECT count(*) FROM answers") == 1
    assert await world.deliver() == [SAFE_NOW_QUESTION]


async def test_failed_alert_write_loses_neither_the_message_nor_the_alert(world: World) -> None:
    await world.onboard()
    async with world.app.db.transaction() as tx:
        await tx.execute(
            "CREATE TRIGGER refuse_alerts BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
        )
        await tx.commit()
    with pytest.raises(sqlite3.DatabaseError):
        await world.say(PHONE, "blue kettle", provider_id="SM-codeword")
    assert await scalar(world.app, "SELECT count(*) FROM inbound_messages WHERE provider_id = 'SM-codeword'") == 0
    assert await world.deliver() == []  # no ordinary-looking reply without its alert

    async with world.app.db.transaction() as tx:
        await tx.execute("DROP TRIGGER refuse_alerts")
        await tx.commit()
    assert (await world.say(PHONE, "blue kettle", provider_id="SM-codeword")).outcome is Outcome.PROCESSED
    [alert] = await alerts(world)
    assert alert["reason"] == "codeword"
    assert len(await world.deliver()) == 1
    assert len(await inbox(world, world.idva)) == 1


# ---- delivery ----


async def test_dispatcher_delivers_each_queued_item_and_marks_it_sent(world: World) -> None:
    await in_checkin(world)
    await world.say(PHONE, "1")
    assert await world.deliver() == [SAFE_NOW_QUESTION]
    [sent] = await rows(world.app, "SELECT status, provider_id, sent_at, address_enc FROM outbox "
                                   "ORDER BY id DESC LIMIT 1")
    assert sent["status"] == "sent" and sent["provider_id"].startswith("sim-out-") and sent["sent_at"]
    assert sent["address_enc"] is None  # the copy of the address goes once delivered
    assert await Dispatcher(world.app).run_once() == 0
    assert world.sim.take() == []  # delivered once, not again


async def test_retryable_survivor_send_error_is_retried_with_backoff_then_succeeds(world: World) -> None:
    await in_checkin(world)
    flaky = FlakyChannel(world.sim, failures=3)
    world.app.survivor_channels["simulator"] = flaky
    await world.say(PHONE, "1")

    assert await world.deliver() == []
    [item] = await rows(world.app, "SELECT * FROM outbox WHERE status = 'pending'")
    assert item["attempts"] == 1 and item["last_error"] == "HTTP 503"
    first_retry = item["next_attempt_at"]

    assert await later(world, timedelta(milliseconds=500)) == []  # not due yet: no hammering
    assert flaky.attempts == 1
    assert await later(world, timedelta(milliseconds=500)) == []  # 1 s after the first failure
    assert flaky.attempts == 2
    [item] = await rows(world.app, "SELECT * FROM outbox WHERE status = 'pending'")
    assert item["next_attempt_at"] > first_retry
    assert await later(world, timedelta(seconds=1)) == []  # backoff doubled to 2 s: not yet
    assert flaky.attempts == 2
    assert await later(world, timedelta(seconds=1)) == []  # third failure at +2 s
    assert await later(world, timedelta(seconds=4)) == [SAFE_NOW_QUESTION]
    assert flaky.attempts == 4
    [done] = await rows(world.app, "SELECT status, attempts FROM outbox ORDER BY id DESC LIMIT 1")
    assert done == {"status": "sent", "attempts": 4}
    assert await alerts(world) == []


async def test_provider_retry_after_is_honoured(world: World) -> None:
    await in_checkin(world)
    world.app.survivor_channels["simulator"] = FlakyChannel(world.sim, failures=1, retry_after=30)
    await world.say(PHONE, "1")
    assert await world.deliver() == []
    assert await later(world, timedelta(seconds=29)) == []
    assert await later(world, timedelta(seconds=1)) == [SAFE_NOW_QUESTION]


async def test_messages_written_after_one_that_failed_wait_for_its_retry(world: World) -> None:
    await in_checkin(world)
    world.app.survivor_channels["simulator"] = FlakyChannel(world.sim, failures=1, retry_after=30)
    await world.say(PHONE, "1")  # the next question: its send fails and waits 30 s
    assert await world.deliver() == []
    await world.say(PHONE, "HELP")  # two more messages, due at once, written after the failed one
    assert await world.deliver() == []  # they wait: the phone must not get them first
    assert await later(world, timedelta(seconds=29)) == []
    delivered = await later(world, timedelta(seconds=1))
    assert delivered[0] == SAFE_NOW_QUESTION and len(delivered) == 3  # in the order they were written


async def test_retryable_practitioner_error_is_retried_until_the_alert_arrives(world: World) -> None:
    await world.onboard()
    real_inbox = world.app.practitioner_channels["inbox"]
    world.app.practitioner_channels["inbox"] = FlakyChannel(real_inbox, failures=2)
    await codeword_alert(world)
    await world.deliver()
    assert await inbox(world, world.idva) == []
    await later(world, timedelta(seconds=1))
    await later(world, timedelta(seconds=2))
    [text] = await inbox(world, world.idva)
    assert ": codeword" in text
    [row] = await practitioner_outbox(world, world.idva)
    assert (row["channel"], row["status"]) == ("inbox", "sent")


async def test_permanent_practitioner_failure_falls_back_to_the_next_channel(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await world.onboard()
    dead = FailingChannel("inbox", retryable=False, reason="mailbox gone")
    world.app.practitioner_channels["inbox"] = dead
    alert_id = await codeword_alert(world)
    await world.deliver()

    [row] = await practitioner_outbox(world, world.idva)
    assert (row["channel"], row["status"], row["last_error"]) == ("log", "sent", "mailbox gone")
    assert len(dead.attempts) == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "safecheck.alerts"]
    assert any(f"practitioner={world.idva} alert={alert_id}" in line and "reason=codeword" in line for line in lines)


async def test_practitioner_channel_that_keeps_failing_moves_to_the_next_channel(world: World) -> None:
    await world.onboard()
    flaky = FailingChannel("inbox", retryable=True, reason="timeout")
    world.app.practitioner_channels["inbox"] = flaky
    await codeword_alert(world)
    for _ in range(MAX_ATTEMPTS + 2):
        await later(world, timedelta(minutes=1))
    assert flaky.attempts.count(str(world.idva)) == MAX_ATTEMPTS
    [row] = await practitioner_outbox(world, world.idva)
    assert (row["channel"], row["status"]) == ("log", "sent")


async def test_alert_failing_on_every_channel_is_visible_and_still_escalates(world: World) -> None:
    await world.onboard()
    world.app.practitioner_channels["inbox"] = FailingChannel("inbox", retryable=False)
    world.app.practitioner_channels["log"] = FailingChannel("log", retryable=False)
    alert_id = await codeword_alert(world)
    await world.deliver()

    [row] = await practitioner_outbox(world, world.idva)
    assert (row["status"], row["channel"], row["alert_id"]) == ("failed", "log", alert_id)
    assert row["last_error"] == "provider unavailable"
    failures = await rows(world.app, "SELECT alert_id FROM outbox WHERE status = 'failed'")
    assert failures == [{"alert_id": alert_id}]

    await later(world, timedelta(minutes=5))
    await later(world, timedelta(minutes=5))
    [alert] = await alerts(world)
    assert alert["acknowledged_at"] is None
    assert [n["role"] for n in alert["notified"]] == ["idva", "duty", "manager"]
    statuses = {(r["practitioner_id"], r["status"]) for r in await rows(
        world.app, "SELECT practitioner_id, status FROM outbox WHERE recipient = 'practitioner'")}
    assert statuses == {(world.idva, "failed"), (world.duty, "failed"), (world.manager, "failed")}


async def test_dead_survivor_channel_raises_a_channel_dead_alert_for_the_idva(world: World) -> None:
    ref = await world.onboard()
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    world.app.survivor_channels["simulator"] = FailingChannel("simulator", retryable=False, reason="number unreachable")
    await later(world, timedelta(hours=1))

    [prompt] = await rows(world.app, "SELECT status, last_error, address_enc FROM outbox WHERE recipient = 'survivor' "
                                     "ORDER BY id DESC LIMIT 1")
    assert prompt == {"status": "failed", "last_error": "number unreachable", "address_enc": None}
    [alert] = await alerts(world)
    assert (alert["severity"], alert["reason"]) == ("raised", "channel_dead")
    assert [n["role"] for n in alert["notified"]] == ["idva"]
    [text] = await inbox(world, world.idva)
    assert f"Case {ref}: messages can no longer be delivered" in text


class ClockedFailingChannel(FailingChannel):
    """A provider that is down, noting when each attempt was made."""

    def __init__(self, world: World) -> None:
        super().__init__("simulator", retryable=True, reason="HTTP 500")
        self.world = world
        self.times: list[datetime] = []

    async def send(self, address: str, message: Outgoing) -> str:
        self.times.append(self.world.clock.now())
        return await super().send(address, message)


async def test_a_provider_down_for_minutes_delays_her_reply_but_loses_nothing_and_raises_no_alert(
    world: World,
) -> None:
    await world.onboard()
    down = ClockedFailingChannel(world)
    world.app.survivor_channels["simulator"] = down
    await world.say(PHONE, "HELP")
    for _ in range(20):  # ten minutes of failures, tried again and again with capped backoff
        assert await later(world, timedelta(seconds=30)) == []
    assert len(down.times) > MAX_ATTEMPTS

    world.app.survivor_channels["simulator"] = world.sim  # the provider is back
    [help_text] = await later(world, timedelta(minutes=5))
    assert help_text.startswith("Options:")
    assert await alerts(world) == []  # an outage is not a dead channel


async def test_a_reply_is_retried_only_inside_her_safe_times_and_expires_after_a_day(world: World) -> None:
    await world.onboard(windows="1")  # mornings, 9-12 London: it is 09:00 now
    down = ClockedFailingChannel(world)
    world.app.survivor_channels["simulator"] = down
    await world.say(PHONE, "HELP")
    for _ in range(30 * 13):  # a day and a bit, in two-minute steps
        await later(world, timedelta(minutes=2))
    assert down.times and all(9 <= t.astimezone(LONDON).hour < 12 for t in down.times)
    assert max(down.times) < START + timedelta(days=1)  # a day after she asked, it is no use to her
    [row] = await rows(world.app, "SELECT status, last_error FROM outbox WHERE message LIKE '%Options:%'")
    assert (row["status"], row["last_error"]) == ("failed", "expired: HTTP 500")
    assert await alerts(world) == []


async def test_a_checkin_question_is_retried_until_its_checkin_expires_then_missed_by_the_system(
    world: World,
) -> None:
    ref = await world.onboard()
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    down = ClockedFailingChannel(world)
    world.app.survivor_channels["simulator"] = down
    for _ in range(5 * 12):  # five hours in five-minute steps: the check-in's grace is three hours
        await later(world, timedelta(minutes=5))
    assert down.times and max(down.times) < START + timedelta(hours=1 + 3)  # due at 10:00, over at 13:00
    shown = await commands.show_case(world.app, world.service_id, ref, world.idva)
    assert [c["status"] for c in shown["checkins"]] == ["missed_system"]
    assert await alerts(world) == []


async def test_dead_survivor_channel_is_reported_once_not_for_every_message(world: World) -> None:
    ref = await world.onboard()
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    world.app.survivor_channels["simulator"] = FailingChannel("simulator", retryable=False)
    for _ in range(2 * 24):
        await later(world, timedelta(hours=1))
    dead = [a for a in await alerts(world) if a["reason"] == "channel_dead"]
    assert len(dead) == 1  # one open alert per case, not one per prompt and reminder (60-100 cases each)


async def test_checkins_that_never_reached_the_phone_do_not_count_as_missed_by_the_survivor(world: World) -> None:
    ref = await world.onboard()
    await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00")
    world.app.survivor_channels["simulator"] = FailingChannel("simulator", retryable=False)
    for _ in range(2 * 24):
        await later(world, timedelta(hours=1))
    assert [a for a in await alerts(world) if a["reason"] == "missed_twice"] == []
    shown = await commands.show_case(world.app, world.service_id, ref, world.idva)
    assert "missed" not in [c["status"] for c in shown["checkins"]]


# ---- a slow recipient holds up nobody else ----


class HangingChannel:
    """A provider that accepts the request and then does not answer until released."""

    capabilities = Capabilities()

    def __init__(self, name: str) -> None:
        self.name = name
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def send(self, address: str, message: Outgoing) -> str:
        self.started.set()
        await self.release.wait()
        return "late-1"

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        return None


async def test_a_hung_survivor_send_does_not_delay_an_alert_to_the_idva(world: World) -> None:
    await in_checkin(world)
    hung = HangingChannel("simulator")
    world.app.survivor_channels["simulator"] = hung
    stop = asyncio.Event()
    dispatcher = Dispatcher(world.app)
    running = asyncio.create_task(dispatcher.run_forever(stop, idle=0.05))
    try:
        await world.say(PHONE, "1")  # the next question goes to the phone, whose provider hangs
        async with asyncio.timeout(5):
            await hung.started.wait()
        await world.say(PHONE, "blue kettle")  # the codeword, while that send is still in flight
        async with asyncio.timeout(5):
            while not await inbox(world, world.idva):
                await asyncio.sleep(0.02)
        assert not hung.release.is_set()  # the alert went out while the survivor's send still hung
        hung.release.set()
        async with asyncio.timeout(5):
            while await scalar(world.app, "SELECT count(*) FROM outbox WHERE status = 'pending'"):
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        hung.release.set()
        await asyncio.wait_for(running, timeout=5)
    statuses = await rows(world.app, "SELECT DISTINCT status FROM outbox")
    assert statuses == [{"status": "sent"}]


async def test_many_survivors_at_once_each_message_is_sent_exactly_once(world: World) -> None:
    """Rounds overlap with deliveries still being recorded: no outbox item may go out twice."""
    phones = [f"+4477009001{i:02d}" for i in range(24)]
    codes = [(await world.enrol(phone))[1] for phone in phones]
    stop = asyncio.Event()
    running = asyncio.create_task(Dispatcher(world.app).run_forever(stop, idle=0.02))

    async def onboard(phone: str, code: str) -> None:
        # Set-up (consent, times, missed check-ins), then ordinary messages that each get a reply.
        for line in [code, "YES", "1 2 3", "1", "hello", "HELP", "hello again", "HELP"]:
            await world.say(phone, line)
            await asyncio.sleep(0)  # let the dispatcher's rounds interleave with the answers

    try:
        await asyncio.gather(*(onboard(p, c) for p, c in zip(phones, codes, strict=True)))
        async with asyncio.timeout(10):
            while await scalar(world.app, "SELECT count(*) FROM outbox WHERE status = 'pending'"):
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=5)
    sent_ids = [d.message.meta["outbox_id"] for d in world.sim.take()]
    assert len(sent_ids) == len(set(sent_ids))
    assert len(sent_ids) == await scalar(world.app, "SELECT count(*) FROM outbox WHERE status = 'sent'")
    assert len(sent_ids) >= 8 * len(phones)
