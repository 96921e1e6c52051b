"""Languages over SMS: a Welsh and a Panjabi survivor onboard and check in by text, with native digits,
and each check-in opener costs one segment (GSM-7 for Welsh, UCS-2 for Panjabi)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import commands
from tests.fakes.sms_harness import IDVA_PHONE, SmsWorld, sms_world

WELSH = "+447700900301"
PANJABI = "+447700900302"


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        await commands.set_languages(world.app, world.service_id, enable="cy,pa")
        yield world


async def onboard(w: SmsWorld, address: str, words: tuple[str, str], lines: list[str]) -> tuple[str, list[str]]:
    """Enrol, set her exit word and codeword in person (in her language), then set-up by SMS."""
    ref, code = await w.enrol(address)
    exit_word, codeword = words
    secrets = {"exit_word": exit_word, "codeword": codeword, "pin": "", "duress_pin": ""}
    await commands.set_secrets(w.app, w.service_id, ref, secrets)
    texts = await w.say(address, code)
    for line in lines:
        texts += await w.say(address, line)
    return ref, texts


async def test_a_panjabi_survivor_checks_in_by_sms_with_gurmukhi_digits_and_codeword(w: SmsWorld) -> None:
    ref, texts = await onboard(w, PANJABI, ("ਅੰਬ", "ਨੀਲੀ ਕੇਤਲੀ"), ["੩", "ਹਾਂ", "੧ ੨ ੩", "ਹਾਂ"])
    assert texts[1].startswith("ਹੈਲੋ, ਮੈਂ Alex ਹਾਂ।")
    assert texts[-1].startswith("ਸਭ ਤਿਆਰ ਹੈ।")

    await commands.checkin_now(w.app, w.service_id, ref)
    [opener] = await w.deliver()
    assert opener.body == "ਹੈਲੋ, ਮੈਂ Alex ਹਾਂ। ਕੀ ਹੁਣ ਥੋੜ੍ਹੀ ਗੱਲ ਹੋ ਸਕਦੀ ਹੈ?\n1 ਹਾਂ\n2 ਹੁਣ ਨਹੀਂ"
    assert opener.num_segments == 1  # UCS-2, 66 characters
    await w.say(PANJABI, "੧")
    assert (await w.say(PANJABI, "ਹਾਂ, ਨੀਲੀ ਕੇਤਲੀ"))[0].startswith("ਅਗਲਾ:")  # ordinary on the survivor's screen
    [alert] = await commands.list_alerts(w.app, w.service_id, open_only=True)
    assert (alert["severity"], alert["reason"]) == ("urgent", "codeword")
    [sms_alert] = w.fake.to(IDVA_PHONE)
    assert sms_alert.body.startswith(f"[URGENT] Case {ref}: codeword.")  # the IDVA's own language


async def test_a_welsh_opener_is_one_gsm7_segment_and_welsh_answers_are_understood(w: SmsWorld) -> None:
    ref, texts = await onboard(w, WELSH, ("bara brith", "tebot glas"), ["cymraeg", "ie", "1 2 3", "na"])
    assert texts[-1].startswith("Dyna ni.")
    await commands.checkin_now(w.app, w.service_id, ref)
    [opener] = await w.deliver()
    assert opener.body.startswith("Helo, Alex sydd yma.") and opener.num_segments == 1
    assert (await w.say(WELSH, "ie"))[0].startswith("Diolch. Y cyntaf:")
    assert (await w.say(WELSH, "ydw"))[0].startswith("Nesaf:")  # "ydw", a Welsh yes, answers "Yes"
