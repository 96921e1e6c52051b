"""The alert queue over real HTTP: who sees what, acknowledge and resolve, and the live stream.

Alerts are raised by the real pipeline (a codeword over the simulator) on a real SQLite file; people
sign in with a password and TOTP through the real login pages (tests/webtools.py).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from bot import alerting, commands
from bot.web import alert_stream
from bot.web.access import Access, case_access
from bot.web.viewer import Viewer
from storage import services
from storage.alert_work import Outcome
from tests.conftest import World
from tests.integration.conftest import PHONE, inbox, later, rows, scalar
from tests.integration.test_escalation import raise_codeword
from tests.webtools import Person, csrf_of, login, person, post_form, workspace

OTHER_PHONE = "+447700900456"


async def _signed_in(client: TestClient, world: World, who: Person) -> None:
    await login(client, world, who)


async def _colleague_case(world: World) -> tuple[int, str, int]:
    """A second IDVA with a case of her own that has just raised a codeword alert."""
    colleague = await commands.add_practitioner(world.app, world.service_id, "Ivy", "idva", ["inbox"])
    theirs = replace(world, idva=colleague, _n=1000)  # provider ids of its own
    ref = await theirs.onboard(OTHER_PHONE)
    await theirs.say(OTHER_PHONE, "blue kettle")
    await world.deliver()
    alert_id = await scalar(world.app, "SELECT MAX(id) FROM alerts")
    return colleague, ref, int(alert_id)


async def _page(client: TestClient, path: str) -> tuple[int, str]:
    resp = await client.get(path, allow_redirects=False)
    return resp.status, await resp.text()


def _listed(html: str) -> set[int]:
    return {int(found) for found in re.findall(r'data-alert-id="(\d+)"', html)}


async def _post(client: TestClient, path: str, data: dict[str, str], page: str = "/alerts") -> ClientResponse:
    return await post_form(client, path, data, token_from=page)


async def test_each_role_sees_the_queue_its_access_allows(world: World) -> None:
    own = await raise_codeword(world)
    colleague, _, theirs = await _colleague_case(world)
    people = {
        "ida": await person(world, "ida", ("idva",), practitioner_id=world.idva),
        "ivy": await person(world, "ivy", ("idva",), practitioner_id=colleague),
        "dan": await person(world, "dan", ("duty",), practitioner_id=world.duty),
        "meg": await person(world, "meg", ("manager",), practitioner_id=world.manager),
        "ada": await person(world, "ada", ("admin",)),
    }
    expected = {"ida": {own}, "ivy": {theirs}, "dan": {own, theirs}, "meg": {own, theirs}, "ada": set()}
    for name, who in people.items():
        async with workspace(world) as client:
            await _signed_in(client, world, who)
            status, html = await _page(client, "/alerts")
            assert status == 200 and _listed(html) == expected[name], name
            status, fragment = await _page(client, "/alerts/fragment")
            assert status == 200 and _listed(fragment) == expected[name], name
            assert "<html" not in fragment
    viewed = await rows(world.app, "SELECT actor, detail FROM audit_log WHERE action = 'alert_queue_viewed'")
    assert {"actor": f"practitioner:{world.idva}", "detail": f"alerts={own}"} in viewed
    assert len(viewed) == 2 * len(people)  # every page and every fragment


async def test_the_queue_says_severity_reason_who_was_told_the_rung_and_the_next_one(world: World) -> None:
    alert_id = await raise_codeword(world)
    await later(world, timedelta(minutes=6))
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await _signed_in(client, world, meg)
        _, html = await _page(client, "/alerts")
    item = html[html.index(f'id="alert-{alert_id}"') :]
    assert "URGENT" in item and ": codeword" in item
    assert "Ida (IDVA) at 09:00; Dan (duty) at 09:06" in item
    assert "rung 2 of 3: duty" in item
    assert "manager in 4 min (09:10)" in item
    assert "6 min ago" in item


async def test_acknowledging_in_the_browser_stops_the_ladder_as_an_sms_ack_does(world: World) -> None:
    alert_id = await raise_codeword(world)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await _signed_in(client, world, ida)
        world.clock.advance(timedelta(minutes=2))
        resp = await _post(client, f"/alerts/{alert_id}/ack", {})
        assert (resp.status, resp.headers["Location"]) == (303, f"/alerts#alert-{alert_id}")
        _, html = await _page(client, "/alerts")
        assert "by Ida at 09:02, after 2 min" in html and "the ladder has stopped" in html
    await later(world, timedelta(hours=1))
    assert await inbox(world, world.duty) == []
    assert await inbox(world, world.manager) == []
    [row] = await rows(world.app, "SELECT actor FROM audit_log WHERE action = 'alert_acknowledged'")
    assert row["actor"] == f"practitioner:{world.idva}"


async def test_the_cases_idva_may_acknowledge_an_alert_the_ladder_sent_only_to_duty(
    world: World, tmp_path: Path
) -> None:
    # She was never told (the ladder starts at duty, and a web-only IDVA has no alert channel), yet the
    # alert is in her queue: the one rule (bot.alerting) lets the case's own IDVA acknowledge it.
    policy = tmp_path / "policy.json"
    policy.write_text(
        '{"urgent": [{"after_minutes": 0, "role": "duty"}, {"after_minutes": 5, "role": "manager"}], '
        '"high": [{"after_minutes": 0, "role": "idva"}], "raised": [{"after_minutes": 0, "role": "idva"}]}'
    )
    await commands.configure_service(world.app, world.service_id, alert_policy=str(policy))
    alert_id = await raise_codeword(world)
    assert await inbox(world, world.idva) == []
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await _signed_in(client, world, ida)
        assert (await _post(client, f"/alerts/{alert_id}/ack", {})).status == 303
    assert await scalar(world.app, "SELECT acknowledged_by FROM alerts WHERE id = ?", (alert_id,)) == world.idva
    await later(world, timedelta(minutes=10))
    assert await inbox(world, world.manager) == []


async def test_an_idva_cannot_open_or_act_on_an_alert_outside_her_caseload(world: World) -> None:
    alert_id = await raise_codeword(world)
    colleague = await commands.add_practitioner(world.app, world.service_id, "Ivy", "idva", ["inbox"])
    ivy = await person(world, "ivy", ("idva",), practitioner_id=colleague)
    async with workspace(world) as client:
        await _signed_in(client, world, ivy)
        assert (await _page(client, f"/alerts/{alert_id}"))[0] == 403
        assert (await _post(client, f"/alerts/{alert_id}/ack", {})).status == 403
        assert (await _post(client, f"/alerts/{alert_id}/resolve", {"outcome": "safe"})).status == 403
    [alert] = await rows(world.app, "SELECT acknowledged_at, resolved_at FROM alerts")
    assert alert == {"acknowledged_at": None, "resolved_at": None}
    denied = await rows(world.app, "SELECT actor, case_id FROM audit_log WHERE action = 'case_view_denied'")
    assert len(denied) == 3 and {d["actor"] for d in denied} == {f"practitioner:{colleague}"}
    assert all(d["case_id"] is not None for d in denied)


async def test_another_services_alert_does_not_exist_for_its_manager(world: World) -> None:
    alert_id = await raise_codeword(world)
    async with world.app.db.transaction() as tx:
        other = await services.create(tx, "other", "Another service", world.clock.now())
        await tx.commit()
    olga = await person(world, "olga", ("manager", "duty"), service_id=other)
    async with workspace(world) as client:
        await _signed_in(client, world, olga)
        assert _listed((await _page(client, "/alerts"))[1]) == set()
        assert (await _page(client, f"/alerts/{alert_id}"))[0] == 404
        assert (await _post(client, f"/alerts/{alert_id}/ack", {})).status == 404
        assert (await _post(client, f"/alerts/{alert_id}/resolve", {"outcome": "safe"})).status == 404
        assert (await _page(client, "/alerts/999"))[0] == 404
    [alert] = await rows(world.app, "SELECT acknowledged_at, resolved_at FROM alerts")
    assert alert == {"acknowledged_at": None, "resolved_at": None}
    await later(world, timedelta(minutes=5))
    assert len(await inbox(world, world.duty)) == 1  # the ladder carries on


async def test_resolving_needs_an_outcome_and_says_so_in_one_line(world: World) -> None:
    alert_id = await raise_codeword(world)
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    page = f"/alerts/{alert_id}"
    async with workspace(world) as client:
        await _signed_in(client, world, dan)
        for form, line in (
            ({"note": "tried twice"}, "Choose an outcome."),
            ({"outcome": "made-up"}, "Choose an outcome."),
            ({"outcome": "action"}, "Choose the action taken."),
            ({"outcome": "action", "action": "other"}, "Say in the note what action was taken."),
            ({"outcome": "safe", "note": "x" * 2001}, "Keep the note under 2,000 characters."),
        ):
            resp = await _post(client, f"{page}/resolve", form, page)
            html = await resp.text()
            assert resp.status == 400 and html.count('class="error"') == 1 and line in html, form
        assert 'value="tried twice"' not in html  # the note comes back in its textarea, not an attribute
        [alert] = await rows(world.app, "SELECT acknowledged_at, resolved_at FROM alerts")
        assert alert == {"acknowledged_at": None, "resolved_at": None}

        world.clock.advance(timedelta(minutes=12))
        resp = await _post(client, f"{page}/resolve", {"outcome": "action", "action": "refuge"}, page)
        assert (resp.status, resp.headers["Location"]) == (303, page)
        assert _listed((await _page(client, "/alerts"))[1]) == set()
        again = await _post(client, f"{page}/resolve", {"outcome": "safe"}, page)
        assert again.status == 409 and "already resolved" in await again.text()
    [alert] = await rows(world.app, "SELECT * FROM alerts")
    assert (alert["outcome"], alert["outcome_action"], alert["resolved_by"]) == ("action", "refuge", world.duty)
    assert alert["acknowledged_at"] == alert["resolved_at"]  # resolving acknowledged it: the ladder stopped
    actions = [r["action"] for r in await rows(world.app, "SELECT action FROM audit_log WHERE case_id IS NOT NULL")]
    assert actions[-3:] == ["alert_acknowledged", "alert_resolved", "alert_viewed"]


async def test_the_resolution_note_is_encrypted_at_rest_and_shown_to_those_who_may_see_it(world: World) -> None:
    alert_id = await raise_codeword(world)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    note = "Spoke to her from the pharmacy; safety plan updated"
    page = f"/alerts/{alert_id}"
    async with workspace(world) as client:
        await _signed_in(client, world, ida)
        form = {"outcome": "action", "action": "safety_plan", "note": note}
        assert (await _post(client, f"{page}/resolve", form, page)).status == 303
        status, html = await _page(client, page)
        assert status == 200 and note in html and "Safety plan updated" in html
    blob = await scalar(world.app, "SELECT note_enc FROM alerts WHERE id = ?", (alert_id,))
    assert blob and b"pharmacy" not in blob
    for path in world.settings.db_path.parent.glob("safecheck.db*"):
        assert b"pharmacy" not in path.read_bytes(), path.name
    [audited] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'alert_resolved'")
    assert "pharmacy" not in audited["detail"]


async def _next_event(resp: ClientResponse) -> tuple[str, str]:
    """The next event on a stream (comments and the retry line skipped); ('', '') at its end."""
    name = data = ""
    while True:
        line = (await asyncio.wait_for(resp.content.readline(), timeout=10)).decode()
        if not line:
            return "", ""
        line = line.rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and name:
            return name, data


async def test_the_stream_tells_the_page_when_a_codeword_alert_is_raised(world: World) -> None:
    await world.onboard()
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as client:
        await _signed_in(client, world, dan)
        _, html = await _page(client, "/alerts")
        events = re.search(r'data-events="([^"]+)"', html)
        assert events and _listed(html) == set()
        stream = await client.get(events.group(1).replace("&amp;", "&"))
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.headers["Cache-Control"] == "no-store"
        await world.say(PHONE, "all good, blue kettle")  # the real pipeline, as the simulator sends it
        name, _ = await _next_event(stream)
        assert name == "queue"
        _, fragment = await _page(client, "/alerts/fragment")
        [alert_id] = _listed(fragment)
        # Acknowledging changes the queue again: another event.
        token = await csrf_of(client, "/alerts")
        await client.post(f"/alerts/{alert_id}/ack", data={"_csrf": token}, allow_redirects=False)
        assert (await _next_event(stream))[0] == "queue"
        stream.close()


async def _quiet_ticks(resp: ClientResponse, ticks: int) -> None:
    """Read the stream through `ticks` keepalives (one per poll here), failing on any event meanwhile."""
    while ticks:
        line = (await asyncio.wait_for(resp.content.readline(), timeout=10)).decode()
        assert not line.startswith("event:"), line
        ticks -= line.startswith(": keepalive")


async def test_an_idva_hears_nothing_of_another_idvas_alerts(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alert_stream, "KEEPALIVE_TICKS", 1)  # a keepalive each poll: the test sees it tick
    await world.onboard()
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await _signed_in(client, world, ida)
        _, html = await _page(client, "/alerts")
        events = re.search(r'data-events="([^"]+)"', html)
        assert events
        stream = await client.get(events.group(1))
        await _colleague_case(world)  # an alert, but not hers: the version moves, her queue does not
        await _quiet_ticks(stream, 2)  # a whole poll after it, and no event
        await world.say(PHONE, "blue kettle")  # then one of hers
        assert (await _next_event(stream))[0] == "queue"
        _, fragment = await _page(client, "/alerts/fragment")
        assert len(_listed(fragment)) == 1
        stream.close()


async def test_the_stream_ends_when_the_session_does_and_is_not_activity_itself(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world, idle_minutes=15) as client:
        await _signed_in(client, world, ida)
        stream = await client.get("/alerts/events?v=0")
        world.clock.advance(timedelta(minutes=15))
        assert await _next_event(stream) == ("ended", '"idle"')
        assert await _next_event(stream) == ("", "")
        reason = await scalar(world.app, "SELECT end_reason FROM sessions WHERE stage = 'full'")
        assert reason == "idle"


async def test_an_open_stream_does_not_hold_up_the_server_shutting_down(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await _signed_in(client, world, ida)
        stream = await client.get("/alerts/events?v=0")
        await asyncio.wait_for(client.server.close(), timeout=10)
        assert await _next_event(stream) == ("", "")


async def test_a_case_stays_open_to_duty_staff_until_its_alert_is_resolved(world: World) -> None:
    # Acknowledged is not done: the duty worker who took the alert reads the case to resolve it.
    alert_id = await raise_codeword(world)
    ref = await scalar(world.app, "SELECT ref FROM cases")
    dan = Viewer(world.duty, world.service_id, frozenset({"duty"}), on_duty=True, session_id=0)

    async def access() -> Access:
        async with world.app.db.reading() as tx:
            return (await case_access(tx, dan, ref))[1]

    await commands.ack(world.app, alert_id, world.duty)
    assert await access() is Access.ALLOWED
    async with world.app.db.transaction() as tx:
        await alerting.resolve(tx, world.app.crypto, alert_id, world.duty, Outcome.SAFE, None, None, world.clock.now())
        await tx.commit()
    assert await access() is Access.NEEDS_REASON
