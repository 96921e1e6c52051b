"""What each alert reason code means, in a practitioner's words: one map for alerts and reports alike.

Pure data, so storage/ (the reports) can word a reason without importing the shell. bot/alert_text.py
renders alerts from the same map.
"""

from __future__ import annotations

REASONS = {
    "checkin_summary": "check-in summary",  # a shared check-in summary (not an alert)
    "risk_now": "risk level now",  # a share of her risk level now, made from the workspace
    "codeword": "codeword",
    "duress_pin": "duress PIN used",
    "pin_failed": "PIN wrong twice: the phone may not be in the survivor's hands",
    "risk_raised": "risk level rose",
    "fear_rising": "fear rising over 3 check-ins",
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
    "step_failed": "a scheduled step failed repeatedly (a check-in may not have been sent): check the case",
    "resubscribe_requested": "the survivor texted START to get messages again",  # raised by versions before 0.2
}


def reason_label(code: str) -> str:
    """A reason as a report row names it: what happened, without the advice an alert adds after a colon or
    in brackets ("PIN wrong twice", "Consent withdrawn during set-up"); unknown codes in plain words."""
    words = REASONS.get(code, code.replace("_", " "))
    short = words.split(":")[0].split(" (")[0].strip()
    return short[:1].upper() + short[1:]
