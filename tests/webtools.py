"""Workspace test helpers: a logged-in aiohttp client on the real web app, over a real SQLite file.

`workspace(world)` serves `make_web_app` on 127.0.0.1 (aiohttp's TestServer) with a cookie jar that
treats that origin as secure, so the `__Host-` cookies travel as a browser's would over TLS.
`person(...)` makes an account through the real storage functions; `login(...)` signs in with the
password and a TOTP code computed from the same secret (the test's authenticator app).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from aiohttp import ClientResponse, CookieJar, web
from aiohttp.test_utils import TestClient, TestServer

from bot.web import make_web_app, passwords, workspace_settings
from bot.web.passwords import hash_password, new_totp_secret
from storage import accounts, practitioners
from storage.db import Tx
from tests.conftest import World

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="_csrf" value="([^"]+)"')
TOTP_KEY = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
OFFER = re.compile(r'name="offer" value="([0-9a-f]+)"')


def offered_key(page: str) -> dict[str, str]:
    """The TOTP key an invitation page offers, with the keyed hash binding it to the invitation: the form's
    `secret` and `offer` fields."""
    key, offer = TOTP_KEY.search(page), OFFER.search(page)
    assert key and offer, f"no TOTP key offered on the page: {page[:200]}"
    return {"secret": key.group(1), "offer": offer.group(1)}


_HASHES: dict[int, str] = {}


async def _password_hash() -> str:
    """PASSWORD hashed once per hasher (tests/conftest.py swaps in a cheap argon2id; `production_hasher` puts
    the real one back): each account stores the same hash string, every sign-in still verifies it with
    argon2, and a hash made by one hasher never makes the other re-hash it at sign-in."""
    hasher = id(passwords.HASHER)
    if hasher not in _HASHES:
        _HASHES[hasher] = await hash_password(PASSWORD)
    return _HASHES[hasher]


@dataclass
class Person:
    practitioner_id: int
    login: str
    password: str
    totp_secret: str
    service_id: int

    def code(self, world: World, steps: int = 0) -> str:
        """The authenticator's code at the app's clock (optionally a later 30-second step)."""
        at = world.clock.now() + timedelta(seconds=30 * steps)
        return pyotp.TOTP(self.totp_secret).at(at)


async def person(
    world: World,
    login: str,
    roles: tuple[str, ...],
    *,
    practitioner_id: int | None = None,
    service_id: int | None = None,
) -> Person:
    """An account for an existing practitioner (or a new one), with the given roles."""
    app = world.app
    now = world.clock.now()
    secret = new_totp_secret()
    hashed = await _password_hash()
    svc = service_id if service_id is not None else world.service_id

    async def make(tx: Tx) -> int:
        pid = practitioner_id
        if pid is None:
            first = next((r for r in roles if r != "admin"), "manager")
            pid = await practitioners.add(tx, app.crypto, svc, first, login.title(), [], now)
        await accounts.set_roles(tx, pid, frozenset(roles))
        await accounts.create_account(tx, app.crypto, pid, login, hashed, secret, now)
        await tx.commit()
        return pid

    pid = await app.db.run(make)
    return Person(pid, login, PASSWORD, secret, svc)


@asynccontextmanager
async def workspace(
    world: World,
    idle_minutes: int = 15,
    absolute_hours: int = 8,
    setup: Callable[[web.Application], None] | None = None,
) -> AsyncIterator[TestClient]:
    """`setup` may put app keys of its own (e.g. a report's test sections) before the server starts."""
    settings = workspace_settings("http://127.0.0.1", idle_minutes, absolute_hours)
    web_app = make_web_app(world.app, workspace=settings)
    if setup is not None:
        setup(web_app)
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
    client = TestClient(server, cookie_jar=jar)
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def csrf_of(client: TestClient, path: str) -> str:
    """The CSRF token a page's forms carry."""
    resp = await client.get(path)
    found = CSRF_FIELD.search(await resp.text())
    assert found, f"no CSRF field on {path} (status {resp.status})"
    return found.group(1)


async def post_form(
    client: TestClient, path: str, data: dict[str, str], *, token_from: str | None = None
) -> ClientResponse:
    """POST a form with the CSRF token of the page it is on (the same path unless told)."""
    token = await csrf_of(client, token_from or path)
    return await client.post(path, data={**data, "_csrf": token}, allow_redirects=False)


async def invitation_form(client: TestClient, world: World, token: str, **fields: str) -> dict[str, str]:
    """An invitation (or reset) page's form, filled in: a login name, the password twice, the page's TOTP key
    and the code an authenticator app shows for it now. `fields` change any of them."""
    page = await (await client.get(f"/invite/{token}")).text()
    key = offered_key(page)
    code = pyotp.TOTP(key["secret"]).at(world.clock.now())
    form = {"login": "nia", "password": PASSWORD, "password_again": PASSWORD, **key, "code": code}
    return {**form, **fields}


async def login(client: TestClient, world: World, who: Person, code: str | None = None) -> None:
    """Sign in fully (password, then TOTP) and check that it worked."""
    resp = await post_form(client, "/login", {"login": who.login, "password": who.password})
    assert resp.status == 303 and resp.headers["Location"] == "/login/second", await resp.text()
    resp = await post_form(client, "/login/second", {"code": code or who.code(world)})
    assert resp.status == 303 and resp.headers["Location"] == "/", await resp.text()
