"""Bad input at the command line: one line on stderr, exit 2, no traceback, and nothing written that should not be."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Cli

pytestmark = pytest.mark.e2e


def refused(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Assert the CLI refused with exit 2 and exactly one stderr line holding each fragment; return the line."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def look(cli: Cli, sql: str) -> list[tuple[Any, ...]]:
    """Read the database the CLI wrote, read-only: what a refused command must have left alone."""
    with sqlite3.connect(f"file:{cli.folder / 'safecheck.db'}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """Set up once: an initialised service with an IDVA and one enrolled case (CLI processes are slow)."""
    cli = Cli(tmp_path_factory.mktemp("template"))
    cli.run("init")
    cli.run("practitioner", "add", "--name", "Ida", "--role", "idva")
    out = cli.run("case", "enrol", "--idva", "1", "--address", "+447700900123", "--intake", "high").stdout
    ref = re.search(r"case (C-\w+)", out)
    assert ref
    yield cli.folder, ref.group(1)


@pytest.fixture
def enrolled(template: tuple[Path, str], tmp_path: Path) -> tuple[Cli, str]:
    """A private copy of the set-up service (database and key file) and its case reference."""
    folder, ref = template
    shutil.copytree(folder, tmp_path / "service")
    return Cli(tmp_path / "service"), ref


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
    cli.run("practitioner", "add", "--name", "Sam", "--role", "duty", "--channels", "telegram,sms:+447700900001")
    cli.env.update(TELEGRAM_BOT_TOKEN="123456:test-token-not-a-real-one-000", TELEGRAM_BOT_USERNAME="alex_chat_bot")
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
