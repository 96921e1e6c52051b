"""SMS bookkeeping: what each message cost in segments, and its delivery status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Row, Tx, ts

FAILED = frozenset({"failed", "undelivered"})
FINAL = FAILED | {"delivered", "read", "canceled"}
# Callbacks can arrive out of order: a late "sent" must not overwrite "delivered".
_RANK = {"accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2, "read": 4}


def rank(status: str) -> int:
    return _RANK.get(status, 3)


@dataclass(frozen=True)
class Delivery:
    provider_id: str
    outbox_id: int | None
    case_id: int | None
    recipient: str
    segments: int
    status: str
    error_code: int | None
    handled: bool


def _delivery(row: Row) -> Delivery:
    return Delivery(
        row["provider_id"],
        row["outbox_id"],
        row["case_id"],
        row["recipient"],
        row["segments"],
        row["status"],
        row["error_code"],
        bool(row["handled"]),
    )


async def record_sent(
    tx: Tx,
    provider_id: str,
    *,
    outbox_id: int | None,
    case_id: int | None,
    recipient: str,
    encoding: str,
    segments: int,
    status: str,
    now: datetime,
) -> None:
    """Twilio accepted a message. A status callback that raced ahead keeps its (later) status."""
    await tx.execute(
        "INSERT INTO sms_deliveries (provider_id, outbox_id, case_id, recipient, encoding, segments, status, "
        "sent_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (provider_id) DO UPDATE SET outbox_id = excluded.outbox_id, case_id = excluded.case_id, "
        "recipient = excluded.recipient, encoding = excluded.encoding, segments = excluded.segments",
        (provider_id, outbox_id, case_id, recipient, encoding, segments, status, ts(now), ts(now)),
    )


async def get(tx: Tx, provider_id: str) -> Delivery | None:
    row = await tx.one("SELECT * FROM sms_deliveries WHERE provider_id = ?", (provider_id,))
    return _delivery(row) if row else None


async def record_status(
    tx: Tx,
    provider_id: str,
    status: str,
    error_code: int | None,
    now: datetime,
    *,
    outbox_id: int | None = None,
    case_id: int | None = None,
    recipient: str = "unknown",
) -> Delivery:
    """Keep the latest status Twilio reported (never going back), and return the delivery."""
    current = await get(tx, provider_id)
    if current is None:
        await tx.execute(
            "INSERT INTO sms_deliveries (provider_id, outbox_id, case_id, recipient, status, error_code, sent_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (provider_id, outbox_id, case_id, recipient, status, error_code, ts(now), ts(now)),
        )
    elif rank(status) >= rank(current.status):
        await tx.execute(
            "UPDATE sms_deliveries SET status = ?, error_code = COALESCE(?, error_code), updated_at = ? "
            "WHERE provider_id = ?",
            (status, error_code, ts(now), provider_id),
        )
    found = await get(tx, provider_id)
    assert found is not None
    return found


async def claim_failure(tx: Tx, provider_id: str) -> bool:
    """True exactly once per message: a repeated "undelivered" callback is not acted on twice."""
    return (
        await tx.changes("UPDATE sms_deliveries SET handled = 1 WHERE provider_id = ? AND handled = 0", (provider_id,))
        == 1
    )


async def failure_streak(tx: Tx, case_id: int, window: int = 10) -> int:
    """How many of the survivor's latest finished messages in a row did not arrive."""
    rows = await tx.all(
        "SELECT status FROM sms_deliveries WHERE case_id = ? AND recipient = 'survivor' AND status IN "
        f"({', '.join('?' * len(FINAL))}) ORDER BY sent_at DESC, rowid DESC LIMIT ?",
        (case_id, *sorted(FINAL), window),
    )
    streak = 0
    for row in rows:
        if row["status"] not in FAILED:
            break
        streak += 1
    return streak


async def quick_exit_since(tx: Tx, case_id: int, since: datetime) -> bool:
    """Whether the survivor used the quick exit (or withdrew) at or after `since`: then nothing older is re-sent."""
    value = await tx.scalar(
        "SELECT 1 FROM audit_log WHERE case_id = ? AND action IN ('quick_exit', 'consent_withdrawn') AND at >= ? "
        "LIMIT 1",
        (case_id, ts(since)),
    )
    return value is not None


# --- a withdrawn survivor asking to come back (START) ---
