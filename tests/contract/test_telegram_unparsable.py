"""Telegram updates the client cannot parse, or we cannot act on: kept for a person, never a stall.

The real python-telegram-bot client long-polls (or takes webhooks from) the fake Bot API, which
sends updates shaped as an older or newer Bot API might: a field of another type, a required
field missing. Each must be kept as a failed message (encrypted, flagged, IDVA told, codeword
screened), confirmed so that the rest of the batch flows, and logged without its content.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from storage import inbound
from tests.contract.test_telegram_transport import NEUTRAL, scalar, until
from tests.fakes.telegram_world import TgWorld, telegram_world

PLANTED = "Quorndon"  # a word of hers that must never reach a log
NAME = "Zephyrine"  # her first name, as Telegram sends it with every message


async def failed_rows(w: TgWorld) -> list[dict[str, Any]]:
    async with w.app.db.reading() as tx:
        rows = await tx.all("SELECT id, case_id, body_enc FROM inbound_messages WHERE failed = 1 ORDER BY id")
    return [
        {"case": r["case_id"], "body": w.app.crypto.decrypt_optional(r["body_enc"], inbound.BODY.at(r["id"]))}
        for r in rows
    ]


async def alert_reasons(w: TgWorld) -> list[str]:
    async with w.app.db.reading() as tx:
        return [r["reason"] for r in await tx.all("SELECT reason FROM alerts ORDER BY id")]


async def test_a_polled_update_the_client_cannot_parse_is_kept_and_the_rest_of_the_batch_flows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Everything logged at DEBUG, with the service's own logger settings, reaches this capture.
    caplog.set_level(logging.DEBUG)
    async with telegram_world(tmp_path, webhook=False) as w:
        survivor, stranger = w.new_chat(), w.new_chat()
        await w.onboard(survivor)
        before = len(w.fake.bot_texts(survivor))
        batch = [
            w.fake.unparsable_update(survivor, f"{PLANTED} lane, blue kettle", "date_as_text", first_name=NAME),
            w.fake.unparsable_update(survivor, f"{PLANTED} lane again", "entity_without_offset", first_name=NAME),
            w.fake.text_update(survivor, "HELP"),
            w.fake.text_update(stranger, "hello"),
        ]
        for update in batch:  # one getUpdates answer holds them all
            w.fake.queue(update)
        await w.fake.drained()  # every one confirmed: the offset moved past the bad ones
        await w.deliver()

        assert w.fake.bot_texts(survivor)[before:][0].startswith("Options:")  # the next one was read
        assert w.fake.bot_texts(stranger) == [NEUTRAL]
        # Kept for a person: the words encrypted, except where they hold her codeword (a secret).
        assert await failed_rows(w) == [{"case": 1, "body": None}, {"case": 1, "body": f"{PLANTED} lane again"}]
        assert await alert_reasons(w) == ["codeword", "processing_failed", "processing_failed"]
        assert len(w.fake.calls_of("getUpdates")) > 1  # and polling goes on

    logged = caplog.text
    assert "telegram update could not be parsed error=TypeError" in logged
    for secret in (str(survivor), str(stranger), NAME, PLANTED, "blue kettle", "hello"):
        assert secret not in logged, secret


async def test_no_log_line_carries_the_content_of_an_update_that_cannot_be_parsed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every logger, captured at DEBUG with the service's own settings: the client library logged the
    whole batch (her text, first name and chat id) at CRITICAL when one update could not be parsed."""
    caplog.set_level(logging.DEBUG)
    async with telegram_world(tmp_path, webhook=False) as w:
        chat = w.new_chat()
        w.fake.queue(w.fake.unparsable_update(chat, f"{PLANTED} lane", "date_as_text", first_name=NAME))

        async def reported() -> bool:
            return any(r.levelno >= logging.ERROR and "telegram" in r.name for r in caplog.records)

        await until(reported)
    assert caplog.records
    for secret in (str(chat), NAME, PLANTED):
        assert secret not in caplog.text, secret
        assert all(secret not in str(r.args) for r in caplog.records), secret


async def test_a_webhook_update_the_client_cannot_parse_is_kept_and_answered_200(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        survivor = w.new_chat()
        await w.onboard(survivor)
        for shape in ("no_message_id", "date_as_text"):
            update = w.fake.unparsable_update(survivor, f"{PLANTED} {shape}", shape)
            assert await w.push(update) == 200  # Telegram must not retry it for 24 hours
            assert await w.push(update) == 200  # nor is a redelivery kept twice
        await w.deliver()
        assert await failed_rows(w) == [
            {"case": 1, "body": f"{PLANTED} no_message_id"},
            {"case": 1, "body": f"{PLANTED} date_as_text"},
        ]
        assert await alert_reasons(w) == ["processing_failed", "processing_failed"]
        assert await w.say(survivor, "HELP") == 200
        await w.deliver()
        assert w.fake.bot_texts(survivor)[-1].startswith("Options:")


async def test_an_unparsable_update_whose_chat_cannot_be_found_is_still_kept(tmp_path: Path) -> None:
    async with telegram_world(tmp_path, webhook=False) as w:
        chat = w.new_chat()
        assert await w.push(w.fake.unparsable_update(chat, f"{PLANTED} here", "chat_as_text")) == 200
        assert await failed_rows(w) == [{"case": None, "body": f"{PLANTED} here"}]
        assert await alert_reasons(w) == []  # no case to tell anyone about: a person finds it flagged


async def test_an_update_we_cannot_act_on_is_kept_instead_of_being_offered_for_ever(tmp_path: Path) -> None:
    async with telegram_world(tmp_path, webhook=False) as w:
        chat = w.new_chat()
        odd = w.fake.text_update(chat, f"{PLANTED} without a chat")
        del odd["message"]["chat"]  # the client parses it; the router cannot use it
        assert await w.push(odd) == 200  # confirmed, not stalled on
        assert await w.push(w.fake.text_update(chat, "hello")) == 200
        await w.deliver()
        assert await failed_rows(w) == [{"case": None, "body": f"{PLANTED} without a chat"}]
        assert w.fake.bot_texts(chat) == [NEUTRAL]


async def test_long_polling_survives_an_answer_of_an_unexpected_shape(tmp_path: Path) -> None:
    async with telegram_world(tmp_path, webhook=False) as w:
        chat = w.new_chat()
        w.fake.answer_oddly("getUpdates", {"updates": "not a list"}, times=2)
        w.fake.queue(w.fake.text_update(chat, "hello"))

        async def answered() -> bool:
            return w.fake.bot_texts(chat) == [NEUTRAL]

        async def delivered() -> bool:
            await w.deliver()
            return await answered()

        await until(delivered)
        assert await scalar(w, "SELECT count(*) FROM inbound_messages") == 1
