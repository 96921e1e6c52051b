"""The fake Bot API server itself, driven by the real python-telegram-bot client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.request import HTTPXRequest

from tests.fakes.telegram_api import DELETE_WINDOW, FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(global_rate=None, chat_rate=None) as server:
        server.meet(1, 2, 5, 9, 42)
        yield server


def bot_for(fake: FakeTelegram) -> Bot:
    request = HTTPXRequest(connect_timeout=2, read_timeout=2)
    return Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url, request=request)


async def test_send_edit_and_delete_are_visible_in_the_chat(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="1")]])
        sent = await bot.send_message(42, "Hello", reply_markup=keyboard, protect_content=True)
        assert fake.visible(42)[0].reply_markup == {"inline_keyboard": [[{"text": "Yes", "callback_data": "1"}]]}
        assert fake.visible(42)[0].protect_content
        await bot.edit_message_text("Hello: Yes", chat_id=42, message_id=sent.message_id)
        assert fake.bot_texts(42) == ["Hello: Yes"]
        assert fake.visible(42)[0].reply_markup is None
        second = await bot.send_message(42, "Two")
        assert await bot.delete_messages(42, [sent.message_id, second.message_id, 999])
        assert fake.visible(42) == []
        with pytest.raises(BadRequest):
            await bot.delete_message(42, sent.message_id)


async def test_messages_older_than_48_hours_cannot_be_deleted(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        await bot.send_message(5, "old")
        fake.clock_offset = DELETE_WINDOW + 60
        await bot.delete_messages(5, [1])
        assert [m.text for m in fake.visible(5)] == ["old"]


async def test_injected_errors_reach_the_client_as_ptb_exceptions(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        fake.fail("sendMessage", 429, retry_after=3)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(1, "x")
        assert caught.value.retry_after == timedelta(seconds=3)
        fake.block(1)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(1, "x")
        assert fake.sent_to(1)[-1].params["text"] == "x"
        assert fake.visible(1) == []


async def test_rate_limits_answer_429_when_exceeded() -> None:
    async with FakeTelegram(global_rate=30, chat_rate=1) as fake, bot_for(fake) as bot:
        fake.meet(1, 2)
        await bot.send_message(1, "a")
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "b")  # the same chat within a second
        await bot.send_message(2, "c")  # another chat is fine
        assert fake.rejected_429 == 1


async def test_get_updates_honours_the_offset_and_carries_taps(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        question = await bot.send_message(
            9, "Q?", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="1")]])
        )
        first = fake.queue(fake.text_update(9, "hi"))
        fake.queue(fake.tap_update(9, question.message_id, "1"))
        updates = await bot.get_updates(timeout=0)
        assert updates[0].message is not None and updates[0].message.text == "hi"
        assert updates[1].callback_query is not None and updates[1].callback_query.data == "1"
        rest = await bot.get_updates(offset=first["update_id"] + 1, timeout=0)
        assert [u.update_id for u in rest] == [updates[1].update_id]


async def test_a_bot_cannot_write_first(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        with pytest.raises(Forbidden, match="initiate"):
            await bot.send_message(777, "hello")
