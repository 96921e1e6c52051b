"""The raw SQLite durable-insert rate: the ceiling the pipeline's one-commit-per-message design can reach."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import aiosqlite

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


async def aiosqlite_rate(folder: Path, seconds: float) -> float:
    """Committed single-row transactions per second through aiosqlite, like the app's writer."""
    path = _fresh(folder, "raw-aiosqlite.db")
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        for pragma in PRAGMAS:
            await conn.execute(f"PRAGMA {pragma}")
        await conn.execute(SCHEMA)
        n = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            await conn.execute("BEGIN IMMEDIATE")
            await conn.execute(INSERT, (os.urandom(BODY_BYTES), f"{elapsed:.6f}"))
            await conn.commit()
            n += 1
        return n / (time.perf_counter() - start)
    finally:
        await conn.close()
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
