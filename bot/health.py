"""What /healthz checks: the parts of the service that can get stuck, each with a bound (docs/operations.md).

A loop records a heartbeat each time it completes a round, read from the injected clock; it is
stuck once its last heartbeat is older than its bound. What a check reports is fixed words and
seconds, never personal data, so a supervisor may log it or page someone with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock

# The timer loop is woken every second: a minute without a round means it is stuck.
TIMERS_BOUND = timedelta(seconds=60)
# Replies and alerts are sent within seconds; SMS pacing (1 segment/s on a long code) can hold a
# burst back for minutes, so only a row that the dispatcher could take but has not for this long counts.
OUTBOX_BOUND = timedelta(minutes=10)
# A long poll returns at least every TELEGRAM_POLL_TIMEOUT seconds even when nobody writes; its
# bound is that, plus the request timeout, plus this margin for retries after a failed call.
POLL_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class Stuck:
    """A part that has not made progress within its bound."""

    part: str  # e.g. "timers", "outbox", "telegram.polling"
    reason: str
    waited_seconds: int
    bound_seconds: int


def stuck(part: str, reason: str, waited: timedelta, bound: timedelta) -> Stuck | None:
    """A Stuck report if `waited` is over `bound`, else None."""
    if waited <= bound:
        return None
    return Stuck(part, reason, int(waited.total_seconds()), int(bound.total_seconds()))


class Heartbeat:
    """When a loop last completed a round. A loop that never completes one is stuck one bound after it started."""

    def __init__(self, part: str, reason: str, bound: timedelta, clock: Clock) -> None:
        self.part = part
        self.reason = reason
        self.bound = bound
        self.clock = clock
        self.last: datetime = clock.now()

    def beat(self) -> None:
        self.last = self.clock.now()

    def check(self, now: datetime) -> Stuck | None:
        return stuck(self.part, self.reason, now - self.last, self.bound)
