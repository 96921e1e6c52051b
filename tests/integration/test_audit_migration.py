"""Migration 0026: the rows written before the chain began (0018) join it, after a check of the chain as it
stands; a chain already broken refuses the upgrade in one line and changes nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import audit, services
from storage.db import Database, StorageError

T0 = datetime(2019, 3, 1, 9, 0, tzinfo=UTC)


async def _at_version_25(path: Path) -> Database:
    """A database as 0025 left it: three rows from before the chain began, then three chained ones."""
    db = await Database.open(path, create=True, migrate=False)
    await db.upgrade(to=17)
    async with db.transaction() as tx:
        svc = await services.create(tx, "north", "North", T0)
        for n in range(3):  # as the log wrote them before 0018: no hash
            await tx.execute(
                "INSERT INTO audit_log (at, actor, action, case_id, detail) VALUES (?, 'system', 'old', NULL, ?)",
                ((T0 + timedelta(days=n)).isoformat(timespec="microseconds").replace("+00:00", "Z"), f"n={n}"),
            )
        await tx.commit()
    await db.upgrade(to=25)
    async with db.transaction() as tx:
        for n in range(3):
            await audit.log(tx, T0 + timedelta(days=40 + n), "system", "new", None, f"n={n}", svc)
        await tx.commit()
    return db


def _rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall()


async def test_the_rows_from_before_the_chain_join_it_from_the_first(tmp_path: Path) -> None:
    path = tmp_path / "db"
    db = await _at_version_25(path)
    try:
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT COUNT(row_hash) FROM audit_log").fetchone()[0] == 3
        assert 26 in await db.upgrade()
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT COUNT(*), COUNT(row_hash) FROM audit_log").fetchone() == (6, 6)
        check = await audit.verify(db)
        assert (check.rows, check.broken_at, check.anchor) == (6, None, None)
        # Every row is now covered: changing one from before 0018 is found too.
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TRIGGER audit_log_no_update")
            conn.execute("UPDATE audit_log SET detail = 'n=9' WHERE id = 2")
        assert (await audit.verify(db)).broken_at == 2
    finally:
        await db.close()


async def test_an_already_broken_chain_refuses_the_upgrade_in_one_line_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db"
    db = await _at_version_25(path)
    try:
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TRIGGER audit_log_no_update")
            conn.execute("UPDATE audit_log SET detail = 'n=7' WHERE id = 5")  # a chained row, edited
        before = _rows(path)
        with pytest.raises(StorageError) as refused:
            await db.upgrade()
        message = str(refused.value)
        assert "chain already breaks at row 5" in message and "not upgrading" in message and "\n" not in message
        assert _rows(path) == before  # the evidence as it was: no hash rewritten
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] < 26
            assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'audit_anchor'").fetchone() is None
    finally:
        await db.close()


async def test_a_row_removed_from_the_chain_before_the_upgrade_refuses_it(tmp_path: Path) -> None:
    path = tmp_path / "db"
    db = await _at_version_25(path)
    try:
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TRIGGER audit_log_no_delete")
            conn.execute("DELETE FROM audit_log WHERE id = 5")
        with pytest.raises(StorageError, match="already breaks at row 6"):
            await db.upgrade()
    finally:
        await db.close()
