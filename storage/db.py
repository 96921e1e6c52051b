"""The SQLite database: one serialised connection, explicit transactions, migrations at open."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from storage.writer_lock import WriterLock

Row = sqlite3.Row
BUSY_TIMEOUT_MS = 5_000
MAX_BATCH = 64  # units of work per group commit: bounds how long the first one waits for its fsync

log = logging.getLogger("safecheck.storage")

# aiosqlite logs every statement with its parameters at DEBUG: never let that reach a log file.
logging.getLogger("aiosqlite").setLevel(logging.WARNING)


class StorageError(Exception):
    """A storage problem a user can act on (one line)."""


def ts(when: datetime) -> str:
    """UTC text timestamp with a fixed width, so text order is time order."""
    if when.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def migrations() -> list[tuple[int, str]]:
    """The packaged migrations as (version, sql), in order."""
    found = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Tx:
    """One open transaction. Rolled back on exit unless `commit()` was called.

    Every method is one trip to aiosqlite's worker thread: reads fetch in the same trip and
    write cursors are left to the garbage collector instead of costing a trip to close.
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.committed = False
        self.erases = False  # set by a unit that erases personal data: see `erasing`

    def erasing(self) -> None:
        """This unit erases personal data: once it is committed, the WAL's copies of the old pages go too."""
        self.erases = True

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return lastrowid (meaningful for inserts)."""
        cursor = await self._conn.execute(sql, params)
        return cursor.lastrowid or 0

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        """Run an INSERT ... ON CONFLICT DO NOTHING; the new rowid, or None when nothing was inserted."""
        cursor = await self._conn.execute(sql, params)
        return (cursor.lastrowid or 0) if cursor.rowcount == 1 else None

    async def changes(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an UPDATE or DELETE; return how many rows it changed."""
        cursor = await self._conn.execute(sql, params)
        return int(cursor.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = list(await self._conn.execute_fetchall(sql, params))
        return rows[0] if rows else None

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]

    async def next_id(self, table: str) -> int:
        """The id the next row of `table` takes (SQLite's own rule, max + 1), for a value bound to its row.

        Safe only inside a write transaction: the one writer makes the read and the insert one step.
        """
        return int(await self.scalar(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))

    async def commit(self) -> None:
        """Keep this unit's work. It is durable once the `async with` that opened it has exited."""
        self.committed = True


