"""Opening the database file: only `create` (init) starts a new one, and it is owner-only from the first
byte; a missing, empty, foreign or damaged file is refused in one line before anything is written."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import services
from storage.db import Database, StorageError
from tests.conftest import START
from tests.fakes.damaged_disk import damage_table


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask: whatever the file ends up with is what the code asked for."""
    old = os.umask(0)
    yield
    os.umask(old)


async def test_a_new_database_and_its_wal_and_shm_are_owner_only_whatever_the_umask(
    tmp_path: Path, open_umask: None
) -> None:
    db = await Database.open(tmp_path / "new.db", create=True)
    try:
        async with db.transaction() as tx:
            await services.create(tx, "test", "Test service", START)
            await tx.commit()
        modes = {p.name: oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()}
    finally:
        await db.close()
    assert modes == {"new.db": "0o600", "new.db-wal": "0o600", "new.db-shm": "0o600"}


async def test_opening_a_missing_path_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"no database at .*missing\.db: run `safecheck init`"):
        await Database.open(tmp_path / "missing.db")
    assert list(tmp_path.iterdir()) == []


async def test_an_empty_file_is_refused_and_stays_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    with pytest.raises(StorageError, match=r"empty.db is not a Safecheck database \(it is empty\)"):
        await Database.open(tmp_path / "empty.db")
    assert files(tmp_path) == {"empty.db": b""}


async def test_another_programs_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    before = files(tmp_path)
    with pytest.raises(StorageError, match=r"notes\.db is not a Safecheck database: check --db"):
        await Database.open(other)
    assert files(tmp_path) == before


async def test_a_damaged_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    db = await Database.open(path, create=True)
    await db.close()
    damage_table(path, "services")
    before = files(tmp_path)
    with pytest.raises(StorageError) as caught:
        await Database.open(path)
    assert "damaged.db is damaged (database disk image is malformed)" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert files(tmp_path) == before
