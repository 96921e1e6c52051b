"""A Drive case manager acknowledges a share by SMS (the real twilio client against the fake Twilio API,
signed webhooks): the share reaches their phone, `ack s-<n>` from their registered number is answered in
one line and stops the escalation to Drive's duty contact; `ACK <case ref>` from them acknowledges no alert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import commands
from safety.sharing import Agreement, Basis, Kind
from storage import partners, practitioners
from storage.practitioners import ChannelAddress
from tests.fakes.sms_harness import PUBLIC_URL, SURVIVOR, SmsWorld, sms_world

CARL = "+447700900301"
DORA = "+447700900302"


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    async with sms_world(tmp_path) as world:
        yield world


async def shared_by_sms(w: SmsWorld) -> tuple[int, str, int]:
    now = w.clock.now()
    ref = await w.onboard()
    [case] = await w.rows("SELECT id FROM cases WHERE ref = ?", (ref,))
    async with w.app.db.transaction() as tx:
        agreement = Agreement("ISA-2026-014", Basis.CONSENT, frozenset({Kind.RISK_CHANGES}))
        drive = await partners.create(tx, w.service_id, "Drive West Mercia", "drive", agreement, now, ack_minutes=15)
        carl, dora = [
            await practitioners.add(
                tx,
                w.app.crypto,
                w.service_id,
                "partner",
                name,
                [ChannelAddress("sms", number)],
                now,
                partner_id=drive,
                partner_duty=duty,
            )
            for name, number, duty in (("Carl", CARL, False), ("Dora", DORA, True))
        ]
        await partners.link(tx, w.app.crypto, case["id"], drive, carl, "DRV-889", "test", now)
        await partners.record_consent(tx, case["id"], drive, Kind.RISK_CHANGES, True, "v1", "in_person", "test", now)
        await tx.commit()
    await commands.checkin_now(w.app, w.service_id, ref)
    await w.deliver()
    for answer in ("1", "1", "1", "1", "5"):  # the incident question: choking
        await w.say(SURVIVOR, answer)
    [share] = await w.rows("SELECT id FROM shares")
    return share["id"], ref, dora


async def test_ack_by_sms_from_the_case_manager_stops_the_escalation(w: SmsWorld) -> None:
    share, ref, _ = await shared_by_sms(w)
    [to_carl] = w.fake.to(CARL)
    assert to_carl.body.startswith(f"[URGENT] Safecheck share S-{share} for your reference DRV-889: ")
    # SAFECHECK_PUBLIC_URL is set (SMS needs it), so the text links to the share in the workspace too.
    assert to_carl.body.endswith(f"Acknowledge: reply ACK S-{share} or at {PUBLIC_URL}/shares/S-{share}")
    assert ref not in to_carl.body and len(to_carl.body) <= 306  # two SMS segments at most

    status, _, answer = await w.text(CARL, f"ack s-{share}")
    assert status == 200
    assert answer == f"<Response><Message>Acknowledged share S-{share}. Thank you.</Message></Response>"
    w.clock.advance(timedelta(minutes=45))
    await w.deliver()
    assert w.fake.to(DORA) == []  # Drive's duty contact is never woken


async def test_without_an_ack_drives_duty_contact_is_texted_and_may_acknowledge(w: SmsWorld) -> None:
    share, _, dora = await shared_by_sms(w)
    w.clock.advance(timedelta(minutes=15))
    await w.deliver()
    [to_dora] = w.fake.to(DORA)
    assert to_dora.body == w.fake.to(CARL)[0].body
    _, _, answer = await w.text(DORA, f"ACK S{share}")
    assert answer == f"<Response><Message>Acknowledged share S-{share}. Thank you.</Message></Response>"
    [row] = await w.rows("SELECT acknowledged_by FROM shares")
    assert row["acknowledged_by"] == dora


async def test_a_case_manager_cannot_acknowledge_the_idvas_alert_by_sms(w: SmsWorld) -> None:
    _, ref, _ = await shared_by_sms(w)
    _, _, answer = await w.text(CARL, f"ACK {ref}")
    refused = "You can acknowledge only shares sent to you: reply ACK S-&lt;number&gt;."
    assert answer == f"<Response><Message>{refused}</Message></Response>"
    assert len(await commands.list_alerts(w.app, w.service_id, open_only=True)) == 1
