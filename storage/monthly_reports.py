"""Who gets the monthly report by e-mail, and which months have been queued (migration 0027)."""

from __future__ import annotations

from datetime import date, datetime

from storage.db import Tx, ts


def previous_month(today: date) -> str:
    """The last whole month before `today`, as 'YYYY-MM'."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def month_bounds(period: str) -> tuple[date, date]:
    """The first day of the month and of the month after ('YYYY-MM')."""
    year, month = (int(part) for part in period.split("-"))
    start = date(year, month, 1)
    return start, date(year + month // 12, month % 12 + 1, 1)


async def subscribe(tx: Tx, service_id: int, practitioner_id: int, now: datetime) -> bool:
    """Add a manager: they get each month that ends after now (the month before is in the workspace)."""
    added = await tx.changes(
        "INSERT INTO report_subscriptions (practitioner_id, service_id, since) VALUES (?, ?, ?)"
        " ON CONFLICT (practitioner_id) DO NOTHING",
        (practitioner_id, service_id, ts(now)),
    )
    return added > 0


async def unsubscribe(tx: Tx, practitioner_id: int) -> bool:
    return await tx.changes("DELETE FROM report_subscriptions WHERE practitioner_id = ?", (practitioner_id,)) > 0


async def is_subscribed(tx: Tx, practitioner_id: int) -> bool:
    found = await tx.scalar("SELECT 1 FROM report_subscriptions WHERE practitioner_id = ?", (practitioner_id,))
    return found is not None


async def recipients(tx: Tx, service_id: int, month_ended: datetime) -> list[int]:
    """Active managers of the service who subscribed before the month ended."""
    rows = await tx.all(
        "SELECT s.practitioner_id FROM report_subscriptions s JOIN practitioners p ON p.id = s.practitioner_id"
        " JOIN practitioner_roles r ON r.practitioner_id = p.id AND r.role = 'manager'"
        " WHERE s.service_id = ? AND s.since < ? AND p.active = 1 AND p.service_id = s.service_id"
        " ORDER BY s.practitioner_id",
        (service_id, ts(month_ended)),
    )
    return [r["practitioner_id"] for r in rows]


async def mark_queued(tx: Tx, service_id: int, period: str, count: int, now: datetime) -> bool:
    """Record that a month's report was queued; False if it already was (so it goes out once)."""
    added = await tx.changes(
        "INSERT INTO report_mailings (service_id, period, queued_at, recipients) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (service_id, period) DO NOTHING",
        (service_id, period, ts(now), count),
    )
    return added > 0
