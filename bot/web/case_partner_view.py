"""The case page's "Partner agencies" section: the case's links (partner, person, their reference), her
latest consent per partner and kind, and every share with its status (when, kind, basis, acknowledged or
not, the partner's action). The forms that change it are in case_partners.py."""

from __future__ import annotations

from typing import Any

from bot.app import App
from bot.web.words import N_
from safety.sharing import ACTION_LABELS
from storage import partners, share_requests
from storage.cases import Case
from storage.db import Tx

# The wording she is read before she agrees; a new wording gets a new version, recorded with each answer.
CONSENT_TEXT_VERSION = "2026-12-partners-v1"
CONSENT_TEXT = N_(
    "You can choose what Safecheck tells this agency, and change your mind at any time by telling me. "
    "If you say yes, it is sent as soon as it happens: their own reference, the level, the reason and the "
    "time. Never your words, and your name and number only if you say yes to that too."
)
CONSENT_KINDS = {
    "risk_changes": N_("Risk-level changes"),
    "urgent_alerts": N_("Urgent alerts"),
    "checkin_summaries": N_("Check-in summaries"),
    "personal_details": N_("Her name and number"),
}
HOW = {"in_person": N_("In person"), "through_idva": N_("Through the IDVA")}
SHARE_KINDS = {**CONSENT_KINDS, "manual": N_("Shared from the workspace")}
# What a share from the workspace sends, per kind (bot/share_content.py).
SHARE_NOW_KINDS = {
    "risk_changes": N_("Her risk level now"),
    "checkin_summaries": N_("Her latest check-in summary"),
    "urgent_alerts": N_("The case's current urgent alert"),
}
REQUEST_STATES = {"pending": "waiting for a second manager", "approved": "approved and sent", "refused": "refused"}
BASES = {
    "consent": N_("Consent"),
    "vital_interests": N_("Vital interests"),
    "public_task": N_("Public task"),
    "safeguarding": N_("Safeguarding"),
}


async def context(tx: Tx, app: App, case: Case) -> dict[str, Any]:
    """What the section shows; read in the page's reading unit."""
    of_service = {p.id: p for p in await partners.of_service(tx, case.service_id)}
    people = {p.id: p for p in await partners.people_of_service(tx, app.crypto, case.service_id)}
    links = await partners.links(tx, app.crypto, case.id)
    for ended in {link.partner_id for link in links} - of_service.keys():  # its agreement ended: still named
        found = await partners.get(tx, ended)
        if found is not None:
            of_service[ended] = found
    return {
        "partners": of_service,
        "partner_people": people,
        "partner_links": links,
        "linked_ids": {link.contact_id for link in links},
        "partner_consents": await partners.latest_consents(tx, case.id),
        "shares": await partners.share_statuses(tx, case.id),
        "action_labels": ACTION_LABELS,
        "share_requests": await share_requests.of_case(tx, app.crypto, case.id),
        "share_request_states": REQUEST_STATES,
        "override_bases": {b: BASES[b] for b in ("vital_interests", "safeguarding", "public_task")},
        "share_now_kinds": SHARE_NOW_KINDS,
        "consent_version": CONSENT_TEXT_VERSION,
        "consent_text": CONSENT_TEXT,
        "consent_kinds": CONSENT_KINDS,
        "consent_how": HOW,
        "share_kinds": SHARE_KINDS,
        "bases": BASES,
    }
