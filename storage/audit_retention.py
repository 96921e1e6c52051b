"""Audit retention: whole calendar months (UTC) leave the start of the log, behind an anchor.

The chain is global, so retention can only remove a prefix of it. A month goes when every entry in it is
older than its own service's audit retention period (an entry of no service: the longest period), and
only with every month before it. So in an install with several services each keeps its entries at least
its period, some longer. Before deleting, the unit records the anchor (the last removed row and its hash)
and a chained audit_retention entry that vouches for it; the delete trigger allows only rows at or below
the anchor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import audit
from storage.db import Tx, ts


@dataclass(frozen=True)
class Removed:
    rows: int
    months: int
    anchor: audit.Anchor | None  # the new anchor, when rows went


async def _last_removable(tx: Tx, now: datetime) -> tuple[int, int]:
    """The last id of the longest prefix of whole expired months, and how many months that is (0, 0: none)."""
    rows = await tx.all("SELECT id, audit_retention_days FROM services")
    periods = {r["id"]: r["audit_retention_days"] for r in rows}
    if not periods:
        return 0, 0
    cutoff = {sid: ts(now - timedelta(days=days)) for sid, days in periods.items()}
    longest = min(cutoff.values())  # the earliest cutoff keeps the most
    cases = " ".join("WHEN ? THEN ?" for _ in cutoff)
    params = [value for pair in cutoff.items() for value in pair]
    months = await tx.all(
        "SELECT substr(at, 1, 7) AS month, MIN(id) AS first, MAX(id) AS last,"
        f" SUM(at >= (CASE service_id {cases} ELSE ? END)) AS kept"
        " FROM audit_log GROUP BY month ORDER BY month",
        (*params, longest),
    )
    expired = 0
    while expired < len(months) and months[expired]["kept"] == 0:
        expired += 1
    if expired == 0:
        return 0, 0
    # Rows are in id order and nearly always in time order too; should a clock have stepped back, a month
    # is removed only if all its rows lie below every kept month's rows. (All of it may go: the round's own
    # entry, written next, chains from the anchor.)
    last = min((m["first"] for m in months[expired:]), default=months[expired - 1]["last"] + 1) - 1
    whole = [m for m in months[:expired] if m["last"] <= last]
    return (max(m["last"] for m in whole), len(whole)) if whole else (0, 0)


async def apply(tx: Tx, now: datetime) -> Removed:
    """Remove the expired months and move the anchor, in the caller's unit (which must commit)."""
    last_id, months = await _last_removable(tx, now)
    current = await audit.anchor(tx)
    if last_id == 0 or (current is not None and last_id <= current.last_id):
        return Removed(0, 0, None)
    last_hash = await tx.scalar("SELECT row_hash FROM audit_log WHERE id = ?", (last_id,))
    removed = int(await tx.scalar("SELECT COUNT(*) FROM audit_log WHERE id <= ?", (last_id,)))
    anchor_id = await tx.execute(
        "INSERT INTO audit_anchor (last_id, last_hash, at, removed) VALUES (?, ?, ?, ?)",
        (last_id, last_hash, ts(now), removed),
    )
    await tx.execute("DELETE FROM audit_log WHERE id <= ?", (last_id,))
    return Removed(removed, months, audit.Anchor(anchor_id, last_id, last_hash, now, removed))


async def run(tx: Tx, now: datetime, service_id: int | None) -> Removed:
    """Retention and, when it removed anything, its audit_retention entry (counts and ids only), which
    vouches for the new anchor; in the caller's unit. A pass that removes nothing writes nothing (cron may
    run `tick` every minute)."""
    done = await apply(tx, now)
    if done.anchor is not None:
        await audit.log(tx, now, "system", "audit_retention", None, audit.witness(done.anchor), service_id)
    return done
