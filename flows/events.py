"""Domain events: facts the core reports; the shell maps each type to its handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from safety.model import AlertReason, Assessment, RiskChange, Severity


class SecretKind(str, Enum):
    EXIT_WORD = "exit_word"
    CODEWORD = "codeword"
    PIN = "pin"
    DURESS_PIN = "duress_pin"


@dataclass(frozen=True)
class SafeWindow:
    """A daily local-time window in which the survivor may be messaged (minutes after midnight)."""

    start: int
    end: int

    def contains(self, minute_of_day: int) -> bool:
        return self.start <= minute_of_day < self.end

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


@dataclass(frozen=True)
class Activated:
    """The survivor sent their one-time code from the enrolled address."""


@dataclass(frozen=True)
class ConsentRecorded:
    topic: str  # "checkins" or "missed_alerts"
    agreed: bool
    text_version: str


@dataclass(frozen=True)
class SafeWindowsChosen:
    windows: tuple[SafeWindow, ...]


@dataclass(frozen=True)
class SecretChosen:
    """The survivor chose a secret. The shell hashes it at once and never stores the phrase."""

    kind: SecretKind
    phrase: str = field(repr=False)


@dataclass(frozen=True)
class ExitPauseChosen:
    pause: timedelta


@dataclass(frozen=True)
class OnboardingCompleted:
    pass


@dataclass(frozen=True)
class LanguageChosen:
    """The survivor picked a language (at onboarding or with LANGUAGE); replies from now on use it."""

    language: str


@dataclass(frozen=True)
class CheckinStarted:
    pass


@dataclass(frozen=True)
class CheckinDeferred:
    """'Not a good time': end quietly, try again later."""

    retry_after: timedelta


@dataclass(frozen=True)
class CheckinCompleted:
    assessment: Assessment
    change: RiskChange
    complete: bool = True  # False when closed by expiry with some answers


@dataclass(frozen=True)
class CheckinMissed:
    """No answer at all before the grace period ended."""


@dataclass(frozen=True)
class QuickExitUsed:
    pause: timedelta


@dataclass(frozen=True)
class CodewordUsed:
    pass


@dataclass(frozen=True)
class DuressPinUsed:
    pass


@dataclass(frozen=True)
class PinFailedTwice:
    pass


@dataclass(frozen=True)
class CallbackRequested:
    urgency: str  # "today" or "urgent"


@dataclass(frozen=True)
class PauseRequested:
    until: datetime


@dataclass(frozen=True)
class ResumeRequested:
    pass


@dataclass(frozen=True)
class ConsentWithdrawn:
    pass


@dataclass(frozen=True)
class AlertRaised:
    """Something a practitioner must see. Carries a reason code, never survivor words."""

    severity: Severity
    reason: AlertReason
    # A risk rise: the level the check-in just assessed, for the alert's text. Not part of what the
    # alert is (two alerts with the same severity and reason are the same alert).
    level: str | None = field(default=None, compare=False)
    # What happened, as fact codes (safety.signals.alert_facts: signal names, and
    # "contact_despite_order"), so the alert can say "strangulation disclosed". Never her words.
    facts: tuple[str, ...] = field(default=(), compare=False)


Event = (
    Activated
    | ConsentRecorded
    | SafeWindowsChosen
    | SecretChosen
    | ExitPauseChosen
    | OnboardingCompleted
    | CheckinStarted
    | CheckinDeferred
    | CheckinCompleted
    | CheckinMissed
    | QuickExitUsed
    | CodewordUsed
    | DuressPinUsed
    | PinFailedTwice
    | CallbackRequested
    | PauseRequested
    | ResumeRequested
    | ConsentWithdrawn
    | AlertRaised
    | LanguageChosen
)
