"""The outbox: every reply and alert is written here in the same transaction as its cause."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows.delivery import REPLY_USEFUL_FOR
from storage.crypto import Crypto, Field
from storage.db import Row, Tx, parse_ts, ts

ADDRESS = Field("outbox", "address_enc", legacy=b"outbox.address")


@dataclass(frozen=True)
class OutboxItem:
    id: int
    recipient: str
    case_id: int | None
    practitioner_id: int | None
    alert_id: int | None
    channel: str
    position: int
    address_enc: bytes | None
    language: str
    timezone: str
    message: dict[str, Any]
    attempts: int
    created_at: datetime
    expires_at: datetime | None = None  # a survivor's message: no use after this (practitioners': None)


def _item(row: Row) -> OutboxItem:
    return OutboxItem(
        row["id"],
        row["recipient"],
        row["case_id"],
        row["practitioner_id"],
        row["alert_id"],
        row["channel"],
        row["position"],
        row["address_enc"],
        row["language"],
        row["timezone"],
        json.loads(row["message"]),
        row["attempts"],
        parse_ts(row["created_at"]),
        parse_ts(row["expires_at"]) if row["expires_at"] else None,
    )


async def to_survivor(
    tx: Tx,
    crypto: Crypto,
    *,
    case_id: int | None,
    channel: str,
    address: str,
    language: str,
    timezone: str,
    message: dict[str, Any],
    now: datetime,
    expires_at: datetime | None = None,
) -> int:
    """Queue a message to a survivor (or an unknown sender). The address is kept encrypted until sent.

    `expires_at`: until when it is worth sending (a check-in question: its check-in's end); a day by default.
    """
    item_id = await tx.next_id("outbox")
    await tx.execute(
        "INSERT INTO outbox (id, recipient, case_id, channel, address_enc, language, timezone, message, status, "
        "next_attempt_at, created_at, expires_at) VALUES (?, 'survivor', ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
        (
            item_id,
            case_id,
            channel,
            crypto.encrypt(address, ADDRESS.at(item_id)),
            language,
            timezone,
            json.dumps(message),
            ts(now),
            ts(now),
            ts(expires_at or now + REPLY_USEFUL_FOR),
        ),
    )
    return item_id


def address_of(crypto: Crypto, item: OutboxItem) -> str | None:
    """Where a survivor's message goes; None once it was sent, failed or cancelled."""
    return crypto.decrypt_optional(item.address_enc, ADDRESS.at(item.id))


async def to_practitioner(
    tx: Tx,
    *,
    practitioner_id: int,
    alert_id: int | None,
    channel: str,
    position: int,
    message: dict[str, Any],
    now: datetime,
) -> int:
    return await tx.execute(
        "INSERT INTO outbox (recipient, practitioner_id, alert_id, channel, position, message, status, "
        "next_attempt_at, created_at) VALUES ('practitioner', ?, ?, ?, ?, ?, 'pending', ?, ?)",
        (practitioner_id, alert_id, channel, position, json.dumps(message), ts(now), ts(now)),
    )


# A survivor's message waits while an earlier one of theirs waits for its retry: each person's
# messages arrive in the order they were written, also after a failure.
_NOT_BEHIND_A_RETRY = (
    "NOT (recipient = 'survivor' AND case_id IS NOT NULL AND EXISTS (SELECT 1 FROM outbox e "
    "WHERE e.case_id = outbox.case_id AND e.status = 'pending' AND e.recipient = 'survivor' "
    "AND e.id < outbox.id AND e.next_attempt_at > ?))"
)
LANES = ("practitioner", "survivor")  # claimed in this order: alerts never wait behind a burst of replies
PAGE = 200  # rows claimed per lane and round


@dataclass(frozen=True)
class Busy:
    """Recipients whose queue is being delivered: the claim leaves their rows out, in the SQL."""

    cases: frozenset[int] = frozenset()  # survivors, by case
    channels: frozenset[str] = frozenset()  # unknown senders' neutral lines, by channel
    items: frozenset[int] = frozenset()  # alerts: each row is its own recipient


@dataclass(frozen=True)
class Claimed:
    """A due row as the claim read it: parsed into an OutboxItem only when it is sent."""

    id: int
    recipient: str
    case_id: int | None
    channel: str
    row: Row

    def item(self) -> OutboxItem:
        return _item(self.row)


def claim_query(
    lane: str, now: datetime, busy: Busy, *, after: int = 0, case_id: int | None = None, limit: int = PAGE
) -> tuple[str, tuple[object, ...]]:
    """One lane's page of due rows, in outbox_due's order (no sort), without busy recipients' rows."""
    sql = (
        "SELECT * FROM outbox WHERE status = 'pending' AND recipient = ? AND next_attempt_at <= ? AND id > ? "
        f"AND {_NOT_BEHIND_A_RETRY} "
    )
    params: list[object] = [lane, ts(now), after, ts(now)]
    if lane == "practitioner":
        sql += "AND id NOT IN (SELECT value FROM json_each(?)) "
        params.append(json.dumps(sorted(busy.items)))
    else:
        sql += (
            "AND ((case_id IS NOT NULL AND case_id NOT IN (SELECT value FROM json_each(?))) "
            "OR (case_id IS NULL AND channel NOT IN (SELECT value FROM json_each(?)))) "
        )
        params += [json.dumps(sorted(busy.cases)), json.dumps(sorted(busy.channels))]
    if case_id is not None:
        sql += "AND (case_id = ? OR alert_id IN (SELECT id FROM alerts WHERE case_id = ?)) "
        params += [case_id, case_id]
    return sql + "ORDER BY next_attempt_at, id LIMIT ?", (*params, limit)


async def claim(
    tx: Tx, now: datetime, busy: Busy = Busy(), *, after: int = 0, case_id: int | None = None, limit: int = PAGE
) -> list[Claimed]:
    """What is due to be sent, alerts first, each lane oldest due first: a page each, not the whole backlog.

    `after`: only rows written after this id; `case_id`: only one case's messages and its alerts.
    """
    found: list[Claimed] = []
    for lane in LANES:
        sql, params = claim_query(lane, now, busy, after=after, case_id=case_id, limit=limit)
        for r in await tx.all(sql, params):
            found.append(Claimed(r["id"], r["recipient"], r["case_id"], r["channel"], r))
    return found


async def due(tx: Tx, now: datetime, limit: int = PAGE, case_id: int | None = None) -> list[OutboxItem]:
    """What is due to be sent: everything, or only one case's messages and its alerts."""
    return [c.item() for c in await claim(tx, now, case_id=case_id, limit=limit)][:limit]


async def cancel(tx: Tx, item_id: int, reason: str) -> None:
    await tx.execute(
        "UPDATE outbox SET status = 'cancelled', last_error = ?, address_enc = NULL "
        "WHERE id = ? AND status = 'pending'",
        (reason, item_id),
    )


async def mark_sent(tx: Tx, item_id: int, provider_id: str | None, now: datetime) -> bool:
    """Mark delivered and drop the stored address. A row cancelled while it was being sent did go out:
    it is recorded as sent, with its provider id (a quick exit needs the id to delete it)."""
    return (
        await tx.changes(
            "UPDATE outbox SET status = 'sent', provider_id = ?, sent_at = ?, attempts = attempts + 1, "
            "address_enc = NULL WHERE id = ? AND status IN ('pending', 'cancelled')",
            (provider_id, ts(now), item_id),
        )
        == 1
    )


async def is_pending(tx: Tx, item_id: int) -> bool:
    """Still to be sent: not cancelled by a quick exit or a withdrawal, not already sent."""
    status = await tx.scalar("SELECT status FROM outbox WHERE id = ?", (item_id,))
    return bool(status == "pending")


async def retry_later(tx: Tx, item_id: int, error: str, next_at: datetime) -> None:
    await tx.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
        "WHERE id = ? AND status = 'pending'",
        (error, ts(next_at), item_id),
    )


