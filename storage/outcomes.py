"""Outcomes recorded at a case's closure (safety/closure_outcomes.py): one row per case, codes only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from safety.closure_outcomes import FIELDS, Outcome
from storage.db import Tx, parse_ts, ts

COLUMNS = ("close_reason", *FIELDS)


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome
    recorded_at: datetime
    recorded_by: int  # a practitioner's id


async def record(tx: Tx, case_id: int, outcome: Outcome, by: int, now: datetime) -> None:
    """Store the outcome of a case being closed, in the caller's unit (with the close itself).

    A case closes once, so a second record for it is an error (the primary key refuses it)."""
    await tx.execute(
        f"INSERT INTO case_outcomes (case_id, recorded_at, recorded_by, {', '.join(COLUMNS)}) "
        f"VALUES (?, ?, ?, {', '.join('?' for _ in COLUMNS)})",
        (case_id, ts(now), by, *(getattr(outcome, c) for c in COLUMNS)),
    )


async def get(tx: Tx, case_id: int) -> Recorded | None:
    row = await tx.one("SELECT * FROM case_outcomes WHERE case_id = ?", (case_id,))
    if row is None:
        return None
    return Recorded(Outcome(**{c: row[c] for c in COLUMNS}), parse_ts(row["recorded_at"]), row["recorded_by"])