class Database:
    """A SQLite file in WAL mode with one writer; every access goes through a transaction."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = WriterLock()
        self.path = path
        self._reader: aiosqlite.Connection | None = None
        self._batch: _Batch | None = None
        self.commits = 0  # physical commits (fsyncs): fewer than units of work when batches form
        self._wal_to_wipe = False  # an erasure committed whose old pages may still be in the WAL
        self._reader_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: Path, *, migrate: bool = True, synchronous: str = "FULL", create: bool = False
    ) -> Database:
        """Open a Safecheck database and bring its schema up to date.

        Only `create` (init) may start a new one: anything else refuses a missing, empty or foreign
        file rather than write a schema into it, and a damaged file before anything is changed.
        """
        if not path.parent.exists():
            raise StorageError(f"database folder {path.parent} does not exist: create it or choose --db")
        if create:
            _create_private(path)
        elif not path.exists():
            raise StorageError(f"no database at {path}: run `safecheck init` first (or check --db / SAFECHECK_DB)")
        try:
            conn = await aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {path}: {exc}") from None
        conn.row_factory = sqlite3.Row
        db = cls(conn, path)
        try:
            await _check_file(conn, path, create)
            # FULL: an inbound message we acknowledged must survive a power cut, not just a crash.
            for pragma in (
                "journal_mode=WAL",
                f"synchronous={synchronous}",
                "foreign_keys=ON",
                f"busy_timeout={BUSY_TIMEOUT_MS}",
                # Erased values are overwritten with zeros in the file, not just marked free.
                "secure_delete=ON",
            ):
                await conn.execute(f"PRAGMA {pragma}")
            if migrate:
                await db.upgrade()
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
        await self._conn.close()

    async def version(self) -> int:
        async with self._lock:
            cursor = await self._conn.execute("PRAGMA user_version")
            row = await cursor.fetchone()
            await cursor.close()
            return int(row[0]) if row else 0

    async def upgrade(self) -> list[int]:
        """Apply pending migrations, each in its own transaction; return the versions applied."""
        applied = []
        current = await self.version()
        for version, sql in migrations():
            if version <= current:
                continue
            async with self._lock:
                # executescript commits implicitly, so wrap the script itself in BEGIN/COMMIT.
                try:
                    await self._conn.executescript(
                        f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
                    )
                except sqlite3.Error as exc:
                    await self._conn.execute("ROLLBACK") if self._conn.in_transaction else None
                    raise StorageError(f"migration {version:04d} failed: {exc}") from None
            applied.append(version)
        return applied

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        """Reads on a second, read-only connection: WAL lets them run while the writer works.

        Each statement sees the last commit (its own snapshot); use a transaction where several
        reads must agree with each other.
        """
        async with self._reader_lock:
            if self._reader is None:
                self._reader = await aiosqlite.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
                self._reader.row_factory = sqlite3.Row
                await self._reader.execute("PRAGMA query_only = ON")
            yield Tx(self._reader)

    @asynccontextmanager
    async def transaction(self, urgent: bool = False) -> AsyncIterator[Tx]:
        """A unit of work under the single-writer lock; rolled back unless `tx.commit()` was called.

        Group commit: units that queue up while one runs share one SQLite transaction, each in
        its own SAVEPOINT, so one fsync makes many of them durable. A unit that fails or does
        not commit rolls back alone. Leaving the `async with` of a committed unit waits until
        its data is on disk, so whatever the caller does next can rely on it. `urgent` units (a
        codeword, an alert's delivery, an escalation) are served before ordinary ones.
        """
        await self._lock.acquire(urgent)
        try:
            batch = self._batch
            if batch is None:
                # The first unit of a batch needs no savepoint: nothing else is in the transaction yet.
                await self._conn.execute("BEGIN IMMEDIATE")
                batch = self._batch = _Batch(asyncio.get_running_loop().create_future())
            else:
                await self._conn.execute("SAVEPOINT unit")
            batch.size += 1
            tx = Tx(self._conn)
            try:
                yield tx
            finally:
                await self._end_unit(tx, batch, urgent)
        finally:
            self._lock.release()
        if tx.committed:
            await asyncio.shield(batch.done)

    async def _end_unit(self, tx: Tx, batch: _Batch, urgent: bool) -> None:
        try:
            if batch.size == 1:  # the first unit, alone in the transaction
                if not tx.committed:
                    self._batch = None
                    await self._conn.rollback()
                    return
            else:
                if not tx.committed:
                    await self._conn.execute("ROLLBACK TO unit")
                await self._conn.execute("RELEASE unit")
        except sqlite3.Error as exc:  # SQLite itself aborted the transaction (e.g. disk I/O): the batch is lost
            self._batch = None
            if self._conn.in_transaction:
                await self._conn.rollback()
            batch.fail(exc)
            raise
        if tx.committed and tx.erases:
            batch.erases = True
        # An urgent unit commits at once rather than wait for the batch to fill.
        if tx.committed and not urgent and self._lock.waiting and batch.size < MAX_BATCH:
            # Others are queued: let them join, and commit once they are through.
            if batch.committer is None:
                batch.committer = asyncio.create_task(self._commit_when_reached(batch))
        else:
            await self._commit(batch)

    async def _commit_when_reached(self, batch: _Batch) -> None:
        """Queued behind the units that join the batch: commit it once they are through."""
        try:
            async with self._lock:
                if self._batch is batch:
                    await self._commit(batch)
        except Exception as exc:  # the units waiting on the batch get the error through its future
            log.error("group commit failed error=%s", type(exc).__name__)

    async def _commit(self, batch: _Batch) -> None:
        self._batch = None
        try:
            await self._conn.commit()
            self.commits += 1
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                await self._conn.rollback()
            batch.fail(exc)
            raise
        if batch.erases or self._wal_to_wipe:
            await self._wipe_wal()  # before the units hear back: an erasure is done when it says so
        batch.finish()

    async def _wipe_wal(self) -> None:
        """Copy the WAL into the database and truncate it to nothing, so erased values leave no copy behind.

        Secure delete zeroes them in the database file; the WAL still holds the pages as they were
        before. If a reader keeps the checkpoint from finishing, the next commit tries again.
        """
        try:
            async with self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                row = await cursor.fetchone()
            self._wal_to_wipe = row is None or row[0] != 0
        except sqlite3.Error as exc:
            self._wal_to_wipe = True
            log.error("wiping the WAL after an erasure failed error=%s", type(exc).__name__)
        if self._wal_to_wipe:
            log.warning("WAL not wiped yet after an erasure (a reader was busy): trying again at the next commit")


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it: its -wal and -shm files copy its mode."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StorageError(f"cannot create database {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
    finally:
        os.close(fd)


async def _check_file(conn: aiosqlite.Connection, path: Path, create: bool) -> None:
    """Refuse, before anything is written, a file that is not SQLite, not Safecheck's, or damaged."""
    damaged = StorageError(
        f"{path} is damaged (database disk image is malformed); nothing was changed: stop Safecheck, "
        f"restore the database from a backup, or salvage it with `sqlite3 {path} .recover`"
    )
    try:
        async with conn.execute("PRAGMA user_version") as cursor:  # reads the header: fails on a non-SQLite file
            row = await cursor.fetchone()
        async with conn.execute("PRAGMA quick_check(1)") as cursor:  # every page: about 1 s per GB
            verdict = await cursor.fetchone()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_CORRUPT:
            raise damaged from None
        raise StorageError(f"{path} is not a SQLite database: check --db / SAFECHECK_DB") from None
    if verdict is None or verdict[0] != "ok":
        raise damaged
    if not create and (row is None or row[0] == 0):
        empty = " (it is empty)" if path.stat().st_size == 0 else ""
        raise StorageError(
            f"{path} is not a Safecheck database{empty}: check --db / SAFECHECK_DB, or create one with `safecheck init`"
        )


class _Batch:
    """Units of work sharing one SQLite transaction, and the future of its commit."""

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.size = 0
        self.erases = False
        self.committer: asyncio.Task[None] | None = None

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)
            self.done.exception()  # retrieved here too: a unit that gave up waiting must not leave it unread
