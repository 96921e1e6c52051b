"""Shares made from the workspace, over real HTTP on a real SQLite file (docs/sharing.md).

With her consent, the case's IDVA shares the case's state now with a linked partner's person: it goes at
once the way an automatic share goes (the record, the outbox, the escalation timers) with the
justification on record, encrypted. Without her consent, the IDVA asks, nothing goes, and a second
manager (never the one who asked, never a duty worker or an IDVA) approves it, when it goes flagged with
the override's basis, or refuses it. Bad input is one line next to the form and changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from safety.sharing import Agreement, Basis, Kind
from storage import alerts, partners, practitioners, share_requests
from storage.db import Tx
from storage.practitioners import ChannelAddress
from tests.caseload_data import alert, checkin, enrol, other_service
from tests.conftest import World
from tests.webtools import Person, login, person, post_form, workspace

CM_MAIL = "carl@drive.example.org"
DRIVE_REF = "DRV-889"
WHY = "Drive are visiting him tomorrow and need to know the risk is high."
OVERRIDE_WHY = "He has been seen near her home with a weapon; she cannot be reached."
ALL_KINDS = frozenset({Kind.RISK_CHANGES, Kind.URGENT_ALERTS, Kind.CHECKIN_SUMMARIES})


def db_rows(world: World, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def shares_and_queue(world: World) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every share, and every outbox message queued to a partner's person."""
    queued = db_rows(
        world,
        "SELECT o.* FROM outbox o JOIN practitioners p ON p.id = o.practitioner_id WHERE p.role = 'partner'",
    )
    return db_rows(world, "SELECT * FROM shares"), queued


async def drive_case(
    world: World,
    kinds: frozenset[Kind] = ALL_KINDS,
    consent: tuple[Kind, ...] = (Kind.RISK_CHANGES,),
    details: bool = False,
) -> tuple[str, int, int, int]:
    """Drive (an agreement covering `kinds`) and its case manager, linked to a case of the world's IDVA,
    with her consent for `consent`: (case ref, case id, partner id, contact id)."""
    ref, case_id = await enrol(world, "+447700900001", "Amy Able")
    now = world.clock.now()
    async with world.app.db.transaction() as tx:
        partner_id = await partners.create(
            tx, world.service_id, "Drive West Mercia", "drive",
            Agreement("ISA-2026-014", Basis.CONSENT, kinds, personal_details=details), now,
        )
        contact = await practitioners.add(
            tx, world.app.crypto, world.service_id, "partner", "Carl Case-Manager",
            [ChannelAddress("email", CM_MAIL)], now, partner_id=partner_id,
        )
        await partners.link(tx, world.app.crypto, case_id, partner_id, contact, DRIVE_REF, "test", now)
        for kind in consent:
            await partners.record_consent(tx, case_id, partner_id, kind, True, "2026-12-partners-v1", "in_person",
                                          "test", now)
        if details:  # her name and number may go with consented shares: never with one without consent
            await partners.record_consent(tx, case_id, partner_id, "personal_details", True, "2026-12-partners-v1",
                                          "in_person", "test", now)
        await tx.commit()
    return ref, case_id, partner_id, contact


async def signed_in(client: TestClient, world: World, who: Person) -> TestClient:
    await login(client, world, who)
    return client


async def ida(world: World) -> Person:
    return await person(world, "ida", ("idva",), practitioner_id=world.idva)


def error_of(page: str, key: str) -> str:
    return page.split(f'id="{key}-error" role="alert">')[1].split("</p>")[0]


