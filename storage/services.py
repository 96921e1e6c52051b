"""Services: the organisations running Safecheck, with their per-service settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from safety.policy import (
    DEFAULT_ALERT_POLICY,
    DEFAULT_MISSED_POLICY,
    AlertPolicy,
    MissedPolicy,
    parse_alert_policy,
    parse_missed_policy,
)
from storage.db import Row, Tx, ts

# A week: the content of a sent message serves for days at most (Telegram deletes the bot's messages of
# the last 48 hours on a quick exit; SMS delivery reports re-send or fall back within hours), and a week
# still covers "what exactly did she get?" about the last weekly check-in. Then only the record stays.
SENT_CONTENT_DAYS = 7
SENT_CONTENT_DAYS_RANGE = (2, 365)  # below 2, a quick exit on Telegram could no longer delete the bot's messages
# Audit entries: 6 years by default, the limitation period for most civil claims in England and Wales
# (Limitation Act 1980, ss. 2 and 5), so the record of who did what outlasts any claim about it.
AUDIT_RETENTION_DAYS = 2190
AUDIT_RETENTION_DAYS_RANGE = (365, 7300)  # at least a year (a complaint's investigation), at most 20

# A year after closing, a closed or withdrawn case's personal data is erased (storage/erasure.py). A year,
# because a repeat Marac referral and the "potential escalation" count look back 12 months: if she comes
# back within the year her history helps; after it, the service's own case file (under its own retention)
# is the record, and Safecheck is only the channel. Reports keep their figures: levels, dates, statuses.
CLOSED_CASE_DAYS = 365
# Delivery records (no content: who, channel, status, times) feed the engagement and response figures:
# 13 months keeps a full year to compare against, and the month a report about it goes out.
DELIVERY_RECORD_DAYS = 400
RETENTION_RANGE = (30, 3650)  # as migration 0025 checks


@dataclass(frozen=True)
class Helpline:
    """A local helpline the service prints on the safety card it hands over in person."""

    name: str
    number: str
    hours: str = ""


@dataclass(frozen=True)
class Service:
    id: int
    slug: str
    name: str
    sender_name: str
    timezone: str
    questionset: str | None
    alert_policy: AlertPolicy
    missed_policy: MissedPolicy
    cover_line: bool
    digest_hour: int | None
    retention_days: int
    languages: tuple[str, ...] = ("en_GB",)  # offered to survivors, the default first
    default_language: str = "en_GB"  # new cases start in it
    sent_content_days: int = SENT_CONTENT_DAYS  # finished outbox rows keep their content this long
    default_schedule: str | None = None  # DAYS@TIMES for cases without their own; None: the built-in default
    default_jitter: int = 0
    default_checkin_mode: str = "direct"  # what the enrolment screen pre-selects; she chooses
    default_cover_theme: str | None = None
    help_line: str | None = None  # a discreet line HELP adds on the channel
    helplines: tuple[Helpline, ...] = ()  # local helplines for the printed card
    safety_card: str = ""  # the service's safety-planning advice for the printed card
    marac_escalation_incidents: int = 3  # incidents in 12 months that make "potential escalation" (Marac)
    audit_retention_days: int = AUDIT_RETENTION_DAYS  # audit entries are kept at least this long
    closed_case_days: int = CLOSED_CASE_DAYS  # a closed case's personal data is erased this long after closing
    delivery_record_days: int = DELIVERY_RECORD_DAYS  # delivery records are removed this long after queueing


def _service(row: Row) -> Service:
    return Service(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        sender_name=row["sender_name"],
        timezone=row["timezone"],
        questionset=row["questionset"],
        alert_policy=parse_alert_policy(json.loads(row["alert_policy"]))
        if row["alert_policy"]
        else DEFAULT_ALERT_POLICY,
        missed_policy=parse_missed_policy(json.loads(row["missed_policy"]))
        if row["missed_policy"]
        else DEFAULT_MISSED_POLICY,
        cover_line=bool(row["cover_line"]),
        digest_hour=row["digest_hour"],
        retention_days=row["retention_days"],
        languages=_languages(row["languages"], row["default_language"]),
        default_language=row["default_language"],
        sent_content_days=row["sent_content_days"],
        default_schedule=row["default_schedule"],
        default_jitter=row["default_jitter"],
        default_checkin_mode=row["default_checkin_mode"],
        default_cover_theme=row["default_cover_theme"],
        help_line=row["help_line"],
        helplines=tuple(Helpline(**h) for h in json.loads(row["helplines"])),
        safety_card=row["safety_card"],
        marac_escalation_incidents=row["marac_escalation_incidents"],
        audit_retention_days=row["audit_retention_days"],
        closed_case_days=row["closed_case_days"],
        delivery_record_days=row["delivery_record_days"],
    )


def _languages(stored: str, default: str) -> tuple[str, ...]:
    """The enabled languages, the default first and the rest in their stored order."""
    codes = [code for code in stored.split(",") if code]
    return (default, *(code for code in codes if code != default))


async def create(tx: Tx, slug: str, name: str, now: datetime, sender_name: str = "Alex") -> int:
    return await tx.execute(
        "INSERT INTO services (slug, name, sender_name, created_at) VALUES (?, ?, ?, ?)",
        (slug, name, sender_name, ts(now)),
    )


async def get(tx: Tx, service_id: int) -> Service:
    row = await tx.one("SELECT * FROM services WHERE id = ?", (service_id,))
    if row is None:
        raise LookupError(f"no service {service_id}")
    return _service(row)


async def all_services(tx: Tx) -> list[Service]:
    return [_service(r) for r in await tx.all("SELECT * FROM services ORDER BY id")]


SETTABLE = frozenset(
    {
        "name",
        "sender_name",
        "timezone",
        "questionset",
        "alert_policy",
        "missed_policy",
        "cover_line",
        "digest_hour",
        "retention_days",
        "sent_content_days",
        "default_schedule",
        "default_jitter",
        "marac_escalation_incidents",
        "audit_retention_days",
        "closed_case_days",
        "delivery_record_days",
    }
)


async def set_languages(tx: Tx, service_id: int, languages: tuple[str, ...], default: str) -> None:
    """Store the service's languages; the default must be one of them."""
    if default not in languages or any("," in code or not code for code in languages):
        raise ValueError(f"bad languages {languages!r} with default {default!r}")
    await tx.execute(
        "UPDATE services SET languages = ?, default_language = ? WHERE id = ?",
        (",".join(languages), default, service_id),
    )


async def update(tx: Tx, service_id: int, **fields: object) -> None:
    unknown = set(fields) - SETTABLE
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)} on a service")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await tx.execute(f"UPDATE services SET {assignments} WHERE id = ?", (*fields.values(), service_id))
