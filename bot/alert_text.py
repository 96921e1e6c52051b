"""What practitioners read in an alert: case reference, severity and reason — never survivor words."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import monthly_report
from safety.alert_reasons import REASONS

CHECKIN_SUMMARY = "checkin_summary"  # the reason code of a shared check-in summary (not an alert)
RISK_NOW = "risk_now"  # the reason code of a share of her risk level now, made from the workspace

# What happened, per fact code (safety.signals.alert_facts): every signal in the catalog, and in-person
# contact despite a no-contact order. Phrases name what she disclosed, in a practitioner's words: codes
# come in, so her own words can never come out. A test fails if a catalog signal has no phrase here.
FACTS = {
    "not_safe_now": "not safe now",
    "unsure_safe_now": "unsure if safe now",
    "fear_little": "a little afraid",
    "fear_a_lot": "very afraid",
    "contact_remote": "contact by phone, message or online",
    "contact_in_person": "in-person contact",
    "contact_despite_order": "in-person contact despite a no-contact order",
    "lives_with_them": "lives with the person she fears",
    "threats": "threats made",
    "threats_to_kill": "threats to kill disclosed",
    "physical_harm": "physical harm disclosed",
    "choking": "strangulation disclosed",
    "harm_to_child": "a child hurt",
    "weapons": "weapon used or threatened",
    "other_incident": "another incident",
    "separation": "separated recently",
    "separation_planned": "planning to leave",
    "stalking": "stalking or constant contact",
    "abuse_worse": "abuse getting worse",
    "abuse_more_often": "abuse more often",
    "controlling_jealous": "controlling or jealous behaviour",
    "sexual_abuse": "sexual abuse disclosed",
    "child_contact_conflict": "conflict over child contact",
    "pregnant_or_new_baby": "pregnant or a new baby",
    "low_mood": "low mood",
    "self_harm_thoughts": "thoughts of self-harm disclosed",
    "money_worries": "money worries",
    "isolation": "isolated",
    "other_person_feared": "another person she fears",
    "callback_today": "call back requested today",
    "callback_urgent": "urgent call back requested",
    "codeword": "codeword",
    "duress_pin": "duress PIN used",
    "pin_failed": "PIN wrong",
}


def fact_codes(value: object) -> tuple[str, ...]:
    """An alert's fact codes from a stored message or a channel's meta: a comma string (or a list)."""
    if isinstance(value, str):
        return tuple(code for code in value.split(",") if code)
    if isinstance(value, list | tuple):
        return tuple(str(code) for code in value if code)
    return ()


def known_facts(codes: Sequence[str]) -> tuple[str, ...]:
    """The codes that have a phrase, in the order given. Anything else is dropped unread: only our own
    phrases may ever reach a practitioner, whatever a bug elsewhere put in the list."""
    return tuple(code for code in codes if code in FACTS)


def reason_words(reason: str, facts: Sequence[str] = ()) -> str:
    """The reason in words: what happened when the alert names facts (in the order given, which is
    catalog order, most serious first), else the reason code's own text."""
    named = known_facts(facts)
    if named:
        return "; ".join(FACTS[code] for code in named)
    return REASONS.get(reason, reason.replace("_", " "))


def alert_message(
    alert_id: int,
    case_ref: str,
    severity: str,
    reason: str,
    level: str | None = None,
    facts: Sequence[str] = (),
) -> dict[str, Any]:
    """What the outbox keeps for an alert: codes and our own ids only. Facts travel as a comma string,
    as a channel's meta carries them."""
    return {
        "kind": "alert",
        "alert_id": alert_id,
        "case_ref": case_ref,
        "severity": severity,
        "reason": reason,
        "level": level,
        "facts": ",".join(facts),
    }


def ack_command(alert_id: object, practitioner_id: int | None) -> str:
    """The command that acknowledges an alert, exactly as its recipient can run it."""
    return f"safecheck alerts ack {alert_id} --as {practitioner_id if practitioner_id is not None else '<your id>'}"


ACK_COMMAND = re.compile(r"safecheck alerts ack \d+ --as \d+")


