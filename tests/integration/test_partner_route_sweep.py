"""Review of issue 13, over real HTTP: a partner agency's person tries every route the workspace has (GET and
POST, with a real case reference, share, request and partner ids filled in) and reaches nothing beyond
their shares and their own account; odd share ids are a plain 404 for anyone, never a 500."""

from __future__ import annotations

import re

from aiohttp import web

from bot.web.viewer import partner_may_open
from tests.conftest import World
from tests.integration.test_partner_workspace import leaks, partner_account
from tests.integration.test_share_escalation import shared_case
from tests.webtools import csrf_of, login, person, workspace

PARAM = re.compile(r"\{(\w+)(?::[^{}]*(?:\{[^{}]*\}[^{}]*)*)?\}")


def fill(pattern: str, values: dict[str, str]) -> str:
    return PARAM.sub(lambda m: values.get(m.group(1), "1"), pattern)


async def test_a_partners_person_reaches_nothing_beyond_their_shares_and_account(world: World) -> None:
    share, carl, _, ref = await shared_case(world)
    cm = await partner_account(world, carl, "carl")
    values = {"ref": ref, "share_id": str(share), "id": "1", "pid": str(carl), "person": str(carl), "partner": "1",
              "fmt": "pdf", "token": "x", "key_id": "1", "session_id": "1", "shift_id": "1"}
    async with workspace(world) as client:
        await login(client, world, cm)
        token = await csrf_of(client, "/shares")
        app = client.server.app
        assert isinstance(app, web.Application)
        reached, tried = [], 0
        for route in app.router.routes():
            info = route.resource.get_info() if route.resource else {}
            pattern = info.get("formatter") or info.get("path")
            if not pattern or route.method not in ("GET", "POST") or pattern.startswith("/static"):
                continue
            path = fill(pattern, values)
            if partner_may_open(path) or path.startswith(("/login", "/invite", "/webhook", "/healthz", "/telegram",
                                                          "/twilio", "/sms")):
                continue
            if route.method == "GET":
                resp = await client.get(path, allow_redirects=False)
            else:
                resp = await client.post(path, data={"_csrf": token}, allow_redirects=False)
            body = await resp.text()
            tried += 1
            if (resp.status < 400 and resp.status != 303) or leaks(body, ref):
                reached.append(f"{route.method} {path} {resp.status}")
            assert resp.status < 500, f"{route.method} {path}: {resp.status}"
        assert reached == [] and tried > 60  # every staff page, case page and form, DASH and Marac included


async def test_odd_share_ids_are_a_plain_not_found(world: World) -> None:
    _, carl, _, _ = await shared_case(world)
    cm = await partner_account(world, carl, "carl")
    idva = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    odd = ("S-0", "S-99999999999999", "S-abc", "S-", "S--1", "S-1.5", "s-1", "S-%00", "S-1%0A", "0", "S-999999999999")
    for who in (cm, idva):
        async with workspace(world) as client:
            await login(client, world, who)
            token = await csrf_of(client, "/account")
            for tail in odd:
                for method, suffix in (("GET", ""), ("POST", "/ack"), ("POST", "/action")):
                    url = f"/shares/{tail}{suffix}"
                    if method == "GET":
                        resp = await client.get(url, allow_redirects=False)
                    else:
                        resp = await client.post(url, data={"_csrf": token, "action": "other"}, allow_redirects=False)
                    text = await resp.text()
                    assert resp.status in (403, 404, 405), f"{who.login} {method} {url}: {resp.status}"
                    assert "Traceback" not in text and (len(text.strip().splitlines()) <= 1 or "<html" in text)
