"""A practitioner's SMS passes the same MessageSid dedupe as every text, before it acts.

A captured, validly signed `ACK <ref>` request, replayed later against the running web server,
must not acknowledge an urgent alert raised since: it is a redelivery, and nothing acts on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import commands
from bot.channels.sms_webhooks import EMPTY_TWIML
from tests.fakes.sms_harness import DUTY_PHONE, IDVA_PHONE, OUR_NUMBER, SURVIVOR, SmsWorld, sms_world


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        yield world


async def test_a_replayed_signed_ack_does_not_acknowledge_a_newer_alert(w: SmsWorld) -> None:
    ref = await w.onboard()
    await w.say(SURVIVOR, "blue kettle")  # alert 1, texted to the IDVA
    params = w.fake.inbound_params(IDVA_PHONE, OUR_NUMBER, f"ACK {ref}")
    signature = w.fake.sign(w.inbound_url, params)  # what an eavesdropper on the webhook keeps
    status, _, answer = await w.fake.post_signed(w.inbound_url, params, signature=signature)
    assert status == 200 and "Acknowledged 1 alert(s)" in answer

    w.clock.advance(timedelta(hours=1))
    await w.say(SURVIVOR, "blue kettle")  # alert 2, texted to the IDVA too
    status, _, answer = await w.fake.post_signed(w.inbound_url, params, signature=signature)  # the replay

    assert (status, answer) == (200, EMPTY_TWIML)  # answered, so Twilio stops; nothing said, nothing done
    [still_open] = await commands.list_alerts(w.app, w.service_id, open_only=True)
    assert (still_open["reason"], still_open["acknowledged_by"]) == ("codeword", None)
    w.clock.advance(timedelta(minutes=5))
    await w.deliver()
    assert [m.body for m in w.fake.to(DUTY_PHONE)] == [f"[URGENT] Case {ref}: codeword. Reply ACK {ref}"]


async def test_a_twilio_retry_of_an_ack_is_handled_once(w: SmsWorld) -> None:
    ref = await w.onboard()
    await w.say(SURVIVOR, "blue kettle")
    params = w.fake.inbound_params(IDVA_PHONE, OUR_NUMBER, f"ack {ref}")
    first = await w.fake.post_signed(w.inbound_url, params)
    again = await w.fake.post_signed(w.inbound_url, params)
    assert "Acknowledged 1 alert(s)" in first[2] and again[2] == EMPTY_TWIML
    rows = await w.rows("SELECT count(*) AS n FROM audit_log WHERE action = 'alert_acknowledged'")
    assert rows == [{"n": 1}]
