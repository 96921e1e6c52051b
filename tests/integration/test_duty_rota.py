"""The duty rota decides who the duty rung of the ladder tells and who is on duty to acknowledge."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from aiohttp import CookieJar, web
from aiohttp.test_utils import TestClient, TestServer

from bot import commands
from bot.web import make_web_app, workspace_settings
from bot.web.access import case_for
from bot.web.keys import WORKSPACE_ROUTES_KEY
from storage import accounts, rota
from storage.db import Tx
from tests.conftest import World
from tests.integration.conftest import alerts, inbox, later, rows
from tests.integration.test_escalation import raise_codeword
from tests.webtools import login, person, post_form, workspace


async def shift(world: World, practitioner_id: int, starts: datetime, ends: datetime) -> int:
    async def unit(tx: Tx) -> int:
        shift_id = await rota.add_shift(
            tx, world.service_id, practitioner_id, starts, ends, "practitioner:0", world.clock.now()
        )
        await tx.commit()
        return shift_id

    return await world.app.db.run(unit)


async def second_duty(world: World) -> int:
    return await commands.add_practitioner(world.app, world.service_id, "Dee", "duty", ["inbox"])


async def on_duty_at(world: World, when: datetime) -> list[int]:
    async with world.app.db.reading() as tx:
        return await rota.on_duty(tx, world.service_id, when)


async def test_without_a_rota_every_duty_holder_is_on_duty(world: World) -> None:
    dee = await second_duty(world)
    assert await on_duty_at(world, world.clock.now()) == [world.duty, dee]


async def test_the_rota_puts_only_those_on_shift_on_duty_and_a_gap_falls_back(world: World) -> None:
    dee = await second_duty(world)
    now = world.clock.now()
    await shift(world, dee, now, now + timedelta(hours=8))
    assert await on_duty_at(world, now) == [dee]
    assert await on_duty_at(world, now + timedelta(hours=7, minutes=59)) == [dee]
    # The shift's end is not inside it; in the gap after it, every duty holder is on duty again.
    assert await on_duty_at(world, now + timedelta(hours=8)) == [world.duty, dee]
    assert await on_duty_at(world, now - timedelta(seconds=1)) == [world.duty, dee]
    async with world.app.db.reading() as tx:
        assert await rota.is_on_duty(tx, dee, now)
        assert not await rota.is_on_duty(tx, world.duty, now)
        assert not await rota.is_on_duty(tx, world.idva, now)  # no duty role, no duty


async def test_a_shift_of_someone_without_the_duty_role_or_deactivated_does_not_count(world: World) -> None:
    dee = await second_duty(world)
    now = world.clock.now()
    await shift(world, dee, now, now + timedelta(hours=8))

    async def no_longer_duty(tx: Tx) -> None:
        await accounts.set_roles(tx, dee, frozenset({"idva"}))
        await tx.commit()

    await world.app.db.run(no_longer_duty)
    assert await on_duty_at(world, now) == [world.duty]


async def test_the_duty_rung_tells_only_whoever_the_rota_has_on_duty(world: World) -> None:
    dee = await second_duty(world)
    now = world.clock.now()
    await shift(world, dee, now, now + timedelta(hours=1))
    await raise_codeword(world)
    await later(world, timedelta(minutes=5))
    assert len(await inbox(world, dee)) == 1
    assert await inbox(world, world.duty) == []
    [alert] = await alerts(world)
    assert [(n["role"], n["practitioner"]) for n in alert["notified"]][-1] == ("duty", dee)


async def test_in_a_gap_in_the_rota_the_duty_rung_tells_every_duty_holder(world: World) -> None:
    dee = await second_duty(world)
    now = world.clock.now()
    await shift(world, dee, now + timedelta(hours=2), now + timedelta(hours=10))
    await raise_codeword(world)
    await later(world, timedelta(minutes=5))
    assert len(await inbox(world, dee)) == 1
    assert len(await inbox(world, world.duty)) == 1


async def test_only_the_duty_worker_on_shift_may_acknowledge_an_alert_they_were_not_sent(world: World) -> None:
    dee = await second_duty(world)
    now = world.clock.now()
    await shift(world, dee, now, now + timedelta(hours=1))
    alert_id = await raise_codeword(world)
    with pytest.raises(commands.UserError, match=f"alert {alert_id} was not sent to practitioner {world.duty}"):
        await commands.ack(world.app, alert_id, world.duty)  # off shift
    assert await commands.ack(world.app, alert_id, dee) == f"alert {alert_id} acknowledged"


# --- the rota page, over real HTTP ---------------------------------------------------------------


async def test_a_shift_added_on_the_rota_page_decides_who_the_duty_rung_tells(world: World) -> None:
    dee = await second_duty(world)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        # 09:00 UTC is 09:00 in London in November: a shift from 08:00 to 20:00 covers now.
        form = {"practitioner": str(dee), "day": "2026-11-23", "start": "08:00", "end": "20:00", "weeks": "2"}
        resp = await post_form(client, "/manage/rota", form)
        assert (resp.status, resp.headers["Location"]) == (303, "/manage/rota?done=added")
        page = await (await client.get("/manage/rota")).text()
        assert re.search(r'id="on-duty-now">Dee<', page)
        assert page.count("Remove the shift of Dee") == 2  # this week and the next
    await raise_codeword(world)
    await later(world, timedelta(minutes=5))
    assert len(await inbox(world, dee)) == 1
    assert await inbox(world, world.duty) == []
    [first, _] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'duty_shift_added' ORDER BY id")
    assert json.loads(first["detail"]) == {
        "shift": 1,
        "before": {},
        "after": {
            "practitioner": dee,
            "starts_at": "2026-11-23T08:00:00+00:00",
            "ends_at": "2026-11-23T20:00:00+00:00",
        },
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": "25:00"}, "Give the start time as HH:MM."),
        ({"day": "23/11/2026"}, "Give the date as YYYY-MM-DD."),
        ({"day": "2026-11-20"}, "That shift has already ended."),
        ({"weeks": "13"}, "Repeat for 1 to 12 weeks."),
        ({"practitioner": "1"}, "Choose someone who holds the duty role."),  # Ida is an IDVA
    ],
)
async def test_rota_form_errors_are_one_line_and_add_nothing(
    world: World, change: dict[str, str], message: str
) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        form = {"practitioner": str(world.duty), "day": "2026-11-23", "start": "08:00", "end": "20:00", "weeks": "1"}
        resp = await post_form(client, "/manage/rota", {**form, **change})
        assert resp.status == 400
        assert message in await resp.text()
    assert await rows(world.app, "SELECT id FROM duty_shifts") == []


async def test_removing_a_shift_puts_everyone_with_the_duty_role_back_on_duty(world: World) -> None:
    dee = await second_duty(world)
    now = world.clock.now()
    shift_id = await shift(world, dee, now, now + timedelta(hours=8))
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"/manage/rota/{shift_id}/remove", {}, token_from="/manage/rota")
        assert resp.status == 303
        assert (await post_form(client, "/manage/rota/999/remove", {}, token_from="/manage/rota")).status == 404
    assert await on_duty_at(world, now) == [world.duty, dee]
    [row] = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'duty_shift_removed'")
    assert json.loads(row["detail"])["before"]["practitioner"] == dee


# --- the workspace's Viewer.on_duty comes from the rota ------------------------------------------


async def _open_case(request: web.Request) -> web.Response:
    """A probe page: opens a case through the per-record check every case page uses."""
    case = await case_for(request, request.query["ref"])
    return web.Response(text=case.ref)


async def test_a_duty_worker_opens_a_case_with_an_open_alert_only_while_the_rota_has_them_on_duty(
    world: World,
) -> None:
    dee = await second_duty(world)
    now = world.clock.now()
    await shift(world, dee, now, now + timedelta(hours=1))
    await raise_codeword(world)
    [alert] = await alerts(world)
    ref = alert["case"]
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    dee_login = await person(world, "dee", ("duty",), practitioner_id=dee)
    for who, expected in ((dan, 403), (dee_login, 200)):
        web_app = make_web_app(world.app, workspace=workspace_settings("http://127.0.0.1"))
        web_app[WORKSPACE_ROUTES_KEY].add(id(web_app.router.add_get("/probe", _open_case)))
        server = TestServer(web_app, host="127.0.0.1")
        await server.start_server()
        jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
        async with TestClient(server, cookie_jar=jar) as client:
            await login(client, world, who)
            assert (await client.get(f"/probe?ref={ref}")).status == expected, who.login
