"""Partner agencies in the workspace, over real HTTP on a real SQLite file: managers add partners and their
people (nobody else may); the case's IDVA or a manager links a case and records her consent; a duty worker
without a reason, another IDVA and another service cannot; and a share made on her consent shows on the
case page as not yet acknowledged."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot import commands
from tests.caseload_data import alert, enrol, other_service
from tests.conftest import World
from tests.fakes.smtp_server import SmtpServer
from tests.integration.test_partner_sharing import strangulation_disclosed
from tests.integration.test_practitioner_fallback import mail_world
from tests.webtools import Person, login, person, post_form, workspace

PAGE = "/manage/partners"
DRIVE = {
    "name": "Drive West Mercia",
    "kind": "drive",
    "agreement_ref": "ISA-2026-014",
    "basis": "consent",
    "kinds": "risk_changes",
    "ack_minutes": "30",
}
CM_MAIL = "carl@drive.example.org"
CM = {"name": "Carl Case-Manager", "channels": f"email:{CM_MAIL}\nsms:+447700900555", "duty": "yes"}
DRIVE_REF = "DRV-889"


def db_rows(world: World, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


async def signed_in(client: TestClient, world: World, who: Person) -> TestClient:
    await login(client, world, who)
    return client


async def add_drive(client: TestClient) -> int:
    """As a signed-in manager: the Drive team and its case manager; the partner's id."""
    resp = await post_form(client, PAGE, DRIVE)
    assert resp.status == 303 and resp.headers["Location"] == f"{PAGE}?done=partner", await resp.text()
    page = await (await client.get(PAGE)).text()
    partner_id = int(page.split('id="partner-')[1].split('"')[0])
    resp = await post_form(client, f"{PAGE}/people", {**CM, "partner": str(partner_id)}, token_from=PAGE)
    assert resp.status == 303, await resp.text()
    return partner_id


