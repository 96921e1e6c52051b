"""Consented sharing with a partner agency, through the real pipeline: a risk rise reaches the linked
Drive case manager by e-mail (real SMTP, STARTTLS) within the same unit of work as the alert, with the
partner's own reference, the level, the reason and the time, and never her words, name or number. No
consent, a withdrawn consent, or an agreement that does not cover it: nothing goes, and nothing is
recorded as shared."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import commands
from safety.sharing import Agreement, Basis, Kind
from storage import partners, practitioners
from storage.practitioners import ChannelAddress
from tests.conftest import World
from tests.fakes.smtp_server import SmtpServer
from tests.integration.conftest import PHONE, answer_all, rows
from tests.integration.test_practitioner_fallback import mail_world

CASE_MANAGER = "cm@drive.example.org"
DRIVE_REF = "DRV-889"
CONSENT_TEXT = "2026-12-partners-v1"


@pytest.fixture
async def w(tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[World]:
    async with mail_world(tmp_path, smtp) as world:
        yield world


async def drive_case_manager(w: World, kinds: frozenset[Kind] = frozenset({Kind.RISK_CHANGES})) -> tuple[int, int]:
    """The Drive team (an agreement covering `kinds`) and its case manager, reached by e-mail."""
    now = w.clock.now()
    async with w.app.db.transaction() as tx:
        agreement = Agreement("ISA-2026-014", Basis.CONSENT, kinds)
        partner_id = await partners.create(tx, w.service_id, "Drive West Mercia", "drive", agreement, now)
        contact = await practitioners.add(
            tx,
            w.app.crypto,
            w.service_id,
            "partner",
            "Carl Case-Manager",
            [ChannelAddress("email", CASE_MANAGER)],
            now,
            partner_id=partner_id,
        )
        await tx.commit()
    return partner_id, contact


async def linked_case(w: World, partner_id: int, contact: int, consent: bool | None) -> tuple[str, int]:
    ref = await w.onboard(PHONE)
    [case] = await rows(w.app, "SELECT id FROM cases WHERE ref = ?", (ref,))
    now = w.clock.now()
    async with w.app.db.transaction() as tx:
        await partners.link(tx, w.app.crypto, case["id"], partner_id, contact, DRIVE_REF, "test", now)
        if consent is not None:
            await partners.record_consent(
                tx, case["id"], partner_id, Kind.RISK_CHANGES, consent, CONSENT_TEXT, "in_person", "test", now
            )
        await tx.commit()
    return ref, case["id"]


async def strangulation_disclosed(w: World, ref: str) -> None:
    await commands.checkin_now(w.app, w.service_id, ref)
    await w.deliver()
    await answer_all(w, ["1", "1", "1", "1", "5"])  # the incident question: choking
    await w.deliver()


def mails_to(smtp: SmtpServer, address: str) -> list[str]:
    return [r.body for r in smtp.received if address in r.rcpt_tos]


async def test_a_risk_rise_reaches_the_linked_drive_case_manager_with_only_the_minimal_content(
    w: World, smtp: SmtpServer
) -> None:
    partner_id, contact = await drive_case_manager(w)
    ref, case_id = await linked_case(w, partner_id, contact, consent=True)
    await strangulation_disclosed(w, ref)

    [share] = await rows(w.app, "SELECT * FROM shares")
    assert (share["case_id"], share["partner_id"], share["contact_id"]) == (case_id, partner_id, contact)
    assert (share["kind"], share["basis"], share["acknowledged_at"]) == ("risk_changes", "consent", None)
    [consent] = await rows(w.app, "SELECT id, text_version FROM partner_consents")
    assert share["consent_id"] == consent["id"] and consent["text_version"] == CONSENT_TEXT
    [alert] = await rows(w.app, "SELECT id FROM alerts")
    assert share["alert_id"] == alert["id"]

    [mail] = mails_to(smtp, CASE_MANAGER)
    assert f"Safecheck share S-{share['id']} for your reference {DRIVE_REF}: strangulation disclosed" in mail
    assert mail.startswith("[URGENT]") and "2026-11-23 09:00 UTC" in mail and f"ACK S-{share['id']}" in mail
    assert "safecheck alerts" not in mail  # a partner has no CLI: the workspace, or a reply from their phone
    for personal in (PHONE, "Test Survivor", ref):
        assert personal not in mail  # not her number, her name, nor even our case reference
    actions = await rows(w.app, "SELECT actor, detail FROM audit_log WHERE action = 'shared'")
    assert actions == [
        {"actor": "system", "detail": f"share={share['id']} partner={partner_id} basis=consent consent={consent['id']}"}
    ]


@pytest.mark.parametrize(
    ("consent", "kinds"),
    [
        (None, frozenset({Kind.RISK_CHANGES})),  # she was never asked
        (False, frozenset({Kind.RISK_CHANGES})),  # she said no
        (True, frozenset({Kind.CHECKIN_SUMMARIES})),  # the agreement does not cover risk changes
    ],
)
async def test_without_her_consent_and_the_agreement_nothing_is_shared(
    w: World, smtp: SmtpServer, consent: bool | None, kinds: frozenset[Kind]
) -> None:
    partner_id, contact = await drive_case_manager(w, kinds)
    ref, _ = await linked_case(w, partner_id, contact, consent=consent)
    await strangulation_disclosed(w, ref)
    assert await rows(w.app, "SELECT id FROM alerts")  # the IDVA is still told
    assert await rows(w.app, "SELECT id FROM shares") == []
    assert mails_to(smtp, CASE_MANAGER) == []


async def test_a_withdrawn_consent_stops_the_next_share(w: World, smtp: SmtpServer) -> None:
    partner_id, contact = await drive_case_manager(w)
    ref, case_id = await linked_case(w, partner_id, contact, consent=True)
    async with w.app.db.transaction() as tx:  # she withdraws it through her IDVA
        await partners.record_consent(
            tx, case_id, partner_id, Kind.RISK_CHANGES, False, CONSENT_TEXT, "through_idva", "test", w.clock.now()
        )
        await tx.commit()
    await strangulation_disclosed(w, ref)
    assert await rows(w.app, "SELECT id FROM shares") == [] and mails_to(smtp, CASE_MANAGER) == []


async def test_a_check_in_summary_goes_only_where_she_agreed_to_summaries(w: World, smtp: SmtpServer) -> None:
    partner_id, contact = await drive_case_manager(w, frozenset({Kind.RISK_CHANGES, Kind.CHECKIN_SUMMARIES}))
    ref, case_id = await linked_case(w, partner_id, contact, consent=False)  # no to risk changes
    async with w.app.db.transaction() as tx:
        await partners.record_consent(
            tx, case_id, partner_id, Kind.CHECKIN_SUMMARIES, True, CONSENT_TEXT, "in_person", "test", w.clock.now()
        )
        await tx.commit()
    await commands.checkin_now(w.app, w.service_id, ref)
    await w.deliver()
    await answer_all(w, ["1", "1", "3", "2", "1", "1", "1", "1", "SKIP"])  # afraid a lot; messages or calls
    await w.deliver()
    [summary] = await rows(w.app, "SELECT * FROM shares")  # the summary, and only that
    assert (summary["kind"], summary["basis"], summary["alert_id"]) == ("checkin_summaries", "consent", None)
    [mail] = mails_to(smtp, CASE_MANAGER)
    assert mail.startswith(
        f"[SUMMARY] Safecheck share S-{summary['id']} for your reference {DRIVE_REF}: "
        "check-in summary: very afraid; contact by phone, message or online"
    )
    assert PHONE not in mail and ref not in mail
    # A summary is not chased: no escalation timers for it.
    assert await rows(w.app, "SELECT id FROM timers WHERE kind = 'share_escalate'") == []


@pytest.mark.parametrize(
    ("agreement_allows", "she_agreed", "shown"),
    [(True, True, True), (True, False, False), (True, None, False), (False, True, False)],
)
async def test_her_name_and_number_are_marked_for_the_partner_only_when_both_the_agreement_and_she_allow(
    w: World, smtp: SmtpServer, agreement_allows: bool, she_agreed: bool | None, shown: bool
) -> None:
    partner_id, contact = await drive_case_manager(w)
    async with w.app.db.transaction() as tx:
        await tx.execute("UPDATE partners SET personal_details = ? WHERE id = ?", (int(agreement_allows), partner_id))
        await tx.commit()
    ref, case_id = await linked_case(w, partner_id, contact, consent=True)
    if she_agreed is not None:
        async with w.app.db.transaction() as tx:
            await partners.record_consent(
                tx,
                case_id,
                partner_id,
                "personal_details",
                she_agreed,
                CONSENT_TEXT,
                "in_person",
                "test",
                w.clock.now(),
            )
            await tx.commit()
    await strangulation_disclosed(w, ref)
    [share] = await rows(w.app, "SELECT content FROM shares")
    assert json.loads(share["content"])["personal_details"] is shown
    [mail] = mails_to(smtp, CASE_MANAGER)
    assert PHONE not in mail and "Test Survivor" not in mail  # never in a message: the workspace shows them


async def test_a_share_that_cannot_be_stored_is_said_loudly_and_her_idva_is_still_alerted(
    w: World, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    partner_id, contact = await drive_case_manager(w)
    ref, case_id = await linked_case(w, partner_id, contact, consent=True)
    async with w.app.db.transaction() as tx:  # e.g. a constraint a migration got wrong: the share fails
        await tx.execute("CREATE TRIGGER refuse_share BEFORE INSERT ON shares BEGIN SELECT RAISE(ABORT, 'no'); END")
        await tx.commit()
    await strangulation_disclosed(w, ref)
    [alert] = await rows(w.app, "SELECT reason FROM alerts")
    assert alert["reason"] == "risk_raised"  # the IDVA's alert stands, and is delivered
    assert await rows(w.app, "SELECT id FROM outbox WHERE recipient = 'practitioner' AND practitioner_id = ?",
                      (w.idva,))
    assert await rows(w.app, "SELECT id FROM shares") == [] and mails_to(smtp, CASE_MANAGER) == []
    assert await rows(w.app, "SELECT id FROM timers WHERE kind = 'share_escalate'") == []  # undone whole
    [failed] = await rows(w.app, "SELECT case_id, detail FROM audit_log WHERE action = 'share_failed'")
    assert failed == {"case_id": case_id, "detail": "IntegrityError"}
    assert "sharing failed; nothing was shared" in caplog.text
