"""Turn a check-in's signals into a risk level, and judge its change against the survivor's past."""

from __future__ import annotations

from collections.abc import Iterable

from safety.model import AlertReason, Assessment, Change, History, Level, RiskChange, Severity
from safety.policy import MissedPolicy
from safety.signals import SIGNALS, spec

HIGH_SCORE = 6
RAISED_SCORE = 3
BASELINE_WINDOW = 3


def assess(signals: Iterable[str], no_contact_order: bool) -> Assessment:
    """Score one check-in's signals and give its level; unknown signal names raise ValueError."""
    given = {spec(name).name for name in signals}
    # Catalog order, so the same answers always give an equal Assessment whatever their order.
    distinct = tuple(name for name in SIGNALS if name in given)
    urgent = tuple(name for name in distinct if SIGNALS[name].is_urgent(no_contact_order))
    score = sum(SIGNALS[name].weight for name in distinct)
    if urgent:
        level = Level.URGENT
    elif score >= HIGH_SCORE:
        level = Level.HIGH
    elif score >= RAISED_SCORE:
        level = Level.RAISED
    else:
        level = Level.STANDARD
    return Assessment(score=score, level=level, signals=distinct, urgent_signals=urgent)


def baseline(history: History) -> Level:
    """Return the survivor's recent baseline: the lower median of the last three levels."""
    recent = sorted(history.recent_levels[-BASELINE_WINDOW:])
    if not recent:
        return history.intake.level
    # The lower median, so one bad week does not raise the bar the next bad week must clear.
    return recent[(len(recent) - 1) // 2]


def compare(assessment: Assessment, history: History) -> RiskChange:
    """Compare a check-in with the baseline and say which alert, if any, it calls for."""
    base = baseline(history)
    level = assessment.level
    if level > base:
        change = Change.RAISED
    elif level < base:
        change = Change.IMPROVED
    else:
        change = Change.SAME

    alert: Severity | None = None
    reason: AlertReason | None = None
    if level == Level.URGENT:
        alert, reason = Severity.URGENT, _urgent_reason(assessment)
    elif level > base or _crosses_intake(level, history):
        alert, reason = Severity.for_level(level), AlertReason.RISK_RAISED
    elif "callback_today" in assessment.signals:
        alert, reason = Severity.RAISED, AlertReason.CALLBACK_TODAY
    return RiskChange(change=change, baseline=base, alert=alert, reason=reason)


def _urgent_reason(assessment: Assessment) -> AlertReason:
    # The most specific reason wins: a codeword tells the IDVA more than "risk raised".
    if "codeword" in assessment.signals:
        return AlertReason.CODEWORD
    if "duress_pin" in assessment.signals:
        return AlertReason.DURESS_PIN
    if assessment.urgent_signals == ("callback_urgent",):
        return AlertReason.CALLBACK_URGENT
    return AlertReason.RISK_RAISED


def _crosses_intake(level: Level, history: History) -> bool:
    # A baseline that has drifted up must not hide a rise above what the IDVA judged at
    # intake; alerting only on the crossing stops the same level alerting every week.
    intake = history.intake.level
    previous = history.recent_levels[-1] if history.recent_levels else intake
    return level > intake and previous <= intake


def fear_rising(history: History, fear_now: int) -> bool:
    """Whether fear has risen at each of the last three check-ins, this one included."""
    if len(history.recent_fear) < 2:
        return False
    before_last, last = history.recent_fear[-2:]
    return before_last < last < fear_now


def missed_alert(
    consecutive_missed_including_this: int, agreed: bool, policy: MissedPolicy
) -> tuple[Severity, AlertReason] | None:
    """Return the alert a missed check-in calls for, or None; only if the survivor agreed to it."""
    if not agreed:
        return None
    if consecutive_missed_including_this >= 2:
        return Severity.HIGH, AlertReason.MISSED_TWICE
    if consecutive_missed_including_this == 1 and policy.alert_each_missed:
        return Severity.RAISED, AlertReason.MISSED_CHECKIN
    return None
