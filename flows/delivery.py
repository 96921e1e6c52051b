"""Whether a survivor's message may go now, and when to try again after a provider failure.

A check-in question or reminder is worth sending until its check-in expires; any other reply for a
day. A reply goes at once while it is fresh (she has just written), but a message that had to wait
(a retry, or one queued before the service went down) goes only inside her safe times: an answer to
her HELP that arrives at midnight helps nobody and may put her at risk. Once it is no longer of use
it expires; the IDVA learns of an undelivered check-in from the check-in itself. A message cancelled
by an exit or a withdrawal is never tried at all (the dispatcher checks that at the last moment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows.events import SafeWindow
from flows.schedule import in_window, next_window_start

REPLY_USEFUL_FOR = timedelta(hours=24)
FRESH = timedelta(minutes=2)  # a reply this young goes at once, whatever the hour: she has just written
MAX_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True)
class Timeliness:
    """Send now (`go`), wait until `wait_until`, or neither: the message has expired."""

    go: bool = False
    wait_until: datetime | None = None

    @property
    def expired(self) -> bool:
        return not self.go and self.wait_until is None


SEND = Timeliness(go=True)
EXPIRED = Timeliness()


def _next_safe(at: datetime, expires_at: datetime, tz: ZoneInfo, windows: tuple[SafeWindow, ...]) -> Timeliness:
    safe = next_window_start(at, tz, windows) if windows else at
    return Timeliness(wait_until=safe) if safe is not None and safe < expires_at else EXPIRED


def timeliness(
    now: datetime,
    created_at: datetime,
    expires_at: datetime,
    tz: ZoneInfo,
    windows: tuple[SafeWindow, ...],
) -> Timeliness:
    """Whether a survivor's message that is due may be handed to the provider now."""
    if now >= expires_at:
        return EXPIRED
    if now - created_at <= FRESH or not windows or in_window(now, tz, windows):
        return SEND
    return _next_safe(now, expires_at, tz, windows)


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """The provider's own Retry-After if it gave one, else 1, 2, 4 ... seconds, capped at five minutes."""
    wait = timedelta(seconds=retry_after) if retry_after is not None else timedelta(seconds=2 ** min(attempts, 16))
    return min(wait, MAX_BACKOFF)


def retry(
    now: datetime,
    attempts: int,
    retry_after: float | None,
    expires_at: datetime,
    tz: ZoneInfo,
    windows: tuple[SafeWindow, ...],
) -> Timeliness:
    """After a failure that may pass (5xx, 429, a timeout): when to try again, inside her safe times."""
    return _next_safe(now + backoff(attempts, retry_after), expires_at, tz, windows)
