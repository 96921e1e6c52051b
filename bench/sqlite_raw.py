"""The raw SQLite durable-insert rate: the ceiling the pipeline's one-commit-per-message design can reach."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# The production settings (storage/db.py): WAL, and FULL so a commit survives a power cut.
PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=5000")
SCHEMA = "CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, body BLOB NOT NULL, at TEXT NOT NULL)"
INSERT = "INSERT INTO raw (body, at) VALUES (?, ?)"
BODY_BYTES = 120  # about one encrypted short answer


def _fresh(folder: Path, name: str) -> Path:
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def _cleanup(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def hop_rate(folder: Path, seconds: float) -> float:
    """Committed single-row transactions per second, each one call on a writer thread of its own, as the
    app's writer makes them (storage/db.py): the rate one-commit-per-message would reach."""
    path = _fresh(folder, "raw-hop.db")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=1)

    def one(elapsed: float) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(INSERT, (os.urandom(BODY_BYTES), f"{elapsed:.6f}"))
        conn.commit()

    try:
        for pragma in PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        conn.execute(SCHEMA)
        n = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            await loop.run_in_executor(pool, one, elapsed)
            n += 1
        return n / (time.perf_counter() - start)
    finally:
        pool.shutdown()
        conn.close()
        _cleanup(path)


def sqlite3_rate(folder: Path, seconds: float) -> float:
    """The same with the plain sqlite3 module on the calling thread (no thread hop), for reference."""
    path = _fresh(folder, "raw-sqlite3.db")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        conn.execute(SCHEMA)
        n = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT, (os.urandom(BODY_BYTES), f"{elapsed:.6f}"))
            conn.execute("COMMIT")
            n += 1
        return n / (time.perf_counter() - start)
    finally:
        conn.close()
        _cleanup(path)
