"""Alert escalation ladders and missed check-in rules, as each service configures them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType

from safety.model import Severity

_MINUTE = timedelta(minutes=1)


class PolicyError(ValueError):
    """A policy is invalid; the message is one line saying what is wrong and how to fix it."""


class Role(StrEnum):
    """Who a step of an escalation ladder notifies."""

    ASSIGNED_IDVA = "idva"
    DUTY = "duty"
    MANAGER = "manager"


@dataclass(frozen=True)
class EscalationStep:
    """Notify `role` once an alert has gone unacknowledged for `after`."""

    after: timedelta
    role: Role

    def __post_init__(self) -> None:
        if self.after < timedelta(0):
            raise PolicyError(f"escalation step for {self.role.value} has negative delay {self.after}")


@dataclass(frozen=True)
class AlertPolicy:
    """One escalation ladder per severity."""

    ladders: Mapping[Severity, tuple[EscalationStep, ...]]

    def __post_init__(self) -> None:
        # Every severity needs a ladder: an alert with nowhere to go is a lost alert.
        missing = [s.value for s in Severity if s not in self.ladders]
        if missing:
            raise PolicyError(f"alert policy has no ladder for {', '.join(missing)}; add one for each severity")
        for severity in Severity:
            _check_ladder(severity, self.ladders[severity])
        frozen = {severity: tuple(self.ladders[severity]) for severity in Severity}
        object.__setattr__(self, "ladders", MappingProxyType(frozen))

    def ladder(self, severity: Severity) -> tuple[EscalationStep, ...]:
        """Return the escalation steps for an alert of `severity`, earliest first."""
        return self.ladders[severity]


def _check_ladder(severity: Severity, steps: tuple[EscalationStep, ...]) -> None:
    name = severity.value
    if not steps:
        raise PolicyError(f"the {name} ladder is empty; give it at least one step with after_minutes 0")
    if steps[0].after != timedelta(0):
        # Someone must hear of every alert at once; delay belongs to the later rungs.
        raise PolicyError(
            f"the {name} ladder starts after {_minutes(steps[0].after)} minutes; its first step must have "
            "after_minutes 0"
        )
    for number, (before, step) in enumerate(pairwise(steps), start=2):
        if step.after <= before.after:
            raise PolicyError(
                f"the {name} ladder's step {number} ({_minutes(step.after)} minutes) is not later than "
                f"step {number - 1} ({_minutes(before.after)} minutes); list steps in increasing "
                "after_minutes"
            )


@dataclass(frozen=True)
class MissedPolicy:
    """When to remind about an unanswered check-in, when to count it missed, and whether to alert."""

    reminder_after: timedelta = timedelta(minutes=60)
    grace: timedelta = timedelta(hours=3)
    alert_each_missed: bool = True  # where the survivor agreed; two in a row is a HIGH alert either way

    def __post_init__(self) -> None:
        if self.reminder_after <= timedelta(0):
            raise PolicyError("reminder_after_minutes must be more than 0")
        if self.grace <= self.reminder_after:
            # A reminder after the check-in has closed would ask for an answer we no longer take.
            raise PolicyError(
                f"grace_minutes ({_minutes(self.grace)}) must be more than reminder_after_minutes "
                f"({_minutes(self.reminder_after)})"
            )


DEFAULT_ALERT_POLICY = AlertPolicy(
    {
        Severity.URGENT: (
            EscalationStep(timedelta(0), Role.ASSIGNED_IDVA),
            EscalationStep(timedelta(minutes=5), Role.DUTY),
            EscalationStep(timedelta(minutes=10), Role.MANAGER),
        ),
        Severity.HIGH: (
            EscalationStep(timedelta(0), Role.ASSIGNED_IDVA),
            EscalationStep(timedelta(minutes=60), Role.DUTY),
        ),
        Severity.RAISED: (EscalationStep(timedelta(0), Role.ASSIGNED_IDVA),),
    }
)

DEFAULT_MISSED_POLICY = MissedPolicy()


# ---- JSON-like configuration ----


def _minutes(delta: timedelta) -> int | float:
    minutes = delta / _MINUTE
    return int(minutes) if minutes.is_integer() else minutes


MAX_MINUTES = 7 * 24 * 60  # no rung of a ladder, and no grace period, waits longer than a week


def _parse_minutes(value: object, where: str) -> timedelta:
    # bool is an int in Python; `true` minutes is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(f"{where} must be a number of minutes, not {value!r}")
    if not math.isfinite(value):
        raise PolicyError(f"{where} must be a finite number of minutes, not {value!r}")
    if value < 0:
        raise PolicyError(f"{where} is negative ({value}); use 0 or more minutes")
    if value > MAX_MINUTES:
        raise PolicyError(f"{where} is more than a week ({value}); use at most {MAX_MINUTES} minutes")
    return timedelta(minutes=value)


def _check_keys(raw: Mapping[str, object], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise PolicyError(f"{where} has unknown key(s) {', '.join(unknown)}; use {', '.join(allowed)}")


def _parse_severity(key: object) -> Severity:
    try:
        return Severity(str(key).strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise PolicyError(f"alert policy has unknown severity {key!r}; use {allowed}") from None


def _parse_role(value: object, where: str) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise PolicyError(f"{where} has unknown role {value!r}; use {allowed}") from None


def _parse_step(raw: object, where: str) -> EscalationStep:
    if not isinstance(raw, Mapping):
        raise PolicyError(f'{where} must be an object like {{"after_minutes": 0, "role": "idva"}}')
    _check_keys(raw, ("after_minutes", "role"), where)
    for key in ("after_minutes", "role"):
        if key not in raw:
            raise PolicyError(f"{where} is missing {key}")
    after = _parse_minutes(raw["after_minutes"], f"{where} after_minutes")
    return EscalationStep(after, _parse_role(raw["role"], where))


def _parse_ladder(severity: Severity, raw: object) -> tuple[EscalationStep, ...]:
    if not isinstance(raw, list | tuple):
        raise PolicyError(f"the {severity.value} ladder must be a list of steps, not {type(raw).__name__}")
    where = f"the {severity.value} ladder's step"
    return tuple(_parse_step(step, f"{where} {number}") for number, step in enumerate(raw, start=1))


def parse_alert_policy(raw: Mapping[str, object]) -> AlertPolicy:
    """Build an AlertPolicy from JSON-like data; severities left out keep the default ladder."""
    if not isinstance(raw, Mapping):
        raise PolicyError("alert policy must be an object mapping urgent, high and raised to lists of steps")
    ladders = dict(DEFAULT_ALERT_POLICY.ladders)
    seen: set[Severity] = set()
    for key, value in raw.items():
        severity = _parse_severity(key)
        if severity in seen:
            raise PolicyError(f"alert policy gives the {severity.value} ladder twice; keep one")
        seen.add(severity)
        ladders[severity] = _parse_ladder(severity, value)
    return AlertPolicy(ladders)


def alert_policy_to_json(policy: AlertPolicy) -> dict[str, object]:
    """Return `policy` as JSON-like data that parse_alert_policy reads back unchanged."""
    return {
        severity.value: [
            {"after_minutes": _minutes(step.after), "role": step.role.value} for step in policy.ladder(severity)
        ]
        for severity in Severity
    }


_MISSED_KEYS = ("reminder_after_minutes", "grace_minutes", "alert_each_missed")


def parse_missed_policy(raw: Mapping[str, object]) -> MissedPolicy:
    """Build a MissedPolicy from JSON-like data; keys left out keep their default."""
    if not isinstance(raw, Mapping):
        raise PolicyError(f"missed check-in policy must be an object with keys {', '.join(_MISSED_KEYS)}")
    _check_keys(raw, _MISSED_KEYS, "missed check-in policy")
    default = DEFAULT_MISSED_POLICY
    reminder_after = default.reminder_after
    grace = default.grace
    alert_each_missed = default.alert_each_missed
    if "reminder_after_minutes" in raw:
        reminder_after = _parse_minutes(raw["reminder_after_minutes"], "reminder_after_minutes")
    if "grace_minutes" in raw:
        grace = _parse_minutes(raw["grace_minutes"], "grace_minutes")
    if "alert_each_missed" in raw:
        value = raw["alert_each_missed"]
        if not isinstance(value, bool):
            raise PolicyError(f"alert_each_missed must be true or false, not {value!r}")
        alert_each_missed = value
    return MissedPolicy(reminder_after=reminder_after, grace=grace, alert_each_missed=alert_each_missed)


def missed_policy_to_json(policy: MissedPolicy) -> dict[str, object]:
    """Return `policy` as JSON-like data that parse_missed_policy reads back unchanged."""
    return {
        "reminder_after_minutes": _minutes(policy.reminder_after),
        "grace_minutes": _minutes(policy.grace),
        "alert_each_missed": policy.alert_each_missed,
    }
