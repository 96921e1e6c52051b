"""Review of issue 13: Manage → Overrides shows case references and the requester's reasons (free text about
her case), so opening it is audited as the alert queue, the caseload and the shares report are: who looked,
and which requests they saw (ids only, never the reason)."""

from __future__ import annotations

from tests.conftest import World
from tests.integration.test_workspace_shares import db_rows, ida, pending_request, signed_in
from tests.webtools import person, workspace


async def test_opening_the_overrides_page_is_audited_with_ids_only(world: World) -> None:
    _, _, _, request_id = await pending_request(world, await ida(world))
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        page = await (await client.get("/manage/overrides")).text()
    assert f"R-{request_id}" in page
    seen = db_rows(world, "SELECT actor, case_id, detail FROM audit_log WHERE action = 'share_requests_viewed'")
    assert seen == [{"actor": f"practitioner:{world.manager}", "case_id": None, "detail": f"requests={request_id}"}]
