"""SMS settings: absent means off; every wrong TWILIO_* value is one line that never echoes a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.sms import SmsTransport
from bot.channels.sms_settings import load_sms
from bot.config import ConfigError, Settings
from bot.transport import configured

SID = "AC" + "0" * 31 + "1"
TOKEN = "very-secret-auth-token"
PUBLIC = "https://safecheck.example.org"
BASE = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": "+447700900000"}


def test_sms_is_off_without_any_twilio_setting() -> None:
    assert load_sms({}, PUBLIC) is None
    assert load_sms({"TWILIO_ACCOUNT_SID": " ", "TWILIO_AUTH_TOKEN": ""}, PUBLIC) is None  # blank is unset


def test_a_full_configuration_reads_every_setting() -> None:
    env = {
        **BASE,
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9999/",
        "TWILIO_TIMEOUT": "4.5",
        "TWILIO_RATE": "3",
        "TWILIO_WEBHOOK_SIGNING_KEY": "shared",
    }
    s = load_sms(env, PUBLIC)
    assert s is not None
    assert (s.account_sid, s.sender_kind, s.sender, s.api_base_url) == (
        SID,
        "number",
        "+447700900000",
        "http://127.0.0.1:9999",
    )
    assert (s.timeout, s.rate, s.webhook_key, s.status_callback) == (4.5, 3.0, "shared", PUBLIC + "/sms/status")
    assert s.sender_params() == {"from_": "+447700900000"}


def test_defaults_match_twilios_limits() -> None:
    s = load_sms(BASE, PUBLIC)
    assert s is not None and (s.api_base_url, s.timeout, s.rate, s.two_way) == (
        "https://api.twilio.com",
        10.0,
        1.0,
        True,
    )
    alpha = load_sms({**BASE, "TWILIO_FROM_NUMBER": "", "TWILIO_ALPHA_SENDER": "Alex"}, PUBLIC)
    assert alpha is not None and (alpha.rate, alpha.two_way) == (10.0, False)
    service = load_sms({**BASE, "TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "b" * 32}, PUBLIC)
    assert service is not None and service.sender_params() == {"messaging_service_sid": "MG" + "b" * 32}


@pytest.mark.parametrize(
    ("change", "public", "message"),
    [
        ({"TWILIO_ACCOUNT_SID": "AC123"}, PUBLIC, "TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits"),
        ({"TWILIO_AUTH_TOKEN": ""}, PUBLIC, "TWILIO_AUTH_TOKEN is not set"),
        ({"TWILIO_FROM_NUMBER": ""}, PUBLIC, "set exactly one of TWILIO_FROM_NUMBER"),
        ({"TWILIO_ALPHA_SENDER": "Alex"}, PUBLIC, "set exactly one of TWILIO_FROM_NUMBER"),
        ({"TWILIO_FROM_NUMBER": "07700 900000"}, PUBLIC, "TWILIO_FROM_NUMBER must be your Twilio number"),
        ({"TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": "MG1"}, PUBLIC, "TWILIO_MESSAGING_SERVICE_SID"),
        ({"TWILIO_FROM_NUMBER": "", "TWILIO_ALPHA_SENDER": "Safecheck"}, PUBLIC, "would reveal the service"),
        ({"TWILIO_FROM_NUMBER": "", "TWILIO_ALPHA_SENDER": "Refuge"}, PUBLIC, "would reveal the service"),
        ({"TWILIO_FROM_NUMBER": "", "TWILIO_ALPHA_SENDER": "a-b"}, PUBLIC, "1-11 letters"),
        ({"TWILIO_FROM_NUMBER": "", "TWILIO_ALPHA_SENDER": "123"}, PUBLIC, "at least one letter"),
        ({}, None, "SAFECHECK_PUBLIC_URL is not set"),
        ({}, "http://safecheck.example.org", "must start with https://"),
        ({"TWILIO_API_BASE_URL": "ftp://x"}, PUBLIC, "TWILIO_API_BASE_URL must be a base URL"),
        (
            {"TWILIO_API_BASE_URL": "https://api.twilio.com/2010-04-01"},
            PUBLIC,
            "TWILIO_API_BASE_URL must be a base URL",
        ),
        ({"TWILIO_TIMEOUT": "0"}, PUBLIC, "TWILIO_TIMEOUT must be between 0.5 and 60"),
        ({"TWILIO_RATE": "fast"}, PUBLIC, "TWILIO_RATE must be a number"),
    ],
)
def test_a_wrong_setting_is_one_clear_line(change: dict[str, str], public: str | None, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_sms({**BASE, **change}, public)
    text = str(info.value)
    assert message in text and "\n" not in text and TOKEN not in text


def test_the_transport_is_configured_from_the_environment(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "db", tmp_path / "key", public_url=PUBLIC, env=BASE)
    [sms] = [t for t in configured(settings) if t.name == "sms"]
    assert isinstance(sms, SmsTransport)
    assert sms.survivor_channel is sms.channel and sms.practitioner_channel is sms.channel
    assert not [t for t in configured(Settings(tmp_path / "db", tmp_path / "key")) if t.name == "sms"]
