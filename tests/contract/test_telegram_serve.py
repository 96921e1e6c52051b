"""`safecheck` with a Telegram token: the CLI prints the deep link, bad settings fail in one line,
and `serve` runs the bot (long polling) against the fake Bot API server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bot.cli import serve
from bot.config import load
from tests.e2e.conftest import Cli
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.fakes.telegram_world import free_port

TOKEN = "123456:AAH-fake_token_for_tests_0123456789"


def test_enrol_on_telegram_needs_no_address_and_prints_the_deep_link(tmp_path: Path) -> None:
    cli = Cli(tmp_path, env={"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BOT_USERNAME": BOT_USERNAME})
    cli.run("init", "--service-name", "Test service")
    cli.run("practitioner", "add", "--name", "Ida", "--role", "idva")
    out = cli.run("case", "enrol", "--idva", "1", "--channel", "telegram", "--intake", "high").stdout
    code = re.search(r"activation code (\S+)", out)
    assert code is not None
    assert f"telegram link https://t.me/{BOT_USERNAME}?start={code[1]}" in out
    ref = re.search(r"case (C-\S+)", out)
    assert ref is not None
    assert "auto-delete off" in cli.run("case", "set-autodelete", ref[1], "--minutes", "0").stdout
    failed = cli.run("case", "enrol", "--idva", "1", "--intake", "high", ok=False)  # SMS/simulator need one
    assert failed.returncode != 0 and "--address" in failed.stderr


def test_a_bad_telegram_setting_stops_any_command_in_one_line_without_the_token(tmp_path: Path) -> None:
    cli = Cli(tmp_path, env={"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_MODE": "webhook"})
    cli.run("init", "--service-name", "Test service", ok=False)
    proc = cli.run("case", "list", ok=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "SAFECHECK_PUBLIC_URL" in proc.stderr
    assert TOKEN not in proc.stderr


async def test_serve_long_polls_and_answers_through_the_dispatcher(tmp_path: Path) -> None:
    Cli(tmp_path).run("init", "--service-name", "Test service")
    async with FakeTelegram() as fake:
        env = {
            "SAFECHECK_DB": str(tmp_path / "safecheck.db"),
            "SAFECHECK_PORT": str(free_port()),
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_POLL_TIMEOUT": "1",
        }
        stop = asyncio.Event()
        running = asyncio.create_task(serve.run(load(env), stop))
        fake.queue(fake.text_update(4242, "hello?"))
        for _ in range(500):
            if fake.sent_to(4242):
                break
            await asyncio.sleep(0.02)
        stop.set()
        assert await running == 0
        assert fake.bot_texts(4242) == ["Sorry, this number does not accept replies."]
        assert fake.calls_of("deleteWebhook") and fake.calls_of("getUpdates")


async def test_serve_in_webhook_mode_registers_the_webhook_and_answers_through_it(tmp_path: Path) -> None:
    Cli(tmp_path).run("init", "--service-name", "Test service")
    async with FakeTelegram() as fake:
        port = free_port()
        env = {
            "SAFECHECK_DB": str(tmp_path / "safecheck.db"),
            "SAFECHECK_PORT": str(port),
            "SAFECHECK_PUBLIC_URL": f"http://127.0.0.1:{port}",  # a self-hosted Bot API may call http
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_WEBHOOK_SECRET": "serve-secret_0123456789",
        }
        stop = asyncio.Event()
        running = asyncio.create_task(serve.run(load(env), stop))
        for _ in range(500):
            if fake.webhook_url:
                break
            await asyncio.sleep(0.02)
        assert fake.webhook_url == f"http://127.0.0.1:{port}/telegram/webhook"
        assert await fake.push(fake.text_update(4343, "hello?"), registered=False) == 403
        assert await fake.push(fake.text_update(4343, "hello?")) == 200
        for _ in range(500):
            if fake.sent_to(4343):
                break
            await asyncio.sleep(0.02)
        stop.set()
        assert await running == 0
        assert fake.bot_texts(4343) == ["Sorry, this number does not accept replies."]
        assert not fake.calls_of("getUpdates")
