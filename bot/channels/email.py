"""The e-mail practitioner channel: one minimal plain-text alert per message, over SMTP with STARTTLS.

aiosmtplib speaks SMTP on our event loop. Each alert opens its own short connection (alerts are
rare, and a pooled connection would go stale between them); errors carry their retry policy so
the dispatcher retries a busy or unreachable server and falls back at once from a refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING
from urllib.parse import quote

import aiosmtplib

from bot.alert_text import render_email
from bot.channels.base import Capabilities, Channel, Outgoing, SendError
from bot.channels.email_settings import EmailSettings, ca_context, load, valid_address
from bot.config import Settings

if TYPE_CHECKING:
    from aiohttp import web

    from bot.inbound import Host

__all__ = ["EmailChannel", "EmailTransport", "factory", "valid_address"]

log = logging.getLogger("safecheck.email")


class _Refused(Exception):
    """The server cannot be used safely as configured (no STARTTLS, no AUTH): fall back at once."""


class EmailChannel:
    """Sends each alert as its own message to the practitioner's address: no CC, no other recipients."""

    name = "email"
    capabilities = Capabilities()

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self._tls: ssl.SSLContext | None = ca_context(settings.ca_file) if settings.starttls else None
        self._domain = settings.sender.rpartition("@")[2]

    def details(self, meta: dict[str, str]) -> str:
        """Where the case can be read: the configured link (SAFECHECK_ALERT_LINK, an explicit override), the
        workspace page the dispatcher linked, or the command that shows it."""
        ref = meta.get("case_ref", "")
        if self.settings.alert_link and ref:
            return self.settings.alert_link.format(case_ref=quote(ref, safe=""), alert_id=meta.get("alert_id", ""))
        if meta.get("link"):
            return meta["link"]
        return f"safecheck case show {ref} --as <your practitioner id>" if ref else "safecheck alerts list --open"

    def compose(self, address: str, message: Outgoing) -> EmailMessage:
        subject, body = render_email(message.text, message.meta, self.details(message.meta))
        mail = EmailMessage()
        mail["From"] = self.settings.from_header
        mail["To"] = address
        mail["Subject"] = subject
        mail["Date"] = format_datetime(datetime.now(UTC))
        # Unique per message: a shared id would let a mail client hide a second alert as a duplicate.
        mail["Message-ID"] = make_msgid(idstring=f"alert{message.meta.get('alert_id', 'digest')}", domain=self._domain)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to the alert sender
        if message.meta.get("severity") == "urgent":
            mail["Importance"] = "high"
        mail.set_content(body)
        for file in message.attachments:
            maintype, _, subtype = file.content_type.partition("/")
            mail.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.filename)
        return mail

    async def send(self, address: str, message: Outgoing) -> str:
        alert = message.meta.get("alert_id", "-")
        if not valid_address(address):
            log.error("email not sent alert=%s error=invalid_address", alert)
            raise SendError("not a valid e-mail address", retryable=False)
        mail = self.compose(address, message)
        try:
            await self._deliver(mail, address)
        except Exception as exc:
            error = classify(exc)
            # The reason only: server replies often quote the recipient's address.
            log.warning("email not sent alert=%s error=%r retryable=%s", alert, error.reason, error.retryable)
            raise error from None
        log.info("email sent alert=%s", alert)
        return str(mail["Message-ID"])

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        return None  # a sent e-mail cannot be called back

    async def _deliver(self, mail: EmailMessage, address: str) -> None:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout,
            start_tls=False,  # upgraded by hand below, so that a server without STARTTLS is refused, not used
            local_hostname=self._domain,  # not socket.getfqdn(), which may wait on DNS
        )
        try:
            async with asyncio.timeout(s.timeout):  # the whole conversation, not each step
                await client.connect()
                if self._tls is not None:
                    await client.ehlo()
                    if not client.supports_extension("starttls"):
                        raise _Refused("SMTP server offers no STARTTLS")
                    await client.starttls(tls_context=self._tls)
                if s.username is not None and s.password is not None:
                    await client.ehlo()
                    if not client.supports_extension("auth"):
                        raise _Refused("SMTP server offers no AUTH")
                    await client.login(s.username, s.password)
                await client.send_message(mail, sender=s.sender, recipients=[address])
            # Accepted: a failing QUIT must not make the dispatcher send the alert twice.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(s.timeout):
                    await client.quit()
        finally:
            client.close()


def classify(exc: BaseException) -> SendError:
    """The retry policy of an SMTP failure: 4xx, timeouts and unreachable servers retry; refusals do not."""
    if isinstance(exc, _Refused):
        return SendError(str(exc), retryable=False)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        what = "SMTP AUTH refused" if isinstance(exc, aiosmtplib.SMTPAuthenticationError) else "SMTP"
        return SendError(f"{what} {exc.code}", retryable=not 500 <= exc.code < 600)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SendError("SMTP server certificate not trusted (see SMTP_CA_FILE)", retryable=False)
    if isinstance(exc, ssl.SSLError):
        return SendError("SMTP TLS handshake failed", retryable=False)
    if isinstance(exc, TimeoutError):  # aiosmtplib's timeouts are TimeoutErrors too
        return SendError("SMTP timeout", retryable=True)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return SendError("SMTP connection lost", retryable=True)
    if isinstance(exc, ConnectionError | OSError | aiosmtplib.SMTPConnectError):
        return SendError("SMTP server unreachable", retryable=True)
    return SendError(f"SMTP error {type(exc).__name__}", retryable=True)


class EmailTransport:
    """E-mail has no webhooks and no background work: it only lends the dispatcher a practitioner channel."""

    name = "email"

    def __init__(self, settings: EmailSettings) -> None:
        self.survivor_channel: Channel | None = None
        self.practitioner_channel: Channel | None = EmailChannel(settings)

    def add_routes(self, web_app: web.Application) -> None:
        return None

    async def start(self, host: Host) -> None:
        return None

    async def close(self) -> None:
        return None


def factory(settings: Settings) -> EmailTransport | None:
    """The e-mail transport when SMTP_HOST is set; ConfigError (one line) when a setting is wrong."""
    loaded = load(settings.env)
    return None if loaded is None else EmailTransport(loaded)
