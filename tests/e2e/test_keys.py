"""Key rotation through the CLI: a new current key, every value moved to it, nothing unreadable."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from storage.rekey import ENCRYPTED
from tests.e2e.conftest import Cli, Prepared, prepare
from tests.e2e.test_cli_scenario import NAME

pytestmark = pytest.mark.e2e


def key_ids(cli: Cli) -> set[str]:
    """The key id embedded in every encrypted value (format byte, id length, id, nonce, ciphertext)."""
    found = set()
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:
        for field in ENCRYPTED:
            for (blob,) in conn.execute(f"SELECT {field.column} FROM {field.table} WHERE {field.column} IS NOT NULL"):
                found.add(blob[2 : 2 + blob[1]].decode())
    return found


def test_rotating_keys_moves_every_value_to_the_new_key_and_keeps_it_readable(cli: Cli, case_ref: str) -> None:
    ref = case_ref  # set_up_case(cli), copied
    key_file = cli.folder / "safecheck.key"
    assert key_ids(cli) == {json.loads(key_file.read_text())["current"]}

    out = cli.run("keys", "rotate").stdout
    current = json.loads(key_file.read_text())["current"]
    assert f"new current key {current}" in out
    assert key_ids(cli) == {current}
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert cli.json_lines("case", "show", ref, "--as", "1", "--json")[0]["name"] == NAME


def test_rotation_refuses_keys_from_the_environment(cli: Cli, initialised: Prepared[None]) -> None:
    initialised.copy_to(cli)  # cli.run("init"), copied
    cli.env["SAFECHECK_KEY"] = (cli.folder / "safecheck.key").read_text()
    proc = cli.run("keys", "rotate", ok=False)
    assert proc.returncode == 2 and "SAFECHECK_KEY" in proc.stderr and "Traceback" not in proc.stderr


def dump(cli: Cli) -> list[str]:
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:
        return list(conn.iterdump())


def another_installation(tmp_path: Path) -> Cli:
    other = Cli(tmp_path / "other")
    other.folder.mkdir()
    other.run("init")
    return other


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Prepared[None]:
    """A freshly initialised installation, made once: tests that need one but do not test init copy it."""

    def init(cli: Cli) -> None:
        cli.run("init")

    return prepare(tmp_path_factory, init)


@pytest.fixture
def stranger(tmp_path: Path, initialised: Prepared[None]) -> Cli:
    """`another_installation(tmp_path)`: this test's own copy of an installation with keys of its own."""
    other = Cli(tmp_path / "other")
    other.folder.mkdir()
    initialised.copy_to(other)
    return other


def refused_in_one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    return proc.stderr


COMMANDS = [
    ("case", "list"),
    ("tick",),
    ("alerts", "list"),
    ("practitioner", "add", "--name", "Eve", "--role", "idva"),
    ("case", "enrol", "--idva", "1", "--address", "+447700900999", "--intake", "high"),
    ("simulate", "--case", "C-XXXXX"),
    ("keys", "rotate"),
]


@pytest.mark.usefixtures("case_ref")  # set_up_case(cli), copied
def test_a_key_file_from_another_installation_is_refused_by_every_command_and_nothing_changes(
    cli: Cli, tmp_path: Path, stranger: Cli
) -> None:
    before = dump(cli)
    their_key = stranger.folder / "safecheck.key"
    cli.env["SAFECHECK_KEY_FILE"] = str(their_key)
    for command in COMMANDS:
        line = refused_in_one_line(cli.run(*command, ok=False))
        assert f"key file {their_key} does not belong to the database" in line, command
    assert dump(cli) == before
    assert their_key.read_text() == (tmp_path / "other" / "safecheck.key").read_text()


@pytest.mark.usefixtures("case_ref")  # set_up_case(cli), copied
def test_keys_from_another_installation_in_the_environment_are_refused_too(cli: Cli, stranger: Cli) -> None:
    before = dump(cli)
    cli.env["SAFECHECK_KEY"] = (stranger.folder / "safecheck.key").read_text()
    line = refused_in_one_line(cli.run("case", "list", ok=False))
    assert "SAFECHECK_KEY does not belong to the database" in line
    assert dump(cli) == before


@pytest.mark.usefixtures("case_ref")  # set_up_case(cli), copied
def test_serve_refuses_a_key_from_another_installation_before_it_listens(cli: Cli, stranger: Cli) -> None:
    cli.env["SAFECHECK_KEY_FILE"] = str(stranger.folder / "safecheck.key")
    with socket.socket() as probe:  # a free port: were the key not refused, serve would listen there
        probe.bind(("127.0.0.1", 0))
        cli.env["SAFECHECK_PORT"] = str(probe.getsockname()[1])
    line = refused_in_one_line(cli.run("serve", ok=False))
    assert "does not belong to the database" in line


