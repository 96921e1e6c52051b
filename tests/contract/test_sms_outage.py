"""Twilio failing for minutes: her texts wait and go once it is back; nothing is lost, no false alert.

The real twilio client against the fake Twilio API answering 500 for ten minutes of the injected clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fakes.sms_harness import IDVA_PHONE, SURVIVOR, SmsWorld, sms_world


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        yield world


async def test_ten_minutes_of_twilio_500s_delay_her_reply_and_lose_nothing(w: SmsWorld) -> None:
    await w.onboard()
    w.fake.fail_next(500, 20500, times=10_000)  # down until further notice
    status, _, _ = await w.text(SURVIVOR, "HELP")
    assert status == 200
    for _ in range(20):
        w.clock.advance(timedelta(seconds=30))
        assert await w.deliver() == []
    tries = w.fake.requests

    w.fake.faults.clear()  # Twilio is back
    w.clock.advance(timedelta(minutes=5))
    sent = await w.deliver()

    assert tries > 6  # tried again and again, not given up after six tries
    assert [(m.to, m.body.split("\n")[0]) for m in sent] == [(SURVIVOR, "Options:")]
    assert w.fake.to(IDVA_PHONE) == []  # no "channel dead" alert for an outage
    assert await w.rows("SELECT * FROM alerts") == []
