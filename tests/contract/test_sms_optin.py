"""START after STOP: the survivor asks to come back; until the IDVA re-confirms, she is answered like a stranger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import commands, daily
from bot.commands.resubscribe import resubscribe
from storage import services
from tests.fakes.sms_harness import IDVA_PHONE, SURVIVOR, SmsWorld, sms_world
from tests.integration.conftest import NEUTRAL


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        yield world


async def stopped(w: SmsWorld) -> str:
    ref = await w.onboard()
    assert await w.say(SURVIVOR, "STOP") == []
    assert SURVIVOR in w.fake.opted_out
    return ref


async def case(w: SmsWorld, ref: str) -> dict[str, object]:
    [row] = await w.rows("SELECT id, status, address_enc FROM cases WHERE ref = ?", (ref,))
    return row


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
async def test_start_from_a_withdrawn_survivor_tells_the_idva_and_answers_like_a_stranger(
    w: SmsWorld, word: str
) -> None:
    ref = await stopped(w)
    alerts_before = len(w.fake.to(IDVA_PHONE))
    assert await w.say(SURVIVOR, word) == [NEUTRAL]  # not re-subscribed: the line any unknown number gets
    assert await w.say(SURVIVOR, word) == [NEUTRAL]  # asking twice tells the IDVA once
    [notice] = w.fake.to(IDVA_PHONE)[alerts_before:]
    assert notice.body.startswith(f"[RAISED] Case {ref}: the survivor texted START to get messages again")
    assert (await case(w, ref))["status"] == "withdrawn"


async def test_the_idvas_resubscribe_makes_the_case_active_with_a_neutral_line(w: SmsWorld) -> None:
    ref = await stopped(w)
    await w.say(SURVIVOR, "START")
    out = await resubscribe(w.app, w.service_id, ref)
    assert out.startswith(f"{ref} active again; a neutral line is on its way; next check-in 2026-")
    assert [(m.to, m.body) for m in await w.deliver()] == [(SURVIVOR, "OK, we will start again.")]
    row = await case(w, ref)
    assert row["status"] == "active" and row["address_enc"] is not None
    assert await w.rows("SELECT * FROM sms_resubscribe_requests") == []
    [consent] = await w.rows("SELECT agreed, how, text_version FROM consents ORDER BY id DESC LIMIT 1")
    assert consent == {"agreed": 1, "how": "idva", "text_version": "resubscribed"}
    # Check-ins come again, and the survivor's words still work: the codeword alerts.
    await w.say(SURVIVOR, "blue kettle")
    assert w.fake.to(IDVA_PHONE)[-1].body.startswith(f"[URGENT] Case {ref}: codeword used")


async def test_outside_safe_times_the_neutral_line_waits_for_the_next_checkin(w: SmsWorld) -> None:
    ref = await stopped(w)
    await w.say(SURVIVOR, "START")
    w.clock.set(datetime(2026, 11, 23, 23, 0, tzinfo=UTC))  # late evening: outside every safe window
    out = await resubscribe(w.app, w.service_id, ref)
    assert "neutral line" not in out
    assert [m for m in await w.deliver() if m.to == SURVIVOR] == []


async def test_resubscribe_is_refused_without_a_start_from_the_survivor(w: SmsWorld) -> None:
    ref = await stopped(w)
    with pytest.raises(commands.UserError, match="has not asked to come back"):
        await resubscribe(w.app, w.service_id, ref)
    other = await commands.enrol(
        w.app, w.service_id, idva=w.idva, channel="sms", address="+447700900456", name="B", intake="high"
    )
    with pytest.raises(commands.UserError, match="is pending, not withdrawn"):
        await resubscribe(w.app, w.service_id, other[0])


async def test_a_case_closed_by_the_service_never_comes_back(w: SmsWorld) -> None:
    ref = await w.onboard()
    await commands.set_status(w.app, w.service_id, ref, "close")
    before = len(w.fake.to(IDVA_PHONE))
    assert await w.say(SURVIVOR, "STOP") == []
    assert await w.say(SURVIVOR, "START") == [NEUTRAL]  # like any unknown number
    assert len(w.fake.to(IDVA_PHONE)) == before  # nothing to ask the IDVA: the case is over
    assert await w.rows("SELECT * FROM sms_resubscribe_requests") == []
    with pytest.raises(commands.UserError, match="closed by the service"):
        await resubscribe(w.app, w.service_id, ref)


async def test_start_from_a_stranger_or_a_live_case_asks_nothing(w: SmsWorld) -> None:
    assert await w.say("+447700900999", "START") == ["Sorry, this number does not accept replies."]
    await w.onboard()
    await w.say(SURVIVOR, "YES")
    assert await w.rows("SELECT * FROM sms_resubscribe_requests") == []


async def test_an_unconfirmed_start_expires_after_14_days_and_the_daily_round_forgets_the_number(w: SmsWorld) -> None:
    ref = await stopped(w)
    await w.say(SURVIVOR, "START")
    notices = len(w.fake.to(IDVA_PHONE))
    w.clock.advance(timedelta(days=14, minutes=1))
    with pytest.raises(commands.UserError, match="has not asked to come back in the last 14 days"):
        await resubscribe(w.app, w.service_id, ref)
    async with w.app.db.transaction() as tx:
        await daily.run(tx, await services.get(tx, w.service_id), w.clock.now())
        await tx.commit()
    assert await w.rows("SELECT * FROM sms_resubscribe_requests") == []
    await w.say(SURVIVOR, "START")  # asking again, later, is a new request: the IDVA hears of it again
    assert len(w.fake.to(IDVA_PHONE)) == notices + 1
    assert (await resubscribe(w.app, w.service_id, ref)).startswith(f"{ref} active again")
