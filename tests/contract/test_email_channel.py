"""The e-mail channel against a real SMTP server: aiosmtplib to aiosmtpd on 127.0.0.1, STARTTLS and AUTH required."""

from __future__ import annotations

import dataclasses
import logging
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from bot.channels.base import Outgoing, SendError
from bot.channels.email import EmailChannel
from bot.channels.email_settings import EmailSettings
from tests.fakes.smtp_server import (
    PASSWORD,
    USERNAME,
    SmtpServer,
    TlsFiles,
    silent_server,
    smtp_server,
)

IDA = "ida@example.org"
ALERT = {"alert_id": "17", "case_ref": "C-4F7Q2", "severity": "urgent", "reason": "codeword", "level": "urgent"}


def settings(port: int, ca_file: Path | None, **changes: object) -> EmailSettings:
    base = EmailSettings(
        host="127.0.0.1",
        port=port,
        sender="alerts@safecheck.example.org",
        from_header="Safecheck alerts <alerts@safecheck.example.org>",
        username=USERNAME,
        password=PASSWORD,
        timeout=5.0,
        ca_file=ca_file,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def channel(smtp: SmtpServer, **changes: object) -> EmailChannel:
    return EmailChannel(settings(smtp.port, **{"ca_file": smtp.tls.ca_file, **changes}))  # type: ignore[arg-type]


def alert(**meta: str) -> Outgoing:
    return Outgoing("[URGENT] Case C-4F7Q2: codeword.", meta={**ALERT, **meta})


async def failure(chan: EmailChannel, address: str = IDA, message: Outgoing | None = None) -> SendError:
    with pytest.raises(SendError) as caught:
        await chan.send(address, message or alert())
    return caught.value


# ---- delivery and content ----


async def test_alert_arrives_over_starttls_as_the_configured_user(smtp: SmtpServer) -> None:
    provider_id = await channel(smtp).send(IDA, alert())
    [got] = smtp.received
    assert got.tls is True and got.login == USERNAME
    assert (got.mail_from, got.rcpt_tos) == ("alerts@safecheck.example.org", (IDA,))
    assert got.message["Message-ID"].strip() == provider_id


async def test_alert_mail_is_plain_text_with_reference_severity_reason_and_how_to_acknowledge(smtp: SmtpServer) -> None:
    await channel(smtp).send(IDA, alert())
    [got] = smtp.received
    mail = got.message
    assert mail["Subject"] == "[URGENT] Safecheck alert C-4F7Q2"
    assert mail["From"] == "Safecheck alerts <alerts@safecheck.example.org>" and mail["To"] == IDA
    assert mail.get_content_type() == "text/plain" and not mail.is_multipart()
    assert parsedate_to_datetime(mail["Date"]).tzinfo is not None
    assert mail["Message-ID"].endswith("@safecheck.example.org>")
    assert mail["Auto-Submitted"] == "auto-generated"
    body = got.body
    for expected in (
        "case C-4F7Q2",
        "Severity: URGENT",
        "Reason:   codeword (level urgent)",
        "safecheck alerts ack 17",
        "does not acknowledge",
        "Details: safecheck case show C-4F7Q2",
    ):
        assert expected in body


async def test_alert_time_is_shown_in_utc(smtp: SmtpServer) -> None:
    await channel(smtp).send(IDA, alert(at="2026-11-23T10:05:00+01:00"))
    assert "Time:     2026-11-23 09:05 UTC" in smtp.received[0].body


async def test_configured_link_points_to_the_case_in_the_case_system(smtp: SmtpServer) -> None:
    chan = channel(smtp, alert_link="https://cms.example.org/cases/{case_ref}?alert={alert_id}")
    await chan.send(IDA, alert())
    assert "Details: https://cms.example.org/cases/C-4F7Q2?alert=17" in smtp.received[0].body


async def test_each_practitioner_gets_their_own_message_with_its_own_id(smtp: SmtpServer) -> None:
    chan = channel(smtp)
    first = await chan.send(IDA, alert())
    second = await chan.send("dan@example.org", alert())
    assert [r.rcpt_tos for r in smtp.received] == [(IDA,), ("dan@example.org",)]
    assert first != second  # a shared Message-ID would let a mail client hide the second as a duplicate


async def test_daily_digest_goes_out_as_a_summary(smtp: SmtpServer) -> None:
    text = "Daily summary: 3 check-in(s) done (3 standard), 0 missed, 0 missed by the system; 0 alert(s), 0 still open."
    await channel(smtp).send(IDA, Outgoing(text))
    [got] = smtp.received
    assert got.message["Subject"] == "Safecheck daily summary"
    assert got.body.startswith(text)


# ---- STARTTLS and AUTH are real ----


async def test_server_refuses_mail_sent_without_starttls(smtp: SmtpServer) -> None:
    error = await failure(channel(smtp, starttls=False, username=None, password=None))
    assert (error.reason, error.retryable) == ("SMTP 530", False)
    assert smtp.received == []


async def test_server_that_offers_no_starttls_is_not_used_in_clear(tls: TlsFiles) -> None:
    async with smtp_server(tls, starttls=False, require_auth=False) as plain:
        error = await failure(channel(plain))
        assert (error.reason, error.retryable) == ("SMTP server offers no STARTTLS", False)
        assert plain.received == [] and plain.attempts == 0


async def test_server_certificate_from_an_untrusted_ca_is_refused(smtp: SmtpServer) -> None:
    error = await failure(channel(smtp, ca_file=None))
    assert error.retryable is False and "certificate not trusted" in error.reason
    assert smtp.received == []


async def test_wrong_password_is_a_permanent_failure(smtp: SmtpServer) -> None:
    error = await failure(channel(smtp, password="not the password"))
    assert (error.reason, error.retryable) == ("SMTP AUTH refused 535", False)
    assert smtp.received == []


# ---- errors carry their retry policy ----


async def test_unknown_mailbox_550_is_permanent(smtp: SmtpServer) -> None:
    smtp.refuse(IDA, "550 5.1.1 <ida@example.org>: mailbox unavailable")
    error = await failure(channel(smtp))
    assert (error.reason, error.retryable) == ("SMTP 550", False)
    assert smtp.received == []


async def test_greylisting_451_is_retried(smtp: SmtpServer) -> None:
    smtp.refuse(IDA, "451 4.7.1 Greylisted, try again later")
    error = await failure(channel(smtp))
    assert (error.reason, error.retryable) == ("SMTP 451", True)
    smtp.accept(IDA)
    await channel(smtp).send(IDA, alert())
    assert len(smtp.received) == 1


async def test_server_that_is_down_is_retried(smtp: SmtpServer) -> None:
    await smtp.stop()
    error = await failure(channel(smtp))
    assert (error.reason, error.retryable) == ("SMTP server unreachable", True)


async def test_server_that_never_answers_times_out_and_is_retried(tls: TlsFiles) -> None:
    async with silent_server() as port:
        error = await failure(EmailChannel(settings(port, tls.ca_file, timeout=0.2)))
    assert (error.reason, error.retryable) == ("SMTP timeout", True)


async def test_server_that_drops_the_connection_is_retried(tls: TlsFiles) -> None:
    async with silent_server(hang_up=True) as port:
        error = await failure(EmailChannel(settings(port, tls.ca_file)))
    assert (error.reason, error.retryable) == ("SMTP connection lost", True)


@pytest.mark.parametrize("address", ["ida", "ida@localhost", "ida@example.org\r\nBcc: eve@example.net", "1"])
async def test_address_that_is_not_an_email_address_is_never_sent_to(smtp: SmtpServer, address: str) -> None:
    error = await failure(channel(smtp), address)
    assert error.retryable is False
    assert smtp.attempts == 0


async def test_logs_name_neither_the_recipient_nor_the_server_reply(
    smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    smtp.refuse(IDA, "550 5.1.1 <ida@example.org>: mailbox unavailable")
    error = await failure(channel(smtp))
    await channel(smtp).send("dan@example.org", alert())
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    assert any("alert=17" in line and "SMTP 550" in line for line in ours)
    assert not any("ida@" in line or "dan@" in line or "mailbox unavailable" in line for line in ours)
    assert "ida@" not in error.reason
