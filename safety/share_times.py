"""Response times of shares, in the shape of BS 8484's: from the risk change to the partner's acknowledgement.

Pure arithmetic over (raised, acknowledged) pairs. A share not (yet) acknowledged counts as never
acknowledged: it is in the count, it is within no bound, and a percentile that falls on it is "not
reached" (None) rather than a figure that leaves the slowest cases out. Percentiles are nearest-rank
(the smallest time that at least p% of shares were acknowledged within), so every figure is a time
that really happened.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

BOUNDS_MINUTES = (5, 15, 30, 60)


@dataclass(frozen=True)
class Sample:
    """One share of a risk change: when the risk changed, when the partner acknowledged it (None: not yet)."""

    raised_at: datetime
    acknowledged_at: datetime | None

    @property
    def wait(self) -> timedelta | None:
        if self.acknowledged_at is None:
            return None
        return max(self.acknowledged_at - self.raised_at, timedelta(0))  # clocks never make it negative


@dataclass(frozen=True)
class ResponseTimes:
    count: int
    acknowledged: int
    median: timedelta | None  # None: no shares, or fewer than half acknowledged
    p90: timedelta | None
    within: Mapping[int, int]  # minutes -> how many were acknowledged within that many minutes

    def share_within(self, minutes: int) -> float | None:
        """The fraction acknowledged within `minutes` (None when there are no shares)."""
        return self.within[minutes] / self.count if self.count else None


def percentile(waits: Iterable[timedelta | None], p: float) -> timedelta | None:
    """Nearest-rank p-th percentile; unacknowledged (None) sorts last, and landing on one gives None."""
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is not in (0, 100]")
    waits = list(waits)
    known = sorted(w for w in waits if w is not None)
    total = len(waits)
    if total == 0:
        return None
    rank = math.ceil(p / 100 * total)  # 1-based
    return known[rank - 1] if rank <= len(known) else None


def summarise(samples: Iterable[Sample]) -> ResponseTimes:
    waits = [s.wait for s in samples]
    done = [w for w in waits if w is not None]
    within = {m: sum(1 for w in done if w <= timedelta(minutes=m)) for m in BOUNDS_MINUTES}
    return ResponseTimes(len(waits), len(done), percentile(waits, 50), percentile(waits, 90), within)


def by_partner(samples: Iterable[tuple[int, Sample]]) -> dict[int, ResponseTimes]:
    """Per partner id, in the order partners first appear."""
    groups: dict[int, list[Sample]] = {}
    for partner_id, sample in samples:
        groups.setdefault(partner_id, []).append(sample)
    return {pid: summarise(group) for pid, group in groups.items()}


def minutes_text(wait: timedelta | None) -> str:
    """A wait as "m:ss" ("4:05"), or "not reached"; for the page and the CSV alike."""
    if wait is None:
        return "not reached"
    seconds = int(wait.total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"
