"""The database on a real file: transactions roll back unless committed, migrations run once, durable pragmas."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import services
from storage.db import Database, migrations
from storage.rekey import ENCRYPTED

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)



async def slugs(db: Database) -> list[str]:
    async with db.transaction() as tx:
        return [r["slug"] for r in await tx.all("SELECT slug FROM services ORDER BY id")]


def slugs_seen_by_another_connection(path: Path) -> list[str]:
    with sqlite3.connect(path) as other:
        return [r[0] for r in other.execute("SELECT slug FROM services ORDER BY id")]


async def test_transaction_without_commit_is_rolled_back(db: Database) -> None:
    async with db.transaction() as tx:
        await services.create(tx, "forgotten", "Never committed", NOW)
        assert [r["slug"] for r in await tx.all("SELECT slug FROM services")] == ["forgotten"]
    assert await slugs(db) == []
    assert slugs_seen_by_another_connection(db.path) == []


async def test_transaction_that_raises_is_rolled_back_and_the_error_propagates(db: Database) -> None:
    with pytest.raises(RuntimeError, match="handler broke"):
        async with db.transaction() as tx:
            await services.create(tx, "half-done", "Half done", NOW)
            raise RuntimeError("handler broke")
    assert await slugs(db) == []
    # The single-writer lock was released: the next transaction runs normally.
    async with db.transaction() as tx:
        await services.create(tx, "after", "After the failure", NOW)
        await tx.commit()
    assert await slugs(db) == ["after"]


async def test_committed_transaction_is_durable_and_visible_to_other_connections(db: Database) -> None:
    async with db.transaction() as tx:
        await services.create(tx, "kept", "Kept", NOW)
        await tx.commit()
    assert await slugs(db) == ["kept"]
    assert slugs_seen_by_another_connection(db.path) == ["kept"]


async def test_uncommitted_writes_are_invisible_to_other_connections_while_open(db: Database) -> None:
    async with db.transaction() as tx:
        await services.create(tx, "in-flight", "In flight", NOW)
        assert slugs_seen_by_another_connection(db.path) == []  # WAL: readers see the last commit
        await tx.commit()
    assert slugs_seen_by_another_connection(db.path) == ["in-flight"]


async def test_migrations_apply_once_and_set_user_version(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    first = await Database.open(path, migrate=False, create=True)
    try:
        assert await first.version() == 0
        packaged = [version for version, _ in migrations()]
        assert await first.upgrade() == packaged
        assert await first.version() == packaged[-1]
        assert await first.upgrade() == []
    finally:
        await first.close()

    reopened = await Database.open(path)  # start-up upgrades again: nothing left to apply
    try:
        assert await reopened.upgrade() == []
        async with reopened.transaction() as tx:
            assert await tx.scalar("PRAGMA user_version") == migrations()[-1][0]
            tables = {r["name"] for r in await tx.all("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"services", "cases", "inbound_messages", "outbox", "timers", "alerts", "audit_log"} <= tables
    finally:
        await reopened.close()


async def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "kept.db"
    db = await Database.open(path, create=True)
    async with db.transaction() as tx:
        await services.create(tx, "survives", "Survives a restart", NOW)
        await tx.commit()
    await db.close()
    again = await Database.open(path)
    try:
        assert await slugs(again) == ["survives"]
    finally:
        await again.close()


async def test_connection_uses_wal_foreign_keys_busy_timeout_and_full_sync(db: Database) -> None:
    async with db.transaction() as tx:
        assert await tx.scalar("PRAGMA journal_mode") == "wal"
        assert await tx.scalar("PRAGMA foreign_keys") == 1
        assert await tx.scalar("PRAGMA synchronous") == 2  # FULL
        assert await tx.scalar("PRAGMA busy_timeout") >= 1000
    with sqlite3.connect(db.path) as other:  # WAL is a property of the file, not just our connection
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO practitioners (service_id, role, name_enc, created_at) VALUES (?, 'idva', x'00', ?)",
                (999, "2026-11-23T09:00:00.000000Z"),
            )
            await tx.commit()
    async with db.transaction() as tx:
        assert await tx.scalar("SELECT count(*) FROM practitioners") == 0


async def test_key_rotation_knows_every_encrypted_column_of_the_schema(tmp_path: Path) -> None:
    """A new *_enc column that rotation forgot would stay under an old key forever."""
    db = await Database.open(tmp_path / "schema.db", create=True)
    try:
        async with db.reading() as tx:
            tables = [r["name"] for r in await tx.all("SELECT name FROM sqlite_master WHERE type = 'table'")]
            columns = {
                (table, c["name"])
                for table in tables
                for c in await tx.all(f"PRAGMA table_info({table})")
                if c["name"].endswith("_enc")
            }
    finally:
        await db.close()
    assert columns == {(field.table, field.column) for field in ENCRYPTED}
