"""The e-mail channel's settings (SMTP_*, SAFECHECK_ALERT_LINK) from the environment; wrong ones fail in one line."""

from __future__ import annotations

import ipaddress
import logging
import re
import ssl
import string
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

from bot.config import ConfigError, refuse_half_configured

log = logging.getLogger("safecheck.email")

DEFAULT_PORT = 587  # the submission port, where STARTTLS is the norm
DEFAULT_TIMEOUT = 10.0  # seconds for a whole send: a hung server must not hold alerts up for long
LINK_FIELDS = frozenset({"case_ref", "alert_id"})

# Deliberately stricter than RFC 5321: a practitioner's work address, no quoting, no comments,
# nothing a header could be smuggled through.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def valid_address(text: str) -> bool:
    """Whether `text` is a plain e-mail address like ida@example.org (no display name, no spaces)."""
    if len(text) > 254 or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    labels = domain.split(".")
    return (
        len(local) <= 64
        and _LOCAL.fullmatch(local) is not None
        and len(labels) >= 2
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


@dataclass(frozen=True)
class EmailSettings:
    host: str
    sender: str  # the bare address, for MAIL FROM and the Message-ID domain
    from_header: str  # as configured, perhaps with a display name: "Safecheck alerts <alerts@example.org>"
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = DEFAULT_TIMEOUT
    ca_file: Path | None = None
    alert_link: str | None = None  # a URL template with {case_ref} and/or {alert_id}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"SMTP_PORT must be a port number 1-65535 (usually 587), not {text!r}")
    return int(text)


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 300:
        raise ConfigError(f"SMTP_TIMEOUT must be a number of seconds between 0 and 300, not {text!r}")
    return value


def _starttls(text: str, host: str) -> bool:
    value = text.strip().lower()
    if value not in ("required", "off"):
        raise ConfigError(f"SMTP_STARTTLS must be 'required' or 'off' (a relay on this machine only), not {text!r}")
    if value == "off" and not _is_loopback(host):
        raise ConfigError("SMTP_STARTTLS=off is only for a mail relay on this machine: set SMTP_HOST=localhost")
    return value == "required"


def _sender(text: str) -> tuple[str, str]:
    name, address = parseaddr(text)
    if not text.strip() or "\n" in text or "\r" in text or not valid_address(address):
        raise ConfigError("SMTP_FROM must be an e-mail address, e.g. alerts@example.org or 'Safecheck <alerts@...>'")
    return address, text.strip() if name else address


def _link(text: str) -> str:
    template = text.strip()
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
        template.format(case_ref="C-TEST1", alert_id="1")
    except (ValueError, KeyError, IndexError, AttributeError):
        fields = {"?"}
    if not template.startswith(("https://", "http://")) or not fields <= LINK_FIELDS:
        raise ConfigError(
            "SAFECHECK_ALERT_LINK must be an http(s) URL with {case_ref} or {alert_id}, "
            "e.g. https://cms.example.org/cases/{case_ref}"
        )
    return template


def ca_context(ca_file: Path | None) -> ssl.SSLContext:
    """A client TLS context that verifies the server, trusting SMTP_CA_FILE as well if given."""
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError):
        raise ConfigError(f"SMTP_CA_FILE {ca_file} is not a readable PEM file of CA certificates") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def load(env: Mapping[str, str]) -> EmailSettings | None:
    """The e-mail settings; None when no SMTP_* variable (nor SAFECHECK_ALERT_LINK) is set: no e-mail channel."""
    host = env.get("SMTP_HOST", "").strip()
    if not host:
        missing = ["SMTP_HOST"] + ([] if env.get("SMTP_FROM", "").strip() else ["SMTP_FROM"])
        refuse_half_configured(env, ("SMTP_", "SAFECHECK_ALERT_LINK"), "e-mail", missing)
        return None
    if not env.get("SMTP_FROM"):
        raise ConfigError("SMTP_FROM is needed with SMTP_HOST: the address alert e-mails come from")
    sender, from_header = _sender(env["SMTP_FROM"])
    username, password = env.get("SMTP_USERNAME") or None, env.get("SMTP_PASSWORD") or None
    if (username is None) != (password is None):
        raise ConfigError("SMTP_USERNAME and SMTP_PASSWORD go together: set both, or neither for a relay without AUTH")
    starttls = _starttls(env.get("SMTP_STARTTLS", "required"), host)
    if not starttls:
        log.warning("SMTP_STARTTLS=off: alert e-mails go to the local relay unencrypted")
    ca_file = Path(env["SMTP_CA_FILE"]).expanduser() if env.get("SMTP_CA_FILE") else None
    if ca_file is not None and not ca_file.is_file():
        raise ConfigError(f"SMTP_CA_FILE {ca_file} does not exist")
    link = env.get("SAFECHECK_ALERT_LINK")
    return EmailSettings(
        host=host,
        sender=sender,
        from_header=from_header,
        port=_port(env.get("SMTP_PORT", str(DEFAULT_PORT)).strip()),
        username=username,
        password=password,
        starttls=starttls,
        timeout=_timeout(env.get("SMTP_TIMEOUT", str(DEFAULT_TIMEOUT))),
        ca_file=ca_file,
        alert_link=_link(link) if link else None,
    )
