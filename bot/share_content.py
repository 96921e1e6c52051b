"""What a share made from the workspace sends, per kind of information: the case's state now, as codes
that bot/alert_text says in the alerts' words. Never her words, name or number.

- risk level now: the level of her latest complete check-in, else the DASH (intake) level;
- latest check-in summary: that check-in's level and what it showed (fact codes);
- urgent alert: the case's latest unresolved urgent alert, its reason and facts (the share points at it).
"""

from __future__ import annotations

import json

from bot.alert_text import CHECKIN_SUMMARY, RISK_NOW, known_facts
from bot.sharing import Sent
from safety.sharing import Kind
from safety.signals import alert_facts
from storage.cases import Case
from storage.db import Tx

MANUAL = "shared"  # the severity word of a share of her risk level now: not an alert of ours


NOTHING = {
    Kind.RISK_CHANGES: "There is no risk level to share yet.",
    Kind.CHECKIN_SUMMARIES: "She has not completed a check-in yet: there is no summary to share.",
    Kind.URGENT_ALERTS: "The case has no unresolved urgent alert to share.",
}


async def current(tx: Tx, case: Case, kind: Kind) -> Sent | None:
    """What that kind of share would send now; None when there is nothing of that kind."""
    if kind is Kind.URGENT_ALERTS:
        row = await tx.one(
            "SELECT id, reason, signals FROM alerts WHERE case_id = ? AND severity = 'urgent' "
            "AND resolved_at IS NULL ORDER BY id DESC LIMIT 1",
            (case.id,),
        )
        if row is None:
            return None
        codes = known_facts([c for c in row["signals"].split(",") if c])
        return Sent(kind.value, "urgent", row["reason"], None, codes, alert_id=row["id"])
    latest = await tx.one(
        "SELECT level, signals FROM assessments WHERE case_id = ? AND complete = 1 ORDER BY id DESC LIMIT 1",
        (case.id,),
    )
    if kind is Kind.CHECKIN_SUMMARIES:
        if latest is None:
            return None
        facts = known_facts(alert_facts(json.loads(latest["signals"]), case.no_contact_order))
        return Sent(kind.value, "summary", CHECKIN_SUMMARY, latest["level"], facts)
    level = latest["level"] if latest else case.intake_level.value
    return Sent(kind.value, MANUAL, RISK_NOW, level, ())