async def wait_until(tx: Tx, item_id: int, at: datetime) -> None:
    """Not now (e.g. outside her safe times): try at `at`. Not an attempt, so nothing is counted."""
    await tx.execute("UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = 'pending'", (ts(at), item_id))


async def expire(tx: Tx, item_id: int, error: str) -> None:
    """A survivor's message that could not be delivered while it was of use: it never goes now."""
    await fail(tx, item_id, f"expired: {error}")


async def fail(tx: Tx, item_id: int, error: str) -> None:
    await tx.execute(
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?, address_enc = NULL "
        "WHERE id = ? AND status = 'pending'",
        (error, item_id),
    )


async def move_to(tx: Tx, item_id: int, channel: str, position: int, error: str, now: datetime) -> None:
    """Fall back to the practitioner's next channel."""
    await tx.execute(
        "UPDATE outbox SET channel = ?, position = ?, attempts = 0, last_error = ?, next_attempt_at = ? "
        "WHERE id = ? AND status = 'pending'",
        (channel, position, error, ts(now), item_id),
    )


async def cancel_for_survivor(tx: Tx, case_id: int) -> int:
    """Quick exit / withdrawal: nothing queued for the survivor may go out any more."""
    return await tx.changes(
        "UPDATE outbox SET status = 'cancelled', address_enc = NULL "
        "WHERE recipient = 'survivor' AND case_id = ? AND status = 'pending'",
        (case_id,),
    )