async def test_a_consented_share_goes_at_once_with_the_justification_on_record(world: World) -> None:
    ref, case_id, partner_id, contact = await drive_case(world)
    await checkin(world, case_id, "s1", world.clock.now() - timedelta(hours=1), level="high")
    path = f"/cases/{ref}"
    async with workspace(world) as client:
        await signed_in(client, world, await ida(world))
        form = {"contact": str(contact), "kind": "risk_changes", "justification": f"  {WHY} "}
        resp = await post_form(client, f"{path}/partners/share", form, token_from=path)
        [share], [queued] = shares_and_queue(world)
        assert resp.status == 303 and resp.headers["Location"] == f"{path}?done=shared#share-{share['id']}"
        page = await (await client.get(path)).text()
    assert (share["case_id"], share["partner_id"], share["contact_id"], share["kind"], share["basis"]) == (
        case_id, partner_id, contact, "risk_changes", "consent"
    )
    assert share["consent_id"] is not None and share["approved_by"] is None
    assert share["requested_by"] == f"practitioner:{world.idva}"
    assert json.loads(share["content"])["level"] == "high"
    message = json.loads(queued["message"])
    assert (queued["practitioner_id"], queued["channel"], message["kind"], message["share_id"]) == (
        contact, "email", "share", share["id"]
    )
    assert (message["reason"], message["level"], message["partner_ref"]) == ("risk_now", "high", DRIVE_REF)
    async with world.app.db.reading() as tx:
        assert await partners.justification(tx, world.app.crypto, share["id"]) == WHY
    raw = world.settings.db_path.read_bytes()
    assert WHY.encode() not in raw and b"Amy Able" not in raw
    # chased like an automatic share: the partner's duty contact, then our managers
    timers = db_rows(world, "SELECT key FROM timers WHERE kind = 'share_escalate' ORDER BY key")
    assert [t["key"] for t in timers] == [f"{share['id']}:1", f"{share['id']}:2"]
    audit = db_rows(world, "SELECT actor, action, detail FROM audit_log WHERE action IN ('shared', 'share_made') "
                           "ORDER BY id")
    assert [a["action"] for a in audit] == ["shared", "share_made"]
    assert audit[1]["actor"] == f"practitioner:{world.idva}"
    assert audit[1]["detail"] == (f"share={share['id']} partner={partner_id} contact={contact} kind=risk_changes "
                                  f"consent={share['consent_id']}")
    assert WHY not in json.dumps(audit)
    row = page.split(f'id="share-{share["id"]}"')[1].split("</tr>")[0]
    assert "from the workspace" in row and "without her consent" not in row


async def test_each_kind_sends_the_case_state_now_in_codes_never_her_words(world: World) -> None:
    ref, case_id, _, contact = await drive_case(world, consent=tuple(ALL_KINDS))
    now = world.clock.now()
    await checkin(world, case_id, "s1", now - timedelta(hours=2), level="raised", signals=("fear_a_lot",))
    async with world.app.db.transaction() as tx:
        await alerts.create(tx, world.service_id, case_id, "urgent", "codeword", now, ("codeword",))
        await tx.commit()
    path = f"/cases/{ref}"
    async with workspace(world) as client:
        await signed_in(client, world, await ida(world))
        for kind in ("checkin_summaries", "urgent_alerts"):
            form = {"contact": str(contact), "kind": kind, "justification": WHY}
            assert (await post_form(client, f"{path}/partners/share", form, token_from=path)).status == 303
    shares, queued = shares_and_queue(world)
    sent = {s["kind"]: json.loads(q["message"]) for s, q in zip(shares, queued, strict=True)}
    assert (sent["checkin_summaries"]["reason"], sent["checkin_summaries"]["level"]) == ("checkin_summary", "raised")
    assert sent["checkin_summaries"]["facts"] == "fear_a_lot"
    assert (sent["urgent_alerts"]["severity"], sent["urgent_alerts"]["reason"]) == ("urgent", "codeword")
    [urgent] = [s for s in shares if s["kind"] == "urgent_alerts"]
    assert urgent["alert_id"] is not None
    # a summary is not chased (as automatic summaries); an urgent alert is
    assert len(db_rows(world, "SELECT id FROM timers WHERE kind = 'share_escalate'")) == 2


@pytest.mark.parametrize(
    ("change", "consent", "line"),
    [
        ({"justification": "  "}, (Kind.RISK_CHANGES,), "Say why you are sharing this now."),
        ({"justification": "x" * 1001}, (Kind.RISK_CHANGES,), "Use at most 1000 printable characters."),
        ({"kind": "gossip"}, (Kind.RISK_CHANGES,), "Choose what kind of information to share."),
        ({"kind": "checkin_summaries"}, (Kind.CHECKIN_SUMMARIES,),
         "The agreement with Drive West Mercia does not allow that kind of information."),
        ({"contact": "999"}, (Kind.RISK_CHANGES,), "Choose one of the people this case is linked to."),
        ({"contact": ""}, (Kind.RISK_CHANGES,), "Choose one of the people this case is linked to."),
        ({}, (), "She has not agreed to share this with Drive West Mercia"),
        ({"kind": "urgent_alerts"}, (Kind.URGENT_ALERTS,), "The case has no unresolved urgent alert to share."),
    ],
)
async def test_a_bad_share_is_one_line_and_nothing_goes(
    world: World, change: dict[str, str], consent: tuple[Kind, ...], line: str
) -> None:
    kinds = frozenset({Kind.RISK_CHANGES, Kind.URGENT_ALERTS})
    ref, _, _, contact = await drive_case(world, kinds=kinds, consent=consent)
    path = f"/cases/{ref}"
    form = {"contact": str(contact), "kind": "risk_changes", "justification": WHY, **change}
    async with workspace(world) as client:
        await signed_in(client, world, await ida(world))
        resp = await post_form(client, f"{path}/partners/share", form, token_from=path)
        page = await resp.text()
    assert resp.status == 400 and error_of(page, "partner_share").startswith(line.replace("'", "&#39;")), page
    assert shares_and_queue(world) == ([], [])
    assert db_rows(world, "SELECT id FROM audit_log WHERE action IN ('shared', 'share_made')") == []


