"""The Telegram transport's edges: webhook secret, redelivery, polling, limits, failures, odd updates."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import commands
from storage import cases
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import SECRET, TgWorld, telegram_world

TEXT_ONLY = "Sorry, only typed text can be read here. Please type your reply."
NEUTRAL = "Sorry, this number does not accept replies."


async def scalar(w: TgWorld, sql: str, params: tuple[Any, ...] = ()) -> Any:
    async with w.app.db.reading() as tx:
        return await tx.scalar(sql, params)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Polling runs in PTB's own task: wait for its effect (a bounded wait, not a timing claim)."""
    for _ in range(int(timeout / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


# ---- webhook ----


async def test_webhook_without_the_right_secret_gets_403_and_nothing_is_processed(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        assert w.fake.webhook_url == f"{w.web_url}/telegram/webhook"  # setWebhook at start, with the secret
        assert w.fake.webhook_secret == SECRET
        chat = w.new_chat()
        update = w.fake.text_update(chat, "hello")
        assert await w.fake.push(update, registered=False) == 403
        assert await w.fake.push(update, registered=False, secret="x" + SECRET[1:]) == 403
        assert await w.fake.push(update, registered=False, secret=SECRET + "x") == 403
        assert await scalar(w, "SELECT count(*) FROM inbound_messages") == 0
        assert await scalar(w, "SELECT count(*) FROM outbox") == 0
        assert await w.fake.push(update) == 200
        assert await scalar(w, "SELECT count(*) FROM inbound_messages") == 1


async def test_malformed_webhook_bodies_get_400_and_change_nothing(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w, aiohttp.ClientSession() as session:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for body in (b"not json", b"[]", b'{"update_id": "7"}', b'{"message": {}}'):
            async with session.post(f"{w.web_url}/telegram/webhook", data=body, headers=headers) as resp:
                assert resp.status == 400
        assert await scalar(w, "SELECT count(*) FROM inbound_messages") == 0


async def test_an_update_that_cannot_be_stored_gets_500_and_is_handled_when_delivered_again(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        update = w.fake.text_update(chat, "hello")
        async with w.app.db.transaction() as tx:
            await tx.execute("ALTER TABLE inbound_messages RENAME TO inbound_away")
            await tx.commit()
        assert await w.fake.push(update) == 500
        async with w.app.db.transaction() as tx:
            await tx.execute("ALTER TABLE inbound_away RENAME TO inbound_messages")
            await tx.commit()
        assert await w.fake.push(update) == 200
        await w.deliver()
        assert w.fake.bot_texts(chat) == [NEUTRAL]


# ---- redelivery ----


async def test_a_redelivered_update_is_processed_once_also_after_a_restart(tmp_path: Path) -> None:
    async with FakeTelegram(global_rate=30, chat_rate=20) as fake:
        async with telegram_world(tmp_path, fake=fake) as w:
            chat = w.new_chat()
            await w.onboard(chat)
            update = fake.text_update(chat, "HELP")
            assert await w.push(update) == 200
            assert await w.push(update) == 200
            await w.deliver()
            assert w.fake.bot_texts(chat)[-1].startswith("Options:")
            sends = len(fake.sent_to(chat))
        async with telegram_world(tmp_path, fake=fake) as again:
            assert await again.push(update) == 200  # Telegram retrying after our restart
            await again.deliver()
            assert len(fake.sent_to(chat)) == sends
            assert (
                await scalar(
                    again, "SELECT count(*) FROM inbound_messages WHERE provider_id = ?", (f"u{update['update_id']}",)
                )
                == 1
            )


async def test_long_polling_activates_by_deep_link_and_drops_a_repeated_update(tmp_path: Path) -> None:
    async with telegram_world(tmp_path, webhook=False) as w:
        assert w.fake.calls_of("deleteWebhook")  # polling mode clears any webhook first
        ref, code = await w.enrol()
        chat = w.new_chat()
        update = w.fake.text_update(chat, f"/start {code}")
        w.fake.queue(update)
        w.fake.queue(update)  # Telegram offering it again, e.g. after a lost confirmation

        async def activated() -> bool:
            async with w.app.db.reading() as tx:
                case = await cases.by_ref(tx, ref)
            return case is not None and case.status == "onboarding"

        await until(activated)
        await w.fake.drained()
        await w.deliver()
        assert len(w.fake.sent_to(chat)) == 1  # one consent question, not two


# ---- limits ----


async def test_sends_to_one_chat_are_paced_to_its_limit_and_a_429_is_honoured(tmp_path: Path) -> None:
    async with telegram_world(tmp_path, chat_rate=1.0) as w:
        chat = w.new_chat()
        for line in ["a", "b", "c"]:  # three replies queued for one chat at once
            await w.say(chat, line)
        await w.deliver()
        assert w.fake.bot_texts(chat) == [NEUTRAL] * 3
        assert w.fake.rejected_429 == 0  # the fake allows 1/s per chat: unpaced, the 2nd would be refused

        w.fake.fail("sendMessage", 429, retry_after=1)
        await w.say(chat, "d")
        await w.deliver()
        error = await scalar(w, "SELECT last_error FROM outbox WHERE status = 'pending'")
        assert error == "telegram: too many requests"
        w.clock.advance(timedelta(seconds=1))
        await w.deliver()
        assert await scalar(w, "SELECT count(*) FROM outbox WHERE status = 'pending'") == 0
        assert w.fake.bot_texts(chat) == [NEUTRAL] * 4
        assert w.fake.rejected_429 == 1  # only the injected one: the retry waited out the pause


async def test_many_chats_at_once_are_paced_to_the_overall_limit(tmp_path: Path) -> None:
    async with telegram_world(tmp_path, global_rate=20.0) as w:
        chats = [w.new_chat() for _ in range(30)]
        for chat in chats:
            await w.say(chat, "hi")
        await w.deliver()
        assert all(w.fake.bot_texts(chat) == [NEUTRAL] for chat in chats)
        assert w.fake.rejected_429 == 0  # the fake allows 20/s overall: 30 unpaced sends would be refused


async def test_network_errors_and_5xx_are_retried_through_the_outbox(tmp_path: Path) -> None:
    async with telegram_world(tmp_path, TELEGRAM_TIMEOUT="1") as w:
        chat = w.new_chat()
        w.fake.fail("sendMessage", 500)
        await w.say(chat, "hi")
        await w.deliver()
        assert await scalar(w, "SELECT status FROM outbox") == "pending"
        w.fake.delay("sendMessage", 1.5)  # longer than TELEGRAM_TIMEOUT=1: a timeout
        w.clock.advance(timedelta(seconds=1))
        await w.deliver()
        assert await scalar(w, "SELECT last_error FROM outbox") == "telegram: timed out"
        w.clock.advance(timedelta(seconds=2))
        await w.deliver()
        assert await scalar(w, "SELECT status FROM outbox") == "sent"


# ---- failures that end a chat ----


async def test_a_blocked_bot_is_a_dead_channel_alert_not_retried_forever(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        ref = await w.onboard(chat)
        w.fake.block(chat)
        await commands.checkin_now(w.app, w.service_id, ref)
        w.clock.advance(timedelta(minutes=2))
        await w.deliver()
        assert await scalar(w, "SELECT status FROM outbox WHERE recipient = 'survivor' ORDER BY id DESC") == "failed"
        assert await scalar(w, "SELECT count(*) FROM alerts WHERE reason = 'channel_dead'") == 1
        assert await commands.read_inbox(w.app, w.idva) != []


async def test_being_blocked_is_recorded_at_once_as_a_dead_channel(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        await w.onboard(chat)
        kicked = w.fake.member_update(chat, "kicked")
        assert await w.push(kicked) == 200
        assert await w.push(kicked) == 200  # redelivered: still one alert
        assert await scalar(w, "SELECT count(*) FROM alerts WHERE reason = 'channel_dead'") == 1
        assert await scalar(w, "SELECT count(*) FROM audit_log WHERE action = 'telegram_blocked'") == 1


# ---- updates that are not text ----

MEDIA: dict[str, dict[str, Any]] = {
    "sticker": {
        "sticker": {
            "file_id": "s1",
            "file_unique_id": "u1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    "photo": {"photo": [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]},
    "voice": {"voice": {"file_id": "v1", "file_unique_id": "vu1", "duration": 3}},
    "document": {"document": {"file_id": "d1", "file_unique_id": "du1", "file_name": "a.pdf"}},
    "location": {"location": {"latitude": 51.5, "longitude": -0.1}},
    "contact": {"contact": {"phone_number": "+447700900999", "first_name": "Someone"}},
}


async def test_every_non_text_update_is_survived_and_nothing_of_it_is_kept(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        survivor, stranger = w.new_chat(), w.new_chat()
        await w.onboard(survivor)
        stored = await scalar(w, "SELECT count(*) FROM inbound_messages")
        before = len(w.fake.bot_texts(survivor))
        for content in MEDIA.values():
            assert await w.push(w.fake.message_update(survivor, content)) == 200
            assert await w.push(w.fake.message_update(stranger, content)) == 200
        assert await w.push(w.fake.edited_update(survivor, 3, "1")) == 200  # an edit is not a new answer
        assert await w.push(w.fake.channel_post_update(-100500, "news")) == 200
        assert await w.push(w.fake.member_update(survivor, "member")) == 200
        await w.deliver()

        # Each media message once, and the edit (screened for the codeword only): none with words kept.
        assert await scalar(w, "SELECT count(*) FROM inbound_messages") == stored + 2 * len(MEDIA) + 1
        assert (
            await scalar(w, "SELECT count(*) FROM inbound_messages WHERE body_enc IS NOT NULL AND id > ?", (stored,))
            == 0
        )
        # A survivor is asked to type, so she does not think a voice note was read.
        assert w.fake.bot_texts(survivor)[before:] == [TEXT_ONLY] * len(MEDIA)
        assert w.fake.bot_texts(stranger) == [NEUTRAL] * len(MEDIA)  # a stranger learns nothing
        assert await scalar(w, "SELECT count(*) FROM alerts") == 0
        assert [c.params["chat_id"] for c in w.fake.calls_of("leaveChat")] == [-100500]


async def test_the_bot_leaves_any_group_it_is_added_to(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        assert await w.push(w.fake.member_update(-4001, "member", kind="group")) == 200
        assert await w.push(w.fake.message_update(-4002, {"text": "hi all"}, kind="supergroup")) == 200
        await w.deliver()
        assert [c.params["chat_id"] for c in w.fake.calls_of("leaveChat")] == [-4001, -4002]
        assert await scalar(w, "SELECT count(*) FROM outbox") == 0
        assert await scalar(w, "SELECT count(*) FROM inbound_messages") == 0


async def test_strange_text_is_handled_like_any_other(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        chat = w.new_chat()
        await w.onboard(chat)
        for text in ("\u202eemoji 🙂\u200b", "\x00\x07 control", "x" * 4096):
            assert await w.say(chat, text) == 200
        await w.deliver()
        assert w.fake.bot_texts(chat)[-1] == "Thanks, got it. Reply HELP for options."


async def test_telegram_unreachable_at_start_does_not_stop_the_service_and_is_retried(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        fake.fail("getMe", 502)
        async with telegram_world(tmp_path, fake=fake) as w:  # start() returned despite the failure
            assert fake.webhook_url is None

            async def registered() -> bool:
                return fake.webhook_url is not None

            await until(registered)  # the background retry got through
            chat = w.new_chat()
            assert await w.say(chat, "hello") == 200


async def test_a_polled_update_that_cannot_be_stored_is_not_confirmed_and_comes_again(tmp_path: Path) -> None:
    async with telegram_world(tmp_path, webhook=False) as w:
        chat = w.new_chat()
        async with w.app.db.transaction() as tx:
            await tx.execute("ALTER TABLE inbound_messages RENAME TO inbound_away")
            await tx.commit()
        w.fake.queue(w.fake.text_update(chat, "hello"))
        await asyncio.sleep(1.0)  # the poller fetched it and failed to store it, more than once
        with pytest.raises(TimeoutError):
            await w.fake.drained(timeout=0.2)  # never confirmed: Telegram still holds it
        async with w.app.db.transaction() as tx:
            await tx.execute("ALTER TABLE inbound_away RENAME TO inbound_messages")
            await tx.commit()
        await w.fake.drained()  # stored, so confirmed by the next getUpdates

        async def stored() -> bool:
            return bool(await scalar(w, "SELECT count(*) FROM inbound_messages"))

        await until(stored)
        await w.deliver()
        assert w.fake.bot_texts(chat) == [NEUTRAL]


async def test_a_webhook_body_that_is_not_utf8_is_a_400_and_changes_nothing(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w, aiohttp.ClientSession() as session:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        body = b'{"update_id": 5, "message": {"text": "caf\xe9"}}'
        async with session.post(f"{w.web_url}/telegram/webhook", data=body, headers=headers) as resp:
            assert (resp.status, await resp.text()) == (400, "malformed update\n")
        assert await scalar(w, "SELECT count(*) FROM inbound_messages") == 0
