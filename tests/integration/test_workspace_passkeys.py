"""Passkeys over real HTTP with a software authenticator (a real ES256 key): add, sign in, refuse, remove."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from aiohttp import ClientResponse, CookieJar
from aiohttp.test_utils import TestClient, TestServer

from bot.web import make_web_app, workspace_settings
from storage import accounts, webauthn_creds
from tests.conftest import World
from tests.fakes.authenticator import SoftAuthenticator
from tests.webtools import PASSWORD, Person, csrf_of, login, person, post_form

ORIGIN = "http://localhost:8080"  # what the browser shows; the test server itself listens on 127.0.0.1


@asynccontextmanager
async def workspace(world: World) -> AsyncIterator[TestClient]:
    server = TestServer(make_web_app(world.app, workspace=workspace_settings(ORIGIN)), host="127.0.0.1")
    await server.start_server()
    client = TestClient(server, cookie_jar=CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/"))))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def post_json(client: TestClient, path: str, body: dict[str, Any], page: str) -> ClientResponse:
    token = await csrf_of(client, page)
    return await client.post(path, json=body, headers={"X-CSRF-Token": token}, allow_redirects=False)


async def add_passkey(
    client: TestClient, device: SoftAuthenticator, name: str = "Work laptop", **kw: str
) -> ClientResponse:
    options = await (await post_json(client, "/account/passkeys/options", {}, "/account")).json()
    answer = json.loads(device.create(options, **kw))
    return await post_json(client, "/account/passkeys", {"name": name, "credential": answer}, "/account")


async def password_step(client: TestClient, who: Person) -> None:
    resp = await post_form(client, "/login", {"login": who.login, "password": who.password})
    assert resp.headers["Location"] == "/login/second"


async def passkey_options(client: TestClient) -> ClientResponse:
    return await post_json(client, "/login/passkey/options", {}, "/login/second")


async def passkey_answer(client: TestClient, answer: str) -> ClientResponse:
    return await post_json(client, "/login/passkey", {"credential": json.loads(answer)}, "/login/second")


async def enrolled(world: World) -> tuple[Person, SoftAuthenticator]:
    """Ida, with a passkey added from her account page (then signed out)."""
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    device = SoftAuthenticator(origin=ORIGIN)
    async with workspace(world) as client:
        await login(client, world, ida)
        resp = await add_passkey(client, device)
        assert resp.status == 200, await resp.text()
    world.clock.advance(timedelta(seconds=30))  # a fresh TOTP step for the next login
    return ida, device


async def actions(world: World, pid: int) -> list[tuple[str, str]]:
    async with world.app.db.reading() as tx:
        rows = await tx.all(
            "SELECT action, detail FROM audit_log WHERE actor = ? ORDER BY id", (f"practitioner:{pid}",)
        )
    return [(r["action"], r["detail"]) for r in rows]


def session_cookie(client: TestClient) -> str:
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))["__Host-safecheck"].value


async def test_a_passkey_added_on_the_account_page_completes_the_second_step(world: World) -> None:
    ida, device = await enrolled(world)
    page_has_button = False
    async with workspace(world) as client:
        await password_step(client, ida)
        page = await (await client.get("/login/second")).text()
        page_has_button = 'id="passkey-login"' in page and "/static/passkeys.js" in page
        half = session_cookie(client)
        options = await (await passkey_options(client)).json()
        assert options["rpId"] == "localhost" and len(options["allowCredentials"]) == 1
        resp = await passkey_answer(client, device.get(options))
        assert (resp.status, await resp.json()) == (200, {"ok": True, "redirect": "/"})
        assert session_cookie(client) != half  # rotated, as after a TOTP code
        account = await client.get("/account", allow_redirects=False)
        assert account.status == 200 and "Work laptop" in await account.text()
    assert page_has_button
    async with world.app.db.reading() as tx:
        [key] = await webauthn_creds.list_for(tx, ida.practitioner_id)
        assert await accounts.session_by_token(tx, half) is None
    assert key.last_used_at == world.clock.now()
    assert [a for a in await actions(world, ida.practitioner_id) if a[0] != "login" or "passkey" in a[1]] == [
        ("passkey_registered", f"passkey={key.id}"),
        ("login", f"passkey={key.id}"),
    ]


async def test_answers_from_another_origin_are_refused_and_audited(world: World) -> None:
    ida, device = await enrolled(world)
    async with workspace(world) as client:
        await login(client, world, ida)
        resp = await add_passkey(client, SoftAuthenticator(origin="http://localhost.evil.example:8080"))
        assert resp.status == 400 and "not added" in (await resp.json())["error"]
    async with workspace(world) as client:
        await password_step(client, ida)
        options = await (await passkey_options(client)).json()
        resp = await passkey_answer(client, device.get(options, origin="http://evil.example"))
        assert resp.status == 401
        assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/login/second"
    async with world.app.db.reading() as tx:
        assert len(await webauthn_creds.list_for(tx, ida.practitioner_id)) == 1
    refused = [
        a for a in await actions(world, ida.practitioner_id) if a[0] in ("passkey_register_failed", "login_failed")
    ]
    assert refused == [("passkey_register_failed", "wrong origin"), ("login_failed", "passkey: wrong origin")]


async def test_a_challenge_works_once_so_a_replayed_answer_is_refused(world: World) -> None:
    ida, device = await enrolled(world)
    async with workspace(world) as client:
        await password_step(client, ida)
        options = await (await passkey_options(client)).json()
        token = await csrf_of(client, "/login/second")
        assert (await client.post("/login/passkey", data=b"junk", headers={"X-CSRF-Token": token})).status == 401
        # That failed attempt used the challenge up: a good answer to it is now refused too.
        assert (await passkey_answer(client, device.get(options))).status == 401
        options = await (await passkey_options(client)).json()
        answer = device.get(options)
        assert (await passkey_answer(client, answer)).status == 200
    async with workspace(world) as client:  # the same answer replayed, after a new password step
        await password_step(client, ida)
        await passkey_options(client)
        assert (await passkey_answer(client, answer)).status == 401
    # Adding a passkey: one challenge, one passkey.
    async with workspace(world) as client:
        await login(client, world, ida)
        options = await (await post_json(client, "/account/passkeys/options", {}, "/account")).json()
        for device, status in ((SoftAuthenticator(origin=ORIGIN), 200), (SoftAuthenticator(origin=ORIGIN), 400)):
            body = {"name": "Key", "credential": json.loads(device.create(options))}
            assert (await post_json(client, "/account/passkeys", body, "/account")).status == status
    refused = [a for a in await actions(world, ida.practitioner_id) if a[0] != "login"]
    assert ("login_failed", "passkey: no pending challenge") in refused
    assert ("passkey_register_failed", "no pending challenge") in refused


async def test_an_expired_challenge_is_refused(world: World) -> None:
    ida, device = await enrolled(world)
    async with workspace(world) as client:
        await password_step(client, ida)
        options = await (await passkey_options(client)).json()
        world.clock.advance(timedelta(minutes=3))
        assert (await passkey_answer(client, device.get(options))).status == 401
    assert ("login_failed", "passkey: challenge expired") in await actions(world, ida.practitioner_id)


async def test_a_sign_count_going_backwards_is_refused(world: World) -> None:
    ida, device = await enrolled(world)
    async with workspace(world) as client:
        await password_step(client, ida)
        assert (
            await passkey_answer(client, device.get(await (await passkey_options(client)).json(), sign_count=7))
        ).status == 200
    async with workspace(world) as client:
        await password_step(client, ida)
        options = await (await passkey_options(client)).json()
        resp = await passkey_answer(client, device.get(options, sign_count=5))  # a clone behind the real key
        assert resp.status == 401
    assert ("login_failed", "passkey: sign count did not increase") in await actions(world, ida.practitioner_id)
    async with world.app.db.reading() as tx:
        found = await webauthn_creds.find(tx, ida.practitioner_id, device.credential_id)
    assert found is not None and found.sign_count == 7


async def test_another_persons_passkey_does_not_sign_in(world: World) -> None:
    ida, _ = await enrolled(world)
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    dans = SoftAuthenticator(origin=ORIGIN)
    async with workspace(world) as client:
        await login(client, world, dan)
        assert (await add_passkey(client, dans)).status == 200
    async with workspace(world) as client:
        await password_step(client, ida)
        options = await (await passkey_options(client)).json()
        options["allowCredentials"] = []  # Dan's authenticator answers anyway
        assert (await passkey_answer(client, dans.get(options))).status == 401
    assert ("login_failed", "passkey: not one of this person's passkeys") in await actions(world, ida.practitioner_id)


async def test_without_a_passkey_the_options_say_so_and_the_code_still_works(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await password_step(client, ida)
        resp = await passkey_options(client)
        assert resp.status == 404 and "not added a passkey" in (await resp.json())["error"]
        assert (await post_form(client, "/login/second", {"code": ida.code(world)})).status == 303


async def test_passkey_requests_need_the_password_step_and_the_csrf_header(world: World) -> None:
    ida, _ = await enrolled(world)
    async with workspace(world) as client:
        # Without the password step: back to the login page.
        token = await csrf_of(client, "/login")
        resp = await client.post(
            "/login/passkey/options", json={}, headers={"X-CSRF-Token": token}, allow_redirects=False
        )
        assert (resp.status, resp.headers["Location"]) == (303, "/login")
        await password_step(client, ida)
        # Without the CSRF header: refused.
        assert (await client.post("/login/passkey/options", json={}, allow_redirects=False)).status == 403
        assert (await client.post("/login/passkey", json={}, allow_redirects=False)).status == 403
        # Adding a passkey needs a full login.
        resp = await post_json(client, "/account/passkeys/options", {}, "/login/second")
        assert (resp.status, resp.headers["Location"]) == (303, "/login/second")


async def test_junk_answers_are_refused_in_one_line_and_failures_slow_down(world: World) -> None:
    ida, device = await enrolled(world)
    async with workspace(world) as client:
        await password_step(client, ida)
        for _ in range(accounts.FREE_FAILURES):
            await passkey_options(client)
            token = await csrf_of(client, "/login/second")
            resp = await client.post("/login/passkey", data=b"not json", headers={"X-CSRF-Token": token})
            assert resp.status == 401 and "did not work" in (await resp.json())["error"]
        resp = await passkey_options(client)
        assert resp.status == 429 and "Wait 2 seconds" in (await resp.json())["error"]
        world.clock.advance(timedelta(seconds=2))
        options = await (await passkey_options(client)).json()
        assert (await passkey_answer(client, device.get(options))).status == 200


async def test_a_passkey_is_renamed_and_removed_only_by_its_owner_with_a_password_or_code(world: World) -> None:
    ida, _ = await enrolled(world)
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with world.app.db.reading() as tx:
        [key] = await webauthn_creds.list_for(tx, ida.practitioner_id)
    async with workspace(world) as client:
        await login(client, world, dan)
        renamed = await post_form(client, f"/account/passkeys/{key.id}/name", {"name": "mine"}, token_from="/account")
        removed = await post_form(
            client, f"/account/passkeys/{key.id}/remove", {"confirm": PASSWORD}, token_from="/account"
        )
        assert renamed.status == removed.status == 404
    async with workspace(world) as client:
        await login(client, world, ida)
        resp = await post_form(
            client, f"/account/passkeys/{key.id}/name", {"name": "  Phone\n "}, token_from="/account"
        )
        assert resp.headers["Location"] == "/account?done=passkey-renamed"
        resp = await post_form(
            client, f"/account/passkeys/{key.id}/remove", {"confirm": "wrong"}, token_from="/account"
        )
        page = await resp.text()
        assert resp.status == 400 and f'id="remove-{key.id}-error"' in page and "not your password" in page
        world.clock.advance(timedelta(seconds=30))
        resp = await post_form(
            client, f"/account/passkeys/{key.id}/remove", {"confirm": ida.code(world)}, token_from="/account"
        )
        assert resp.headers["Location"] == "/account?done=passkey-removed"
    async with world.app.db.reading() as tx:
        assert await webauthn_creds.list_for(tx, ida.practitioner_id) == []
    mine = await actions(world, ida.practitioner_id)
    assert ("passkey_renamed", f"passkey={key.id}") in mine and ("passkey_removed", f"passkey={key.id}") in mine
    assert ("reauth_failed", "passkey_remove") in mine