def alert_link(workspace_url: str | None, alert_id: object) -> str | None:
    """The alert's page in the workspace, if its URL is known. The page shows the case reference and has the
    Acknowledge button; the URL carries only our alert id, so nothing personal reaches a mailbox or a chat."""
    return f"{workspace_url.rstrip('/')}/alerts/{alert_id}" if workspace_url else None


def case_command(case_ref: str) -> str:
    """Where to read the case without a workspace URL: the CLI command that shows it."""
    return f"safecheck case show {case_ref} --as <your id>"


@dataclass(frozen=True)
class RenderedAlert:
    """An alert as every practitioner channel tells it; a channel only lays it out for its medium."""

    alert_id: str
    severity: str  # upper case: URGENT, HIGH, RAISED
    case_ref: str  # a pseudonym that means nothing outside Safecheck
    reason: str  # in words: the facts when it names any, else the reason code's text
    reason_code: str  # e.g. codeword: what a log line may carry
    level: str | None
    at: str | None  # when this practitioner was to be told (ISO), if known
    acknowledge: str  # the alert's workspace page, else the command that acknowledges it (recipient's id where known)
    link: str  # where to read it: the alert's workspace page, else the command that shows the case
    facts: tuple[str, ...] = ()  # fact codes, most serious first: what happened

    @property
    def title(self) -> str:
        """Severity, case and reason: what a notification preview or a subject line may show."""
        return f"[{self.severity}] Case {self.case_ref}: {self.reason}"

    @property
    def headline(self) -> str:
        """The title with the level the alert was raised at, where it has one."""
        return f"{self.title} (level {self.level})" if self.level else self.title


def render(
    data: Mapping[str, object], practitioner_id: int | None = None, text: str = "", workspace_url: str | None = None
) -> RenderedAlert | None:
    """The one rendering of an alert, from its stored message or a channel's meta; None for a digest.

    `text`: the line already rendered for the recipient, whose acknowledge command carries their id.
    The workspace link comes from `workspace_url`, or from the meta's "link" (the dispatcher puts it there).
    """
    alert_id = data.get("alert_id")
    if not alert_id:
        return None
    code = str(data.get("reason") or "alert")
    facts = known_facts(fact_codes(data.get("facts")))
    ref = str(data.get("case_ref") or "-")
    found = ACK_COMMAND.search(text)
    if practitioner_id is not None:
        acknowledge = ack_command(alert_id, practitioner_id)
    else:
        acknowledge = found.group(0) if found else ack_command(alert_id, None)
    page = alert_link(workspace_url, alert_id) or _link(data.get("link"))
    return RenderedAlert(
        alert_id=str(alert_id),
        severity=str(data.get("severity") or "alert").upper(),
        case_ref=ref,
        reason=reason_words(code, facts),
        reason_code=code,
        level=str(data["level"]) if data.get("level") else None,
        at=str(data["at"]) if data.get("at") else None,
        acknowledge=page or acknowledge,  # the page has the Acknowledge button
        link=page or case_command(ref),
        facts=facts,
    )


def _link(value: object) -> str | None:
    """A link the dispatcher put in a channel's meta: our own https/http URL, or nothing."""
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def render_alert(message: dict[str, Any], practitioner_id: int | None = None, workspace_url: str | None = None) -> str:
    """One line for the practitioner it is sent to (inbox, log), ending with where to acknowledge it: the
    alert's workspace page when the workspace URL is known, else their own acknowledge command."""
    alert = render(message, practitioner_id, workspace_url=workspace_url)
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


# What a partner did about a share (storage.partners.ACTION_CODES), in words for pages and reports.


def share_message(
    share_id: int, partner_ref: str | None, severity: str, reason: str, level: str | None, facts: Sequence[str], at: str
) -> dict[str, Any]:
    """What goes to a partner's person: their own reference, the level, the reason, the time. Never her
    name, number or words (the agreement and her consent decide elsewhere whether more may go)."""
    return {
        "kind": "share",
        "share_id": share_id,
        "partner_ref": partner_ref or "",
        "severity": severity,
        "reason": reason,
        "level": level,
        "facts": ",".join(known_facts(facts)),
        "at": at,
    }


