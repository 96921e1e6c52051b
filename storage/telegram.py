"""Telegram's own storage: deep-link activation lookups, chat message ids, per-survivor choices."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from storage.cases import set_address
from storage.crypto import Crypto
from storage.db import Tx, ts

CHANNEL = "telegram"


def activation_lookup(crypto: Crypto, code: str) -> bytes:
    """Blind index of an activation code; case, spaces and hyphens do not matter (as when typed)."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return crypto.lookup_hash("telegram.activation", cleaned)


async def set_activation_lookup(tx: Tx, case_id: int, lookup: bytes) -> None:
    await tx.execute("UPDATE cases SET activation_lookup = ? WHERE id = ?", (lookup, case_id))


async def bind_chat(tx: Tx, crypto: Crypto, lookup: bytes, chat: str, chat_hash: bytes, now: datetime) -> int | None:
    """Give the pending Telegram case with this activation code its chat; return the case id.

    Only a pending case that has no chat yet and whose code has not expired is bound, once: the
    lookup is cleared, so the link cannot bind a second chat.
    """
    row = await tx.one(
        "SELECT id FROM cases WHERE activation_lookup = ? AND channel = ? AND status = 'pending' "
        "AND address_hash IS NULL AND activation_expires_at > ?",
        (lookup, CHANNEL, ts(now)),
    )
    if row is None:
        return None
    await set_address(tx, crypto, row["id"], chat, chat_hash)
    await tx.execute("UPDATE cases SET activation_lookup = NULL WHERE id = ?", (row["id"],))
    return int(row["id"])


async def update_seen(tx: Tx, provider_id: str) -> bool:
    """Whether an update with this id was recorded before (Telegram delivering it again)."""
    value = await tx.scalar(
        "SELECT 1 FROM inbound_messages WHERE channel = ? AND provider_id = ?", (CHANNEL, provider_id)
    )
    return value is not None


async def autodelete_minutes(tx: Tx, case_id: int) -> int | None:
    value = await tx.scalar("SELECT autodelete_minutes FROM telegram_prefs WHERE case_id = ?", (case_id,))
    return int(value) if value else None


async def set_autodelete(tx: Tx, case_id: int, minutes: int | None) -> None:
    await tx.execute(
        "INSERT INTO telegram_prefs (case_id, autodelete_minutes) VALUES (?, ?) "
        "ON CONFLICT (case_id) DO UPDATE SET autodelete_minutes = excluded.autodelete_minutes",
        (case_id, minutes),
    )


async def record(
    tx: Tx, case_id: int, message_id: int, at: datetime, delete_at: datetime | None, *, question: bool = False
) -> None:
    await tx.execute(
        "INSERT INTO telegram_messages (case_id, message_id, at, delete_at, question) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (case_id, message_id) DO NOTHING",
        (case_id, message_id, ts(at), ts(delete_at) if delete_at else None, int(question)),
    )


async def latest_question(tx: Tx, case_id: int) -> int | None:
    """The newest bot message with answer buttons: only its buttons answer the current question."""
    value = await tx.scalar(
        "SELECT max(message_id) FROM telegram_messages WHERE case_id = ? AND question = 1", (case_id,)
    )
    return int(value) if value is not None else None


async def deletable(tx: Tx, case_id: int, since: datetime) -> list[int]:
    """Every message id of the case's chat still within Telegram's delete window, oldest first.

    The bot's own messages are also read from the outbox, which keeps each sent message's id:
    a message sent by a one-shot command (no running transport to record it) is found there.
    """
    rows = await tx.all(
        "SELECT message_id AS id FROM telegram_messages WHERE case_id = ? AND at >= ? "
        "UNION SELECT CAST(provider_id AS INTEGER) FROM outbox WHERE recipient = 'survivor' AND case_id = ? "
        "AND channel = ? AND status = 'sent' AND sent_at >= ? AND provider_id GLOB '[0-9]*' ORDER BY 1",
        (case_id, ts(since), case_id, CHANNEL, ts(since)),
    )
    return [int(r["id"]) for r in rows]


async def due_now(tx: Tx, case_id: int, now: datetime) -> None:
    """Everything of the case's chat is to go now: if deleting fails, the next sweep tries again."""
    await tx.execute(
        "UPDATE telegram_messages SET delete_at = ? WHERE case_id = ? AND (delete_at IS NULL OR delete_at > ?)",
        (ts(now), case_id, ts(now)),
    )


async def forget(tx: Tx, case_id: int, message_ids: list[int]) -> None:
    """The messages are gone from the chat: their ids are no longer kept."""
    await tx.executemany(
        "DELETE FROM telegram_messages WHERE case_id = ? AND message_id = ?", [(case_id, m) for m in message_ids]
    )


async def due_deletions(tx: Tx, now: datetime, limit: int = 500) -> dict[int, list[int]]:
    """Messages whose auto-delete time has come, by case."""
    rows = await tx.all(
        "SELECT case_id, message_id FROM telegram_messages WHERE delete_at IS NOT NULL AND delete_at <= ? "
        "ORDER BY delete_at LIMIT ?",
        (ts(now), limit),
    )
    due: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        due[int(r["case_id"])].append(int(r["message_id"]))
    return dict(due)


async def prune(tx: Tx, before: datetime) -> int:
    """Ids of messages past Telegram's delete window serve nothing any more."""
    return await tx.changes("DELETE FROM telegram_messages WHERE at < ?", (ts(before),))
