"""Bad input at the command line: one line on stderr, exit 2, no traceback, and nothing written that should not be."""

from __future__ import annotations

import re
from importlib.metadata import version

import pytest

from tests.contract.test_sms_cli import TWILIO_ENV
from tests.e2e.conftest import Cli, add_service, look, refused

pytestmark = pytest.mark.e2e

TELEGRAM = {
    "TELEGRAM_BOT_TOKEN": "123456:test-token-not-a-real-one-000",
    "TELEGRAM_BOT_USERNAME": "alex_chat_bot",
    "TELEGRAM_MODE": "polling",
}


def test_init_twice_is_refused_and_keeps_the_key_file_byte_for_byte(cli: Cli) -> None:
    cli.run("init")
    key = cli.folder / "safecheck.key"
    before = key.read_bytes()
    refused(cli.run("init", ok=False), "already exists")
    assert key.read_bytes() == before
    assert look(cli, "SELECT slug FROM services") == [("default",)]


def test_init_on_a_file_that_is_not_sqlite_is_refused_and_creates_no_key(cli: Cli) -> None:
    (cli.folder / "notes.txt").write_text("shopping: eggs, milk\n")
    refused(cli.run("--db", "notes.txt", "init", ok=False), "notes.txt")
    assert sorted(p.name for p in cli.folder.iterdir()) == ["notes.txt"]
    assert (cli.folder / "notes.txt").read_text() == "shopping: eggs, milk\n"


def test_db_upgrade_on_a_missing_path_is_refused_and_creates_nothing(cli: Cli) -> None:
    refused(cli.run("--db", "missing.db", "db", "upgrade", ok=False), "missing.db", "safecheck init")
    assert list(cli.folder.iterdir()) == []


@pytest.mark.parametrize("now", ["0001-01-01T00:00+01:00", "2026-11-23T10:00"])
def test_out_of_range_or_naive_now_is_refused(enrolled: tuple[Cli, str], now: str) -> None:
    cli, _ = enrolled
    refused(cli.run("--now", now, "case", "list", ok=False), "--now")


@pytest.mark.parametrize("spec", ["every 99999 days@10:00", "every 91 days@10:00"])
def test_interval_schedule_out_of_range_is_refused(enrolled: tuple[Cli, str], spec: str) -> None:
    cli, ref = enrolled
    refused(cli.run("schedule", "set", ref, spec, ok=False), spec)
    assert look(cli, "SELECT count(*) FROM schedules") == [(0,)]