def test_two_installations_never_share_a_key_id(cli: Cli, tmp_path: Path) -> None:
    cli.run("init")
    mine = json.loads((cli.folder / "safecheck.key").read_text())["current"]
    theirs = json.loads((another_installation(tmp_path).folder / "safecheck.key").read_text())["current"]
    assert mine != theirs


@pytest.mark.usefixtures("case_ref")  # set_up_case(cli), copied
def test_a_rotation_that_fails_changes_neither_the_key_file_nor_the_database(cli: Cli) -> None:
    key_file = cli.folder / "safecheck.key"
    keys_before = key_file.read_bytes()
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:  # the database refuses the rewrite half-way
        conn.execute(
            "CREATE TRIGGER no_rewrite BEFORE UPDATE OF name_enc ON practitioners "
            "BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
        )
    before = dump(cli)
    line = refused_in_one_line(cli.run("keys", "rotate", ok=False))
    assert "nothing was changed" in line
    assert key_file.read_bytes() == keys_before
    assert not (cli.folder / "safecheck.key.new").exists()
    assert dump(cli) == before
    cli.run("case", "list")  # the old keys still open the database


def test_an_interrupted_rotation_names_the_file_that_finishes_it(cli: Cli, case_ref: str) -> None:
    ref = case_ref  # set_up_case(cli), copied
    key_file = cli.folder / "safecheck.key"
    old_keys = key_file.read_text()
    cli.run("keys", "rotate")
    # As if the process died after the database committed and before the key file was replaced.
    key_file.rename(cli.folder / "safecheck.key.new")
    key_file.write_text(old_keys)
    key_file.chmod(0o600)
    line = refused_in_one_line(cli.run("case", "show", ref, "--as", "1", ok=False))
    assert "safecheck.key.new" in line and "move it over" in line
    (cli.folder / "safecheck.key.new").replace(key_file)
    assert cli.json_lines("case", "show", ref, "--as", "1", "--json")[0]["name"] == NAME


def test_retiring_old_keys_leaves_one_key_and_the_old_key_file_is_refused(cli: Cli, case_ref: str) -> None:
    ref = case_ref  # set_up_case(cli), copied
    key_file = cli.folder / "safecheck.key"
    old_keys = key_file.read_text()
    out = cli.run("keys", "rotate", "--retire-old").stdout
    new = json.loads(key_file.read_text())
    assert list(new["encryption"]) == [new["current"]] and "retired" in out
    assert key_ids(cli) == {new["current"]}
    assert cli.json_lines("case", "show", ref, "--as", "1", "--json")[0]["name"] == NAME
    (cli.folder / "old.key").write_text(old_keys)
    (cli.folder / "old.key").chmod(0o600)
    cli.env["SAFECHECK_KEY_FILE"] = str(cli.folder / "old.key")
    assert new["current"] in refused_in_one_line(cli.run("case", "list", ok=False))


def test_a_new_lookup_key_still_finds_every_survivor_by_her_number(cli: Cli, case_ref: str) -> None:
    ref = case_ref  # set_up_case(cli), copied
    before = json.loads((cli.folder / "safecheck.key").read_text())["lookup"]
    cli.run("keys", "rotate", "--new-lookup-key")
    assert json.loads((cli.folder / "safecheck.key").read_text())["lookup"] != before
    # simulate sends from her number: the pipeline must find her case by the new blind index.
    replies = cli.json_lines("simulate", "--case", ref, "--json", stdin="HELP\n")
    assert any(str(r.get("text")).startswith("Options:\nPAUSE") for r in replies), replies  # her HELP, not a stranger's


def test_a_key_file_that_is_a_directory_is_one_line_and_init_makes_nothing(cli: Cli) -> None:
    (cli.folder / "keys").mkdir()
    cli.env["SAFECHECK_KEY_FILE"] = str(cli.folder / "keys")
    assert "is not a regular file" in refused_in_one_line(cli.run("init", ok=False))
    assert not (cli.folder / "safecheck.db").exists()
    del cli.env["SAFECHECK_KEY_FILE"]
    cli.run("init")
    cli.env["SAFECHECK_KEY_FILE"] = str(cli.folder / "keys")
    assert "is not a regular file" in refused_in_one_line(cli.run("case", "list", ok=False))