async def counts(tx: Tx) -> dict[str, int]:
    rows = await tx.all("SELECT status, count(*) AS n FROM outbox GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


def delivered_since_query(case_id: int, since: datetime) -> tuple[str, tuple[object, ...]]:
    return (
        "SELECT 1 FROM outbox WHERE recipient = 'survivor' AND case_id = ? AND status = 'sent' AND created_at >= ? "
        "LIMIT 1",
        (case_id, ts(since)),
    )


async def delivered_since(tx: Tx, case_id: int, since: datetime) -> bool:
    """Whether any message reached this survivor since a moment (a dead channel delivers nothing).

    Read from the outbox rows, which keep their content for two days at least: enough for a check-in.
    """
    sql, params = delivered_since_query(case_id, since)
    return await tx.scalar(sql, params) is not None


async def get(tx: Tx, item_id: int) -> OutboxItem | None:
    row = await tx.one("SELECT * FROM outbox WHERE id = ?", (item_id,))
    return _item(row) if row else None


async def by_provider_id(tx: Tx, channel: str, provider_id: str) -> OutboxItem | None:
    """The item a provider's delivery report is about (e.g. a Twilio status callback)."""
    row = await tx.one("SELECT * FROM outbox WHERE provider_id = ? AND channel = ?", (provider_id, channel))
    return _item(row) if row else None


async def send_again(tx: Tx, crypto: Crypto, item: OutboxItem, address: str, next_at: datetime) -> int:
    """Queue a survivor message again after the provider reported it undelivered.

    The copy keeps the original's creation time, so a quick exit since then still silences it.
    """
    item_id = await tx.next_id("outbox")
    await tx.execute(
        "INSERT INTO outbox (id, recipient, case_id, channel, address_enc, language, timezone, message, status, "
        "next_attempt_at, created_at, expires_at) VALUES (?, 'survivor', ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
        (
            item_id,
            item.case_id,
            item.channel,
            crypto.encrypt(address, ADDRESS.at(item_id)),
            item.language,
            item.timezone,
            json.dumps(item.message),
            ts(next_at),
            ts(item.created_at),
            ts(item.expires_at) if item.expires_at else None,
        ),
    )
    return item_id


async def oldest_due(tx: Tx, now: datetime) -> datetime | None:
    """When the longest-waiting row the dispatcher could send now fell due (for /healthz); None if none is."""
    found = [c.row["next_attempt_at"] for c in await claim(tx, now, limit=1)]
    return parse_ts(min(found)) if found else None


async def last_id(tx: Tx) -> int:
    """The newest row's id (0 when empty): rows above it were written later."""
    return int(await tx.scalar("SELECT COALESCE(MAX(id), 0) FROM outbox"))


async def cancel_for_survivor_after(tx: Tx, case_id: int, after_id: int, reason: str) -> int:
    """Cancel what is still pending for a survivor among rows written after `after_id` (a simulation's own)."""
    return await tx.changes(
        "UPDATE outbox SET status = 'cancelled', last_error = ?, address_enc = NULL "
        "WHERE recipient = 'survivor' AND case_id = ? AND id > ? AND status = 'pending'",
        (reason, case_id, after_id),
    )
