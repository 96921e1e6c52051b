"""Sending with the real twilio client against the fake Twilio API: errors carry their retry policy."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import commands
from bot.channels.base import Outgoing, SendError
from bot.channels.sms_channel import SmsChannel
from bot.channels.sms_pacing import Pacer
from bot.dispatcher import Dispatcher
from tests.fakes.sms_harness import IDVA_PHONE, SURVIVOR, SmsWorld, sms_settings, sms_world
from tests.fakes.twilio_api import FakeTwilio

SERVICE_SID = "MG" + "a" * 32


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        yield world


async def outbox_rows(w: SmsWorld) -> list[dict[str, object]]:
    return await w.rows("SELECT status, attempts, last_error, next_attempt_at FROM outbox ORDER BY id")


async def test_a_429_is_retried_after_twilios_retry_after_and_then_delivered(w: SmsWorld) -> None:
    w.fake.fail_next(429, 20429, message="Too Many Requests", retry_after=30)
    status, _, _ = await w.text("+447700900999", "hello?")
    assert status == 200
    assert await w.deliver() == []
    [row] = await outbox_rows(w)
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "twilio http 429 error 20429")
    assert row["next_attempt_at"] == "2026-11-23T09:00:30.000000Z"
    w.clock.advance(timedelta(seconds=29))
    assert await w.deliver() == []
    w.clock.advance(timedelta(seconds=1))
    assert [m.to for m in await w.deliver()] == ["+447700900999"]


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, None), (502, 20503)])
async def test_a_server_error_is_retried_later(w: SmsWorld, status: int, code: int | None) -> None:
    w.fake.fail_next(status, code)
    await w.text("+447700900999", "hello?")
    assert await w.deliver() == []
    [row] = await outbox_rows(w)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    w.clock.advance(timedelta(seconds=1))
    assert len(await w.deliver()) == 1


async def test_a_call_that_outlasts_the_timeout_is_cut_and_retried(tmp_path: Path) -> None:
    async with sms_world(tmp_path, timeout=0.3) as w:
        w.fake.fail_next(201, delay=5.0)  # Twilio does not answer in time
        await w.text("+447700900999", "hello?")
        assert await w.deliver() == []
        [row] = await outbox_rows(w)
        assert (row["status"], row["last_error"]) == ("pending", "twilio timeout")
        w.clock.advance(timedelta(seconds=1))
        assert len(await w.deliver()) == 1


async def test_21610_on_send_fails_the_message_and_tells_the_idva_the_channel_is_dead(w: SmsWorld) -> None:
    ref = await w.onboard()
    w.fake.opted_out.add(SURVIVOR)  # e.g. the STOP reached Twilio but our webhook was down
    await commands.checkin_now(w.app, w.service_id, ref)
    sent = await w.deliver()
    assert [m.to for m in sent] == [IDVA_PHONE]
    assert sent[0].body == f"[RAISED] Case {ref}: messages can no longer be delivered to the survivor. Reply ACK {ref}"
    [failed] = await w.rows("SELECT last_error FROM outbox WHERE status = 'failed'")
    assert failed["last_error"] == "twilio http 400 error 21610"


async def test_a_number_that_is_not_a_mobile_is_dead_at_once(w: SmsWorld) -> None:
    ref = await w.onboard()
    before = w.fake.requests
    w.fake.not_mobile.add(SURVIVOR)
    await commands.checkin_now(w.app, w.service_id, ref)
    await w.deliver()
    [alert] = await commands.list_alerts(w.app, w.service_id, open_only=True)
    assert alert["reason"] == "channel_dead"
    assert w.fake.requests == before + 2  # the refused prompt and the IDVA's alert: no retries


async def test_errors_never_carry_the_number_or_the_text(w: SmsWorld, caplog: pytest.LogCaptureFixture) -> None:
    channel = w.transport.channel
    w.fake.not_mobile.add("+447700900555")
    with pytest.raises(SendError) as info:
        await channel.send("+447700900555", Outgoing("private words", meta={"key": "x", "case_id": ""}))
    assert info.value.retryable is False
    assert "900555" not in info.value.reason and "private" not in info.value.reason
    assert "900555" not in caplog.text and "private" not in caplog.text


async def test_each_sent_message_is_recorded_with_its_segments(w: SmsWorld) -> None:
    await w.text("+447700900999", "hello?")
    [sent] = await w.deliver()
    [row] = await w.rows("SELECT * FROM sms_deliveries")
    assert (row["provider_id"], row["recipient"], row["encoding"], row["segments"], row["status"]) == (
        sent.sid,
        "survivor",
        "GSM-7",
        1,
        "queued",
    )


async def test_a_messaging_service_sends_with_its_sid(tmp_path: Path) -> None:
    async with sms_world(tmp_path, sender_kind="messaging_service", sender=SERVICE_SID) as w:
        await w.text("+447700900999", "hello?")
        [sent] = await w.deliver()
        assert (sent.messaging_service_sid, sent.from_) == (SERVICE_SID, None)


async def test_an_alphanumeric_sender_carries_alerts_only(tmp_path: Path) -> None:
    async with sms_world(tmp_path, sender_kind="alpha", sender="Alex") as w:
        assert "sms" not in w.app.survivor_channels  # nobody could reply to it
        assert w.app.practitioner_channels["sms"] is w.transport.channel
        sid = await w.transport.channel.send(
            IDVA_PHONE,
            Outgoing("x", meta={"alert_id": "1", "case_ref": "C-ABCDE", "severity": "high", "reason": "risk_raised"}),
        )
        [sent] = w.fake.messages
        assert (sent.sid, sent.from_) == (sid, "Alex")
        assert sent.body == "[HIGH] Case C-ABCDE: risk level rose. Reply ACK C-ABCDE"


async def test_the_pacer_spaces_sends_and_lets_alerts_go_first() -> None:
    pacer = Pacer(rate=50)  # a slot every 20 ms
    loop = asyncio.get_running_loop()
    granted: list[tuple[str, float]] = []

    async def send(name: str, urgent: bool = False, cost: int = 1) -> None:
        await pacer.slot(cost, urgent=urgent)
        granted.append((name, loop.time()))

    first = asyncio.create_task(send("reply-1"))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(send(f"reply-{i}", cost=2 if i == 2 else 1)) for i in (2, 3)]
    await asyncio.sleep(0)
    alert = asyncio.create_task(send("alert", urgent=True))
    await asyncio.gather(first, *waiting, alert)
    await pacer.close()
    assert [name for name, _ in granted] == ["reply-1", "alert", "reply-2", "reply-3"]
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(granted)]
    # Each slot waits for the one before: 1 segment = 20 ms, the 2-segment reply holds the next for 40 ms.
    assert gaps[0] >= 0.019 and gaps[1] >= 0.019 and gaps[2] >= 0.039


async def test_a_channel_used_on_its_own_sends_and_keeps_the_message_for_the_dispatcher(tmp_path: Path) -> None:
    async with FakeTwilio() as fake:
        channel = SmsChannel(sms_settings(fake))
        try:
            sid = await channel.send(SURVIVOR, Outgoing("hi", meta={"key": "k", "case_id": "1", "outbox_id": "9"}))
        finally:
            await channel.close()
        assert [m.sid for m in fake.messages] == [sid]
        noted = channel.unrecorded[sid]
        assert (noted.outbox_id, noted.case_id, noted.recipient, noted.cost.count) == (9, 1, "survivor", 1)


async def test_an_alert_overtakes_a_backlog_of_paced_texts_from_the_same_number(w: SmsWorld) -> None:
    survivors = [f"+4477009{500 + i:05d}" for i in range(8)]
    for number in [SURVIVOR, *survivors]:
        await w.onboard(number)
    w.transport.channel.pacer.interval = 0.2  # from now on 5 segments a second
    for number in survivors:
        await w.text(number, "hello")  # eight replies to eight people: each waits for its turn
    stop = asyncio.Event()
    dispatcher = asyncio.create_task(Dispatcher(w.app).run_forever(stop, idle=0.02))
    try:
        while not any(m.to in survivors for m in w.fake.messages[-8:]):
            await asyncio.sleep(0.005)
        await w.text(SURVIVOR, "blue kettle")
        while not w.fake.to(IDVA_PHONE):
            await asyncio.sleep(0.005)
        ahead = sum(m.to in survivors and m.body.startswith("Thanks, got it") for m in w.fake.messages)
    finally:
        stop.set()
        await dispatcher
    assert ahead <= 4  # the alert took one of the next free slots, not the ninth
    assert ": codeword" in w.fake.to(IDVA_PHONE)[0].body


async def test_a_text_longer_than_twilio_accepts_goes_as_several_in_order(w: SmsWorld) -> None:
    lines = [f"{i:02d} " + "z" * 96 for i in range(32)]  # 3,199 characters
    sid = await w.transport.channel.send(
        SURVIVOR, Outgoing("\n".join(lines), meta={"key": "k", "case_id": "", "outbox_id": "1"})
    )
    parts = w.fake.to(SURVIVOR)
    assert len(parts) == 3 and parts[-1].sid == sid
    assert [line for p in parts for line in p.body.split("\n")] == lines
    assert list(w.transport.channel.unrecorded) == [sid]  # the last part stands for the message
