"""START after STOP: withdrawal erased her number, so Twilio lifts its block but Safecheck answers like a stranger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import commands
from tests.fakes.sms_harness import IDVA_PHONE, SURVIVOR, SmsWorld, sms_world
from tests.integration.conftest import NEUTRAL


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        yield world


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
async def test_start_after_a_withdrawal_is_answered_like_a_stranger_and_touches_no_case(
    w: SmsWorld, word: str
) -> None:
    ref = await w.onboard()
    assert await w.say(SURVIVOR, "STOP") == []
    assert SURVIVOR in w.fake.opted_out
    told = len(w.fake.to(IDVA_PHONE))

    assert await w.say(SURVIVOR, word) == [NEUTRAL]  # the carrier let it through; we no longer know the number

    assert len(w.fake.to(IDVA_PHONE)) == told  # nothing to tell: to come back she is enrolled again in person
    [case] = await w.rows("SELECT status, address_enc, address_hash FROM cases WHERE ref = ?", (ref,))
    assert case == {"status": "withdrawn", "address_enc": None, "address_hash": None}
    [stored] = await w.rows("SELECT case_id, body_enc FROM inbound_messages ORDER BY id DESC LIMIT 1")
    assert stored == {"case_id": None, "body_enc": None}


async def test_after_start_she_can_be_enrolled_again_on_the_same_number(w: SmsWorld) -> None:
    old = await w.onboard()
    await w.say(SURVIVOR, "STOP")
    await w.say(SURVIVOR, "START")
    new = await w.onboard()
    assert new != old
    assert (await w.say(SURVIVOR, "HELP"))[0].startswith("Options:")


async def test_a_case_closed_by_the_service_is_answered_like_a_stranger_too(w: SmsWorld) -> None:
    ref = await w.onboard()
    await commands.set_status(w.app, w.service_id, ref, "close")
    before = len(w.fake.to(IDVA_PHONE))
    assert await w.say(SURVIVOR, "STOP") == []
    assert await w.say(SURVIVOR, "START") == [NEUTRAL]
    assert len(w.fake.to(IDVA_PHONE)) == before


async def test_start_from_a_stranger_gets_the_neutral_line(w: SmsWorld) -> None:
    assert await w.say("+447700900999", "START") == [NEUTRAL]