def test_practitioner_without_any_channel_is_refused(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    refused(cli.run("practitioner", "add", "--name", "X", "--role", "idva", "--channels", "", ok=False), "channel")
    assert look(cli, "SELECT count(*) FROM practitioners") == [(1,)]


def test_practitioner_with_a_bad_sms_number_is_refused_without_echoing_it(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    proc = cli.run("practitioner", "add", "--name", "X", "--role", "idva", "--channels", "sms:07700900555", ok=False)
    line = refused(proc, "international form")
    assert "07700900555" not in line
    assert look(cli, "SELECT count(*) FROM practitioners") == [(1,)]


def test_practitioner_channels_and_a_link_code_through_the_cli(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    cli.env.update(TELEGRAM, **TWILIO_ENV)
    cli.run("practitioner", "add", "--name", "Sam", "--role", "duty", "--channels", "telegram,sms:+447700900001")
    out = cli.run("practitioner", "link", "2").stdout
    code = re.search(r"LINK (\w{4}-\w{4})", out)
    assert code and f"https://t.me/alex_chat_bot?start=link-{code.group(1)}" in out
    assert look(cli, "SELECT count(*) FROM practitioner_links WHERE practitioner_id = 2") == [(1,)]
    listed = cli.run("practitioner", "list").stdout
    assert "(telegram,sms)" in listed and "+447700900001" not in listed
    refused(cli.run("practitioner", "link", "9", ok=False), "no active practitioner 9")


def test_broken_question_set_is_refused_naming_the_question(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    questions = cli.folder / "questions.toml"
    questions.write_text(
        'id = "mine"\nversion = 1\nstart = "mood"\n\n'
        '[[questions]]\nid = "mood"\nkind = "essay"\ntext = "Hi, it is {sender}.\\nHow are things?"\n'
    )
    refused(cli.run("service", "set", "--questionset", str(questions), ok=False), "question 'mood'", "essay")
    assert look(cli, "SELECT questionset FROM services") == [(None,)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"urgent": [{"after_minutes": 0, "role": "idva"},, ]}', "not valid JSON at line 1"),
        ('{"urgent": [{"after_minutes": 0, "role": "idva"}, {"after_minutes": 1e300, "role": "duty"}]}',
         "more than a week"),
    ],
)
def test_alert_policy_that_is_not_valid_is_refused(enrolled: tuple[Cli, str], text: str, message: str) -> None:
    cli, _ = enrolled
    policy = cli.folder / "policy.json"
    policy.write_text(text)
    refused(cli.run("service", "set", "--alert-policy", str(policy), ok=False), message)
    assert look(cli, "SELECT alert_policy FROM services") == [(None,)]


@pytest.mark.parametrize("days", ["0", "99999999999999999999"])
def test_pause_for_an_impossible_number_of_days_is_refused(enrolled: tuple[Cli, str], days: str) -> None:
    cli, ref = enrolled
    refused(cli.run("case", "pause", ref, "--days", days, ok=False), "--days")
    assert look(cli, "SELECT status, paused_until FROM cases") == [("pending", None)]


def test_version_prints_the_installed_package_version_and_touches_nothing(cli: Cli) -> None:
    proc = cli.run("--version")
    assert proc.stdout == f"safecheck {version('safecheck')}\n"
    assert list(cli.folder.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ("--slug", "Main Office"),
        ("--slug=-main",),
        ("--slug", "x" * 33),
        ("--slug", ""),
        ("--service-name", "   "),
        ("--service-name", "x" * 81),
        ("--service-name", "two\nlines"),
    ],
)
def test_init_with_an_invalid_slug_or_name_is_refused_and_creates_nothing(cli: Cli, args: tuple[str, ...]) -> None:
    refused(cli.run("init", *args, ok=False), args[0].split("=")[0])
    assert list(cli.folder.iterdir()) == []


@pytest.mark.parametrize(("role", "pid"), [("duty", "2"), ("manager", "3")])
def test_enrol_with_a_duty_or_manager_as_the_idva_is_refused(enrolled: tuple[Cli, str], role: str, pid: str) -> None:
    cli, _ = enrolled
    cli.run("practitioner", "add", "--name", "Dan", "--role", "duty")
    cli.run("practitioner", "add", "--name", "Meg", "--role", "manager")
    proc = cli.run("case", "enrol", "--idva", pid, "--address", "+447700900124", "--intake", "high", ok=False)
    refused(proc, f"--idva {pid} is not an IDVA")
    assert look(cli, "SELECT idva_id FROM cases") == [(1,)]


def test_enrol_with_a_bad_intake_reports_the_intake_not_the_address(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    refused(cli.run("case", "enrol", "--idva", "1", "--intake", "extreme", ok=False), "--intake must be standard")
    assert look(cli, "SELECT count(*) FROM cases") == [(1,)]


@pytest.mark.parametrize(
    ("spec", "setting"),
    [
        ("telegram", "TELEGRAM_BOT_TOKEN"),
        ("sms:+447700900001", "TWILIO_ACCOUNT_SID"),
        ("email:ida@example.org", "SMTP_HOST"),
    ],
)
def test_practitioner_on_a_channel_that_is_not_configured_is_refused(
    enrolled: tuple[Cli, str], spec: str, setting: str
) -> None:
    cli, _ = enrolled
    proc = cli.run("practitioner", "add", "--name", "Sam", "--role", "idva", "--channels", f"inbox,{spec}", ok=False)
    line = refused(proc, f"the {spec.split(':')[0]} alert channel is not configured here", setting)
    assert "7700900001" not in line and "ida@" not in line
    assert look(cli, "SELECT count(*) FROM practitioners") == [(1,)]


def test_disabling_a_language_open_cases_use_says_how_many_and_needs_force(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    cli.run("service", "languages", "--enable", "cy")
    for n in (4, 5):
        cli.run("case", "enrol", "--idva", "1", "--address", f"+44770090012{n}", "--intake", "high", "--language", "cy")
    before = look(cli, "SELECT languages, default_language FROM services")
    refused(cli.run("service", "languages", "--disable", "cy", ok=False), "cy by 2 open case(s)", "--force")
    assert look(cli, "SELECT languages, default_language FROM services") == before

    out = cli.run("service", "languages", "--disable", "cy", "--force").stdout
    assert out.splitlines()[0] == "languages: en_GB (default en_GB); 2 open case(s) keep cy"
    assert look(cli, "SELECT language, count(*) FROM cases GROUP BY language") == [("cy", 2), ("en_GB", 1)]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--fast", "0"), "--fast"),
        (("--fast", "-3"), "--fast"),
        (("--fast", "nan"), "--fast"),
        (("--fast", "inf"), "--fast"),
        (("--pace", "-1"), "--pace"),
        (("--pace", "nan"), "--pace"),
    ],
)
def test_demo_with_a_speed_or_pace_that_makes_no_sense_is_refused(
    cli: Cli, args: tuple[str, ...], named: str
) -> None:
    cli.env["TMPDIR"] = str(cli.folder)
    refused(cli.run("demo", "--auto", *args, ok=False), named)
    assert list(cli.folder.iterdir()) == []  # no demo folder, no database


def test_practitioner_inbox_and_link_stay_inside_the_chosen_service(enrolled: tuple[Cli, str]) -> None:
    cli, _ = enrolled
    add_service(cli, "other")
    assert cli.run("--service", "other", "practitioner", "add", "--name", "Olga", "--role", "idva").stdout == "2\n"

    refused(cli.run("practitioner", "inbox", "2", ok=False), "no active practitioner 2 in this service")
    refused(cli.run("practitioner", "link", "2", ok=False), "no active practitioner 2 in this service")
    refused(cli.run("--service", "other", "practitioner", "inbox", "1", ok=False), "no active practitioner 1")
    assert look(cli, "SELECT count(*) FROM practitioner_links") == [(0,)]

    assert cli.run("--service", "other", "practitioner", "inbox", "2").stdout == "(inbox empty)\n"
    assert "LINK" in cli.run("--service", "other", "practitioner", "link", "2").stdout


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"TWILIO_AUTH_TOKEN": "a-token-without-its-account"}, "TWILIO_ACCOUNT_SID"),
        ({"TELEGRAM_BOT_USERNAME": "alex_chat_bot"}, "TELEGRAM_BOT_TOKEN"),
        ({"SMTP_FROM": "alerts@example.org"}, "SMTP_HOST"),
    ],
)
def test_half_configured_channel_settings_stop_every_command_naming_what_is_missing(
    enrolled: tuple[Cli, str], env: dict[str, str], missing: str
) -> None:
    cli, ref = enrolled
    cli.env.update(env)
    for args in (("case", "list"), ("serve",), ("simulate", "--case", ref)):
        line = refused(cli.run(*args, ok=False), "half configured", missing)
        assert "a-token-without-its-account" not in line
