"""Set-up over SMS: STOP is the carrier's, so at any set-up prompt it withdraws, and the IDVA is told when."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.sms_harness import IDVA_PHONE, SURVIVOR, SmsWorld, sms_world


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        yield world


async def test_stop_typed_at_the_exit_word_prompt_withdraws_and_the_idva_learns_it_was_during_set_up(
    w: SmsWorld,
) -> None:
    ref, code = await w.enrol()
    for line in (code, "YES", "1 2 3"):
        await w.say(SURVIVOR, line)
    assert (await w.rows("SELECT status FROM cases"))[0]["status"] == "onboarding"

    status, _, _ = await w.text(SURVIVOR, "STOP")  # the prompt said "Not STOP", but the carrier acted on it
    assert status == 200
    sent = await w.deliver()

    assert [m.to for m in sent] == [IDVA_PHONE]  # nothing to her: the carrier has blocked the number anyway
    assert "during set-up" in sent[0].body and ref in sent[0].body
    [case] = await w.rows("SELECT status, address_enc FROM cases")
    assert (case["status"], case["address_enc"]) == ("withdrawn", None)
