"""The whole loop over SMS: the real twilio client against the fake Twilio API, real signed webhooks.

enrol -> activate by SMS -> onboarding -> check-in -> codeword -> SMS alert to the IDVA -> ACK by
SMS -> escalation stopped; and STOP (or any carrier opt-out word) in the middle of a check-in.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import commands
from tests.fakes.sms_harness import (
    DUTY_PHONE,
    IDVA_PHONE,
    OUR_NUMBER,
    PUBLIC_URL,
    SECRETS,
    SURVIVOR,
    SmsWorld,
    sms_world,
)
from tests.fakes.twilio_api import AUTH_TOKEN

PROMPT = "Hi, it's Alex. Is now a good time for a quick chat?\n1 Yes\n2 Not now"


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        yield world


async def open_alerts(w: SmsWorld) -> list[dict[str, object]]:
    return await commands.list_alerts(w.app, w.service_id, open_only=True)


async def start_checkin(w: SmsWorld, ref: str) -> None:
    await commands.checkin_now(w.app, w.service_id, ref)
    assert [m.body for m in await w.deliver()] == [PROMPT]


async def test_codeword_by_sms_alerts_the_idva_by_sms_and_ack_by_sms_stops_the_escalation(
    w: SmsWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ref, code = await w.enrol()
    await commands.set_secrets(w.app, w.service_id, ref, SECRETS)  # her words, chosen in person
    consent = await w.say(SURVIVOR, code.lower())  # activation by SMS from the survivor's own phone
    assert len(consent) == 1 and consent[0].startswith("Hi, it's Alex. Thanks for setting this up.")
    for line in ("YES", "1 2 3"):  # consent, safe times
        await w.say(SURVIVOR, line)
    assert (await w.say(SURVIVOR, "1"))[0].startswith("All set.")  # missed check-ins may be flagged
    [case] = await w.rows("SELECT status FROM cases WHERE ref = ?", (ref,))
    assert case["status"] == "active"

    await start_checkin(w, ref)
    assert (await w.say(SURVIVOR, "1"))[0].startswith("Thanks. First one:")
    ordinary = await w.say(SURVIVOR, "Yes. Blue Kettle")  # the codeword inside an answer
    assert ordinary and ordinary[0].startswith("Next one:")  # the survivor's screen looks ordinary

    [alert] = await open_alerts(w)
    assert (alert["severity"], alert["reason"]) == ("urgent", "codeword")
    [sms_alert] = w.fake.to(IDVA_PHONE)
    assert sms_alert.body == f"[URGENT] Case {ref}: codeword. Reply ACK {ref}"
    assert sms_alert.from_ == OUR_NUMBER and sms_alert.status_callback == PUBLIC_URL + "/sms/status"
    assert "blue" not in sms_alert.body.lower() and SURVIVOR not in sms_alert.body

    status, ctype, answer = await w.text(IDVA_PHONE, f"ack {ref.lower()}")
    assert (status, ctype) == (200, "text/xml")
    assert answer == f"<Response><Message>Acknowledged 1 alert(s) for {ref}. Escalation stopped.</Message></Response>"
    assert await open_alerts(w) == []
    w.clock.advance(timedelta(minutes=15))
    await w.deliver()
    assert w.fake.to(DUTY_PHONE) == []  # the duty IDVA is never woken
    logs = caplog.text.lower()
    assert "sms inbound outcome=processed" in logs and "sms inbound from practitioner" in logs
    for secret in ("900123", "900001", "blue kettle", code.lower(), "pasta", "test survivor", AUTH_TOKEN):
        assert secret not in logs, secret


async def test_without_an_ack_the_duty_idva_is_texted_at_five_minutes(w: SmsWorld) -> None:
    ref = await w.onboard()
    await w.say(SURVIVOR, "blue kettle")
    assert len(w.fake.to(IDVA_PHONE)) == 1
    w.clock.advance(timedelta(minutes=5))
    await w.deliver()
    [duty] = w.fake.to(DUTY_PHONE)
    assert duty.body == f"[URGENT] Case {ref}: codeword. Reply ACK {ref}"
    status, _, answer = await w.text(DUTY_PHONE, f"ACK {ref}")
    assert status == 200 and "Acknowledged 1 alert(s)" in answer
    [alert] = await commands.list_alerts(w.app, w.service_id, open_only=False)
    assert alert["acknowledged_by"] == w.duty


async def test_ack_from_a_number_that_is_not_a_practitioner_acknowledges_nothing(w: SmsWorld) -> None:
    ref = await w.onboard()
    await w.say(SURVIVOR, "blue kettle")
    replies = await w.say("+447700900777", f"ACK {ref}")
    assert replies == ["Sorry, this number does not accept replies."]  # a stranger learns nothing
    assert len(await open_alerts(w)) == 1


async def test_stop_in_the_middle_of_a_checkin_withdraws_consent_and_nothing_more_is_sent(w: SmsWorld) -> None:
    ref = await w.onboard()
    await start_checkin(w, ref)
    await w.say(SURVIVOR, "1")
    before = len(w.fake.to(SURVIVOR))
    status, _, body = await w.text(SURVIVOR, "STOP")
    assert (status, body) == (200, '<?xml version="1.0" encoding="UTF-8"?><Response/>')
    sent = await w.deliver()
    assert [m.to for m in sent] == [IDVA_PHONE]  # the IDVA is told; the survivor gets nothing from us
    assert "consent withdrawn" in sent[0].body
    [case] = await w.rows("SELECT status, address_enc FROM cases WHERE ref = ?", (ref,))
    assert (case["status"], case["address_enc"]) == ("withdrawn", None)
    [checkin] = await w.rows("SELECT status FROM checkins ORDER BY id DESC LIMIT 1")
    assert checkin["status"] == "partial"  # what was answered is still assessed
    # Later timers and check-ins send nothing. A later text is answered like a stranger's (tied to
    # no case), which Twilio's own opt-out block then stops: it never counts against the case.
    await w.say(SURVIVOR, "hello?")
    w.clock.advance(timedelta(days=3))
    await w.deliver()
    assert len(w.fake.to(SURVIVOR)) == before
    [outbox] = await w.rows("SELECT count(*) AS n FROM outbox WHERE status = 'failed' AND case_id IS NOT NULL")
    assert outbox["n"] == 0
    assert [a for a in await open_alerts(w) if a["reason"] == "channel_dead"] == []


@pytest.mark.parametrize("word", ["stop", "STOPALL", "Unsubscribe", "cancel", "END", "quit", "revoke", "optout "])
async def test_every_carrier_opt_out_word_is_a_withdrawal_over_sms(w: SmsWorld, word: str) -> None:
    ref = await w.onboard()
    assert await w.say(SURVIVOR, word) == []
    [case] = await w.rows("SELECT status FROM cases WHERE ref = ?", (ref,))
    assert case["status"] == "withdrawn"
    [consent] = await w.rows("SELECT agreed, how FROM consents WHERE topic = 'checkins' ORDER BY id DESC LIMIT 1")
    assert (consent["agreed"], consent["how"]) == (0, "sms")


async def test_withdraw_by_word_is_confirmed_since_the_carrier_does_not_block_it(w: SmsWorld) -> None:
    await w.onboard()
    assert await w.say(SURVIVOR, "WITHDRAW") == ["OK. You will not get any more messages."]


async def test_stop_from_a_stranger_gets_no_reply(w: SmsWorld) -> None:
    assert await w.say("+447700900888", "STOP") == []
    assert w.fake.requests == 0