def share_words(reason: str, facts: Sequence[str]) -> str:
    """What a share says happened, in the alert's words (a check-in summary names what the check-in showed)."""
    if reason == CHECKIN_SUMMARY:  # what the check-in showed, or that it showed nothing
        return "check-in summary: " + ("; ".join(FACTS[c] for c in known_facts(facts)) or "nothing of concern")
    return reason_words(reason, facts)


def share_link(workspace_url: str | None, share_id: object) -> str | None:
    """Where a partner's person opens the share in the workspace, if the workspace's public URL is set."""
    return f"{workspace_url.rstrip('/')}/shares/S-{share_id}" if workspace_url else None


def render_share(message: Mapping[str, Any], workspace_url: str | None = None) -> str:
    """One line for a partner: the share, their reference, what happened, and how to acknowledge (by reply,
    or in the workspace at the link when its public URL is configured). Short enough for a text."""
    said = share_words(str(message.get("reason") or ""), str(message.get("facts") or "").split(","))
    level = f" (level {message['level']})" if message.get("level") else ""
    ref = f" for your reference {message['partner_ref']}" if message.get("partner_ref") else ""
    link = share_link(workspace_url, message["share_id"])
    return (
        f"[{str(message.get('severity') or 'alert').upper()}] Safecheck share S-{message['share_id']}{ref}: "
        f"{said}{level}, {_utc(str(message.get('at') or ''))}. Acknowledge: reply ACK S-{message['share_id']}"
        + (f" or at {link}" if link else "")
    )


def render_share_overdue(message: Mapping[str, Any]) -> str:
    """One line for the IDVA service's managers: a partner has not acknowledged a share in time."""
    return (
        f"[{str(message.get('severity') or 'alert').upper()}] Case {message['case_ref']}: {message['partner']} "
        f"has not acknowledged share S-{message['share_id']} sent {_utc(str(message.get('at') or ''))}."
    )


def render_practitioner(
    message: dict[str, Any], practitioner_id: int | None = None, workspace_url: str | None = None
) -> str:
    kind = message.get("kind")
    if kind == "digest":
        return render_digest(message)
    if kind == "share":
        return render_share(message, workspace_url)
    if kind == "share_overdue":
        return render_share_overdue(message)
    if kind == monthly_report.KIND:
        return monthly_report.render_line(message, workspace_url)
    return render_alert(message, practitioner_id, workspace_url)


def render_email(text: str, meta: Mapping[str, str], details: str) -> tuple[str, str]:
    """Subject and plain-text body of a practitioner e-mail: a pointer into Safecheck, not the case itself.

    The subject carries the severity (so a mailbox rule or a glance can triage) and the case
    reference, a pseudonym that means nothing outside Safecheck; the reason stays in the body,
    away from notification previews. `details` says where to read the case (a link or a command); the
    meta's "link" (the alert's workspace page) is where to acknowledge it, when the workspace URL is known.
    """
    if meta.get("share_id"):  # a share to a partner: the line already says all that may go
        subject = f"[{meta.get('severity', 'alert').upper()}] Safecheck share S-{meta['share_id']}"
        # Partners acknowledge in the workspace or by a text from their registered phone, not by the CLI.
        body = f"{text}\n\nReplying to this e-mail does not acknowledge it: sign in to Safecheck to do so.\n"
        return subject, body
    if meta.get("kind") == monthly_report.KIND:  # figures only, small counts suppressed: the PDF is attached
        return f"Safecheck monthly report {meta.get('period', '')}", f"{text}\n\nThe report is attached as a PDF.\n"
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
        *([] if details == alert.acknowledge else [f"Details: {details}"]),  # the alert's page says both
        "",
        "This e-mail holds no personal details on purpose: the case is in Safecheck.",
    ]
    return f"[{alert.severity}] Safecheck alert {alert.case_ref}", "\n".join(lines) + "\n"


def _utc(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso
