"""SMS through the real CLI: `serve` answers Twilio's webhooks and sends through the (fake) Twilio API,
enrol checks numbers, simulate shows what each reply costs, and bad settings are one line."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

PUBLIC = "https://safecheck.example.org"
TWILIO_ENV = {
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_FROM_NUMBER": "+447700900000",
    "SAFECHECK_PUBLIC_URL": PUBLIC,
    "TWILIO_API_BASE_URL": "http://127.0.0.1:9",  # nothing listens: these commands send nothing
}


def sms_cli(tmp_path: Path, **env: str) -> Cli:
    cli = Cli(tmp_path, env={**TWILIO_ENV, **env})
    cli.run("init", "--service-name", "Test IDVA service")
    cli.run("practitioner", "add", "--name", "Ida", "--role", "idva", "--channels", "sms:+447700900001,inbox")
    return cli


async def start_serve(folder: Path, cli: Cli, port: int) -> asyncio.subprocess.Process:
    """`safecheck serve` on this service's settings (SMS on) and a port of its own, once it listens."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SAFECHECK_", "TWILIO_"))},
        **cli.env,
        "SAFECHECK_DB": str(folder / "safecheck.db"),
        "SAFECHECK_PORT": str(port),
    }
    serve = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "serve",
        env=env,
        cwd=folder,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    for _ in range(200):  # until it listens
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return serve
        except OSError:
            await asyncio.sleep(0.05)
    serve.kill()
    raise AssertionError("serve never listened")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """One service for the one-shot commands below (each starts a Python process: keep them few)."""
    return sms_cli(tmp_path_factory.mktemp("sms-cli"))


def enrol(cli: Cli, address: str, ok: bool = True) -> tuple[str, str]:
    proc = cli.run("case", "enrol", "--idva", "1", "--channel", "sms", "--address", address, "--intake", "high", ok=ok)
    if not ok:
        return proc.stderr, ""
    ref, code = re.search(r"case (C-\w+)", proc.stdout), re.search(r"activation code (\S+)", proc.stdout)
    assert ref and code
    return ref.group(1), code.group(1)


def test_enrol_by_sms_needs_an_international_mobile_number(shared: Cli) -> None:
    error, _ = enrol(shared, "07700 900123", ok=False)
    assert (
        error == "safecheck: error: an SMS address must be a mobile number in international form, e.g. +447700900123\n"
    )
    ref, _ = enrol(shared, "+44 7700 900111")
    assert ref.startswith("C-")


def test_simulate_json_shows_the_segments_of_every_reply(shared: Cli) -> None:
    ref, code = enrol(shared, "+447700900122")
    lines = shared.json_lines("simulate", "--case", ref, "--json", "--force", stdin=f"{code}\nYES\n")
    replies = [x for x in lines if x["type"] == "reply"]
    assert len(replies) == 2
    assert [(r["encoding"], r["segments"]) for r in replies] == [("GSM-7", 2), ("GSM-7", 1)]
    assert str(replies[0]["text"]).startswith("Hi, it's Alex. Thanks for setting this up.")


def test_a_wrong_twilio_setting_stops_every_command_with_one_line(shared: Cli) -> None:
    cli = Cli(shared.folder, env={**shared.env, "TWILIO_FROM_NUMBER": "", "TWILIO_ALPHA_SENDER": "Safecheck"})
    for args in (("case", "list"),):
        proc = cli.run(*args, ok=False)
        assert proc.returncode == 2
        assert proc.stderr == (
            "safecheck: error: TWILIO_ALPHA_SENDER 'Safecheck' would reveal the service: use a neutral name\n"
        )
        assert AUTH_TOKEN not in proc.stderr + proc.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_answers_signed_webhooks_and_replies_through_twilio(tmp_path: Path) -> None:
    async with FakeTwilio() as fake:
        port = free_port()
        cli = sms_cli(tmp_path, TWILIO_API_BASE_URL=fake.base_url)
        fake.proxy[PUBLIC] = f"http://127.0.0.1:{port}"
        serve = await start_serve(tmp_path, cli, port)
        try:
            status, ctype, body = await fake.text_in(PUBLIC + "/sms/inbound", "+447700900999", "+447700900000", "hi")
            assert (status, ctype) == (200, "text/xml") and body.endswith("<Response/>")
            forged = fake.inbound_params("+447700900999", "+447700900000", "hi")
            assert (await fake.post_signed(PUBLIC + "/sms/inbound", forged, signature="bm9wZQ=="))[0] == 403
            for _ in range(200):  # the dispatcher sends the neutral line through the Twilio API
                if fake.messages:
                    break
                await asyncio.sleep(0.05)
            [sent] = fake.messages
            assert (sent.to, sent.body) == ("+447700900999", "Sorry, this number does not accept replies.")
            assert (await fake.status(sent.sid, "delivered"))[0] == 200  # Twilio's delivery report, signed
        finally:
            serve.terminate()
            _, err = await asyncio.wait_for(serve.communicate(), timeout=30)
        assert serve.returncode == 0
        logs = err.decode()
        assert "sms ready sender=number rate=1/s" in logs
        assert "reason=bad_signature" in logs and "outcome=unknown_sender" in logs
        assert "900999" not in logs and AUTH_TOKEN not in logs and "hi\n" not in logs
        assert json.dumps(sent.body) not in logs
    with sqlite3.connect(tmp_path / "safecheck.db") as db:
        row = db.execute("SELECT recipient, encoding, segments, status FROM sms_deliveries").fetchall()
    assert row == [("survivor", "GSM-7", 1, "delivered")]
