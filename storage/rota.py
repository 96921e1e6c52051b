"""The duty rota: shifts of duty-role staff, and who is on duty at a given moment.

Only active practitioners who still hold the duty role count: a shift of someone deactivated, or
whose duty role was taken away, leaves a gap. While nobody is on shift (no rota yet, or a gap in
it), every active duty-role holder is on duty, as before the rota existed: an alert's duty rung is
never sent to nobody because a manager forgot a night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Tx, parse_ts, ts


@dataclass(frozen=True)
class Shift:
    id: int
    practitioner_id: int
    starts_at: datetime  # UTC
    ends_at: datetime


_ON_SHIFT = (
    "SELECT DISTINCT s.practitioner_id FROM duty_shifts s"
    " JOIN practitioners p ON p.id = s.practitioner_id AND p.active = 1 AND p.service_id = s.service_id"
    " JOIN practitioner_roles r ON r.practitioner_id = s.practitioner_id AND r.role = 'duty'"
    " WHERE s.service_id = ? AND s.starts_at <= ? AND s.ends_at > ?"
    " ORDER BY s.practitioner_id"
)


async def on_shift(tx: Tx, service_id: int, now: datetime) -> list[int]:
    """Who the rota puts on duty at `now` (active duty-role holders only); empty in a gap."""
    rows = await tx.all(_ON_SHIFT, (service_id, ts(now), ts(now)))
    return [int(r["practitioner_id"]) for r in rows]


async def _duty_holders(tx: Tx, service_id: int) -> list[int]:
    rows = await tx.all(
        "SELECT p.id FROM practitioners p JOIN practitioner_roles r ON r.practitioner_id = p.id"
        " WHERE p.service_id = ? AND r.role = 'duty' AND p.active = 1 ORDER BY p.id",
        (service_id,),
    )
    return [int(r["id"]) for r in rows]


async def on_duty(tx: Tx, service_id: int, now: datetime) -> list[int]:
    """Who is on duty at `now`: those on shift, or every duty-role holder while nobody is."""
    return await on_shift(tx, service_id, now) or await _duty_holders(tx, service_id)


async def is_on_duty(tx: Tx, practitioner_id: int, now: datetime) -> bool:
    """Whether this practitioner is on duty for their service at `now` (the rule of `on_duty`)."""
    service_id = await tx.scalar("SELECT service_id FROM practitioners WHERE id = ? AND active = 1", (practitioner_id,))
    if service_id is None:
        return False
    return practitioner_id in await on_duty(tx, int(service_id), now)


async def add_shift(
    tx: Tx, service_id: int, practitioner_id: int, starts_at: datetime, ends_at: datetime, actor: str, now: datetime
) -> int:
    """Put someone on the rota; the caller has checked they hold the duty role in this service."""
    if ends_at <= starts_at:
        raise ValueError("a shift must end after it starts")
    shift_id = await tx.insert(
        "INSERT INTO duty_shifts (service_id, practitioner_id, starts_at, ends_at, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (service_id, practitioner_id, ts(starts_at), ts(ends_at), actor, ts(now)),
    )
    assert shift_id is not None
    return shift_id


async def shifts(tx: Tx, service_id: int, ending_after: datetime, limit: int = 200) -> list[Shift]:
    """The service's shifts that have not ended by `ending_after`, earliest first."""
    rows = await tx.all(
        "SELECT id, practitioner_id, starts_at, ends_at FROM duty_shifts WHERE service_id = ? AND ends_at > ?"
        " ORDER BY starts_at, id LIMIT ?",
        (service_id, ts(ending_after), limit),
    )
    return [Shift(r["id"], r["practitioner_id"], parse_ts(r["starts_at"]), parse_ts(r["ends_at"])) for r in rows]


async def get_shift(tx: Tx, service_id: int, shift_id: int) -> Shift | None:
    """One shift of this service (None for another service's: ids never reach across)."""
    r = await tx.one(
        "SELECT id, practitioner_id, starts_at, ends_at FROM duty_shifts WHERE id = ? AND service_id = ?",
        (shift_id, service_id),
    )
    return Shift(r["id"], r["practitioner_id"], parse_ts(r["starts_at"]), parse_ts(r["ends_at"])) if r else None


async def remove_shift(tx: Tx, service_id: int, shift_id: int) -> bool:
    return await tx.changes("DELETE FROM duty_shifts WHERE id = ? AND service_id = ?", (shift_id, service_id)) == 1
