"""The SQLite database: one writer thread with its connection, explicit transactions, migrations at open."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from storage.writer_lock import WriterLock

Row = sqlite3.Row
BUSY_TIMEOUT_MS = 5_000
MAX_BATCH = 64  # units of work per group commit: bounds how long the first one waits for its fsync

log = logging.getLogger("safecheck.storage")

T = TypeVar("T")


class StorageError(Exception):
    """A storage problem a user can act on (one line)."""


def ts(when: datetime) -> str:
    """UTC text timestamp with a fixed width, so text order is time order."""
    if when.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    # isoformat is several times faster than strftime, and with microseconds always the same width
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_ts(text: str) -> datetime:
    """The inverse of `ts` (fromisoformat reads that fixed form ~50 times faster than strptime)."""
    if len(text) != 27 or text[-1] != "Z":
        raise ValueError(f"not a storage timestamp: {text!r}")
    return datetime.fromisoformat(text)


def migrations() -> list[tuple[int, str]]:
    """The packaged migrations as (version, sql), in order."""
    found = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class UnitSuspended(RuntimeError):
    """A unit of work awaited something other than the database: it must be rewritten to do that outside."""


class _Thread:
    """One connection and the one thread that uses it: every call is a hop from the event loop."""

    def __init__(self, conn: sqlite3.Connection, name: str) -> None:
        self.conn = conn
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.closed = False

    async def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the thread. A cancelled caller still waits for it: the next caller must not find
        the connection in the middle of someone else's statement."""
        job = asyncio.get_running_loop().run_in_executor(self._pool, fn)
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            with contextlib.suppress(BaseException):
                await job
            raise

    async def close(self) -> None:
        if self.closed:
            return  # closing twice is harmless, as it is for a sqlite3 connection
        self.closed = True
        await self.call(self.conn.close)
        self._pool.shutdown(wait=True)


class Tx:
    """One open transaction. Rolled back on exit unless `commit()` was called.

    In a unit of work given to `Database.run`, the whole unit runs on the writer's thread and each
    statement is a plain call. In an `async with db.transaction()` block, each statement is one hop
    to that thread. The methods are the same either way, so storage code need not know which.
    """

    def __init__(self, conn: sqlite3.Connection, thread: _Thread | None = None) -> None:
        self._conn = conn
        self._thread = thread  # None: already on the connection's thread
        self.committed = False
        self.erases = False  # set by a unit that erases personal data: see `erasing`

    def erasing(self) -> None:
        """This unit erases personal data: once it is committed, the WAL's copies of the old pages go too."""
        self.erases = True

    async def _do(self, fn: Callable[[], T]) -> T:
        return fn() if self._thread is None else await self._thread.call(fn)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return lastrowid (meaningful for inserts)."""
        return await self._do(lambda: self._conn.execute(sql, params).lastrowid or 0)

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        """Run an INSERT ... ON CONFLICT DO NOTHING; the new rowid, or None when nothing was inserted."""

        def run() -> int | None:
            cursor = self._conn.execute(sql, params)
            return (cursor.lastrowid or 0) if cursor.rowcount == 1 else None

        return await self._do(run)

    async def changes(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an UPDATE or DELETE; return how many rows it changed."""
        return await self._do(lambda: int(self._conn.execute(sql, params).rowcount))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._do(lambda: self._conn.executemany(sql, rows))

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self._do(lambda: self._conn.execute(sql, params).fetchone())

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._do(lambda: self._conn.execute(sql, params).fetchall())

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]

    async def next_id(self, table: str) -> int:
        """The id the next row of `table` takes (SQLite's own rule: max + 1, and above every id an
        AUTOINCREMENT table ever had), for a value bound to its row.

        Safe only inside a write transaction: the one writer makes the read and the insert one step.
        """
        return int(
            await self.scalar(
                f"SELECT max(COALESCE(MAX(id), 0), COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)) + 1"
                f" FROM {table}",
                (table,),
            )
        )

    async def commit(self) -> None:
        """Keep this unit's work. It is durable once the `async with` that opened it has exited."""
        self.committed = True


