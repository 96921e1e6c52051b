"""Value types of the safety core: levels, assessments, alert severities and reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum

# A keyed hash of a normalised phrase (exit word, codeword, PIN), bound to one case.
# The shell builds it from its secret key; the core only compares digests.
Hasher = Callable[[str], bytes]


class Level(IntEnum):
    """Risk level of one check-in; ordered so that comparisons mean 'higher risk'."""

    STANDARD = 0
    RAISED = 1
    HIGH = 2
    URGENT = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown risk level {text!r} (use standard, raised, high or urgent)") from None


class IntakeLevel(str, Enum):
    """The IDVA's DASH risk level recorded at intake."""

    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def level(self) -> Level:
        return {"standard": Level.STANDARD, "medium": Level.RAISED, "high": Level.HIGH}[self.value]


class Severity(str, Enum):
    """Severity of an alert to practitioners; chooses the escalation ladder."""

    RAISED = "raised"
    HIGH = "high"
    URGENT = "urgent"

    @classmethod
    def for_level(cls, level: Level) -> Severity | None:
        return {Level.RAISED: cls.RAISED, Level.HIGH: cls.HIGH, Level.URGENT: cls.URGENT}.get(level)


class AlertReason(str, Enum):
    """Why an alert was raised. Practitioners see this code's wording, never survivor words."""

    CODEWORD = "codeword"
    DURESS_PIN = "duress_pin"
    PIN_FAILED = "pin_failed"
    RISK_RAISED = "risk_raised"
    FEAR_RISING = "fear_rising"
    MISSED_CHECKIN = "missed_checkin"
    MISSED_TWICE = "missed_twice"
    CALLBACK_TODAY = "callback_today"
    CALLBACK_URGENT = "callback_urgent"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    WITHDRAWN_IN_ONBOARDING = "withdrawn_in_onboarding"  # e.g. STOP typed at the exit-word prompt, on SMS
    QUICK_EXIT = "quick_exit"
    EXIT_IN_ONBOARDING = "exit_in_onboarding"  # set-up stopped, check-ins paused
    CHANNEL_DEAD = "channel_dead"
    PROCESSING_FAILED = "processing_failed"
    SCHEDULE_UNFIT = "schedule_unfit"
    STEP_FAILED = "step_failed"  # a scheduled step of the case (a check-in starting...) failed and was given up
    RESUBSCRIBE_REQUESTED = "resubscribe_requested"  # no longer raised (withdrawal erases her number); old alerts


class Change(str, Enum):
    """How a check-in's level compares with the survivor's baseline."""

    RAISED = "raised"
    SAME = "same"
    IMPROVED = "improved"


@dataclass(frozen=True)
class Assessment:
    """Score and level of one check-in, with the signals that produced them."""

    score: int
    level: Level
    signals: tuple[str, ...]
    urgent_signals: tuple[str, ...]


@dataclass(frozen=True)
class History:
    """What the core needs to know of a survivor's past to judge change (oldest first)."""

    intake: IntakeLevel
    no_contact_order: bool
    recent_levels: tuple[Level, ...] = ()
    recent_fear: tuple[int, ...] = ()
    consecutive_missed: int = 0


@dataclass(frozen=True)
class RiskChange:
    """The comparison of an assessment with the baseline, and the alert it calls for."""

    change: Change
    baseline: Level
    alert: Severity | None
    reason: AlertReason | None


@dataclass(frozen=True)
class SurvivorSecrets:
    """Keyed hashes of the survivor's chosen words; None where not set."""

    exit_word: bytes | None = None
    codewords: frozenset[bytes] = frozenset()
    pin: bytes | None = None
    duress_pin: bytes | None = None


@dataclass(frozen=True)
class Screening:
    """Result of screening one inbound text before any flow logic."""

    quick_exit: bool
    codeword: bool
    pin: bool = False  # the whole message is one of her PINs, typed where none was asked for


class PinResult(str, Enum):
    CORRECT = "correct"
    DURESS = "duress"
    WRONG = "wrong"
