"""A partner acknowledges a share by reply, or it escalates (pinned clock): after the partner's
`ack_minutes` the share goes to the partner's duty contact, after a second period the IDVA service's
manager is told the partner has not acknowledged it. Only the partner's person it was sent to (or
their duty contact once it escalated) may acknowledge it; a partner's person never acknowledges alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import commands, share_followup
from bot.practitioner_inbound import Answer, handle_practitioner_text
from safety.sharing import Agreement, Basis, Kind
from storage import partners, practitioners
from storage.practitioners import ChannelAddress
from tests.conftest import World
from tests.integration.conftest import PHONE, answer_all, inbox, later, rows

CARL = "+447700900301"  # the Drive case manager the case is linked to
DORA = "+447700900302"  # Drive's duty contact
POLLY = "+447700900303"  # a police officer: another partner
ACK_MINUTES = 20
_n = 0


def pid() -> str:
    global _n
    _n += 1
    return f"sms-{_n}"


async def partner_with_people(
    w: World, name: str, kind: str, people: list[tuple[str, str, bool]]
) -> tuple[int, list[int]]:
    now = w.clock.now()
    async with w.app.db.transaction() as tx:
        agreement = Agreement(f"ISA-{kind}", Basis.CONSENT, frozenset({Kind.RISK_CHANGES}))
        partner_id = await partners.create(tx, w.service_id, name, kind, agreement, now, ack_minutes=ACK_MINUTES)
        ids = [
            await practitioners.add(
                tx,
                w.app.crypto,
                w.service_id,
                "partner",
                person,
                [ChannelAddress("inbox", None), ChannelAddress("sms", number)],
                now,
                partner_id=partner_id,
                partner_duty=duty,
            )
            for person, number, duty in people
        ]
        await tx.commit()
    return partner_id, ids


async def shared_case(w: World) -> tuple[int, int, int, str]:
    """Drive (Carl linked, Dora on duty), a consenting survivor, a strangulation disclosed: share, carl, dora, ref."""
    drive, [carl, dora] = await partner_with_people(
        w, "Drive West Mercia", "drive", [("Carl", CARL, False), ("Dora", DORA, True)]
    )
    ref = await w.onboard(PHONE)
    [case] = await rows(w.app, "SELECT id FROM cases WHERE ref = ?", (ref,))
    async with w.app.db.transaction() as tx:
        await partners.link(tx, w.app.crypto, case["id"], drive, carl, "DRV-889", "test", w.clock.now())
        await partners.record_consent(
            tx, case["id"], drive, Kind.RISK_CHANGES, True, "v1", "in_person", "test", w.clock.now()
        )
        await tx.commit()
    await commands.checkin_now(w.app, w.service_id, ref)
    await w.deliver()
    await answer_all(w, ["1", "1", "1", "1", "5"])  # the incident question: choking
    [share] = await rows(w.app, "SELECT id FROM shares")
    return share["id"], carl, dora, ref


def overdue(lines: list[str]) -> list[str]:
    return [line for line in lines if "has not acknowledged share" in line]


async def test_a_share_acknowledged_in_time_does_not_escalate(world: World) -> None:
    share, carl, dora, _ = await shared_case(world)
    [sent] = await inbox(world, carl)
    assert sent.endswith(f"Acknowledge: reply ACK S-{share}")
    await later(world, timedelta(minutes=ACK_MINUTES - 1))
    reply = await handle_practitioner_text(world.app, "sms", CARL, f"ack s-{share}", pid())
    assert reply == Answer(f"Acknowledged share S-{share}. Thank you.")
    await later(world, timedelta(minutes=3 * ACK_MINUTES))
    assert await inbox(world, dora) == [] and overdue(await inbox(world, world.manager)) == []
    [row] = await rows(world.app, "SELECT acknowledged_at, acknowledged_by FROM shares")
    assert row == {"acknowledged_at": "2026-11-23T09:19:00.000000Z", "acknowledged_by": carl}
    audit = await rows(world.app, "SELECT actor, detail FROM audit_log WHERE action = 'share_acknowledged'")
    assert audit == [{"actor": f"practitioner:{carl}", "detail": f"share={share} partner=1"}]
    again = await handle_practitioner_text(world.app, "sms", CARL, f"ACK {share}", pid())
    assert again == Answer(f"Share S-{share} was already acknowledged.")


async def test_an_unacknowledged_share_goes_to_the_duty_contact_then_to_the_manager(world: World) -> None:
    share, carl, dora, ref = await shared_case(world)
    await later(world, timedelta(minutes=ACK_MINUTES - 1))
    assert await inbox(world, dora) == []
    await later(world, timedelta(minutes=1))
    [to_dora] = await inbox(world, dora)
    assert to_dora == (await inbox(world, carl))[0]  # the same share, with Drive's own reference
    assert "DRV-889" in to_dora and ref not in to_dora
    assert overdue(await inbox(world, world.manager)) == []
    await later(world, timedelta(minutes=ACK_MINUTES))
    [line] = overdue(await inbox(world, world.manager))
    assert (
        line
        == f"[URGENT] Case {ref}: Drive West Mercia has not acknowledged share S-{share} sent 2026-11-23 09:00 UTC."
    )
    assert overdue(await inbox(world, world.idva)) == []
    steps = await rows(
        world.app, "SELECT action, detail FROM audit_log WHERE action LIKE 'share_escalated%' ORDER BY id"
    )
    assert steps == [
        {"action": "share_escalated:partner_duty", "detail": f"share={share}"},
        {"action": "share_escalated:manager", "detail": f"share={share}"},
    ]


async def test_the_duty_contact_may_acknowledge_once_it_escalated_to_them_and_that_stops_it(world: World) -> None:
    share, _, dora, _ = await shared_case(world)
    early = await handle_practitioner_text(world.app, "sms", DORA, f"ACK S-{share}", pid())
    assert early == Answer(f"No share S-{share} was sent to you.")  # not yet theirs
    await later(world, timedelta(minutes=ACK_MINUTES))
    assert await handle_practitioner_text(world.app, "sms", DORA, f"ACK S-{share}", pid()) == Answer(
        f"Acknowledged share S-{share}. Thank you."
    )
    await later(world, timedelta(minutes=2 * ACK_MINUTES))
    assert overdue(await inbox(world, world.manager)) == []
    [row] = await rows(world.app, "SELECT acknowledged_by FROM shares")
    assert row["acknowledged_by"] == dora


async def test_a_partners_person_cannot_acknowledge_an_alert_or_another_partners_share(world: World) -> None:
    share, _, _, ref = await shared_case(world)
    _, [polly] = await partner_with_people(world, "West Mercia Police DAU", "police", [("Polly", POLLY, True)])
    refused = "You can acknowledge only shares sent to you: reply ACK S-<number>."
    assert await handle_practitioner_text(world.app, "sms", CARL, f"ACK {ref}", pid()) == Answer(refused)
    assert await handle_practitioner_text(world.app, "sms", CARL, "ACK C-ZZZZZ", pid()) == Answer(refused)
    assert await handle_practitioner_text(world.app, "sms", POLLY, f"ACK S-{share}", pid()) == Answer(
        f"No share S-{share} was sent to you."
    )
    assert await handle_practitioner_text(world.app, "sms", POLLY, "ACK S-999", pid()) == Answer(
        "No share S-999 was sent to you."
    )
    [alert] = await rows(world.app, "SELECT acknowledged_at FROM alerts")
    [row] = await rows(world.app, "SELECT acknowledged_at FROM shares")
    assert alert["acknowledged_at"] is None and row["acknowledged_at"] is None
    assert await rows(world.app, "SELECT id FROM audit_log WHERE actor = ?", (f"practitioner:{polly}",)) == []


async def test_staff_cannot_acknowledge_a_share_for_the_partner(world: World) -> None:
    share, *_ = await shared_case(world)
    await commands.add_practitioner(world.app, world.service_id, "Ivy", "idva", ["sms:+447700900009"])
    assert await handle_practitioner_text(world.app, "sms", "+447700900009", f"ACK S-{share}", pid()) == Answer(
        f"No share S-{share} was sent to you."
    )


async def test_a_partner_records_what_they_did_with_an_encrypted_note(world: World) -> None:
    share, carl, _, _ = await shared_case(world)
    async with world.app.db.transaction() as tx:
        await share_followup.record_action(
            tx,
            world.app.crypto,
            share,
            carl,
            "perpetrator_visited",
            "Home visit, bail conditions reread",
            world.clock.now(),
        )
        await tx.commit()
    [row] = await rows(world.app, "SELECT action, action_note_enc, acknowledged_by FROM shares")
    assert (row["action"], row["acknowledged_by"]) == ("perpetrator_visited", carl)  # an action acknowledges
    assert b"bail" not in row["action_note_enc"]
    async with world.app.db.reading() as tx:
        assert await partners.action_note(tx, world.app.crypto, share) == "Home visit, bail conditions reread"
    audit = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'share_action_recorded'")
    assert audit == [{"detail": f"share={share} action=perpetrator_visited"}]


async def test_an_action_from_anyone_else_or_an_unknown_code_changes_nothing(world: World) -> None:
    share, carl, _, _ = await shared_case(world)
    _, [polly] = await partner_with_people(world, "West Mercia Police DAU", "police", [("Polly", POLLY, True)])
    async with world.app.db.transaction() as tx:
        with pytest.raises(share_followup.ShareRefused):
            await share_followup.record_action(
                tx, world.app.crypto, share, polly, "no_action_needed", None, world.clock.now()
            )
        with pytest.raises(ValueError, match="unknown action"):
            await share_followup.record_action(tx, world.app.crypto, share, carl, "arrested", None, world.clock.now())
        await tx.commit()
    [row] = await rows(world.app, "SELECT action, acknowledged_at FROM shares")
    assert row == {"action": None, "acknowledged_at": None}


async def test_after_she_withdraws_her_consent_the_share_is_not_re_sent_to_the_duty_contact(world: World) -> None:
    share, _, dora, ref = await shared_case(world)
    [case] = await rows(world.app, "SELECT case_id, partner_id FROM shares")
    async with world.app.db.transaction() as tx:  # she withdraws it through her IDVA, before anyone acknowledged
        await partners.record_consent(
            tx, case["case_id"], case["partner_id"], Kind.RISK_CHANGES, False, "v1",
            "through_idva", "test", world.clock.now(),
        )
        await tx.commit()
    await later(world, timedelta(minutes=ACK_MINUTES))
    assert await inbox(world, dora) == []  # re-sending it would be a new disclosure: not without her consent
    [line] = overdue(await inbox(world, world.manager))  # her IDVA's managers are told at once instead
    assert f"S-{share}" in line and ref in line
