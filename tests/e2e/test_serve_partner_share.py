"""Partner sharing from outside the process: a real `safecheck serve` takes her signed Twilio webhook,
the risk rise reaches the linked Drive case manager by e-mail (real SMTP) with only the minimal content,
and his `ACK S-<n>` texted from his registered number is acknowledged on the share, in one line.

The case is set up in process on the same database file and key (onboarding by SMS takes many steps);
everything after that goes through the subprocess and real HTTP only."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from bot import commands
from bot.channels.sms_settings import INBOUND_PATH
from safety.sharing import Agreement, Basis, Kind
from storage import partners, practitioners
from storage.practitioners import ChannelAddress
from tests.e2e.conftest import Background, Cli
from tests.fakes.sms_harness import OUR_NUMBER, PUBLIC_URL, SURVIVOR, sms_world
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_world import free_port
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

CARL_MAIL = "carl@drive.example.org"
CARL_PHONE = "+447700900301"
DRIVE_REF = "DRV-889"


async def case_linked_to_drive(folder: Path) -> str:
    """Her case, onboarded by SMS and linked with her consent to Drive's case manager, four answers into
    a check-in; the fifth (the incident question) is left for the real serve. Returns her reference."""
    async with sms_world(folder) as w:
        ref = await w.onboard()
        [case] = await w.rows("SELECT id FROM cases WHERE ref = ?", (ref,))
        now = w.clock.now()
        async with w.app.db.transaction() as tx:
            agreement = Agreement("ISA-2026-014", Basis.CONSENT, frozenset({Kind.RISK_CHANGES}))
            drive = await partners.create(tx, w.service_id, "Drive West Mercia", "drive", agreement, now)
            carl = await practitioners.add(
                tx,
                w.app.crypto,
                w.service_id,
                "partner",
                "Carl",
                [ChannelAddress("email", CARL_MAIL), ChannelAddress("sms", CARL_PHONE)],
                now,
                partner_id=drive,
            )
            await partners.link(tx, w.app.crypto, case["id"], drive, carl, DRIVE_REF, "test", now)
            await partners.record_consent(tx, case["id"], drive, Kind.RISK_CHANGES, True, "v1", "in_person", "t", now)
            await tx.commit()
        await commands.checkin_now(w.app, w.service_id, ref)
        await w.deliver()
        for answer in ("1", "1", "1", "1"):
            await w.say(SURVIVOR, answer)
        return ref


def read(folder: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{folder / 'safecheck.db'}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


async def until(what: Callable[[], object], serve: Background, seconds: float = 30, running: bool = True) -> None:
    """Poll without blocking the loop the fake servers run in; fail if serve exits or the bound passes."""
    deadline = time.monotonic() + seconds
    while not what():
        assert not running or serve.proc.poll() is None, serve.stderr
        assert time.monotonic() < deadline, serve.stderr
        await asyncio.sleep(0.05)


async def test_a_risk_rise_through_a_real_serve_reaches_drive_by_email_and_an_sms_ack_closes_it(
    tmp_path: Path, smtp: SmtpServer, background: list[Background]
) -> None:
    folder = tmp_path / "service"
    folder.mkdir()
    ref = await case_linked_to_drive(folder)
    async with FakeTwilio() as fake:
        twilio = {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": OUR_NUMBER,
            "TWILIO_API_BASE_URL": fake.base_url,
        }
        cli = Cli(folder, now="2026-11-23T09:05:00Z", env={**twilio, **smtp.env(), "SAFECHECK_PUBLIC_URL": PUBLIC_URL})
        port = free_port()
        serve = cli.start("serve", SAFECHECK_PORT=str(port))
        background.append(serve)
        await until(lambda: "started;" in serve.stderr, serve)
        fake.proxy[PUBLIC_URL] = f"http://127.0.0.1:{port}"

        async def text(sender: str, body: str) -> str:
            status, _, answer = await fake.text_in(PUBLIC_URL + INBOUND_PATH, sender, OUR_NUMBER, body)
            assert status == 200
            return answer

        await text(SURVIVOR, "5")  # the incident question: choking
        await until(lambda: any(CARL_MAIL in r.rcpt_tos for r in smtp.received), serve)
        [(share_id,)] = read(folder, "SELECT id FROM shares")
        [mail] = [r.body for r in smtp.received if CARL_MAIL in r.rcpt_tos]
        assert f"Safecheck share S-{share_id} for your reference {DRIVE_REF}: strangulation disclosed" in mail
        for personal in (SURVIVOR, ref, "Test Survivor"):
            assert personal not in mail

        answer = await text(CARL_PHONE, f"ack s-{share_id}")  # answered in the webhook's own reply
        assert answer == f"<Response><Message>Acknowledged share S-{share_id}. Thank you.</Message></Response>"
        [(acknowledged_at, by)] = read(folder, "SELECT acknowledged_at, acknowledged_by FROM shares")
        assert acknowledged_at is not None and by is not None
        serve.proc.terminate()  # and wait without blocking the loop the fake Twilio answers in
        await until(lambda: serve.proc.poll() is not None, serve, running=False)
        assert serve.proc.returncode == 0
        assert "Traceback" not in serve.stderr and CARL_PHONE not in serve.stderr and DRIVE_REF not in serve.stderr
