"""A channel is off only when none of its settings is given: half a configuration (a token without its
account, a username without its bot) is one line naming what is missing, never a silent 'off'."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from bot.channels import email_settings
from bot.channels.sms_settings import load_sms
from bot.channels.telegram_settings import load_telegram
from bot.config import ConfigError

PUBLIC = "https://safecheck.example.org"
SECRET_VALUE = "very-secret-value-0123456789"
Loader = Callable[[Mapping[str, str]], Any]


def sms(env: Mapping[str, str]) -> Any:
    return load_sms(env, PUBLIC)


def telegram(env: Mapping[str, str]) -> Any:
    return load_telegram(env, None)


@pytest.mark.parametrize(
    ("load", "env", "given", "missing"),
    [
        (sms, {"TWILIO_AUTH_TOKEN": SECRET_VALUE}, "TWILIO_AUTH_TOKEN", ["TWILIO_ACCOUNT_SID", "a sender"]),
        (sms, {"TWILIO_FROM_NUMBER": "+447700900000"}, "TWILIO_FROM_NUMBER", ["TWILIO_ACCOUNT_SID", "AUTH_TOKEN"]),
        (
            sms,
            {"TWILIO_AUTH_TOKEN": SECRET_VALUE, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "b" * 32},
            "TWILIO_AUTH_TOKEN, TWILIO_MESSAGING_SERVICE_SID",
            ["TWILIO_ACCOUNT_SID"],
        ),
        (sms, {"TWILIO_WEBHOOK_SIGNING_KEY": SECRET_VALUE}, "TWILIO_WEBHOOK_SIGNING_KEY", ["TWILIO_ACCOUNT_SID"]),
        (telegram, {"TELEGRAM_BOT_USERNAME": "alex_bot"}, "TELEGRAM_BOT_USERNAME", ["TELEGRAM_BOT_TOKEN"]),
        (telegram, {"TELEGRAM_WEBHOOK_SECRET": SECRET_VALUE}, "TELEGRAM_WEBHOOK_SECRET", ["TELEGRAM_BOT_TOKEN"]),
        (email_settings.load, {"SMTP_PASSWORD": SECRET_VALUE}, "SMTP_PASSWORD", ["SMTP_HOST", "SMTP_FROM"]),
        (email_settings.load, {"SMTP_FROM": "alerts@example.org"}, "SMTP_FROM", ["SMTP_HOST"]),
        (
            email_settings.load,
            {"SAFECHECK_ALERT_LINK": "https://cms.example.org/cases/{case_ref}"},
            "SAFECHECK_ALERT_LINK",
            ["SMTP_HOST", "SMTP_FROM"],
        ),
    ],
)
def test_half_a_channel_configuration_is_one_line_naming_what_is_missing(
    load: Loader, env: dict[str, str], given: str, missing: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(env)
    line = str(caught.value)
    assert "half configured" in line and f"{given} set but not " in line
    for name in missing:
        assert name in line.split(" set but not ", 1)[1]
    assert "\n" not in line and SECRET_VALUE not in line and "7700900000" not in line


def test_a_webhook_secret_without_a_webhook_url_is_refused_unless_polling_is_chosen() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123456:AAH-fake_token_for_tests_0123456789", "TELEGRAM_WEBHOOK_SECRET": "s" * 32}
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET is set but there is no webhook URL"):
        load_telegram(env, None)
    chosen = load_telegram({**env, "TELEGRAM_MODE": "polling"}, None)
    assert chosen is not None and not chosen.webhook_mode


@pytest.mark.parametrize("load", [sms, telegram, email_settings.load])
def test_no_setting_at_all_still_means_the_channel_is_off(load: Loader) -> None:
    assert load({"SAFECHECK_PORT": "8080", "PATH": "/usr/bin"}) is None
