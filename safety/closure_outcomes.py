"""Outcomes at case closure, Insights-style: why the case closed, safety at closure, each abuse type, and
quality of life. Fixed codes only, so the record and the audit hold no free text (a note can say more).

Pure: the close form (bot/web/case_actions.py), the record (storage/outcomes.py) and the report section
(storage/report_outcomes.py) all read these lists, so a code means the same thing everywhere. The four
abuse types are SafeLives Insights' and Drive's own measures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Why a case was closed (the workspace and the record; the audit detail carries the code).
CLOSE_REASONS = {
    "support_ended": "Support ended as planned",
    "risk_reduced": "Risk reduced",
    "transferred": "Moved or transferred to another service",
    "not_engaging": "No longer engaging",
    "her_choice": "She asked to stop",
    "other": "Other (see notes)",
}

# Her safety, and her quality of life, at closure against when support began.
CHANGE = {
    "improved": "Improved",
    "no_change": "No change",
    "worse": "Worse",
    "not_known": "Not known",
}

# Each type of abuse at closure.
ABUSE_TYPES = {
    "physical": "Physical abuse",
    "sexual": "Sexual abuse",
    "harassment_stalking": "Harassment and stalking",
    "jealous_controlling": "Jealous and controlling behaviour",
}
CESSATION = {
    "ceased": "Ceased",
    "reduced": "Reduced",
    "continued": "Continued",
    "not_present": "Not present",
    "not_known": "Not known",
}

# The form's fields, in display order, each with its allowed codes and the one line shown when it is
# missing or not one of them.
FIELDS: dict[str, tuple[Mapping[str, str], str]] = {
    "safety": (CHANGE, "Choose how her safety changed (\u201cNot known\u201d is an answer)."),
    **{
        kind: (CESSATION, f"Choose what happened to {label.lower()} (\u201cNot known\u201d is an answer).")
        for kind, label in ABUSE_TYPES.items()
    },
    "quality_of_life": (CHANGE, "Choose how her quality of life changed (\u201cNot known\u201d is an answer)."),
}


@dataclass(frozen=True)
class Outcome:
    """What the IDVA recorded when closing a case: codes only."""

    close_reason: str
    safety: str
    physical: str
    sexual: str
    harassment_stalking: str
    jealous_controlling: str
    quality_of_life: str

    def detail(self) -> str:
        """The audit detail: the codes, nothing else."""
        return " ".join(f"{name}={getattr(self, name)}" for name in ("safety", *ABUSE_TYPES, "quality_of_life"))


def parse(answers: Mapping[str, str], close_reason: str) -> tuple[Outcome | None, dict[str, str]]:
    """The outcome from the form's answers, or the errors per field (each a one-line message)."""
    errors = {name: message for name, (allowed, message) in FIELDS.items() if answers.get(name, "") not in allowed}
    if close_reason not in CLOSE_REASONS:
        errors["close_reason"] = "Choose why the case is closing."
    if errors:
        return None, errors
    return Outcome(close_reason, **{name: answers[name] for name in FIELDS}), {}
