"""Set-up (onboarding) keeps the survivor's controls: a quick exit pauses, a command never becomes a secret.

Set-up asks for her secrets over the channel only on Telegram with auto-delete on, when her IDVA chose
that at enrolment (`secrets_autodelete`); those tests run there, through the real Telegram transport
and the fake Bot API. Everywhere else her words are set in person (`commands.set_secrets`), under the
same rules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import commands
from tests.conftest import START, World
from tests.fakes.telegram_world import TgWorld, telegram_world
from tests.integration.conftest import PHONE, alerts, case_row

PAUSED = "Messages are paused. Reply RESUME to start again."
REJECTED = "Please choose another word: up to 4 words, not a command like STOP or PAUSE."
PROMPT = "Hi, it's Alex. Is now a good time for a quick chat?"
WORDS = {"exit_word": "pasta", "codeword": "blue kettle", "pin": "", "duress_pin": ""}


class Chat:
    """Her Telegram chat: what she types, and every text the bot sent since the last look (sent,
    not visible: auto-delete and the quick exit take messages off her screen)."""

    def __init__(self, w: TgWorld, ref: str, chat: int) -> None:
        self.w, self.ref, self.chat = w, ref, chat
        self._seen = 0

    async def say(self, *lines: str) -> None:
        for line in lines:
            await self.w.say(self.chat, line)
            await self.w.deliver()

    async def at(self, when: datetime) -> list[str]:
        self.w.clock.set(when)
        await self.w.deliver()
        return self.texts()

    def texts(self) -> list[str]:
        sent = [str(c.params.get("text", "")) for c in self.w.fake.sent_to(self.chat)]
        new, self._seen = sent[self._seen :], len(sent)
        return new

    async def case(self) -> dict[str, Any]:
        async with self.w.app.db.reading() as tx:
            row = await tx.one("SELECT * FROM cases WHERE ref = ?", (self.ref,))
        assert row is not None
        return dict(row)

    async def alerts(self) -> list[tuple[str, str]]:
        found = await commands.list_alerts(self.w.app, self.w.service_id, open_only=False)
        return [(a["severity"], a["reason"]) for a in found]


@asynccontextmanager
async def secrets_on_telegram(tmp_path: Path) -> AsyncIterator[Chat]:
    """A Telegram case whose IDVA chose "she sets her words on Telegram", auto-delete on, activated,
    consented and safe all day long: at the exit-word prompt."""
    async with telegram_world(tmp_path) as w:
        ref, code = await w.enrol(secrets_autodelete=10)  # the enrolment screen's choice
        her = Chat(w, ref, w.new_chat())
        await her.say(f"/start {code}", "YES", "00:00-24:00")
        assert her.texts()[-1].startswith("Next:\nChoose a word")  # the exit-word prompt: the path that asks
        yield her


async def at_codeword_prompt(her: Chat) -> None:
    """Exit word 'pasta' with a one-day pause: at the codeword prompt."""
    await her.say("pasta", "1")
    her.texts()
    assert (await her.case())["exit_word_hash"] is not None


async def test_a_quick_exit_during_set_up_pauses_the_case_for_her_chosen_pause_and_stops_set_up(
    tmp_path: Path,
) -> None:
    async with secrets_on_telegram(tmp_path) as her:
        await at_codeword_prompt(her)
        await her.say("pasta")
        assert her.texts() == []  # nothing sent: the quick exit only empties the chat
        assert her.w.fake.visible(her.chat) == []
        case = await her.case()
        assert (case["status"], case["paused_until"]) == ("paused", "2026-11-24T09:00:00.000000Z")
        assert await her.alerts() == [("raised", "exit_in_onboarding")]

        # The next words from the phone (hers or not) become no secret: set-up has stopped.
        await her.say("blue kettle")
        assert her.texts() == [PAUSED]
        assert (await her.case())["codeword_hash"] is None

        # No check-in inside the pause, and none after it either until set-up is finished.
        assert await her.at(START + timedelta(hours=12)) == []
        assert await her.at(START + timedelta(days=1, minutes=1)) == []
        assert (await her.case())["status"] == "onboarding"

        # When she writes again, set-up starts from the top, and once finished check-ins begin. (Her exit
        # word still works meanwhile, so she picks a new one rather than typing it again.)
        await her.say("hello")
        [consent] = her.texts()
        assert consent.startswith("Hi, it's Alex. Thanks for setting this up.")
        await her.say("YES", "00:00-24:00", "mango", "1", "blue kettle", "1", "SKIP")
        assert (await her.case())["status"] == "active"
        await commands.set_schedule(her.w.app, her.w.service_id, her.ref, "daily@10:00")
        her.texts()
        assert [t.startswith(PROMPT) for t in await her.at(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))] == [True]


async def test_a_codeword_that_begins_with_a_command_is_refused_so_the_command_never_alerts(tmp_path: Path) -> None:
    async with secrets_on_telegram(tmp_path) as her:
        await at_codeword_prompt(her)
        await her.say("PAUSE 4")
        assert REJECTED in her.texts()[0]
        assert (await her.case())["codeword_hash"] is None
        await her.say("blue kettle", "1", "SKIP")
        case = await her.case()
        assert case["status"] == "active" and case["codeword_hash"] is not None

        await her.say("PAUSE 4")  # the command, some weeks later

        assert (await her.case())["status"] == "paused"
        assert await her.alerts() == []  # no urgent alert, no call-back


async def test_a_codeword_set_in_person_that_begins_with_a_command_is_refused_too(world: World) -> None:
    ref, code = await world.enrol(PHONE)
    with pytest.raises(commands.UserError, match=r"^codeword: is a command word$"):
        await commands.set_secrets(world.app, world.service_id, ref, WORDS | {"codeword": "PAUSE 4"})
    row = await case_row(world, ref)
    assert (row["codeword_hash"], row["exit_word_hash"], row["secrets_set_in_person_at"]) == (None, None, None)
    await commands.set_secrets(world.app, world.service_id, ref, WORDS)
    for line in [code, "YES", "00:00-24:00", "1"]:
        await world.say(PHONE, line)
    await world.deliver()

    await world.say(PHONE, "PAUSE 4")  # the command, some weeks later

    assert (await case_row(world, ref))["status"] == "paused"
    assert [a["reason"] for a in await alerts(world)] == []  # no urgent alert, no call-back


async def test_an_exit_word_that_begins_with_a_command_is_refused(tmp_path: Path) -> None:
    async with secrets_on_telegram(tmp_path) as her:
        await her.say("help me")
        assert REJECTED in her.texts()[-2]
        assert (await her.case())["exit_word_hash"] is None


async def test_an_exit_word_set_in_person_that_begins_with_a_command_is_refused_too(world: World) -> None:
    ref, _ = await world.enrol(PHONE)
    with pytest.raises(commands.UserError, match=r"^exit word: is a command word$"):
        await commands.set_secrets(world.app, world.service_id, ref, WORDS | {"exit_word": "help me"})
    row = await case_row(world, ref)
    assert row["exit_word_hash"] is None and row["codeword_hash"] is None


async def test_stop_at_the_exit_word_prompt_on_a_channel_without_carrier_opt_out_is_asked_about_first(
    tmp_path: Path,
) -> None:
    async with secrets_on_telegram(tmp_path) as her:  # Telegram: no carrier opt-out behind STOP
        await her.say("STOP")
        texts = her.texts()
        assert texts[0] == REJECTED and "Not STOP or HELP" in texts[1]
        assert (await her.case())["status"] == "onboarding"
        await her.say("STOP")  # she really means it
        assert her.texts() == ["OK. You will not get any more messages."]
        assert (await her.case())["status"] == "withdrawn"
        assert [reason for _, reason in await her.alerts()] == ["withdrawn_in_onboarding"]

