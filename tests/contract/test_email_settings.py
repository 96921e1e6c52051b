"""E-mail settings: absent means no e-mail channel, wrong means one clear line, and addresses are checked."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.channels.email import EmailTransport, factory, valid_address
from bot.channels.email_settings import DEFAULT_TIMEOUT, load
from bot.config import ConfigError, Settings

BASE = {"SMTP_HOST": "smtp.example.org", "SMTP_FROM": "alerts@example.org"}


def settings(env: dict[str, str]) -> Settings:
    return Settings(db_path=Path("unused.db"), key_file=Path("unused.key"), env=env)


def test_no_smtp_setting_means_no_email_transport() -> None:
    assert factory(settings({})) is None
    assert factory(settings({"SMTP_HOST": " ", "SMTP_FROM": ""})) is None  # blank is unset


def test_email_transport_offers_a_practitioner_channel_only() -> None:
    transport = factory(settings(BASE))
    assert isinstance(transport, EmailTransport)
    assert transport.name == "email" and transport.survivor_channel is None
    assert transport.practitioner_channel is not None and transport.practitioner_channel.name == "email"


def test_defaults_are_the_submission_port_with_starttls_required() -> None:
    loaded = load(BASE)
    assert loaded is not None
    assert (loaded.port, loaded.starttls, loaded.timeout) == (587, True, DEFAULT_TIMEOUT)
    assert (loaded.username, loaded.password, loaded.ca_file, loaded.alert_link) == (None, None, None, None)


def test_every_setting_is_read(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("")  # only checked for existence here; the contract tests load a real one
    loaded = load(
        {
            "SMTP_HOST": "smtp.example.org",
            "SMTP_PORT": "2525",
            "SMTP_USERNAME": "safecheck",
            "SMTP_PASSWORD": "s3cret",
            "SMTP_FROM": "Safecheck alerts <alerts@example.org>",
            "SMTP_STARTTLS": "Required",
            "SMTP_TIMEOUT": "2.5",
            "SMTP_CA_FILE": str(ca),
            "SAFECHECK_ALERT_LINK": "https://cms.example.org/cases/{case_ref}",
        }
    )
    assert loaded is not None
    assert (loaded.port, loaded.username, loaded.password, loaded.timeout) == (2525, "safecheck", "s3cret", 2.5)
    assert (loaded.sender, loaded.from_header) == ("alerts@example.org", "Safecheck alerts <alerts@example.org>")
    assert (loaded.ca_file, loaded.alert_link) == (ca, "https://cms.example.org/cases/{case_ref}")


def test_starttls_off_is_allowed_for_a_local_relay_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    loaded = load({**BASE, "SMTP_HOST": "localhost", "SMTP_STARTTLS": "off"})
    assert loaded is not None and loaded.starttls is False
    assert any("SMTP_STARTTLS=off" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SMTP_FROM": ""}, "SMTP_FROM"),
        ({"SMTP_FROM": "not an address"}, "SMTP_FROM"),
        ({"SMTP_FROM": "alerts@example.org\r\nBcc: eve@example.net"}, "SMTP_FROM"),
        ({"SMTP_PORT": "smtp"}, "SMTP_PORT"),
        ({"SMTP_PORT": "0"}, "SMTP_PORT"),
        ({"SMTP_PORT": "70000"}, "SMTP_PORT"),
        ({"SMTP_TIMEOUT": "soon"}, "SMTP_TIMEOUT"),
        ({"SMTP_TIMEOUT": "0"}, "SMTP_TIMEOUT"),
        ({"SMTP_TIMEOUT": "nan"}, "SMTP_TIMEOUT"),
        ({"SMTP_STARTTLS": "maybe"}, "SMTP_STARTTLS"),
        ({"SMTP_STARTTLS": "off"}, "SMTP_STARTTLS"),  # off, but the server is not on this machine
        ({"SMTP_USERNAME": "safecheck"}, "SMTP_PASSWORD"),
        ({"SMTP_PASSWORD": "s3cret"}, "SMTP_USERNAME"),
        ({"SMTP_CA_FILE": "/nonexistent/ca.pem"}, "SMTP_CA_FILE"),
        ({"SAFECHECK_ALERT_LINK": "ftp://cms.example.org/{case_ref}"}, "SAFECHECK_ALERT_LINK"),
        ({"SAFECHECK_ALERT_LINK": "https://cms.example.org/{survivor_name}"}, "SAFECHECK_ALERT_LINK"),
        ({"SAFECHECK_ALERT_LINK": "https://cms.example.org/{case_ref"}, "SAFECHECK_ALERT_LINK"),
        ({"SAFECHECK_ALERT_LINK": "https://cms.example.org/{0}"}, "SAFECHECK_ALERT_LINK"),
    ],
)
def test_wrong_setting_is_one_line_naming_it(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        factory(settings({**BASE, **env}))
    message = str(caught.value)
    assert named in message and "\n" not in message
    assert "s3cret" not in message  # a password is never echoed


def test_ca_file_that_is_not_pem_is_refused_when_the_channel_is_built(tmp_path: Path) -> None:
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate")
    with pytest.raises(ConfigError, match="SMTP_CA_FILE"):
        factory(settings({**BASE, "SMTP_CA_FILE": str(junk)}))


@pytest.mark.parametrize(
    "text",
    ["ida@example.org", "ida.smith+alerts@idva.example.org", "o'neill@example.co.uk", "IDA@EXAMPLE.ORG", "a@b-c.io"],
)
def test_valid_address(text: str) -> None:
    assert valid_address(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ida",
        "ida@",
        "@example.org",
        "ida@localhost",
        "ida@@example.org",
        "ida smith@example.org",
        "Ida <ida@example.org>",
        "ida@example.org,eve@example.net",
        "ida@example.org\nBcc: eve@example.net",
        ".ida@example.org",
        "ida..smith@example.org",
        "ida@-example.org",
        "ida@example..org",
        "ida@192.168.0.1",
        "a" * 65 + "@example.org",
        "ida@" + "a" * 250 + ".org",
    ],
)
def test_invalid_address(text: str) -> None:
    assert not valid_address(text)
