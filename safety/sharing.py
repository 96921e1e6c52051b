"""Whether something may go to a partner agency, and on what basis: the consent gate, pure.

A share goes automatically only when both hold:
- the information-sharing agreement with that partner allows that kind of information, and
- her latest recorded consent for that partner and that kind is a yes.

Anything else goes only as an override: a person shares it from the workspace with a reason, under
vital interests or safeguarding (or the partner's public task), and a second person with the
manager role approves it. Such a share is flagged in reports. Nothing here does I/O: the shell
hands in the agreement, her consents and any override, and records what this returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from safety.model import AlertReason, Severity


class Kind(str, Enum):
    """The kinds of information she can consent to share, per partner."""

    RISK_CHANGES = "risk_changes"  # her risk level rose, and why (the alert's reason, never her words)
    URGENT_ALERTS = "urgent_alerts"  # an urgent alert: codeword, duress PIN, not safe now...
    CHECKIN_SUMMARIES = "checkin_summaries"  # a check-in's level and signals


# The words for the kinds and for what a partner did: one list for the workspace, the messages and reports.
KIND_LABELS = {
    Kind.RISK_CHANGES.value: "Risk-level changes",
    Kind.URGENT_ALERTS.value: "Urgent alerts",
    Kind.CHECKIN_SUMMARIES.value: "Check-in summaries",
}
ACTION_LABELS = {
    "perpetrator_visited": "Perpetrator visited",
    "bail_condition_enforced": "Bail condition enforced",
    "marac_action_raised": "Marac action raised",
    "safeguarding_referral": "Safeguarding referral made",
    "no_action_needed": "No action needed",
    "other": "Other (say what in the note)",
}


class Basis(str, Enum):
    """The lawful basis a share rests on (UK GDPR art. 6 and the agreement's own wording)."""

    CONSENT = "consent"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    SAFEGUARDING = "safeguarding"


OVERRIDE_BASES = frozenset({Basis.VITAL_INTERESTS, Basis.PUBLIC_TASK, Basis.SAFEGUARDING})


@dataclass(frozen=True)
class Agreement:
    """The information-sharing agreement a partner works under."""

    reference: str
    basis: Basis
    kinds: frozenset[Kind]  # what may go to this partner at all
    personal_details: bool = False  # her name and number may go too (only with her consent as well)


@dataclass(frozen=True)
class Consent:
    """Her latest recorded answer for one partner and one kind (its row id and text version go on record)."""

    consent_id: int
    agreed: bool
    text_version: str


@dataclass(frozen=True)
class Override:
    """A share without her consent: who asked, why, under which basis, and who approved."""

    requested_by: int
    reason: str
    basis: Basis
    approved_by: int | None  # a different person with the manager role; None while it waits


@dataclass(frozen=True)
class Decision:
    """A share that may go: its basis, and the consent or override it rests on."""

    basis: Basis
    consent: Consent | None = None
    override: Override | None = None
    kind: Kind | None = None  # for a share by consent: the kind her consent was for

    @property
    def flagged(self) -> bool:
        """Whether reports must flag it: it went without her consent."""
        return self.override is not None


def kinds_of_alert(severity: Severity, reason: AlertReason) -> frozenset[Kind]:
    """Which kinds of information an alert is: a risk rise is a risk change; an urgent alert is an
    urgent alert (a risk rise to urgent is both, so either consent lets it go)."""
    kinds: set[Kind] = set()
    if reason is AlertReason.RISK_RAISED:
        kinds.add(Kind.RISK_CHANGES)
    if severity is Severity.URGENT:
        kinds.add(Kind.URGENT_ALERTS)
    return frozenset(kinds)


def automatic(kinds: frozenset[Kind], agreement: Agreement, consents: Mapping[Kind, Consent]) -> Decision | None:
    """The share that goes by itself the moment it happens, or None: some kind of it must be allowed by
    the agreement AND agreed by her latest consent for this partner."""
    for kind in sorted(kinds, key=lambda k: k.value):  # a stable choice of the consent put on record
        consent = consents.get(kind)
        if kind in agreement.kinds and consent is not None and consent.agreed:
            return Decision(Basis.CONSENT, consent=consent, kind=kind)
    return None


def overridden(override: Override, managers: frozenset[int]) -> Decision | None:
    """A share without consent may go only under an override basis, with a reason, once a second person
    (not the one who asked) who holds the manager role has approved it."""
    if override.basis not in OVERRIDE_BASES or not override.reason.strip():
        return None
    if override.approved_by is None or override.approved_by == override.requested_by:
        return None
    if override.approved_by not in managers:
        return None
    return Decision(override.basis, override=override)


def shows_personal_details(decision: Decision, agreement: Agreement, consented_to_details: bool) -> bool:
    """Her name and number go only when both the agreement and her consent allow it; never on an override."""
    return decision.override is None and agreement.personal_details and consented_to_details
