"""Practitioners' notes on a case: the text encrypted at rest, bound to its row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.crypto import Crypto, Field
from storage.db import Tx, parse_ts, ts

BODY = Field("case_notes", "body_enc")
MAX_LENGTH = 4000


@dataclass(frozen=True)
class Note:
    id: int
    case_id: int
    author_id: int
    body: str
    at: datetime


async def add(tx: Tx, crypto: Crypto, case_id: int, author_id: int, body: str, now: datetime) -> int:
    """Store a note; the caller has checked the author may write on this case."""
    note_id = await tx.next_id("case_notes")
    await tx.execute(
        "INSERT INTO case_notes (id, case_id, author_id, body_enc, at) VALUES (?, ?, ?, ?, ?)",
        (note_id, case_id, author_id, crypto.encrypt(body, BODY.at(note_id)), ts(now)),
    )
    return note_id


async def for_case(tx: Tx, crypto: Crypto, case_id: int) -> list[Note]:
    """A case's notes, oldest first, decrypted."""
    rows = await tx.all("SELECT * FROM case_notes WHERE case_id = ? ORDER BY id", (case_id,))
    return [
        Note(r["id"], r["case_id"], r["author_id"], crypto.decrypt(r["body_enc"], BODY.at(r["id"])), parse_ts(r["at"]))
        for r in rows
    ]
