"""The database file itself: a damaged or empty file is refused in one line and left exactly as it
was, and a new database, its WAL and its shared-memory file are readable by their owner only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Background, Cli, refused
from tests.fakes.damaged_disk import damage_table

pytestmark = pytest.mark.e2e


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def commands(ref: str) -> list[tuple[str, ...]]:
    return [
        ("case", "list"),
        ("case", "show", ref, "--as", "1"),
        ("case", "enrol", "--idva", "1", "--address", "+447700900124", "--intake", "high"),
        ("practitioner", "add", "--name", "Sam", "--role", "idva"),
        ("simulate", "--case", ref),
        ("tick",),
        ("alerts", "list"),
        ("service", "show"),
        ("db", "upgrade"),
    ]


def test_a_damaged_database_is_one_line_exit_2_for_every_command_and_stays_as_it_was(
    enrolled: tuple[Cli, str], background: list[Background]
) -> None:
    cli, ref = enrolled
    damage_table(cli.folder / "safecheck.db", "cases")
    before = snapshot(cli.folder)
    for args in commands(ref):
        refused(cli.run(*args, ok=False), "is damaged (database disk image is malformed)", "backup")
        assert snapshot(cli.folder) == before, args
    serve = cli.start("serve")
    background.append(serve)
    assert serve.proc.wait(timeout=60) == 2  # it never starts: nothing is sent from a damaged database
    assert serve.stderr.count("\n") == 1 and "is damaged" in serve.stderr and "Traceback" not in serve.stderr
    assert snapshot(cli.folder) == before


def test_a_command_on_an_empty_file_refuses_and_leaves_it_empty(
    enrolled: tuple[Cli, str], background: list[Background]
) -> None:
    cli, ref = enrolled
    empty = cli.folder / "empty.db"
    empty.touch()
    before = snapshot(cli.folder)
    for args in commands(ref):
        proc = cli.run("--db", str(empty), "--key-file", "safecheck.key", *args, ok=False)
        refused(proc, "empty.db is not a Safecheck database (it is empty)", "safecheck init")
        assert snapshot(cli.folder) == before, args
    serve = cli.start("--db", str(empty), "--key-file", "safecheck.key", "serve")
    background.append(serve)
    assert serve.proc.wait(timeout=60) == 2
    assert "is not a Safecheck database" in serve.stderr
    assert snapshot(cli.folder) == before


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which files are created 0644 unless the program asks otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


def test_database_wal_and_shm_are_created_owner_only(
    cli: Cli, umask_022: None, background: list[Background]
) -> None:
    cli.run("init")
    assert mode(cli.folder / "safecheck.db") == "0o600"
    serve = cli.start("serve")  # holds the database open: its -wal and -shm exist while it runs
    background.append(serve)
    serve.wait_for("started;")
    cli.run("practitioner", "add", "--name", "Ida", "--role", "idva")
    cli.run("case", "enrol", "--idva", "1", "--address", "+447700900123", "--intake", "high")
    files = sorted(p.name for p in cli.folder.iterdir())
    assert files == ["safecheck.db", "safecheck.db-shm", "safecheck.db-wal", "safecheck.db.lock", "safecheck.key"]
    assert {name: mode(cli.folder / name) for name in files} == dict.fromkeys(files, "0o600")
    assert serve.stop() == 0
