"""Alerts by e-mail, and fallback across a practitioner's channels in the order they chose.

Everything is real: the pipeline on a SQLite file, the e-mail transport configured from SMTP_*
settings, aiosmtplib talking STARTTLS and AUTH to an aiosmtpd server on 127.0.0.1, and the
inbox and log channels of the core.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from bot import commands
from bot.bootstrap import open_app
from bot.channels.simulator import SimulatorChannel
from bot.cli.main import run
from bot.cli.parser import build_parser, hoist_global_options
from bot.clock import FixedClock
from bot.config import Settings, load
from bot.dispatcher import MAX_ATTEMPTS
from storage import services
from storage.db import Database
from storage.keys import create_key_file
from tests.conftest import START, World
from tests.databases import fresh_database
from tests.fakes.smtp_server import USERNAME, SmtpServer
from tests.integration.conftest import PHONE, alerts, inbox, later, rows

IDA, DAN, MEG = "ida@example.org", "dan@example.org", "meg@example.org"


@asynccontextmanager
async def mail_world(
    tmp_path: Path,
    smtp: SmtpServer,
    idva: Sequence[str] = (f"email:{IDA}", "inbox"),
    duty: Sequence[str] = (f"email:{DAN}", "inbox"),
    manager: Sequence[str] = (f"email:{MEG}", "inbox"),
    env: dict[str, str] | None = None,
    workspace_url: str | None = None,
) -> AsyncIterator[World]:
    """The `world` of tests/conftest.py, with e-mail configured and practitioners on the channels given."""
    os.environ.pop("SAFECHECK_KEY", None)
    settings = Settings(
        db_path=tmp_path / "safecheck.db",
        key_file=tmp_path / "safecheck.key",
        env={**smtp.env(), **(env or {})},
        workspace_url=workspace_url,
    )
    create_key_file(settings.key_file)
    fresh_database(settings.db_path)
    db = await Database.open(settings.db_path)
    async with db.transaction() as tx:
        service_id = await services.create(tx, "test", "Test service", START)
        await tx.commit()
    await db.close()
    clock, sim = FixedClock(START), SimulatorChannel()
    async with open_app(settings, clock=clock, simulator=sim, seed=7) as app:  # transports from the settings
        ids = [
            await commands.add_practitioner(app, service_id, name, role, list(channels))
            for name, role, channels in (("Ida", "idva", idva), ("Dan", "duty", duty), ("Meg", "manager", manager))
        ]
        yield World(app, sim, clock, settings, service_id, *ids)


async def codeword(world: World, text: str = "I'm fine, blue kettle") -> int:
    await world.say(PHONE, text)
    await world.deliver()
    [alert] = await alerts(world)
    return int(alert["id"])


async def alert_rows(world: World, practitioner: int) -> list[dict[str, object]]:
    return await rows(
        world.app,
        "SELECT channel, position, status, attempts, last_error FROM outbox "
        "WHERE recipient = 'practitioner' AND practitioner_id = ? ORDER BY id",
        (practitioner,),
    )


# ---- e-mail alerts ----


async def test_codeword_alert_arrives_by_email_with_minimal_content(tmp_path: Path, smtp: SmtpServer) -> None:
    async with mail_world(tmp_path, smtp) as world:
        ref = await world.onboard()
        alert_id = await codeword(world)
        [mail] = smtp.received
        assert mail.rcpt_tos == (IDA,) and mail.tls and mail.login == USERNAME
        assert mail.message["Subject"] == f"[URGENT] Safecheck alert {ref}"
        for expected in (
            f"Safecheck alert {alert_id} for case {ref}",
            "Severity: URGENT",
            "Reason:   codeword",
            "Time:     2026-11-23 09:00 UTC",
            f"safecheck alerts ack {alert_id}",
            f"Details: safecheck case show {ref}",
        ):
            assert expected in mail.body
        assert await inbox(world, world.idva) == []  # e-mail was the IDVA's first choice, and it worked
        assert await alert_rows(world, world.idva) == [
            {"channel": "email", "position": 0, "status": "sent", "attempts": 1, "last_error": None}
        ]


async def test_alert_email_carries_no_survivor_name_number_or_words(tmp_path: Path, smtp: SmtpServer) -> None:
    async with mail_world(tmp_path, smtp) as world:
        ref = await world.onboard(name="Jane Plantedname")
        await codeword(world, "he found me, Zebedee knows, blue kettle")
        await later(world, timedelta(minutes=5))
        await later(world, timedelta(minutes=5))
        assert [m.rcpt_tos for m in smtp.received] == [(IDA,), (DAN,), (MEG,)]  # every rung, by e-mail
        for mail in smtp.received:
            raw = mail.raw.decode()
            assert ref in raw
            for planted in ("Plantedname", "Jane", "7700900123", "Zebedee", "kettle", "he found me", "pasta"):
                assert planted not in raw


async def test_link_setting_points_the_email_to_the_case_system(tmp_path: Path, smtp: SmtpServer) -> None:
    link = {"SAFECHECK_ALERT_LINK": "https://cms.example.org/cases/{case_ref}"}
    async with mail_world(tmp_path, smtp, env=link) as world:
        ref = await world.onboard()
        await codeword(world)
        assert f"Details: https://cms.example.org/cases/{ref}" in smtp.received[0].body


# ---- fallback in the practitioner's order ----


async def test_refused_mailbox_falls_back_to_the_next_channel_at_once(
    tmp_path: Path, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    smtp.refuse(IDA, "550 5.1.1 <ida@example.org>: mailbox unavailable")
    async with mail_world(tmp_path, smtp) as world:
        ref = await world.onboard()
        await codeword(world)  # no time passes
        [text] = await inbox(world, world.idva)
        assert f"Case {ref}: codeword" in text
        assert smtp.received == [] and smtp.attempts == 1  # tried once, not retried
        assert await alert_rows(world, world.idva) == [
            {"channel": "inbox", "position": 1, "status": "sent", "attempts": 1, "last_error": "SMTP 550"}
        ]
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]  # not the test server's
    assert any("falling back" in line for line in ours)
    assert not any("ida@" in line or "mailbox unavailable" in line for line in ours)


async def test_mail_server_down_is_retried_then_falls_back(tmp_path: Path, smtp: SmtpServer) -> None:
    async with mail_world(tmp_path, smtp) as world:
        await world.onboard()
        await smtp.stop()
        await codeword(world)
        [row] = await alert_rows(world, world.idva)
        assert (row["channel"], row["status"], row["last_error"]) == ("email", "pending", "SMTP server unreachable")
        for _ in range(MAX_ATTEMPTS - 2):  # backoff stays under 40 s, and the duty rung is 5 minutes away
            await later(world, timedelta(seconds=40))
            assert await inbox(world, world.idva) == []
        await later(world, timedelta(seconds=40))  # the last attempt by e-mail fails: on to the inbox
        assert len(await inbox(world, world.idva)) == 1
        [row] = await alert_rows(world, world.idva)
        assert (row["channel"], row["status"], row["last_error"]) == ("inbox", "sent", "SMTP server unreachable")


async def test_mail_server_back_before_retries_run_out_delivers_by_email(tmp_path: Path, smtp: SmtpServer) -> None:
    async with mail_world(tmp_path, smtp) as world:
        await world.onboard()
        port = smtp.port
        await smtp.stop()
        await codeword(world)
        assert smtp.received == []
        await smtp.start(port)
        await later(world, timedelta(seconds=1))
        assert [m.rcpt_tos for m in smtp.received] == [(IDA,)]
        assert await inbox(world, world.idva) == []


async def test_fallback_follows_the_chosen_order_through_every_channel(
    tmp_path: Path, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="safecheck.alerts")
    smtp.refuse(IDA)
    async with mail_world(tmp_path, smtp, idva=(f"email:{IDA}", "log", "inbox")) as world:
        await world.onboard()
        alert_id = await codeword(world)
        assert any(f"practitioner={world.idva} alert={alert_id}" in r.getMessage() for r in caplog.records)
        assert await inbox(world, world.idva) == []  # the log came before the inbox in Ida's order
        [row] = await alert_rows(world, world.idva)
        assert (row["channel"], row["position"], row["status"]) == ("log", 1, "sent")


async def test_email_after_another_channel_is_not_used_while_that_one_works(
    tmp_path: Path, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="safecheck.alerts")
    async with mail_world(tmp_path, smtp, idva=("log", f"email:{IDA}")) as world:
        await world.onboard()
        alert_id = await codeword(world)
        assert any(f"practitioner={world.idva} alert={alert_id}" in r.getMessage() for r in caplog.records)
        assert smtp.received == []


async def test_alert_no_channel_of_the_idva_can_deliver_reaches_the_duty_idva_by_email_at_once(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    smtp.refuse(IDA)
    async with mail_world(tmp_path, smtp, idva=(f"email:{IDA}",)) as world:
        await world.onboard()
        await codeword(world)
        await world.deliver()  # the escalation was brought forward to now: no time passes
        assert [m.rcpt_tos for m in smtp.received] == [(DAN,)]
        [row] = await alert_rows(world, world.idva)
        assert (row["status"], row["last_error"]) == ("failed", "SMTP 550")


async def test_email_channel_without_smtp_settings_falls_back_at_once(world: World) -> None:
    assert "email" not in world.app.practitioner_channels  # no SMTP_HOST in this world's settings
    sam = await commands.add_practitioner(world.app, world.service_id, "Sam", "idva", [f"email:{IDA}", "inbox"])
    world.idva = sam  # Sam holds the case
    ref = await world.onboard()
    await codeword(world)
    [text] = await inbox(world, sam)
    assert f"Case {ref}: codeword" in text
    [row] = await alert_rows(world, sam)
    assert (row["channel"], row["status"], row["last_error"]) == ("inbox", "sent", "no practitioner channel email")


# ---- acknowledging ----


async def test_acknowledging_after_an_email_alert_stops_the_escalation(tmp_path: Path, smtp: SmtpServer) -> None:
    async with mail_world(tmp_path, smtp) as world:
        await world.onboard()
        await codeword(world)
        [mail] = smtp.received
        found = re.search(r"safecheck alerts ack (\d+)", mail.body)
        assert found is not None
        alert_id = int(found.group(1))
        await commands.ack(world.app, alert_id, world.idva)  # what the e-mail tells the IDVA to do
        await later(world, timedelta(minutes=5))
        await later(world, timedelta(minutes=5))
        await later(world, timedelta(hours=1))
        assert [m.rcpt_tos for m in smtp.received] == [(IDA,)]
        [alert] = await alerts(world)
        assert alert["acknowledged_by"] == world.idva
        assert [n["role"] for n in alert["notified"]] == ["idva"]


# ---- configured through the CLI ----


async def test_practitioner_added_with_an_email_channel_through_the_cli_gets_alerts_by_email(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ.pop("SAFECHECK_KEY", None)
    db = tmp_path / "cli.db"

    async def cli(*argv: str) -> str:
        args = build_parser().parse_args(hoist_global_options(["--db", str(db), *argv]))
        assert await run(load(smtp.env(), db=args.db), args) == 0
        return capsys.readouterr().out

    await cli("init", "--service-name", "Test service")
    pid = int(await cli("practitioner", "add", "--name", "Ida", "--role", "idva", "--channels", f"email:{IDA},inbox"))
    assert "(email,inbox)" in await cli("practitioner", "list")
    assert IDA.encode() not in db.read_bytes()  # the address is stored encrypted

    settings = load(smtp.env(), db=str(db))
    clock, sim = FixedClock(START), SimulatorChannel()
    async with open_app(settings, clock=clock, simulator=sim, seed=7) as app:  # e-mail configured from SMTP_*
        async with app.db.reading() as tx:
            service_id = await commands.service_id(tx, None)
        world = World(app, sim, clock, settings, service_id, idva=pid, duty=pid, manager=pid)
        await world.onboard()
        await codeword(world)
    assert [m.rcpt_tos for m in smtp.received] == [(IDA,)]