async def test_a_person_of_another_case_cannot_be_shared_with(world: World) -> None:
    _, _, _, contact = await drive_case(world)
    other_ref, _ = await enrol(world, "+447700900002", "Bea Other")  # not linked to anyone
    path = f"/cases/{other_ref}"
    form = {"contact": str(contact), "kind": "risk_changes", "justification": WHY}
    async with workspace(world) as client:
        await signed_in(client, world, await ida(world))
        resp = await post_form(client, f"{path}/partners/share", form, token_from=path)
        assert resp.status == 400
        assert error_of(await resp.text(), "partner_share") == "Choose one of the people this case is linked to."
    assert shares_and_queue(world) == ([], [])


async def test_a_duty_worker_or_another_idva_cannot_share(world: World) -> None:
    ref, case_id, _, contact = await drive_case(world)
    await alert(world, case_id, world.clock.now())  # the duty worker may read it, not change its sharing
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    form = {"contact": str(contact), "kind": "risk_changes", "justification": WHY}
    async with workspace(world) as client:
        await signed_in(client, world, dan)
        page = await (await client.get(f"/cases/{ref}")).text()
        assert "/partners/share" not in page and "/partners/override" not in page
        resp = await post_form(client, f"/cases/{ref}/partners/share", form, token_from=f"/cases/{ref}")
        assert resp.status == 403
        override = {**form, "basis": "vital_interests", "reason": OVERRIDE_WHY}
        resp = await post_form(client, f"/cases/{ref}/partners/override", override, token_from=f"/cases/{ref}")
        assert resp.status == 403
    assert shares_and_queue(world) == ([], [])
    assert db_rows(world, "SELECT id FROM share_requests") == []


async def ask_override(world: World, client: TestClient, ref: str, contact: int, **change: str) -> Any:
    path = f"/cases/{ref}"
    form = {"contact": str(contact), "kind": "risk_changes", "basis": "vital_interests", "reason": OVERRIDE_WHY,
            **change}
    return await post_form(client, f"{path}/partners/override", form, token_from=path)


async def test_a_share_without_consent_waits_and_sends_nothing(world: World) -> None:
    ref, case_id, partner_id, contact = await drive_case(world, consent=())
    async with workspace(world) as client:
        await signed_in(client, world, await ida(world))
        resp = await ask_override(world, client, ref, contact)
        [req] = db_rows(world, "SELECT * FROM share_requests")
        assert resp.status == 303
        assert resp.headers["Location"] == f"/cases/{ref}?done=override_requested#share-request-{req['id']}"
        page = await (await client.get(f"/cases/{ref}")).text()
    assert shares_and_queue(world) == ([], [])
    assert (req["status"], req["basis"], req["kind"], req["requested_by"], req["decided_by"]) == (
        "pending", "vital_interests", "risk_changes", world.idva, None
    )
    assert json.loads(req["content"]) == {"severity": "shared", "reason": "risk_now", "level": "high", "facts": []}
    assert OVERRIDE_WHY.encode() not in world.settings.db_path.read_bytes()
    [logged] = db_rows(world, "SELECT actor, case_id, detail FROM audit_log WHERE action = 'share_override_requested'")
    assert logged == {"actor": f"practitioner:{world.idva}", "case_id": case_id,
                      "detail": f"request={req['id']} partner={partner_id} contact={contact} kind=risk_changes "
                                "basis=vital_interests"}
    row = page.split(f'id="share-request-{req["id"]}"')[1].split("</tr>")[0]
    assert "waiting for a second manager" in row and "Vital interests" in row


