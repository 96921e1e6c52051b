"""SAFECHECK_WORKSPACE_URL over real HTTP: the workspace's origin (CSRF check, passkeys, invitation links)
when staff reach it on another host than the public URL the providers call; and the inbox line's link."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer

from bot.cli.serve import workspace_for
from bot.config import load
from bot.web import make_web_app
from tests.conftest import World
from tests.fakes.smtp_server import SmtpServer
from tests.integration.conftest import inbox
from tests.integration.test_practitioner_fallback import codeword, mail_world
from tests.webtools import csrf_of, login, person, post_form

PUBLIC = "https://hooks.example.org"
WORKSPACE = "https://workspace.example.org"
BOTH = {"SAFECHECK_PUBLIC_URL": PUBLIC, "SAFECHECK_WORKSPACE_URL": WORKSPACE}


@asynccontextmanager
async def served(world: World, env: dict[str, str]) -> AsyncIterator[TestClient]:
    """The workspace as `serve` sets it up from these settings, on 127.0.0.1 (the Host a proxy may pass on)."""
    settings = load(env, db=str(world.settings.db_path), key_file=str(world.settings.key_file))
    server = TestServer(make_web_app(world.app, workspace=workspace_for(settings)), host="127.0.0.1")
    await server.start_server()
    jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
    async with TestClient(server, cookie_jar=jar) as client:
        yield client


async def session_post(client: TestClient, origin: str) -> int:
    token = await csrf_of(client, "/account")
    return (await client.post("/session", headers={"X-CSRF-Token": token, "Origin": origin})).status


async def test_the_workspace_urls_origin_is_accepted_and_the_public_urls_is_refused(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with served(world, BOTH) as client:
        await login(client, world, ida)
        assert await session_post(client, WORKSPACE) == 200
        assert await session_post(client, PUBLIC) == 403  # the webhooks' host is not the workspace's


async def test_without_a_workspace_url_the_public_urls_origin_is_the_workspaces(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with served(world, {"SAFECHECK_PUBLIC_URL": PUBLIC}) as client:
        await login(client, world, ida)
        assert await session_post(client, PUBLIC) == 200
        assert await session_post(client, WORKSPACE) == 403


async def test_passkeys_belong_to_the_workspace_host(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with served(world, BOTH) as client:
        await login(client, world, ida)
        token = await csrf_of(client, "/account")
        resp = await client.post("/account/passkeys/options", json={}, headers={"X-CSRF-Token": token})
        assert resp.status == 200
        assert json.loads(await resp.text())["rp"]["id"] == "workspace.example.org"


async def test_a_managers_invitation_links_to_the_workspace(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    page = "/manage/practitioners"
    async with served(world, BOTH) as client:
        await login(client, world, meg)
        resp = await post_form(client, f"{page}/invite", {"name": "Nia Jones", "role": "duty"}, token_from=page)
        shown = await resp.text()
        assert resp.status == 200, shown
        assert re.search(r'id="invitation-link">https://workspace\.example\.org/invite/[\w-]{43}<', shown)
        assert PUBLIC not in shown


async def test_the_inbox_line_links_to_the_alerts_workspace_page(tmp_path: Path, smtp: SmtpServer) -> None:
    async with mail_world(tmp_path, smtp, idva=("inbox",), workspace_url=WORKSPACE) as world:
        ref = await world.onboard()
        alert_id = await codeword(world)
        assert await inbox(world, world.idva) == [
            f"[URGENT] Case {ref}: codeword. Acknowledge: {WORKSPACE}/alerts/{alert_id}"
        ]