async def test_a_manager_adds_a_partner_and_its_person_and_the_audit_holds_codes_only(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        assert "/manage/partners" in await (await client.get("/manage")).text()
        partner_id = await add_drive(client)
        page = await (await client.get(PAGE)).text()
    assert "Drive West Mercia" in page and "ISA-2026-014" in page and "30 minutes unacknowledged" in page
    assert "Carl Case-Manager (email, sms, duty contact)" in page
    [partner] = db_rows(world, "SELECT * FROM partners")
    assert (partner["id"], partner["kind"], partner["lawful_basis"], partner["kinds"]) == (
        partner_id, "drive", "consent", "risk_changes"
    )
    [cm] = db_rows(world, "SELECT * FROM practitioners WHERE role = 'partner'")
    assert (cm["partner_id"], cm["partner_duty"]) == (partner_id, 1)
    audit = db_rows(world, "SELECT action, detail FROM audit_log WHERE action LIKE 'partner%' ORDER BY id")
    assert audit == [
        {"action": "partner_added", "detail": f"partner={partner_id} kind=drive basis=consent kinds=risk_changes "
                                              "personal_details=0 ack_minutes=30"},
        {"action": "partner_person_added", "detail": f"practitioner={cm['id']} partner={partner_id} duty=1 "
                                                     "channels=email,sms"},
    ]
    raw = world.settings.db_path.read_bytes()
    assert b"Carl Case-Manager" not in raw and CM_MAIL.encode() not in raw  # names and addresses encrypted


@pytest.mark.parametrize("roles", [("idva",), ("duty",), ("admin",)])
async def test_only_a_manager_may_see_or_change_partners(world: World, roles: tuple[str, ...]) -> None:
    who = await person(world, "someone", roles)
    async with workspace(world) as client:
        await signed_in(client, world, who)
        assert (await client.get(PAGE)).status == 403
        if roles == ("admin",):  # an admin configures the service, but not where her information goes
            assert "/manage/partners" not in await (await client.get("/manage")).text()
        resp = await post_form(client, PAGE, DRIVE, token_from="/")
        assert resp.status == 403
        resp = await post_form(client, f"{PAGE}/people", {**CM, "partner": "1"}, token_from="/")
        assert resp.status == 403
    assert db_rows(world, "SELECT id FROM partners") == []
    assert db_rows(world, "SELECT id FROM practitioners WHERE role = 'partner'") == []


@pytest.mark.parametrize(
    ("path", "change", "key", "line"),
    [
        (PAGE, {"name": ""}, "partner_name", "Give the partner&#39;s name."),
        (PAGE, {"kind": "friends"}, "partner_kind", "Choose what kind of partner this is."),
        (PAGE, {"basis": "because"}, "partner_basis", "Choose the lawful basis the agreement gives."),
        (PAGE, {"kinds": "everything"}, "partner_kinds", "Choose the kinds of information from the list."),
        (PAGE, {"ack_minutes": "0"}, "partner_ack", "Give a whole number of minutes from 5 to 10080."),
        (PAGE, {"ack_minutes": "soon"}, "partner_ack", "Give a whole number of minutes from 5 to 10080."),
        (f"{PAGE}/people", {"channels": ""}, "person_channels", "Give at least one way to reach them"),
        (f"{PAGE}/people", {"channels": "email:not-an-address"}, "person_channels", "Email address must be"),
        (f"{PAGE}/people", {"channels": "log"}, "person_channels", "A partner&#39;s person is reached by email"),
        (f"{PAGE}/people", {"partner": "999"}, "person_partner", "Choose one of the service&#39;s partners."),
        (f"{PAGE}/people", {"name": " "}, "person_name", "Give the person&#39;s name."),
    ],
)
async def test_a_bad_field_is_one_line_next_to_it_and_nothing_is_saved(
    world: World, path: str, change: dict[str, str], key: str, line: str
) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        partner_id = await add_drive(client) if path != PAGE else None
        before = db_rows(world, "SELECT count(*) AS n FROM practitioners")
        form = {**DRIVE, **change} if path == PAGE else {**CM, "partner": str(partner_id), **change}
        resp = await post_form(client, path, form, token_from=PAGE)
        page = await resp.text()
    assert resp.status == 400 and f'id="{key}-error" role="alert">{line}' in page, page
    assert db_rows(world, "SELECT count(*) AS n FROM partners") == [{"n": 1 if partner_id else 0}]
    assert db_rows(world, "SELECT count(*) AS n FROM practitioners") == before


async def test_a_second_partner_of_the_same_name_is_refused(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        await add_drive(client)
        resp = await post_form(client, PAGE, DRIVE)
        assert resp.status == 400 and "The service already has a partner of that name." in await resp.text()
    assert len(db_rows(world, "SELECT id FROM partners")) == 1


async def _drive_and_case(world: World) -> tuple[int, int, str, int, Person]:
    """Drive and its case manager, added by the manager; a case of the world's IDVA. (partner, contact,
    case ref, case id, the IDVA)."""
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        partner_id = await add_drive(client)
    [cm] = db_rows(world, "SELECT id FROM practitioners WHERE role = 'partner'")
    ref, case_id = await enrol(world, "+447700900001", "Amy Able")
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    return partner_id, cm["id"], ref, case_id, ida


async def test_the_idva_links_the_case_and_records_her_consent_and_both_show_on_the_case_page(world: World) -> None:
    partner_id, contact, ref, case_id, ida = await _drive_and_case(world)
    case_path = f"/cases/{ref}"
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        page = await (await client.get(case_path)).text()
        assert "Not linked to any partner." in page and "2026-12-partners-v1" in page
        link = {"contact": str(contact), "partner_ref": DRIVE_REF}
        resp = await post_form(client, f"{case_path}/partners/link", link, token_from=case_path)
        assert resp.status == 303 and resp.headers["Location"] == f"{case_path}?done=partner_linked#partners"
        resp = await post_form(client, f"{case_path}/partners/link", link, token_from=case_path)
        assert resp.status == 400 and "The case is already linked to that person." in await resp.text()
        consent = {"partner": str(partner_id), "kind": "risk_changes", "agreed": "yes", "how": "in_person",
                   "text_version": "2026-12-partners-v1"}
        resp = await post_form(client, f"{case_path}/partners/consent", consent, token_from=case_path)
        assert resp.status == 303
        page = await (await client.get(case_path)).text()
    links = page.split('id="partner-links"')[1].split("</table>")[0]
    assert "Drive West Mercia" in links and "Carl Case-Manager" in links and DRIVE_REF in links
    consents = page.split('id="partner-consents"')[1].split("</table>")[0]
    assert "Risk-level changes" in consents and "<td>yes</td>" in consents and "In person" in consents
    assert "2026-12-partners-v1" in consents
    assert "Nothing has been shared." in page
    [row] = db_rows(world, "SELECT * FROM partner_consents")
    assert (row["case_id"], row["partner_id"], row["kind"], row["agreed"], row["how"], row["recorded_by"]) == (
        case_id, partner_id, "risk_changes", 1, "in_person", f"practitioner:{world.idva}"
    )
    audit = db_rows(world, "SELECT action, case_id, detail FROM audit_log WHERE action IN "
                           "('case_partner_linked', 'partner_consent_recorded') ORDER BY id")
    [link_row] = db_rows(world, "SELECT id FROM case_partner_links")
    assert audit == [
        {"action": "case_partner_linked", "case_id": case_id,
         "detail": f"link={link_row['id']} partner={partner_id} contact={contact}"},
        {"action": "partner_consent_recorded", "case_id": case_id,
         "detail": f"consent={row['id']} partner={partner_id} kind=risk_changes agreed=yes how=in_person "
                   "version=2026-12-partners-v1"},
    ]
    assert DRIVE_REF.encode() not in world.settings.db_path.read_bytes()  # the partner's reference is encrypted


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ({"partner": "999"}, "Choose one of the service&#39;s partners."),
        ({"kind": "gossip"}, "Choose what kind of information her answer is about."),
        ({"agreed": ""}, "Choose yes or no: what she said."),
        ({"how": "by_text"}, "Choose how she gave her answer."),
        ({"text_version": "2025-old"}, "The consent wording has changed"),
    ],
)
async def test_a_bad_consent_form_is_one_line_and_records_nothing(
    world: World, change: dict[str, str], line: str
) -> None:
    partner_id, _, ref, _, ida = await _drive_and_case(world)
    case_path = f"/cases/{ref}"
    consent = {"partner": str(partner_id), "kind": "urgent_alerts", "agreed": "no", "how": "through_idva",
               "text_version": "2026-12-partners-v1", **change}
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        resp = await post_form(client, f"{case_path}/partners/consent", consent, token_from=case_path)
        page = await resp.text()
    assert resp.status == 400 and f'id="partner_consent-error" role="alert">{line}' in page
    assert db_rows(world, "SELECT id FROM partner_consents") == []


