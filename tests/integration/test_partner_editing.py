"""Manage → Partners, changing what is there: a manager changes a partner's agreement (reference, basis, kinds,
personal details, minutes before escalation) and marks or unmarks a duty contact; bad input is one line next to
its field and changes nothing; another service's partner or person is not found; nobody but a manager may."""

from __future__ import annotations

import pytest

from tests.caseload_data import other_service
from tests.conftest import World
from tests.integration.test_workspace_partners import PAGE, add_drive, db_rows, signed_in
from tests.webtools import person, post_form, workspace

NEW_AGREEMENT = {
    "agreement_ref": "ISA-2027-002",
    "basis": "public_task",
    "kinds": ["risk_changes", "urgent_alerts"],
    "personal": "yes",
    "ack_minutes": "15",
}


def form_data(values: dict[str, object]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in values.items():
        out.extend((key, v) for v in (value if isinstance(value, list) else [value]))  # type: ignore[union-attr]
    return out


async def test_a_manager_changes_the_agreement_and_the_duty_contact(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        partner_id = await add_drive(client)
        [carl] = db_rows(world, "SELECT id FROM practitioners WHERE role = 'partner'")
        token_page = await (await client.get(PAGE)).text()
        token = token_page.split('name="_csrf" value="')[1].split('"')[0]
        resp = await client.post(f"{PAGE}/{partner_id}/agreement", data=[*form_data(NEW_AGREEMENT), ("_csrf", token)],
                                 allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith(f"{PAGE}?done=agreement")
        resp = await post_form(client, f"{PAGE}/people/{carl['id']}/duty", {"duty": "no"}, token_from=PAGE)
        assert resp.status == 303 and resp.headers["Location"].startswith(f"{PAGE}?done=duty")
        page = await (await client.get(PAGE)).text()
    assert "ISA-2027-002 · Public task" in page and "15 minutes unacknowledged" in page
    assert "Carl Case-Manager (email, sms)" in page and "Make Carl Case-Manager a duty contact" in page
    [row] = db_rows(world, "SELECT agreement_ref, lawful_basis, kinds, personal_details, ack_minutes FROM partners")
    assert row == {"agreement_ref": "ISA-2027-002", "lawful_basis": "public_task",
                   "kinds": "risk_changes,urgent_alerts", "personal_details": 1, "ack_minutes": 15}
    assert db_rows(world, "SELECT partner_duty FROM practitioners WHERE role = 'partner'") == [{"partner_duty": 0}]
    audit = db_rows(world, "SELECT action, detail FROM audit_log WHERE action IN "
                           "('partner_agreement_changed', 'partner_duty_changed') ORDER BY id")
    assert audit == [
        {"action": "partner_agreement_changed", "detail": f"partner={partner_id} basis=public_task "
                                                          "kinds=risk_changes,urgent_alerts personal_details=1 "
                                                          "ack_minutes=15"},
        {"action": "partner_duty_changed", "detail": f"practitioner={carl['id']} partner={partner_id} duty=0"},
    ]


@pytest.mark.parametrize(
    ("change", "field", "line"),
    [
        ({"agreement_ref": ""}, "agreement", "Give the information-sharing agreement&#39;s reference."),
        ({"basis": "because"}, "basis", "Choose the lawful basis the agreement gives."),
        ({"kinds": ["everything"]}, "kinds", "Choose the kinds of information from the list."),
        ({"ack_minutes": "4"}, "ack", "Give a whole number of minutes from 5 to 10080."),
    ],
)
async def test_a_bad_agreement_field_is_one_line_and_nothing_changes(
    world: World, change: dict[str, object], field: str, line: str
) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        partner_id = await add_drive(client)
        before = db_rows(world, "SELECT * FROM partners")
        token_page = await (await client.get(PAGE)).text()
        token = token_page.split('name="_csrf" value="')[1].split('"')[0]
        resp = await client.post(f"{PAGE}/{partner_id}/agreement",
                                 data=[*form_data({**NEW_AGREEMENT, **change}), ("_csrf", token)])
        page = await resp.text()
    assert resp.status == 400 and f'id="edit_{partner_id}_{field}-error" role="alert">{line}' in page, page
    assert db_rows(world, "SELECT * FROM partners") == before


async def test_another_services_partner_and_person_are_not_found_and_other_roles_are_refused(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        partner_id = await add_drive(client)
    [carl] = db_rows(world, "SELECT id FROM practitioners WHERE role = 'partner'")
    other_svc, _, _ = await other_service(world)
    oscar = await person(world, "oscar", ("manager",), service_id=other_svc)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    before = db_rows(world, "SELECT * FROM partners"), db_rows(world, "SELECT partner_duty FROM practitioners")
    async with workspace(world) as client:
        await signed_in(client, world, oscar)
        resp = await post_form(client, f"{PAGE}/{partner_id}/agreement", {**NEW_AGREEMENT, "kinds": "risk_changes"},
                               token_from=PAGE)
        assert resp.status == 404
        resp = await post_form(client, f"{PAGE}/people/{carl['id']}/duty", {"duty": "no"}, token_from=PAGE)
        assert resp.status == 404
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        resp = await post_form(client, f"{PAGE}/people/{carl['id']}/duty", {"duty": "no"}, token_from="/")
        assert resp.status == 403
        resp = await post_form(client, f"{PAGE}/{partner_id}/agreement", {**NEW_AGREEMENT, "kinds": "risk_changes"},
                               token_from="/")
        assert resp.status == 403
    after = db_rows(world, "SELECT * FROM partners"), db_rows(world, "SELECT partner_duty FROM practitioners")
    assert after == before