@pytest.mark.parametrize(
    ("change", "consent", "line"),
    [
        ({"reason": ""}, (), "Say why this must be shared without her consent."),
        ({"basis": "consent"}, (), "Choose the lawful basis for sharing without her consent."),
        ({"basis": ""}, (), "Choose the lawful basis for sharing without her consent."),
        ({"kind": "checkin_summaries"}, (),
         "The agreement with Drive West Mercia does not allow that kind of information."),
        ({}, (Kind.RISK_CHANGES,), "She has agreed to share this with Drive West Mercia: share it with her consent."),
    ],
)
async def test_a_bad_request_without_consent_is_one_line_and_records_nothing(
    world: World, change: dict[str, str], consent: tuple[Kind, ...], line: str
) -> None:
    ref, _, _, contact = await drive_case(world, kinds=frozenset({Kind.RISK_CHANGES}), consent=consent)
    async with workspace(world) as client:
        await signed_in(client, world, await ida(world))
        resp = await ask_override(world, client, ref, contact, **change)
        page = await resp.text()
    assert resp.status == 400 and error_of(page, "partner_override") == line, page
    assert db_rows(world, "SELECT id FROM share_requests") == []
    assert db_rows(world, "SELECT id FROM audit_log WHERE action = 'share_override_requested'") == []


async def pending_request(world: World, asker: Person, details: bool = False) -> tuple[str, int, int, int]:
    """A request without consent by `asker`: (case ref, case id, contact, request id)."""
    ref, case_id, _, contact = await drive_case(world, consent=(), details=details)
    async with workspace(world) as client:
        await signed_in(client, world, asker)
        assert (await ask_override(world, client, ref, contact)).status == 303
    [req] = db_rows(world, "SELECT id FROM share_requests")
    world.clock.advance(timedelta(minutes=1))  # a fresh authenticator code for whoever signs in next
    return ref, case_id, contact, req["id"]


