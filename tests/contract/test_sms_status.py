"""Twilio's status callbacks, signed and POSTed over HTTP: delivery recorded, failures acted on once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import commands
from bot.channels.base import Outgoing
from bot.channels.segments import segments
from bot.channels.sms_channel import Unrecorded
from tests.fakes.sms_harness import (
    DUTY_PHONE,
    IDVA_PHONE,
    ONBOARDING,
    PUBLIC_URL,
    SECRETS,
    SURVIVOR,
    SmsWorld,
    sms_world,
)
from tests.fakes.twilio_api import Sent

IDLE = "Thanks, got it. Reply HELP for options."
UNREACHABLE = 30003  # handset off or out of coverage: may come back


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        yield world


async def reply_to_survivor(w: SmsWorld) -> Sent:
    status, _, _ = await w.text(SURVIVOR, "hello")
    assert status == 200
    [sent] = [m for m in await w.deliver() if m.body == IDLE]  # a scheduled check-in may fall due meanwhile
    assert sent.to == SURVIVOR
    return sent


async def delivery(w: SmsWorld, sid: str) -> dict[str, object]:
    [row] = await w.rows("SELECT status, error_code, handled FROM sms_deliveries WHERE provider_id = ?", (sid,))
    return row


async def open_reasons(w: SmsWorld) -> list[str]:
    return [str(a["reason"]) for a in await commands.list_alerts(w.app, w.service_id, open_only=True)]


async def test_statuses_are_recorded_and_never_go_back(w: SmsWorld) -> None:
    await w.onboard()
    sent = await reply_to_survivor(w)
    for status in ("sent", "delivered", "sent"):  # callbacks may arrive out of order
        assert (await w.fake.status(sent.sid, status))[0] == 200
    assert await delivery(w, sent.sid) == {"status": "delivered", "error_code": None, "handled": 0}


async def test_a_status_twilio_adds_later_is_recorded_and_not_acted_on(w: SmsWorld) -> None:
    await w.onboard()
    sent = await reply_to_survivor(w)
    assert (await w.fake.status(sent.sid, "partially_delivered"))[0] == 200
    assert await delivery(w, sent.sid) == {"status": "partially_delivered", "error_code": None, "handled": 0}
    w.clock.advance(timedelta(minutes=5))
    assert [m for m in await w.deliver() if m.body == IDLE] == []


async def test_a_forged_or_malformed_status_callback_changes_nothing(w: SmsWorld) -> None:
    await w.onboard()
    sent = await reply_to_survivor(w)
    params = {"MessageSid": sent.sid, "MessageStatus": "failed", "AccountSid": w.fake.account_sid}
    url = PUBLIC_URL + "/sms/status"
    assert (await w.fake.post_signed(url, params, signature="Zm9yZ2Vk"))[0] == 403
    assert (await w.fake.post_signed(url, {**params, "MessageStatus": "'; DROP TABLE x"}))[:1] == (400,)
    assert (await w.fake.post_signed(url, {**params, "ErrorCode": "oops"}))[:1] == (400,)
    assert (await delivery(w, sent.sid))["status"] == "queued"
    assert await w.deliver() == []


async def test_undelivered_is_sent_again_and_three_in_a_row_tell_the_idva(w: SmsWorld) -> None:
    ref = await w.onboard()
    first = await reply_to_survivor(w)
    await w.fake.status(first.sid, "undelivered", UNREACHABLE)
    assert await w.deliver() == []  # not at once: the phone may be off for a moment
    w.clock.advance(timedelta(minutes=2))
    [second] = await w.deliver()
    assert (second.to, second.body) == (SURVIVOR, IDLE)
    await w.fake.status(second.sid, "failed", UNREACHABLE)
    w.clock.advance(timedelta(minutes=2))
    assert await w.deliver() == []
    w.clock.advance(timedelta(minutes=2))
    [third] = await w.deliver()
    assert third.body == IDLE
    await w.fake.status(third.sid, "undelivered", UNREACHABLE)
    sent = await w.deliver()
    assert [(m.to, m.body) for m in sent] == [
        (IDVA_PHONE, f"[RAISED] Case {ref}: messages can no longer be delivered to the survivor. Reply ACK {ref}")
    ]
    w.clock.advance(timedelta(minutes=20))
    assert [m for m in await w.deliver() if m.body == IDLE] == []  # not sent a fourth time
    assert await open_reasons(w) == ["channel_dead"]


async def test_a_delivered_message_resets_the_count(w: SmsWorld) -> None:
    await w.onboard()
    for _ in range(3):
        sent = await reply_to_survivor(w)
        await w.fake.status(sent.sid, "undelivered", UNREACHABLE)
        w.clock.advance(timedelta(minutes=2))
        [again] = await w.deliver()
        await w.fake.status(again.sid, "delivered")
    assert await open_reasons(w) == []


async def test_21610_in_a_status_callback_means_the_channel_is_dead_at_once(w: SmsWorld) -> None:
    ref = await w.onboard()
    sent = await reply_to_survivor(w)
    await w.fake.status(sent.sid, "failed", 21610)
    [alert] = await w.deliver()
    assert (alert.to, alert.body) == (
        IDVA_PHONE,
        f"[RAISED] Case {ref}: messages can no longer be delivered to the survivor. Reply ACK {ref}",
    )
    w.clock.advance(timedelta(minutes=10))
    assert await w.deliver() == []  # nothing sent again


async def test_a_repeated_failure_report_is_acted_on_once(w: SmsWorld) -> None:
    await w.onboard()
    sent = await reply_to_survivor(w)
    for _ in range(3):
        assert (await w.fake.status(sent.sid, "undelivered", UNREACHABLE))[0] == 200
    w.clock.advance(timedelta(minutes=10))
    assert len(await w.deliver()) == 1
    assert await delivery(w, sent.sid) == {"status": "undelivered", "error_code": UNREACHABLE, "handled": 1}


async def test_a_message_reported_undelivered_half_an_hour_late_is_not_sent_again(w: SmsWorld) -> None:
    await w.onboard()
    stale = await reply_to_survivor(w)
    w.clock.advance(timedelta(minutes=31))
    await w.fake.status(stale.sid, "undelivered", UNREACHABLE)  # out of context by now
    w.clock.advance(timedelta(minutes=10))
    assert [m for m in await w.deliver() if m.body == IDLE] == []
    assert (await delivery(w, stale.sid))["handled"] == 1


async def test_a_message_from_before_a_quick_exit_is_not_sent_again(w: SmsWorld) -> None:
    await w.onboard()
    before_exit = await reply_to_survivor(w)
    await w.text(SURVIVOR, "pasta")  # the exit word
    await w.deliver()
    await w.fake.status(before_exit.sid, "undelivered", UNREACHABLE)
    w.clock.advance(timedelta(minutes=10))
    assert [m for m in await w.deliver() if m.body == IDLE] == []


async def test_an_undelivered_alert_moves_to_the_practitioners_next_channel_at_once(w: SmsWorld) -> None:
    ref = await w.onboard()
    await w.say(SURVIVOR, "blue kettle")
    [alert] = w.fake.to(IDVA_PHONE)
    await w.fake.status(alert.sid, "undelivered", 30005)
    await w.deliver()
    [in_inbox] = await commands.read_inbox(w.app, w.idva)
    assert in_inbox["text"].startswith(f"[URGENT] Case {ref}: codeword.")


async def test_an_acknowledged_alert_is_not_moved_on(w: SmsWorld) -> None:
    ref = await w.onboard()
    await w.say(SURVIVOR, "blue kettle")
    [alert] = w.fake.to(IDVA_PHONE)
    await w.text(IDVA_PHONE, f"ACK {ref}")
    await w.fake.status(alert.sid, "undelivered", 30005)
    await w.deliver()
    assert await commands.read_inbox(w.app, w.idva) == []


async def test_an_alert_undelivered_on_the_last_channel_climbs_the_ladder_at_once(w: SmsWorld) -> None:
    solo = await commands.add_practitioner(w.app, w.service_id, "Sol", "idva", ["sms:+447700900003"])
    ref, code = await commands.enrol(
        w.app, w.service_id, idva=solo, channel="sms", address=SURVIVOR, name="S", intake="high"
    )
    await commands.set_secrets(w.app, w.service_id, ref, SECRETS)  # her words, chosen in person
    for line in (code, *ONBOARDING):
        await w.say(SURVIVOR, line)
    await w.say(SURVIVOR, "blue kettle")
    [alert] = w.fake.to("+447700900003")
    await w.fake.status(alert.sid, "failed", 30006)
    await w.deliver()
    [duty] = w.fake.to(DUTY_PHONE)  # not after five minutes: now
    assert duty.body == f"[URGENT] Case {ref}: codeword. Reply ACK {ref}"


async def test_a_status_for_a_message_we_do_not_know_is_recorded_and_answered(w: SmsWorld) -> None:
    params = {
        "MessageSid": "SM" + "e" * 32,
        "MessageStatus": "delivered",
        "AccountSid": w.fake.account_sid,
    }
    status, ctype, _ = await w.fake.post_signed(PUBLIC_URL + "/sms/status", params)
    assert (status, ctype) == (200, "text/xml")
    assert await delivery(w, "SM" + "e" * 32) == {"status": "delivered", "error_code": None, "handled": 0}


async def test_a_failure_reported_before_the_dispatcher_round_commits_is_still_acted_on(w: SmsWorld) -> None:
    await w.onboard()
    await w.text(SURVIVOR, "hello")
    [item] = await w.rows("SELECT id, case_id, message FROM outbox WHERE status = 'pending'")
    meta = {"key": "k", "case_id": str(item["case_id"]), "outbox_id": str(item["id"])}
    sid = await w.transport.channel.send(SURVIVOR, Outgoing(IDLE, meta=meta))  # as the dispatcher would, mid-round
    assert (await w.fake.status(sid, "undelivered", UNREACHABLE))[0] == 200
    copies = await w.rows("SELECT message FROM outbox WHERE status = 'pending' AND id != ?", (item["id"],))
    assert [c["message"] for c in copies] == [item["message"]]  # queued again, to go out in two minutes
    [row] = await w.rows("SELECT outbox_id, recipient, handled FROM sms_deliveries WHERE provider_id = ?", (sid,))
    assert row == {"outbox_id": item["id"], "recipient": "survivor", "handled": 1}


async def test_a_failure_reported_before_the_send_is_on_record_is_acted_on_when_it_is(w: SmsWorld) -> None:
    """Twilio's callback can overtake our own record of the send: the failure waits in the database
    (not in memory) and is acted on, once, the moment the send is on record."""
    await w.onboard()
    await w.text(SURVIVOR, "hello")
    [item] = await w.rows("SELECT id, case_id, message FROM outbox WHERE status = 'pending'")
    sid = "SM" + "f" * 32
    report = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": str(UNREACHABLE)}
    status, _, _ = await w.fake.post_signed(PUBLIC_URL + "/sms/status", {**report, "AccountSid": w.fake.account_sid})
    assert status == 200  # recorded, though nothing is known of the message yet
    assert await w.rows("SELECT id FROM outbox WHERE status = 'pending' AND id != ?", (item["id"],)) == []
    sent = Unrecorded(item["id"], item["case_id"], "survivor", segments(IDLE), "queued")
    await w.transport.channel._record(w.app.core, sid, sent)  # what send() does once Twilio accepted it
    await w.transport.channel._record(w.app.core, sid, sent)  # and a second look acts no more
    copies = await w.rows("SELECT message FROM outbox WHERE status = 'pending' AND id != ?", (item["id"],))
    assert [c["message"] for c in copies] == [item["message"]]  # queued again, once
    [row] = await w.rows("SELECT outbox_id, recipient, handled FROM sms_deliveries WHERE provider_id = ?", (sid,))
    assert row == {"outbox_id": item["id"], "recipient": "survivor", "handled": 1}
