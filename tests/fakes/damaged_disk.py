"""A bad disk sector, on purpose: overwrite the b-tree page header of one table in a SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def damage_table(db: Path, table: str) -> None:
    """Make `table`'s root page unreadable ("database disk image is malformed") and leave the rest intact."""
    conn = sqlite3.connect(db)
    try:
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    finally:
        conn.close()
    with db.open("r+b") as f:
        f.seek((root - 1) * size)
        f.write(b"\xff" * 16)
