"""What practitioners read in an alert: case reference, severity and reason — never survivor words."""

from __future__ import annotations

import re
from collections.abc import Mapping
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


def render_alert(message: dict[str, Any], practitioner_id: int | None = None) -> str:
    """One line for the practitioner it is sent to, ending with their own acknowledge command."""
    reason = REASONS.get(message["reason"], message["reason"])
    level = f" (level {message['level']})" if message.get("level") else ""
    return (
        f"[{message['severity'].upper()}] Case {message['case_ref']}: {reason}{level}. "
        f"Acknowledge: {ack_command(message['alert_id'], practitioner_id)}"
    )


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
    if not meta.get("alert_id"):  # a digest: counts only, already free of anything personal
        return "Safecheck daily summary", f"{text}\n\nDetails: {details}\n"
    alert_id, ref = meta["alert_id"], meta.get("case_ref", "-")
    severity = meta.get("severity", "alert").upper()
    reason = REASONS.get(meta.get("reason", ""), meta.get("reason", "-"))
    level = f" (level {meta['level']})" if meta.get("level") else ""
    lines = [
        f"Safecheck alert {alert_id} for case {ref}",
        "",
        f"Severity: {severity}",
        f"Reason:   {reason}{level}",
    ]
    if meta.get("at"):
        lines.append(f"Time:     {_utc(meta['at'])}")
    # The text was rendered for this recipient (render_alert): its command carries their own id.
    found = ACK_COMMAND.search(text)
    lines += [
        "",
        f"Acknowledge in Safecheck: {found.group(0) if found else ack_command(alert_id, None)}",
        "Replying to this e-mail does not acknowledge the alert.",
        f"Details: {details}",
        "",
        "This e-mail holds no personal details on purpose: the case is in Safecheck.",
    ]
    return f"[{severity}] Safecheck alert {ref}", "\n".join(lines) + "\n"


def _utc(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso
