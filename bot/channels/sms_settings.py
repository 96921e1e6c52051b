"""SMS (Twilio) settings from the environment: every TWILIO_* variable, checked at start-up, one line each."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from bot.config import ConfigError, number_setting, refuse_half_configured
from flows.discretion import first_line_problems

DEFAULT_API = "https://api.twilio.com"
INBOUND_PATH = "/sms/inbound"
STATUS_PATH = "/sms/status"
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")
E164 = re.compile(r"\+[1-9]\d{6,14}")
# An alphanumeric sender ID: 1-11 of letters, digits and spaces, with at least one letter.
ALPHA = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
SENDERS = ("TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_ALPHA_SENDER")

SenderKind = Literal["number", "messaging_service", "alpha"]


@dataclass(frozen=True)
class SmsSettings:
    account_sid: str
    auth_token: str
    sender_kind: SenderKind
    sender: str
    public_url: str
    api_base_url: str = DEFAULT_API
    timeout: float = 10.0  # seconds for one REST call: twilio's own timeout setting is ignored
    rate: float = 1.0  # segments per second from our sender (Twilio: about 1 for a long code)
    # Secret of a Webhooks SharedKey, for accounts that sign webhooks with it (HMAC-SHA256).
    webhook_key: str | None = None

    @property
    def two_way(self) -> bool:
        """An alphanumeric sender cannot receive replies, so it can only carry alerts, not check-ins."""
        return self.sender_kind != "alpha"

    @property
    def status_callback(self) -> str:
        return self.public_url + STATUS_PATH

    def sender_params(self) -> dict[str, str]:
        """The sender part of a Messages API create call."""
        if self.sender_kind == "messaging_service":
            return {"messaging_service_sid": self.sender}
        return {"from_": self.sender}


def _api_url(env: Mapping[str, str]) -> str:
    text = env.get("TWILIO_API_BASE_URL", "").strip() or DEFAULT_API
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.path.strip("/") or parts.query:
        raise ConfigError(f"TWILIO_API_BASE_URL must be a base URL like {DEFAULT_API}, not {text!r}")
    return text.rstrip("/")


def _sender(env: Mapping[str, str]) -> tuple[SenderKind, str]:
    given = {name: env.get(name, "").strip() for name in SENDERS if env.get(name, "").strip()}
    if len(given) != 1:
        raise ConfigError(f"set exactly one of {', '.join(SENDERS)} (the sender of our texts), not {len(given)}")
    ((name, value),) = given.items()
    if name == "TWILIO_FROM_NUMBER":
        if not E164.fullmatch(value):
            raise ConfigError("TWILIO_FROM_NUMBER must be your Twilio number in international form, e.g. +447700900000")
        return "number", value
    if name == "TWILIO_MESSAGING_SERVICE_SID":
        if not SERVICE_SID.fullmatch(value):
            raise ConfigError("TWILIO_MESSAGING_SERVICE_SID must look like MG followed by 32 hex digits")
        return "messaging_service", value
    if not ALPHA.fullmatch(value):
        raise ConfigError("TWILIO_ALPHA_SENDER must be 1-11 letters, digits or spaces, with at least one letter")
    # The sender shows on the lock screen above every text: it must pass the over-the-shoulder test.
    if first_line_problems(f"Hi, it's {value}."):
        raise ConfigError(f"TWILIO_ALPHA_SENDER {value!r} would reveal the service: use a neutral name")
    return "alpha", value


def load_sms(env: Mapping[str, str], public_url: str | None) -> SmsSettings | None:
    """The SMS settings, or None when no TWILIO_* variable is set (SMS is then off)."""
    sid = env.get("TWILIO_ACCOUNT_SID", "").strip()
    if not sid:
        missing = ["TWILIO_ACCOUNT_SID"]
        missing += [] if env.get("TWILIO_AUTH_TOKEN", "").strip() else ["TWILIO_AUTH_TOKEN"]
        if not any(env.get(name, "").strip() for name in SENDERS):
            missing.append(f"a sender ({', '.join(SENDERS[:-1])} or {SENDERS[-1]})")
        refuse_half_configured(env, ("TWILIO_",), "SMS", missing)
        return None
    if not ACCOUNT_SID.fullmatch(sid):
        raise ConfigError("TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits (Twilio Console)")
    token = env.get("TWILIO_AUTH_TOKEN", "").strip()
    if not token:
        raise ConfigError("TWILIO_AUTH_TOKEN is not set: copy the account's Auth Token from the Twilio Console")
    kind, sender = _sender(env)
    if public_url is None:
        raise ConfigError(
            "SAFECHECK_PUBLIC_URL is not set: Twilio needs it to reach /sms/inbound and /sms/status, "
            "and webhook signatures are checked against it"
        )
    if not public_url.startswith("https://"):
        # Survivors' words travel in these requests: a signature proves the sender, not secrecy.
        raise ConfigError("SAFECHECK_PUBLIC_URL must start with https:// when SMS is on: texts travel in webhooks")
    default_rate = 10.0 if kind == "alpha" else 1.0
    return SmsSettings(
        account_sid=sid,
        auth_token=token,
        sender_kind=kind,
        sender=sender,
        public_url=public_url,
        api_base_url=_api_url(env),
        timeout=number_setting(env, "TWILIO_TIMEOUT", 10.0, 0.5, 60.0),
        rate=number_setting(env, "TWILIO_RATE", default_rate, 0.1, 1000.0),
        webhook_key=env.get("TWILIO_WEBHOOK_SIGNING_KEY", "").strip() or None,
    )
