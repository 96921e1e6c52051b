"""The caseload and case pages over real HTTP on a real SQLite file: who reaches which case, search
within the caseload only, the duty worker's reason, notes, pause/resume/close/reassign, and the chart."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from bot import commands
from storage import accounts
from tests.caseload_data import alert, checkin, enrol, other_service
from tests.conftest import START, World
from tests.webtools import Person, login, person, post_form, workspace

NAME_A, NAME_B = "Amy Able", "Bo Brown"


def audit_rows(world: World, action: str | None = None) -> list[dict[str, Any]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        conn.row_factory = sqlite3.Row
        sql = "SELECT * FROM audit_log" + (" WHERE action = ?" if action else "") + " ORDER BY id"
        return [dict(r) for r in conn.execute(sql, (action,) if action else ())]


def refs_on(page: str) -> set[str]:
    return set(re.findall(r'<a href="/cases/(C-[A-Z0-9]+)">', page))


class Team:
    """Two IDVAs with a case each, a duty worker and a manager, all able to sign in."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def build(self) -> Team:
        w = self.world
        bea = await commands.add_practitioner(w.app, w.service_id, "Bea", "idva", ["inbox"])
        self.ida = await person(w, "ida", ("idva",), practitioner_id=w.idva)
        self.bea = await person(w, "bea", ("idva",), practitioner_id=bea)
        self.dan = await person(w, "dan", ("duty",), practitioner_id=w.duty)
        self.meg = await person(w, "meg", ("manager",), practitioner_id=w.manager)
        self.ref_a, self.id_a = await enrol(w, "+447700900001", NAME_A)
        self.ref_b, self.id_b = await enrol(w, "+447700900002", NAME_B, idva=bea)
        return self


async def signed_in(client: TestClient, world: World, who: Person) -> TestClient:
    await login(client, world, who)
    return client


async def test_each_person_sees_their_own_caseload_on_the_cases_page(world: World) -> None:
    team = await Team(world).build()
    await alert(world, team.id_b, START)
    for who, expected in (
        (team.ida, {team.ref_a}),
        (team.bea, {team.ref_b}),
        (team.meg, {team.ref_a, team.ref_b}),
        (team.dan, {team.ref_b}),  # on duty: the case with an open alert
    ):
        async with workspace(world) as client:
            await signed_in(client, world, who)
            resp = await client.get("/cases")
            assert resp.status == 200 and refs_on(await resp.text()) == expected, who.login
    viewed = audit_rows(world, "caseload_viewed")
    assert [r["actor"] for r in viewed] == [f"practitioner:{p.practitioner_id}" for p in (team.ida, team.bea, team.meg, team.dan)]


async def test_idva_a_opening_idva_bs_case_gets_403_and_the_attempt_is_audited(world: World) -> None:
    team = await Team(world).build()
    async with workspace(world) as client:
        await signed_in(client, world, team.ida)
        resp = await client.get(f"/cases/{team.ref_b}")
        assert resp.status == 403 and NAME_B not in await resp.text()
        # Nor can she act on it.
        resp = await post_form(client, f"/cases/{team.ref_b}/notes", {"body": "x"}, token_from="/cases")
        assert resp.status == 403
        assert (await client.get(f"/cases/{team.ref_a}")).status == 200
    denied = audit_rows(world, "case_view_denied")
    assert [(r["actor"], r["case_id"]) for r in denied] == [(f"practitioner:{world.idva}", team.id_b)] * 2
    viewed = audit_rows(world, "case_viewed")
    assert [(r["actor"], r["case_id"]) for r in viewed] == [(f"practitioner:{world.idva}", team.id_a)]