async def test_a_duty_worker_without_reason_another_idva_and_another_service_cannot_link_or_record(
    world: World,
) -> None:
    partner_id, contact, ref, _, _ = await _drive_and_case(world)
    bea = await commands.add_practitioner(world.app, world.service_id, "Bea", "idva", ["inbox"])
    other_svc, _, elsewhere = await other_service(world)
    people = [
        (await person(world, "dan", ("duty",), practitioner_id=world.duty), ref, 403),  # no open alert, no reason
        (await person(world, "bea", ("idva",), practitioner_id=bea), ref, 403),  # not her case
        (await person(world, "oli", ("manager",), service_id=other_svc), ref, 404),  # another service's case
        (await person(world, "meg2", ("manager",)), elsewhere, 404),  # our manager, the other service's case
    ]
    link = {"contact": str(contact), "partner_ref": DRIVE_REF}
    consent = {"partner": str(partner_id), "kind": "risk_changes", "agreed": "yes", "how": "in_person",
               "text_version": "2026-12-partners-v1"}
    for who, target, status in people:
        async with workspace(world) as client:
            await signed_in(client, world, who)
            for path, form in (("link", link), ("consent", consent)):
                resp = await post_form(client, f"/cases/{target}/partners/{path}", form, token_from="/cases")
                assert resp.status == status, (who.login, path)
    assert db_rows(world, "SELECT id FROM case_partner_links") == []
    assert db_rows(world, "SELECT id FROM partner_consents") == []


