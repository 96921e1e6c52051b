"""Enrolment with secrets set in person, then her set-up and safety words over SMS, all against a real
`safecheck serve`: the workspace over HTTP, the real twilio client to the fake Twilio API, and Twilio's
signed webhooks back to serve. Her thread never asks for (or explains) a secret; the words she chose on
the IDVA's device work in it: the codeword alerts her IDVA by SMS, the exit word ends the chat."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
from aiohttp import ClientSession, CookieJar

from tests.contract.test_sms_cli import PUBLIC, free_port, sms_cli, start_serve
from tests.fakes.twilio_api import FakeTwilio, Sent
from tests.webtools import PASSWORD, offered_key, post_form

OUR_NUMBER = "+447700900000"
IDVA_PHONE = "+447700900001"  # Ida, practitioner 1 (sms_cli adds her)
SURVIVOR = "+447700900123"
# 8-digit PINs: the file scan below would find 4 digits by chance in a hex digest.
SECRETS = {"exit_word": "Pasta", "codeword": "Blue Kettle", "pin": "24681357", "duress_pin": "97531864"}


async def until(found: Callable[[], list[Sent]], what: str) -> list[Sent]:
    """Wait for serve's dispatcher (another process) to have sent what we expect through the fake."""
    for _ in range(400):
        if result := found():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"serve never sent {what}")


async def test_secrets_set_in_person_stay_out_of_her_sms_thread_and_work_in_it(tmp_path: Path) -> None:
    async with FakeTwilio() as fake:
        port = free_port()
        cli = sms_cli(tmp_path, TWILIO_API_BASE_URL=fake.base_url, TWILIO_RATE="1000")  # pacing: its own tests
        fake.proxy[PUBLIC] = f"http://127.0.0.1:{port}"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # serve runs on real time: so must the invitation
        invited = cli.run("invite", "--name", "Meg", "--role", "manager", now=now).stdout
        token = re.search(r"/invite/(\S+)", invited)
        assert token
        serve = await start_serve(tmp_path, cli, port)
        base = f"http://127.0.0.1:{port}"
        jar = CookieJar(unsafe=True, treat_as_secure_origin=base)
        try:
            async with ClientSession(base_url=base, cookie_jar=jar) as web:
                # The manager accepts her invitation and signs in (a recovery code: the TOTP step is spent).
                page = await (await web.get(f"/invite/{token.group(1)}")).text()
                secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
                assert secret
                accept = {
                    "login": "meg",
                    "password": PASSWORD,
                    "password_again": PASSWORD,
                    **offered_key(page),
                    "code": pyotp.TOTP(secret.group(1)).now(),
                }
                done = await (await post_form(web, f"/invite/{token.group(1)}", accept)).text()  # type: ignore[arg-type]
                codes = re.findall(r"<code>([0-9a-f-]{19})</code>", done)
                assert codes
                await post_form(web, "/login", {"login": "meg", "password": PASSWORD})  # type: ignore[arg-type]
                second = await post_form(web, "/login/second", {"code": codes[0]})  # type: ignore[arg-type]
                assert second.headers["Location"] == "/"

                # Enrolment for Ida's caseload, then her own screen on the same device.
                case = {
                    "channel": "sms",
                    "address": SURVIVOR,
                    "intake": "high",
                    "idva": "1",
                    "timezone": "Europe/London",
                    "thread_explained": "yes",
                }
                created = await (await post_form(web, "/cases/new", case)).text()  # type: ignore[arg-type]
                ref = re.search(r"Case (C-[0-9A-Z]+) created", created)
                code = re.search(r'<code id="activation-code">([^<]+)</code>', created)
                assert ref and code, created
                form = {**SECRETS, **{f"{k}_again": v for k, v in SECRETS.items()}, "exit_pause": "3d"}
                saved = await post_form(web, f"/cases/{ref.group(1)}/secrets", form)  # type: ignore[arg-type]
                assert saved.status == 303

            async def say(text: str) -> str:
                before = len(fake.to(SURVIVOR))
                status, _, _ = await fake.text_in(PUBLIC + "/sms/inbound", SURVIVOR, OUR_NUMBER, text)
                assert status == 200
                sent = await until(lambda: fake.to(SURVIVOR)[before:], f"a reply to {text!r}")
                return sent[-1].body

            # Set-up over SMS: consent, safe times, missed check-ins; never a word or a PIN.
            assert (await say(code.group(1))).startswith("Hi, it's Alex. Thanks for setting this up.")
            assert "When is it usually OK to message you?" in await say("YES")
            assert "If you miss check-ins, may we let your contact know?" in await say("1 2 3")
            assert "All set." in await say("1")
            thread = " ".join(m.body for m in fake.to(SURVIVOR))
            for asked in ("Choose a word", "After you use that word", "Choose a second word", "PIN"):
                assert asked not in thread, asked

            # Her in-person codeword, inside an ordinary message, alerts Ida by SMS.
            await fake.text_in(PUBLIC + "/sms/inbound", SURVIVOR, OUR_NUMBER, "the blue kettle is broken")
            [alert] = await until(lambda: fake.to(IDVA_PHONE), "the codeword alert")
            assert alert.body == f"[URGENT] Case {ref.group(1)}: codeword. Reply ACK {ref.group(1)}"

            # Her in-person exit word ends the chat for the pause she chose in person.
            status, _, _ = await fake.text_in(PUBLIC + "/sms/inbound", SURVIVOR, OUR_NUMBER, "PASTA")
            assert status == 200
        finally:
            serve.terminate()
            _, err = await asyncio.wait_for(serve.communicate(), timeout=30)
        assert serve.returncode == 0
    with sqlite3.connect(tmp_path / "safecheck.db") as db:
        status, paused_until, in_person = db.execute(
            "SELECT status, paused_until, secrets_set_in_person_at FROM cases WHERE ref = ?", (ref.group(1),)
        ).fetchone()
        reasons = [r for (r,) in db.execute("SELECT reason FROM alerts ORDER BY id")]
        actions = [a for (a,) in db.execute("SELECT action FROM audit_log ORDER BY id")]
        pending = db.execute("SELECT count(*) FROM outbox WHERE status = 'pending' AND case_id IS NOT NULL").fetchone()
    assert status == "paused" and in_person is not None
    assert (
        timedelta(days=3) - timedelta(minutes=5)
        < datetime.fromisoformat(paused_until) - datetime.now(UTC)
        <= timedelta(days=3)
    )
    assert reasons == ["codeword", "quick_exit"]
    assert "case_enrolled" in actions and "secrets_set_in_person" in actions
    assert pending == (0,)
    raw = (tmp_path / "safecheck.db").read_bytes().lower()
    logs = err.decode().lower()
    for secret in ("pasta", "blue kettle", "24681357", "97531864", code.group(1).lower()):
        assert secret.encode() not in raw and secret not in logs, secret
