"""A codeword where no answer is read: a photo's or a file's caption, or an edit to a sent message.

Either way the urgent alert is raised at once and silently. A caption still gets the usual "only
typed text can be read" line (so she does not think it was read as an answer); an edit gets
nothing, and is not taken as a new answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import commands
from tests.contract.test_telegram_transport import MEDIA, TEXT_ONLY, scalar
from tests.fakes.telegram_world import TgWorld, telegram_world


async def codeword_alerts(w: TgWorld) -> int:
    return int(await scalar(w, "SELECT count(*) FROM alerts WHERE severity = 'urgent' AND reason = 'codeword'"))


@pytest.mark.parametrize("kind", ["photo", "document"])
async def test_a_codeword_in_a_caption_alerts_silently_and_she_is_asked_to_type(tmp_path: Path, kind: str) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        await w.onboard(chat)
        before = len(w.fake.bot_texts(chat))
        update = w.fake.message_update(chat, {**MEDIA[kind], "caption": "look at this, Blue Kettle!"})
        assert await w.push(update) == 200
        assert await w.push(update) == 200  # a redelivery: still one alert
        await w.deliver()

        assert await codeword_alerts(w) == 1
        assert w.fake.bot_texts(chat)[before:] == [TEXT_ONLY]  # the reply any photo gets: nothing revealed
        assert any(": codeword" in m["text"] for m in await commands.read_inbox(w.app, w.idva))
        body = await scalar(w, "SELECT body_enc FROM inbound_messages ORDER BY id DESC LIMIT 1")
        assert body is None  # a caption is kept nowhere, least of all one holding her codeword


async def test_a_caption_without_the_codeword_raises_nothing(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        await w.onboard(chat)
        assert await w.push(w.fake.message_update(chat, {**MEDIA["photo"], "caption": "the kettle is blue"})) == 200
        await w.deliver()
        assert await scalar(w, "SELECT count(*) FROM alerts") == 0
        assert w.fake.bot_texts(chat)[-1] == TEXT_ONLY


async def test_a_codeword_added_by_editing_a_message_alerts_silently_and_is_not_an_answer(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        ref = await w.onboard(chat)
        await commands.checkin_now(w.app, w.service_id, ref)
        await w.deliver()
        question = w.fake.bot_texts(chat)[-1]
        assert question.startswith("Hi, it's Alex. Is now a good time")
        sends, answers = len(w.fake.sent_to(chat)), await scalar(w, "SELECT count(*) FROM answers")
        hers = [m for m in w.fake.visible(chat) if not m.from_bot][-1]

        edit = w.fake.edited_update(chat, hers.message_id, "1 blue kettle")
        assert await w.push(edit) == 200
        assert await w.push(edit) == 200
        await w.deliver()

        assert await codeword_alerts(w) == 1
        assert len(w.fake.sent_to(chat)) == sends  # nothing at all is said in her chat
        assert await scalar(w, "SELECT count(*) FROM answers") == answers  # "1" did not answer the question
        assert await w.say(chat, "1") == 200  # the check-in carries on where it was
        await w.deliver()
        assert w.fake.bot_texts(chat)[-1] != question
