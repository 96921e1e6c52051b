"""Nothing reaches her phone after her exit word or her withdrawal, even what was already waiting its turn.

The real twilio and python-telegram-bot clients, paced as in production: her queued messages wait in
the sender's pacer while the exit arrives over a signed webhook. The silence check runs after that wait,
from the database, so none of them goes out; they are recorded as cancelled, not as sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.dispatcher import Dispatcher
from tests.fakes.sms_harness import SURVIVOR, SmsWorld, sms_world
from tests.fakes.telegram_world import TgWorld, telegram_world

QUEUED = 4  # HELP answers waiting for her, each several segments long


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.005)


async def queue_help_replies(w: SmsWorld) -> None:
    for _ in range(QUEUED):
        status, _, _ = await w.text(SURVIVOR, "HELP")
        assert status == 200


@pytest.mark.parametrize(
    ("exit_text", "cover_line", "only_after"),
    [
        ("pasta", True, ["No problem, talk soon."]),  # the exit word: only the optional cover line
        ("WITHDRAW", False, ["OK. You will not get any more messages."]),  # only her withdrawal's own answer
    ],
)
async def test_sms_texts_waiting_for_their_turn_are_never_sent_after_the_exit_or_withdrawal(
    tmp_path: Path, exit_text: str, cover_line: bool, only_after: list[str]
) -> None:
    async with sms_world(tmp_path, rate=8.0) as w:  # 8 segments a second: each HELP text waits its turn
        await w.onboard()
        async with w.app.db.transaction() as tx:
            await tx.execute("UPDATE services SET cover_line = ?", (int(cover_line),))
            await tx.commit()
        [start] = await w.rows("SELECT max(id) AS id FROM outbox")
        await queue_help_replies(w)
        before = len(w.fake.to(SURVIVOR))
        delivering = asyncio.create_task(Dispatcher(w.app).run_once())
        await until(lambda: len(w.fake.to(SURVIVOR)) > before)  # the first went; the rest wait in the pacer

        status, _, _ = await w.text(SURVIVOR, exit_text)
        assert status == 200
        after_exit = len(w.fake.to(SURVIVOR))
        await delivering
        await w.deliver()

        sent_after = [m.body for m in w.fake.to(SURVIVOR)[after_exit:]]
        assert sent_after == only_after
        help_rows = await w.rows(
            "SELECT status FROM outbox WHERE id > ? ORDER BY id LIMIT ?", (start["id"], QUEUED)
        )
        sent = len(w.fake.to(SURVIVOR)) - before - len(sent_after)
        assert [r["status"] for r in help_rows] == ["sent"] * sent + ["cancelled"] * (QUEUED - sent)
        assert sent < QUEUED


@asynccontextmanager
async def telegram_backlog(tmp_path: Path) -> AsyncIterator[tuple[TgWorld, int, asyncio.Task[int]]]:
    """An onboarded chat whose HELP answers are being delivered, one a quarter second (the chat pace)."""
    async with telegram_world(tmp_path, chat_rate=4.0) as w:
        chat = w.new_chat()
        await w.onboard(chat)
        for _ in range(QUEUED):
            assert await w.say(chat, "HELP") == 200
        before = len(w.fake.sent_to(chat))
        delivering = asyncio.create_task(Dispatcher(w.app).run_once())
        await until(lambda: len(w.fake.sent_to(chat)) > before)  # the first went; the rest wait their turn
        yield w, chat, delivering


async def test_telegram_messages_waiting_for_the_chat_pace_are_never_sent_after_the_exit_button(
    tmp_path: Path,
) -> None:
    async with telegram_backlog(tmp_path) as (w, chat, delivering):
        [shown] = [m for m in w.fake.visible(chat) if m.from_bot][-1:]
        assert await w.tap(chat, shown.message_id, "x") == 200  # the one-tap exit
        after_exit = len(w.fake.sent_to(chat))
        await delivering
        await w.deliver()

        assert len(w.fake.sent_to(chat)) == after_exit
        assert w.fake.visible(chat) == []  # and the chat was emptied


async def test_texts_waiting_after_a_withdrawal_on_a_channel_without_carrier_opt_out_stay_unsent(
    tmp_path: Path,
) -> None:
    async with telegram_backlog(tmp_path) as (w, chat, delivering):
        assert await w.say(chat, "STOP") == 200
        after_exit = len(w.fake.sent_to(chat))
        await delivering
        await w.deliver()

        texts = [c.params.get("text") for c in w.fake.sent_to(chat)[after_exit:]]
        assert texts == ["OK. You will not get any more messages."]  # her own confirmation, nothing queued before
