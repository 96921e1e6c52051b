"""A real local SMTP server for tests: aiosmtpd on 127.0.0.1, STARTTLS required, AUTH required.

It runs in the test's own event loop, keeps every accepted message with how it arrived (over TLS?
as whom?), and can refuse chosen recipients with a given SMTP reply or be shut down. Its
certificate is signed by a private CA made at test time; clients trust it through that CA file,
as a deployment would with SMTP_CA_FILE.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USERNAME = "safecheck-alerts"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path  # what a client trusts (SMTP_CA_FILE)
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls_files(directory: Path) -> TlsFiles:
    """A private CA and a server certificate for 127.0.0.1 and localhost, signed by it."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Safecheck test CA"))
        .issuer_name(_name("Safecheck test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "smtp-ca.pem", directory / "smtp-cert.pem", directory / "smtp-key.pem")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


@dataclass(frozen=True)
class Received:
    """One message the server accepted, and how the client sent it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    tls: bool  # the message came over a connection upgraded with STARTTLS
    login: str | None  # who authenticated, if anyone

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


@dataclass
class _Handler:
    """aiosmtpd's hooks: refuse chosen recipients, keep what arrives."""

    received: list[Received] = field(default_factory=list)
    refusals: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply line
    attempts: int = 0  # RCPT commands seen, accepted or not

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        self.attempts += 1
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.original_content, bytes) and envelope.mail_from is not None
        auth = session.auth_data
        self.received.append(
            Received(
                envelope.mail_from,
                tuple(envelope.rcpt_tos),
                envelope.original_content,
                tls=session.ssl is not None,
                login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
            )
        )
        return "250 Message accepted for delivery"


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USERNAME.encode(), PASSWORD.encode())
    # handled=False: aiosmtpd answers a failure itself, with 535.
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


class SmtpServer:
    """A running aiosmtpd server on 127.0.0.1 at `port`; `received` holds what it accepted."""

    def __init__(self, tls: TlsFiles, *, starttls: bool = True, require_auth: bool = True) -> None:
        self.tls = tls
        self.host = "127.0.0.1"
        self.port = 0
        self._handler = _Handler()
        self._starttls = starttls
        self._require_auth = require_auth
        self._server: asyncio.Server | None = None

    @property
    def received(self) -> list[Received]:
        return self._handler.received

    @property
    def attempts(self) -> int:
        return self._handler.attempts

    def env(self) -> dict[str, str]:
        """The SMTP_* settings that point Safecheck's e-mail channel at this server."""
        return {
            "SMTP_HOST": self.host,
            "SMTP_PORT": str(self.port),
            "SMTP_USERNAME": USERNAME,
            "SMTP_PASSWORD": PASSWORD,
            "SMTP_FROM": "Safecheck alerts <alerts@safecheck.example.org>",
            "SMTP_CA_FILE": str(self.tls.ca_file),
            "SMTP_TIMEOUT": "5",
        }

    def refuse(self, recipient: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        """Answer RCPT TO for this recipient with `reply` (a 4xx or 5xx line) from now on."""
        self._handler.refusals[recipient] = reply

    def accept(self, recipient: str) -> None:
        self._handler.refusals.pop(recipient, None)

    def _protocol(self) -> SMTP:
        context: ssl.SSLContext | None = None
        if self._starttls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.tls.cert_file, self.tls.key_file)
        return SMTP(
            self._handler,
            hostname="localhost",  # not socket.getfqdn(), which may wait on DNS
            tls_context=context,
            require_starttls=self._starttls,
            auth_required=self._require_auth,
            auth_require_tls=self._starttls,
            authenticator=_authenticate,
            loop=asyncio.get_running_loop(),
        )

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (a free port unless one is given, e.g. the port used before a stop)."""
        self._server = await asyncio.get_running_loop().create_server(self._protocol, self.host, port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening: connections are refused, as when the mail server is down."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


@asynccontextmanager
async def smtp_server(tls: TlsFiles, **options: bool) -> AsyncIterator[SmtpServer]:
    server = SmtpServer(tls, **options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@asynccontextmanager
async def silent_server(hang_up: bool = False) -> AsyncIterator[int]:
    """A port that accepts connections and never says a word: a hung mail server.

    With `hang_up`, it greets and then drops the connection at the client's first command instead.
    """
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        if hang_up:
            writer.write(b"220 localhost ESMTP\r\n")
            await reader.readline()
            writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()
            await writer.wait_closed()
        await server.wait_closed()