async def test_the_manager_who_asked_cannot_approve_it(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    _, _, _, request_id = await pending_request(world, meg)
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        page = await (await client.get("/manage/overrides")).text()
        assert f"R-{request_id}" in page and "You asked for this: another manager must decide it." in page
        assert f"/manage/overrides/{request_id}/approve" not in page
        resp = await post_form(client, f"/manage/overrides/{request_id}/approve", {}, token_from="/manage/overrides")
        page = await resp.text()
    assert resp.status == 400 and error_of(page, "override") == (
        f"You asked for R-{request_id}: another manager must decide it."
    )
    assert db_rows(world, "SELECT status FROM share_requests") == [{"status": "pending"}]
    assert shares_and_queue(world) == ([], [])


async def test_a_second_manager_approves_it_and_it_goes_flagged_with_both_on_record(world: World) -> None:
    ref, case_id, contact, request_id = await pending_request(world, await ida(world), details=True)
    max_ = await person(world, "max", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, max_)
        page = await (await client.get("/manage/overrides")).text()
        assert OVERRIDE_WHY in page and "risk level now (level high)" in page and "Amy Able" not in page
        assert f'id="request-{request_id}-consent">not asked<' in page  # the approver sees her answer now
        resp = await post_form(client, f"/manage/overrides/{request_id}/approve", {}, token_from="/manage/overrides")
        assert resp.status == 303 and resp.headers["Location"] == "/manage/overrides?done=approved"
        again = await post_form(client, f"/manage/overrides/{request_id}/approve", {}, token_from="/manage/overrides")
        assert again.status == 400
        assert error_of(await again.text(), "override") == f"Request R-{request_id} was already approved."
        case_page = await (await client.get(f"/cases/{ref}")).text()
    [share], [queued] = shares_and_queue(world)
    assert (share["basis"], share["consent_id"], share["approved_by"], share["requested_by"]) == (
        "vital_interests", None, world.manager, f"practitioner:{world.idva}"
    )
    async with world.app.db.reading() as tx:
        assert await partners.justification(tx, world.app.crypto, share["id"]) == OVERRIDE_WHY
        [req] = await share_requests.of_case(tx, world.app.crypto, case_id)
    assert (req.status, req.decided_by, req.share_id) == ("approved", world.manager, share["id"])
    message = json.loads(queued["message"])
    assert (queued["practitioner_id"], message["share_id"], message["reason"]) == (contact, share["id"], "risk_now")
    assert "Amy" not in queued["message"] and "+4477" not in queued["message"]  # never her name or number
    assert json.loads(share["content"])["personal_details"] is False  # though agreement and consent allow them
    [logged] = db_rows(world, "SELECT actor, detail FROM audit_log WHERE action = 'share_override_approved'")
    assert logged["actor"] == f"practitioner:{world.manager}"
    assert logged["detail"] == (f"request={request_id} share={share['id']} partner={share['partner_id']} "
                                f"kind=risk_changes basis=vital_interests requested_by={world.idva} "
                                f"approved_by={world.manager}")
    row = case_page.split(f'id="share-{share["id"]}"')[1].split("</tr>")[0]
    assert "without her consent, approved by" in row


@pytest.mark.parametrize("roles", [("idva",), ("duty",), ("admin",)])
async def test_only_a_manager_may_decide(world: World, roles: tuple[str, ...]) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    _, _, _, request_id = await pending_request(world, meg)
    who = await person(world, "someone", roles, practitioner_id=world.duty if roles == ("duty",) else None)
    async with workspace(world) as client:
        await signed_in(client, world, who)
        assert (await client.get("/manage/overrides")).status == 403
        for action, form in (("approve", {}), ("refuse", {"why": "no"})):
            resp = await post_form(client, f"/manage/overrides/{request_id}/{action}", form, token_from="/")
            assert resp.status == 403
    assert db_rows(world, "SELECT status FROM share_requests") == [{"status": "pending"}]
    assert shares_and_queue(world) == ([], [])


async def test_a_second_manager_refuses_it_with_a_reason_and_nothing_goes(world: World) -> None:
    _, case_id, _, request_id = await pending_request(world, await ida(world))
    max_ = await person(world, "max", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, max_)
        resp = await post_form(client, f"/manage/overrides/{request_id}/refuse", {"why": " "},
                               token_from="/manage/overrides")
        assert resp.status == 400 and error_of(await resp.text(), "override") == f"Say why you refuse R-{request_id}."
        assert db_rows(world, "SELECT status FROM share_requests") == [{"status": "pending"}]
        resp = await post_form(client, f"/manage/overrides/{request_id}/refuse", {"why": "Not vital: call her first."},
                               token_from="/manage/overrides")
        assert resp.status == 303 and resp.headers["Location"] == "/manage/overrides?done=refused"
        resp = await post_form(client, f"/manage/overrides/{request_id}/approve", {}, token_from="/manage/overrides")
        assert resp.status == 400  # refused is final
    assert shares_and_queue(world) == ([], [])
    [req] = db_rows(world, "SELECT status, decided_by, share_id FROM share_requests")
    assert req == {"status": "refused", "decided_by": world.manager, "share_id": None}
    async with world.app.db.reading() as tx:
        assert await share_requests.refusal(tx, world.app.crypto, request_id) == "Not vital: call her first."
    [logged] = db_rows(world, "SELECT case_id, detail FROM audit_log WHERE action = 'share_override_refused'")
    assert logged == {"case_id": case_id,
                      "detail": f"request={request_id} requested_by={world.idva} refused_by={world.manager}"}


async def test_another_services_manager_cannot_see_or_decide_it(world: World) -> None:
    _, _, _, request_id = await pending_request(world, await ida(world))
    other_svc, _, _ = await other_service(world)
    oli = await person(world, "oli", ("manager",), service_id=other_svc)
    async with workspace(world) as client:
        await signed_in(client, world, oli)
        assert f"R-{request_id}" not in await (await client.get("/manage/overrides")).text()
        resp = await post_form(client, f"/manage/overrides/{request_id}/approve", {}, token_from="/manage/overrides")
        assert resp.status == 404
    assert shares_and_queue(world) == ([], [])


async def test_the_approver_sees_that_she_agreed_since_the_request_was_made(world: World) -> None:
    _, case_id, contact, request_id = await pending_request(world, await ida(world))
    [partner] = db_rows(world, "SELECT partner_id FROM practitioners WHERE id = ?", (contact,))

    async def she_agrees(tx: Tx) -> None:
        await partners.record_consent(
            tx, case_id, partner["partner_id"], "risk_changes", True, "2026-12-partners-v1", "in_person", "test",
            world.clock.now(),
        )
        await tx.commit()

    await world.app.db.run(she_agrees)
    max_ = await person(world, "max", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, max_)
        page = await (await client.get("/manage/overrides")).text()
    assert f'id="request-{request_id}-consent">agreed: share it with her consent instead<' in page