async def test_a_duty_worker_who_may_read_the_case_still_cannot_change_its_sharing(world: World) -> None:
    _, contact, ref, case_id, _ = await _drive_and_case(world)
    await alert(world, case_id, world.clock.now())  # an open alert lets the duty worker read the case
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as client:
        await signed_in(client, world, dan)
        page = await (await client.get(f"/cases/{ref}")).text()
        assert "Partner agencies" in page and "/partners/link" not in page
        link = {"contact": str(contact), "partner_ref": DRIVE_REF}
        resp = await post_form(client, f"/cases/{ref}/partners/link", link, token_from=f"/cases/{ref}")
        assert resp.status == 403
    assert db_rows(world, "SELECT id FROM case_partner_links") == []


@pytest.fixture
async def mw(tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[World]:
    async with mail_world(tmp_path, smtp) as world:
        yield world


async def linked_with_her_consent(world: World) -> tuple[str, Person, dict[str, Any], Person]:
    """Her onboarded case linked by her IDVA in the workspace to Drive's case manager (added by the manager),
    with her consent to risk changes: (case ref, the IDVA, the case manager's row, the manager)."""
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    ref = await world.onboard()
    case_path = f"/cases/{ref}"
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        partner_id = await add_drive(client)
    [cm] = db_rows(world, "SELECT id FROM practitioners WHERE role = 'partner'")
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        link = {"contact": str(cm["id"]), "partner_ref": DRIVE_REF}
        assert (await post_form(client, f"{case_path}/partners/link", link, token_from=case_path)).status == 303
        consent = {"partner": str(partner_id), "kind": "risk_changes", "agreed": "yes", "how": "in_person",
                   "text_version": "2026-12-partners-v1"}
        assert (await post_form(client, f"{case_path}/partners/consent", consent, token_from=case_path)).status == 303
    return ref, ida, cm, meg


async def test_after_her_consent_a_risk_rise_shows_on_the_case_page_as_not_yet_acknowledged(
    mw: World, smtp: SmtpServer
) -> None:
    world = mw
    ref, ida, _, _ = await linked_with_her_consent(world)
    case_path = f"/cases/{ref}"
    await strangulation_disclosed(world, ref)
    [share] = db_rows(world, "SELECT id FROM shares")
    assert any(CM_MAIL in r.rcpt_tos for r in smtp.received)
    world.clock.advance(timedelta(minutes=1))  # a fresh authenticator code: the last one was used
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        page = await (await client.get(case_path)).text()
    shares = page.split('id="shares"')[1].split("</table>")[0]
    row = shares.split(f'id="share-{share["id"]}"')[1].split("</tr>")[0]
    assert f"S-{share['id']}" in shares and "Drive West Mercia (Carl Case-Manager)" in row
    assert "Risk-level changes" in row and "Consent" in row and "not yet acknowledged" in row
    assert "none recorded" in row


async def test_a_partners_person_cannot_be_given_a_staff_role(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        await add_drive(client)
        [carl] = db_rows(world, "SELECT id FROM practitioners WHERE role = 'partner'")
        resp = await post_form(client, f"/manage/practitioners/{carl['id']}/roles", {"role": "idva"},
                               token_from="/manage/practitioners")
        page = await resp.text()
    assert resp.status == 400 and "keeps the partner role only" in page
    assert db_rows(world, "SELECT role FROM practitioner_roles WHERE practitioner_id = ?", (carl["id"],)) == [
        {"role": "partner"}
    ]


async def test_ending_a_link_stops_the_next_share_keeps_the_past_and_a_new_link_starts_again(
    mw: World, smtp: SmtpServer
) -> None:
    world = mw
    ref, ida, cm, _ = await linked_with_her_consent(world)
    case_path = f"/cases/{ref}"
    world.clock.advance(timedelta(minutes=1))  # a fresh authenticator code: the last one was used
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        unlink = {"contact": str(cm["id"])}
        resp = await post_form(client, f"{case_path}/partners/unlink", unlink, token_from=case_path)
        assert resp.status == 303 and resp.headers["Location"] == f"{case_path}?done=partner_unlinked#partners"
        again = await post_form(client, f"{case_path}/partners/unlink", unlink, token_from=case_path)
        assert again.status == 400 and "The case is not linked to that person." in await again.text()
        odd = await post_form(client, f"{case_path}/partners/unlink", {"contact": "²"}, token_from=case_path)
        assert odd.status == 400
        page = await (await client.get(case_path)).text()
    assert "Not linked to any partner." in page.split('id="partner-links"')[1].split("</table>")[0]
    [row] = db_rows(world, "SELECT id, unlinked_at FROM case_partner_links")
    audit = db_rows(world, "SELECT detail FROM audit_log WHERE action = 'case_partner_unlinked'")
    assert row["unlinked_at"] is not None and audit == [{"detail": f"link={row['id']} contact={cm['id']}"}]

    await strangulation_disclosed(world, ref)  # her consent still stands, but the link has ended
    assert db_rows(world, "SELECT id FROM shares") == [] and not any(CM_MAIL in r.rcpt_tos for r in smtp.received)

    world.clock.advance(timedelta(minutes=1))  # a fresh authenticator code: the last one was used
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        relink = {"contact": str(cm["id"]), "partner_ref": "DRV-900"}
        assert (await post_form(client, f"{case_path}/partners/link", relink, token_from=case_path)).status == 303
        page = await (await client.get(case_path)).text()
    links = page.split('id="partner-links"')[1].split("</table>")[0]
    assert "DRV-900" in links and DRIVE_REF not in links
    assert len(db_rows(world, "SELECT id FROM case_partner_links WHERE unlinked_at IS NULL")) == 1


async def test_once_the_agreement_ends_nothing_more_is_shared_with_the_partner(mw: World, smtp: SmtpServer) -> None:
    world = mw
    ref, ida, cm, meg = await linked_with_her_consent(world)
    case_path = f"/cases/{ref}"
    [partner] = db_rows(world, "SELECT id FROM partners")
    end = f"{PAGE}/{partner['id']}/end"
    world.clock.advance(timedelta(minutes=1))  # a fresh authenticator code: the last one was used
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        unconfirmed = await post_form(client, end, {}, token_from=PAGE)
        assert unconfirmed.status == 400
        assert "Tick the box to confirm that the agreement has ended." in await unconfirmed.text()
        assert db_rows(world, "SELECT active FROM partners") == [{"active": 1}]
        resp = await post_form(client, end, {"confirm": "yes"}, token_from=PAGE)
        assert resp.status == 303 and resp.headers["Location"] == f"{PAGE}?done=ended"
        assert (await post_form(client, end, {"confirm": "yes"}, token_from=PAGE)).status == 404  # ended already
        assert "Drive West Mercia" not in await (await client.get(PAGE)).text()
    audit = db_rows(world, "SELECT detail FROM audit_log WHERE action = 'partner_agreement_ended'")
    assert audit == [{"detail": f"partner={partner['id']}"}]

    await strangulation_disclosed(world, ref)  # her consent stands, the link stands: the agreement does not
    assert db_rows(world, "SELECT id FROM shares") == [] and not any(CM_MAIL in r.rcpt_tos for r in smtp.received)
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        page = await (await client.get(case_path)).text()
        manual = {"contact": str(cm["id"]), "kind": "risk_changes", "justification": "She asked us to"}
        refused = await post_form(client, f"{case_path}/partners/share", manual, token_from=case_path)
        assert refused.status == 400
        assert "agreement with Drive West Mercia has ended" in await refused.text()
    assert 'agreement ended: nothing is sent' in page.split('id="partner-links"')[1].split("</table>")[0]
    assert db_rows(world, "SELECT id FROM shares") == []
