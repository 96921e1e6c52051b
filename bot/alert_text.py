"""What practitioners read in an alert: case reference, severity and reason — never survivor words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

REASONS = {
    "codeword": "codeword used",
    "duress_pin": "duress PIN used",
    "pin_failed": "PIN wrong twice: the phone may not be in the survivor's hands",
    "risk_raised": "risk level rose",
    "fear_rising": "fear rising over three check-ins",
    "missed_checkin": "check-in missed",
    "missed_twice": "two check-ins missed in a row",
    "callback_today": "call back requested today",
    "callback_urgent": "urgent call back requested",
    "consent_withdrawn": "consent withdrawn: no more messages will be sent",
    "withdrawn_in_onboarding": (
        "consent withdrawn during set-up (a stop word at a set-up step, perhaps meant as her exit word): "
        "no more messages will be sent; check with her in person"
    ),
    "quick_exit": "quick exit used: check-ins paused",
    "exit_in_onboarding": "quick exit used during set-up: set-up stopped, check-ins paused",
    "channel_dead": "messages can no longer be delivered to the survivor",
    "processing_failed": "a message from the survivor could not be processed: read the case now",
    "schedule_unfit": "no check-in time fits the survivor's safe times: set a schedule",
    "resubscribe_requested": "the survivor texted START to get messages again",  # raised by versions before 0.2
}


def alert_message(alert_id: int, case_ref: str, severity: str, reason: str, level: str | None = None) -> dict[str, Any]:
    return {
        "kind": "alert",
        "alert_id": alert_id,
        "case_ref": case_ref,
        "severity": severity,
        "reason": reason,
        "level": level,
    }


def ack_command(alert_id: object, practitioner_id: int | None) -> str:
    """The command that acknowledges an alert, exactly as its recipient can run it."""
    return f"safecheck alerts ack {alert_id} --as {practitioner_id if practitioner_id is not None else '<your id>'}"


ACK_COMMAND = re.compile(r"safecheck alerts ack \d+ --as \d+")


@dataclass(frozen=True)
class RenderedAlert:
    """An alert as every practitioner channel tells it; a channel only lays it out for its medium."""

    alert_id: str
    severity: str  # upper case: URGENT, HIGH, RAISED
    case_ref: str  # a pseudonym that means nothing outside Safecheck
    reason: str  # in words
    reason_code: str  # e.g. codeword: what a log line may carry
    level: str | None
    at: str | None  # when this practitioner was to be told (ISO), if known
    acknowledge: str  # the command that acknowledges it, with its recipient's id where known
    link: str  # where to read the case

    @property
    def title(self) -> str:
        """Severity, case and reason: what a notification preview or a subject line may show."""
        return f"[{self.severity}] Case {self.case_ref}: {self.reason}"

    @property
    def headline(self) -> str:
        """The title with the level the alert was raised at, where it has one."""
        return f"{self.title} (level {self.level})" if self.level else self.title


def render(data: Mapping[str, object], practitioner_id: int | None = None, text: str = "") -> RenderedAlert | None:
    """The one rendering of an alert, from its stored message or a channel's meta; None for a digest.

    `text`: the line already rendered for the recipient, whose acknowledge command carries their id.
    """
    alert_id = data.get("alert_id")
    if not alert_id:
        return None
    code = str(data.get("reason") or "alert")
    ref = str(data.get("case_ref") or "-")
    found = ACK_COMMAND.search(text)
    if practitioner_id is not None:
        acknowledge = ack_command(alert_id, practitioner_id)
    else:
        acknowledge = found.group(0) if found else ack_command(alert_id, None)
    return RenderedAlert(
        alert_id=str(alert_id),
        severity=str(data.get("severity") or "alert").upper(),
        case_ref=ref,
        reason=REASONS.get(code, code),
        reason_code=code,
        level=str(data["level"]) if data.get("level") else None,
        at=str(data["at"]) if data.get("at") else None,
        acknowledge=acknowledge,
        link=f"safecheck case show {ref} --as <your id>",
    )


def render_alert(message: dict[str, Any], practitioner_id: int | None = None) -> str:
    """One line for the practitioner it is sent to (inbox, log), ending with their own acknowledge command."""
    alert = render(message, practitioner_id)
    assert alert is not None, "an alert message has an alert_id"
    return f"{alert.headline}. Acknowledge: {alert.acknowledge}"


def render_digest(message: dict[str, Any]) -> str:
    statuses, levels = message["statuses"], message["levels"]
    done = statuses.get("completed", 0) + statuses.get("partial", 0)
    by_level = ", ".join(f"{levels[k]} {k}" for k in ("urgent", "high", "raised", "standard") if levels.get(k))
    missed = statuses.get("missed", 0)
    return (
        f"Daily summary: {done} check-in(s) done ({by_level or 'none assessed'}), {missed} missed, "
        f"{statuses.get('missed_system', 0)} missed by the system; {message['alerts']} alert(s), "
        f"{message['open_alerts']} still open."
    )


def render_practitioner(message: dict[str, Any], practitioner_id: int | None = None) -> str:
    return render_digest(message) if message.get("kind") == "digest" else render_alert(message, practitioner_id)


def render_email(text: str, meta: Mapping[str, str], details: str) -> tuple[str, str]:
    """Subject and plain-text body of a practitioner e-mail: a pointer into Safecheck, not the case itself.

    The subject carries the severity (so a mailbox rule or a glance can triage) and the case
    reference, a pseudonym that means nothing outside Safecheck; the reason stays in the body,
    away from notification previews. `details` says where to read the case (a link or a command).
    """
    alert = render(meta, text=text)  # the text was rendered for this recipient: its command carries their id
    if alert is None:  # a digest: counts only, already free of anything personal
        return "Safecheck daily summary", f"{text}\n\nDetails: {details}\n"
    level = f" (level {alert.level})" if alert.level else ""
    lines = [
        f"Safecheck alert {alert.alert_id} for case {alert.case_ref}",
        "",
        f"Severity: {alert.severity}",
        f"Reason:   {alert.reason}{level}",
    ]
    if alert.at:
        lines.append(f"Time:     {_utc(alert.at)}")
    lines += [
        "",
        f"Acknowledge in Safecheck: {alert.acknowledge}",
        "Replying to this e-mail does not acknowledge the alert.",
        f"Details: {details}",
        "",
        "This e-mail holds no personal details on purpose: the case is in Safecheck.",
    ]
    return f"[{alert.severity}] Safecheck alert {alert.case_ref}", "\n".join(lines) + "\n"


def _utc(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso
