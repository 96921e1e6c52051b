"""What the case page shows of the DASH and Marac: the latest checklist and the referral criteria met."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.web.words import N_
from safety.dash import YEAR, CriterionMet, marac_criteria
from storage import dash
from storage.crypto import Crypto
from storage.dash import DashRecord
from storage.db import Tx

CRITERION_TITLES = {
    "visible_high_risk": N_("Visible high risk"),
    "potential_escalation": N_("Potential escalation"),
    "professional_judgement": N_("Professional judgement"),
    "repeat": "Repeat",
}


@dataclass(frozen=True)
class DashSummary:
    latest: DashRecord | None
    criteria: tuple[CriterionMet, ...]
    last_marac: date | None  # the latest Marac that heard the case
    meetings: tuple[dash.MaracMeeting, ...] = ()  # every Marac it was listed at, earliest first


async def summary(tx: Tx, crypto: Crypto, case_id: int, service_id: int, timezone: str, now: datetime) -> DashSummary:
    """The latest DASH and the Marac criteria the case meets today (days as the service's staff count them)."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    latest = await dash.latest(tx, crypto, case_id)
    last_marac = await dash.last_meeting_date(tx, case_id)
    start = today - YEAR if last_marac is None else min(today - YEAR, last_marac)
    since = datetime.combine(start - timedelta(days=1), time(), zone)  # a day early: the zone's offset
    checkins = [(at.astimezone(zone).date(), signals) for at, signals in await dash.checkin_signals(tx, case_id, since)]
    met = marac_criteria(
        answers=latest.answers if latest else None,
        judgement=latest.judgement if latest else None,
        checkins=checkins,
        today=today,
        last_marac=last_marac,
        escalation_incidents=await dash.escalation_incidents(tx, service_id),
    )
    return DashSummary(latest, met, last_marac, tuple(await dash.meetings(tx, crypto, case_id)))