def _drive(unit: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (it awaits only a direct `Tx`) to its end, here and now."""
    try:
        unit.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    unit.close()
    raise UnitSuspended("a unit of work awaited something other than the database")


class Database:
    """A SQLite file in WAL mode with one writer; every access goes through a transaction."""

    def __init__(self, writer: _Thread, path: Path) -> None:
        self._writer = writer
        self._lock = WriterLock()
        self.path = path
        self._reader: _Thread | None = None
        self._batch: _Batch | None = None
        self.commits = 0  # physical commits (fsyncs): fewer than units of work when batches form
        self._wal_to_wipe = False  # an erasure committed whose old pages may still be in the WAL
        self._reader_lock = asyncio.Lock()

    @property
    def busy(self) -> bool:
        """Whether a unit of work holds the writer now (a new one would queue)."""
        return self._lock.locked()

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
        writer = _Thread(_connect(path), "safecheck-writer")
        db = cls(writer, path)
        try:
            await writer.call(lambda: _check_file(writer.conn, path, create))
            # FULL: an inbound message we acknowledged must survive a power cut, not just a crash.
            for pragma in (
                "journal_mode=WAL",
                f"synchronous={synchronous}",
                "foreign_keys=ON",
                f"busy_timeout={BUSY_TIMEOUT_MS}",
                # Erased values are overwritten with zeros in the file, not just marked free.
                "secure_delete=ON",
            ):
                await writer.call(lambda p=pragma: writer.conn.execute(f"PRAGMA {p}"))  # type: ignore[misc]
            if migrate:
                await db.upgrade()
        except BaseException:
            await writer.close()
            raise
        return db

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
        await self._writer.close()

    async def version(self) -> int:
        async with self._lock:
            return await self._writer.call(lambda: int(self._writer.conn.execute("PRAGMA user_version").fetchone()[0]))

    async def upgrade(self, to: int | None = None) -> list[int]:
        """Apply pending migrations (up to version `to`, for tests of an upgrade), each in its own transaction;
        return the versions applied."""
        applied = []
        current = await self.version()
        for version, sql in migrations():
            if version <= current or (to is not None and version > to):
                continue
            async with self._lock:
                # executescript commits implicitly, so wrap the script itself in BEGIN/COMMIT.
                await self._writer.call(lambda v=version, q=sql: _migrate(self._writer.conn, v, q))  # type: ignore[misc]
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
                reader = _Thread(_connect(self.path), "safecheck-reader")
                await reader.call(lambda: reader.conn.execute("PRAGMA query_only = ON"))
                self._reader = reader
            yield Tx(self._reader.conn, self._reader)

    async def run(self, unit: Callable[[Tx], Coroutine[Any, Any, T]], *, urgent: bool = False) -> T:
        """Run one unit of work as one call on the writer's thread: every statement, and the commit too
        when nothing else is queued. No statement costs a hop of its own.

        `unit(tx)` may await only `tx` (it is driven to its end on that thread; anything else raises
        UnitSuspended). Its work is kept only if it calls `tx.commit()`, and is durable when this
        returns. Units queued meanwhile join the same batch and commit together (see `transaction`);
        `urgent` units are served first and commit at once.
        """
        await self._lock.acquire(urgent)
        try:
            batch = self._batch
            first = batch is None
            if batch is None:
                batch = self._batch = _Batch(asyncio.get_running_loop().create_future())
            batch.size += 1
            commit_now = urgent or not self._lock.waiting or batch.size >= MAX_BATCH
            tx = Tx(self._writer.conn)
            job = asyncio.ensure_future(self._writer.call(lambda: _unit_on_writer(tx, unit, first, commit_now)))
            try:
                outcome, value = await asyncio.shield(job)
            except asyncio.CancelledError:
                # The unit runs to its end on the thread anyway: settle its batch before anyone else goes.
                outcome, value = await job
                await self._after_unit(tx, batch, outcome, value)
                raise
            await self._after_unit(tx, batch, outcome, value)
        finally:
            self._lock.release()
        if isinstance(value, BaseException):
            raise value
        if tx.committed:
            await asyncio.shield(batch.done)
        return value

    async def _after_unit(self, tx: Tx, batch: _Batch, outcome: str, value: object) -> None:
        if tx.committed and tx.erases:
            batch.erases = True
        if outcome == "empty":
            self._batch = None
        elif outcome == "lost":  # SQLite itself aborted the transaction (e.g. disk I/O): the batch is lost
            self._batch = None
            batch.fail(value if isinstance(value, BaseException) else StorageError("transaction lost"))
        elif outcome == "committed":
            self._batch = None
            self.commits += 1
            await self._finish(batch)
        elif batch.committer is None:  # "open": others are queued; they join, and the last one commits
            batch.committer = asyncio.create_task(self._commit_when_reached(batch))

    @asynccontextmanager
    async def transaction(self, urgent: bool = False) -> AsyncIterator[Tx]:
        """A unit of work under the single-writer lock; rolled back unless `tx.commit()` was called.

        Each statement is one hop to the writer's thread: hot paths use `run`, which makes the whole
        unit one call. Group commit: units that queue up while one runs share one SQLite transaction,
        each in its own SAVEPOINT, so one fsync makes many of them durable. A unit that fails or does
        not commit rolls back alone. Leaving the `async with` of a committed unit waits until its data
        is on disk, so whatever the caller does next can rely on it. `urgent` units (a codeword, an
        alert's delivery, an escalation) are served before ordinary ones.
        """
        await self._lock.acquire(urgent)
        try:
            batch = self._batch
            if batch is None:
                # The first unit of a batch needs no savepoint: nothing else is in the transaction yet.
                await self._sql("BEGIN IMMEDIATE")
                batch = self._batch = _Batch(asyncio.get_running_loop().create_future())
            else:
                await self._sql("SAVEPOINT unit")
            batch.size += 1
            tx = Tx(self._writer.conn, self._writer)
            try:
                yield tx
            finally:
                await self._end_unit(tx, batch, urgent)
        finally:
            self._lock.release()
        if tx.committed:
            await asyncio.shield(batch.done)

    async def _sql(self, sql: str) -> None:
        await self._writer.call(lambda: self._writer.conn.execute(sql))

    async def _end_unit(self, tx: Tx, batch: _Batch, urgent: bool) -> None:
        conn = self._writer.conn
        try:
            if batch.size == 1:  # the first unit, alone in the transaction
                if not tx.committed:
                    self._batch = None
                    await self._writer.call(conn.rollback)
                    return
            else:
                if not tx.committed:
                    await self._sql("ROLLBACK TO unit")
                await self._sql("RELEASE unit")
        except sqlite3.Error as exc:  # SQLite itself aborted the transaction (e.g. disk I/O): the batch is lost
            self._batch = None
            if conn.in_transaction:
                await self._writer.call(conn.rollback)
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
        conn = self._writer.conn
        try:
            await self._writer.call(conn.commit)
            self.commits += 1
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                await self._writer.call(conn.rollback)
            batch.fail(exc)
            raise
        await self._finish(batch)

    async def _finish(self, batch: _Batch) -> None:
        if batch.erases or self._wal_to_wipe:
            await self._wipe_wal()  # before the units hear back: an erasure is done when it says so
        batch.finish()

    async def _wipe_wal(self) -> None:
        """Copy the WAL into the database and truncate it to nothing, so erased values leave no copy behind.

        Secure delete zeroes them in the database file; the WAL still holds the pages as they were
        before. If a reader keeps the checkpoint from finishing, the next commit tries again.
        """
        try:
            row = await self._writer.call(
                lambda: self._writer.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            )
            self._wal_to_wipe = row is None or row[0] != 0
        except sqlite3.Error as exc:
            self._wal_to_wipe = True
            log.error("wiping the WAL after an erasure failed error=%s", type(exc).__name__)
        if self._wal_to_wipe:
            log.warning("WAL not wiped yet after an erasure (a reader was busy): trying again at the next commit")


def _unit_on_writer(
    tx: Tx, unit: Callable[[Tx], Coroutine[Any, Any, T]], first: bool, commit_now: bool
) -> tuple[str, T | BaseException]:
    """On the writer's thread: begin (or a savepoint), the unit, and its end, as one call.

    Returns how the batch stands ("empty", "open", "committed" or "lost") and the unit's result or
    its exception, which the caller raises once the batch is settled.
    """
    conn = tx._conn
    try:
        conn.execute("BEGIN IMMEDIATE" if first else "SAVEPOINT unit")
    except sqlite3.Error as exc:
        return ("lost" if not first else "empty"), exc
    try:
        value: T | BaseException = _drive(unit(tx))
    except Exception as exc:
        value = exc
    try:
        if first and not tx.committed:
            conn.rollback()
            return "empty", value
        if not first:
            if not tx.committed:
                conn.execute("ROLLBACK TO unit")
            conn.execute("RELEASE unit")
        if commit_now or not tx.committed:
            conn.commit()
            return "committed", value
        return "open", value
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.rollback()
        return "lost", exc


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from None
    conn.row_factory = sqlite3.Row
    return conn


# A migration that rebuilds a table (SQLite cannot change a CHECK in place) says so on its first line.
# It runs with foreign keys off, as SQLite's own procedure asks, and commits only if every reference
# still holds afterwards.
REBUILDS_TABLES = "-- rebuilds tables"


# What SQL cannot do (SHA-256, say) a migration hands to Python with a line `-- step: package.module.function`:
# the SQL above it runs, then the function (an `async def f(tx: Tx)` that awaits only `tx`), then the SQL
# below it, all in the migration's one transaction.
STEP = re.compile(r"^-- step: ([\w.]+)\.(\w+)[ \t]*$", re.MULTILINE)


def _migrate(conn: sqlite3.Connection, version: int, sql: str) -> None:
    rebuild = sql.startswith(REBUILDS_TABLES)
    step = STEP.search(sql)
    before, after = (sql[: step.start()], sql[step.end() :]) if step else (sql, "")
    try:
        if rebuild:
            conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: set before BEGIN
        conn.executescript(f"BEGIN IMMEDIATE;\n{before}")
        if step:
            _drive(getattr(importlib.import_module(step[1]), step[2])(Tx(conn)))
        # executescript would commit first: the rest goes one statement at a time
        for statement in _statements(f"{after}\nPRAGMA user_version = {version};"):
            conn.execute(statement)
        broken = conn.execute("PRAGMA foreign_key_check").fetchall() if rebuild else []
        if broken:
            raise sqlite3.IntegrityError(f"{len(broken)} reference(s) broken, first in table {broken[0][0]}")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise StorageError(f"migration {version:04d} failed: {exc}") from None
    except BaseException:  # a step's refusal (a StorageError, one line): nothing of the migration stays
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        if rebuild:
            conn.execute("PRAGMA foreign_keys = ON")


def _statements(script: str) -> list[str]:
    """A script's statements (sqlite3.complete_statement knows a trigger's body from its end)."""
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending)
            pending = ""
    if pending.strip() and not all(part.strip().startswith("--") or not part.strip() for part in pending.splitlines()):
        raise sqlite3.OperationalError(f"incomplete statement at the end of a migration: {pending.strip()[:40]}")
    return found


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


def _check_file(conn: sqlite3.Connection, path: Path, create: bool) -> None:
    """Refuse, before anything is written, a file that is not SQLite, not Safecheck's, or damaged."""
    damaged = StorageError(
        f"{path} is damaged (database disk image is malformed); nothing was changed: stop Safecheck, "
        f"restore the database from a backup, or salvage it with `sqlite3 {path} .recover`"
    )
    try:
        row = conn.execute("PRAGMA user_version").fetchone()  # reads the header: fails on a non-SQLite file
        verdict = conn.execute("PRAGMA quick_check(1)").fetchone()  # every page: about 1 s per GB
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
