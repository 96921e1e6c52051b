"""Review of issue 14, over real HTTP: every route the issue added (reports and their exports and mailing,
purges, erasure, subject access), tried by each staff role that must not reach it, by another service's
manager, by a manager without the CSRF token, and by nobody signed in. None reaches anything, none changes
anything, none is a 500."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient

from bot.commands import erasure as erasure_commands
from tests.caseload_data import enrol, other_service
from tests.conftest import World
from tests.integration.conftest import rows
from tests.webtools import Person, csrf_of, login, person, workspace


def routes(ref: str, purge: int) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("GET", "/manage/reports?month=2026-10", {}),
        ("GET", "/manage/reports.csv?month=2026-10", {}),
        ("GET", "/manage/reports.pdf?month=2026-10", {}),
        ("POST", "/manage/reports/monthly", {"monthly": "on"}),
        ("GET", "/manage/purges", {}),
        ("GET", f"/manage/purges/{purge}", {}),
        ("GET", f"/cases/{ref}/subject-access", {}),
        ("POST", f"/cases/{ref}/subject-access", {"format": "json", "reviewed": ""}),
        ("POST", f"/cases/{ref}/erase", {"reason": "her_request", "confirm": ref}),
    ]


async def tried(client: TestClient, ref: str, purge: int, token: str | None, only_records: bool = False) -> list[str]:
    """The routes reached; `only_records`: just those naming one of our records (another service's manager has
    reports and purges of their own)."""
    reached = []
    for method, path, form in routes(ref, purge):
        if only_records and not (ref in path or path.endswith(f"/{purge}")):
            continue
        if method == "GET":
            resp = await client.get(path, allow_redirects=False)
        else:
            data = {**form, **({"_csrf": token} if token else {})}
            resp = await client.post(path, data=data, allow_redirects=False)
        body = (await resp.read()).decode("utf-8", "replace")
        assert resp.status < 500 and "Traceback" not in body, f"{method} {path}: {resp.status}"
        if resp.status < 300 or (resp.status == 303 and "/login" not in resp.headers.get("Location", "")):
            reached.append(f"{method} {path} {resp.status}")
    return reached


async def state(world: World) -> list[object]:
    return [
        await rows(world.app, "SELECT id, status, erased_at FROM cases ORDER BY id"),
        await rows(world.app, "SELECT * FROM report_subscriptions"),
        await rows(world.app, "SELECT id FROM purges ORDER BY id"),
    ]


async def test_no_one_but_the_services_manager_reaches_the_new_routes(world: World) -> None:
    ref, _ = await enrol(world, "+447700900301", "Nia Target")
    other_ref, _ = await enrol(world, "+447700900302", "Erased Already")
    purge = (await erasure_commands.erase(world.app, world.service_id, other_ref, "her_request", "test")).purge_id
    svc2, _, _ = await other_service(world)
    people: list[Person] = [
        await person(world, "ida", ("idva",), practitioner_id=world.idva),
        await person(world, "dan", ("duty",), practitioner_id=world.duty),
        await person(world, "ada", ("admin",)),
        await person(world, "olga", ("manager",), service_id=svc2),
    ]
    before = await state(world)
    for who in people:
        async with workspace(world) as client:
            await login(client, world, who)
            token = await csrf_of(client, "/account")
            assert await tried(client, ref, purge, token, only_records=who.login == "olga") == [], who.login
    async with workspace(world) as client:  # nobody signed in
        assert await tried(client, ref, purge, None) == []
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:  # the manager, but without the CSRF token: no POST goes through
        await login(client, world, meg)
        for method, path, form in routes(ref, purge):
            if method == "POST":
                resp = await client.post(path, data=form, allow_redirects=False)
                assert resp.status == 403, f"{path}: {resp.status}"
    world.clock.advance(timedelta(minutes=1))  # a new TOTP step: a code is good for one sign-in only
    async with workspace(world) as client:  # the manager's session gone stale (idle past 15 minutes)
        await login(client, world, meg)
        token = await csrf_of(client, "/account")
        world.clock.advance(timedelta(minutes=16))
        assert await tried(client, ref, purge, token) == []
    assert await state(world) == before
