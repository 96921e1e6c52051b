"""Review of issue 13, over real HTTP: a number field holding a character Python calls a digit but `int()`
refuses ("²", "①"), or a digit of another script, is one line next to the field (or ignored, for a report
filter), never a 500. `str.isdigit()` says yes to "²"; the partner forms used it as their only check."""

from __future__ import annotations

import pytest

from tests.conftest import World
from tests.integration.test_workspace_shares import drive_case, ida
from tests.webtools import login, person, post_form, workspace

ODD = ("²", "①", "1²", "٣")


@pytest.mark.parametrize("odd", ODD)
async def test_the_case_pages_partner_forms_refuse_an_odd_number(world: World, odd: str) -> None:
    ref, _, partner_id, contact = await drive_case(world)
    path = f"/cases/{ref}"
    forms = {
        "link": {"contact": odd, "partner_ref": "DRV-1"},
        "consent": {"partner": odd, "kind": "risk_changes", "agreed": "yes", "how": "in_person",
                    "text_version": "2026-12-partners-v1"},
        "share": {"contact": odd, "kind": "risk_changes", "justification": "Her risk rose"},
        "override": {"contact": odd, "kind": "risk_changes", "basis": "safeguarding", "reason": "She is at risk"},
    }
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        for name, form in forms.items():
            resp = await post_form(client, f"{path}/partners/{name}", form, token_from=path)
            assert resp.status == 400, f"{name}: {resp.status}"
    assert partner_id and contact


@pytest.mark.parametrize("odd", ODD)
async def test_manage_partners_forms_and_the_shares_report_refuse_an_odd_number(world: World, odd: str) -> None:
    await drive_case(world)
    boss = await person(world, "mo", ("manager",), practitioner_id=world.manager)
    partner = {"name": "Police DAU", "kind": "police", "agreement_ref": "ISA-9", "basis": "public_task",
               "kinds": "risk_changes", "ack_minutes": odd}
    people = {"partner": odd, "name": "Polly", "channels": "email:polly@police.example"}
    async with workspace(world) as client:
        await login(client, world, boss)
        added = await post_form(client, "/manage/partners", partner)
        assert added.status == 400, added.status
        person_added = await post_form(client, "/manage/partners/people", people, token_from="/manage/partners")
        assert person_added.status == 400, person_added.status
        report = await client.get("/manage/shares", params={"partner": odd})
        assert report.status in (200, 400), report.status
        csv = await client.get("/manage/shares.csv", params={"partner": odd})
        assert csv.status in (200, 400), csv.status


async def test_older_pages_refuse_an_odd_number_too(world: World) -> None:
    # The same str.isdigit() check on pages from before issue 13: the case page's event count, the audit
    # log's paging, reassigning a case.
    ref, _, _, _ = await drive_case(world)
    boss = await person(world, "mo", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, boss)
        case = await client.get(f"/cases/{ref}", params={"events": "²"})
        audit = await client.get("/audit", params={"before": "²"})
        moved = await post_form(client, f"/cases/{ref}/reassign", {"idva": "²"}, token_from=f"/cases/{ref}")
        assert (case.status, audit.status, moved.status) == (200, 200, 409)  # 409: the form says why


@pytest.mark.parametrize("day", ["2026-02-30", "²", "20261301", "9999-12-31", "0001-01-01x", "-1"])
async def test_marac_and_dash_forms_take_odd_input_as_one_line(world: World, day: str) -> None:
    ref, _, _, _ = await drive_case(world)
    path = f"/cases/{ref}/marac"
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        meeting = await post_form(client, f"{path}/meetings", {"meeting_date": day, "heard": "yes", "actions": "x\x00"},
                                  token_from=path)
        fields = await post_form(client, path, {"reason": "\x00" * 3, "views": day})
        dash = await post_form(client, f"/cases/{ref}/dash", {"q1": day, "judgement": day})
        downloads = [await client.get(f"/cases/{ref}/marac.{fmt}") for fmt in ("json", "csv")]
    assert meeting.status == 400 and dash.status == 400, (meeting.status, dash.status)
    assert fields.status in (303, 400) and all(d.status == 200 for d in downloads)
