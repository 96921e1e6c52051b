"""The workspace's front door over real HTTP: invitations, two-step login, sessions, CSRF, headers."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import replace
from datetime import timedelta

import pyotp
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer

from bot import commands
from bot.web import devices, make_web_app, workspace_settings
from bot.web.passwords import hash_password
from storage import accounts
from storage.db import Tx
from tests.conftest import World
from tests.webtools import PASSWORD, csrf_of, invitation_form, login, offered_key, person, post_form, workspace


async def test_an_invitation_sets_up_password_totp_and_recovery_codes_then_login_works(world: World) -> None:
    token = await commands.invite(
        world.app, world.service_id, frozenset({"idva", "duty"}), "Nia Jones", actor="os:test"
    )
    async with workspace(world) as client:
        page = await (await client.get(f"/invite/{token}")).text()
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
        assert secret and "Nia Jones" in page and "<svg" in page  # the QR code is inline SVG
        form = {
            "login": "nia@example.org",
            "password": PASSWORD,
            "password_again": PASSWORD,
            **offered_key(page),
            "code": pyotp.TOTP(secret.group(1)).at(world.clock.now()),
        }
        resp = await post_form(client, f"/invite/{token}", form)
        done = await resp.text()
        codes = re.findall(r"<code>([0-9a-f-]{19})</code>", done)
        assert resp.status == 200 and len(codes) == accounts.RECOVERY_CODES
        # The link works once.
        assert (await client.get(f"/invite/{token}")).status == 404
        resp = await post_form(client, "/login", {"login": "NIA@example.org ", "password": PASSWORD})
        assert resp.headers["Location"] == "/login/second"
        resp = await post_form(client, "/login/second", {"code": codes[0]})
        assert (resp.status, resp.headers["Location"]) == (303, "/")
    async with world.app.db.reading() as tx:
        pid = await tx.scalar("SELECT practitioner_id FROM invitations")
        assert await accounts.roles_of(tx, pid) == {"idva", "duty"}
        assert await accounts.recovery_codes_left(tx, pid) == accounts.RECOVERY_CODES - 1
        actions = [
            r["action"] for r in await tx.all("SELECT action FROM audit_log WHERE actor = ?", (f"practitioner:{pid}",))
        ]
    assert actions == ["invitation_accepted", "login"]


async def test_invitation_errors_are_one_line_and_create_nothing(world: World) -> None:
    token = await commands.invite(world.app, world.service_id, frozenset({"idva"}), "Nia", actor="os:test")
    async with workspace(world) as client:
        good = await invitation_form(client, world, token)
        for change, message in (
            ({"password_again": PASSWORD + "x"}, "The two passwords do not match."),
            ({"password": "short", "password_again": "short"}, "Use at least 12 characters"),
            ({"code": "000000"}, "That code does not match"),
            ({"login": ""}, "Choose a login name"),
        ):
            resp = await post_form(client, f"/invite/{token}", {**good, **change})
            assert resp.status == 400 and message in await resp.text()
    async with world.app.db.reading() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM accounts") == 0


async def test_wrong_password_and_unknown_login_get_the_same_answer(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        wrong = await post_form(client, "/login", {"login": ida.login, "password": "not the password"})
        unknown = await post_form(client, "/login", {"login": "nobody", "password": "not the password"})
        assert wrong.status == unknown.status == 401
        strip = lambda html: CSRF.sub("", html).replace("nobody", "ida")  # noqa: E731
        assert strip(await wrong.text()) == strip(await unknown.text())


CSRF = re.compile(r'(name="_csrf" value|name="csrf-token" content)="[^"]+"')


async def test_failed_logins_slow_down_and_then_the_right_password_still_works(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        for _ in range(accounts.FREE_FAILURES):
            assert (await post_form(client, "/login", {"login": "ida", "password": "wrong"})).status == 401
        # Now even the right password waits: the delay is told, there is no lockout.
        resp = await post_form(client, "/login", {"login": "ida", "password": PASSWORD})
        assert resp.status == 429 and "Wait 2 seconds" in await resp.text()
        world.clock.advance(timedelta(seconds=2))
        assert (await post_form(client, "/login", {"login": "ida", "password": "wrong"})).status == 401
        resp = await post_form(client, "/login", {"login": "ida", "password": PASSWORD})
        assert resp.status == 429 and "Wait 4 seconds" in await resp.text()
        world.clock.advance(timedelta(seconds=4))
        await login(client, world, ida)
    # Unknown logins are slowed down alike, so the delay tells nothing either.
    async with workspace(world) as client:
        for _ in range(accounts.FREE_FAILURES + 1):
            resp = await post_form(client, "/login", {"login": "ghost", "password": "wrong"})
        assert resp.status == 429


async def test_a_totp_code_works_once_and_a_wrong_one_is_refused(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
    async with workspace(world) as client:
        await post_form(client, "/login", {"login": "ida", "password": PASSWORD})
        again = await post_form(client, "/login/second", {"code": ida.code(world)})
        assert again.status == 401 and "used already" in await again.text()
        assert (await post_form(client, "/login/second", {"code": "12345"})).status == 401
        # No passkey: no passkey button (it would only fail).
        assert 'id="passkey-login"' not in await (await client.get("/login/second")).text()
        # Before the second factor, nothing but the second-factor page opens.
        resp = await client.get("/", allow_redirects=False)
        assert resp.headers["Location"] == "/login/second"
        world.clock.advance(timedelta(seconds=30))
        assert (await post_form(client, "/login/second", {"code": ida.code(world)})).status == 303


async def test_login_rotates_the_session_token(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await post_form(client, "/login", {"login": "ida", "password": PASSWORD})
        half = client.session.cookie_jar.filter_cookies(client.make_url("/"))["__Host-safecheck"].value
        await post_form(client, "/login/second", {"code": ida.code(world)})
        full = client.session.cookie_jar.filter_cookies(client.make_url("/"))["__Host-safecheck"].value
        assert half != full
    async with world.app.db.reading() as tx:
        assert await accounts.session_by_token(tx, half) is None
        assert (await accounts.session_by_token(tx, full)) is not None
        # Only hashes are stored.
        assert await tx.scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = ?", (full.encode(),)) == 0


async def test_session_cookie_flags_and_security_headers(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        page = await client.get("/login")
        headers = page.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"
        resp = await post_form(client, "/login", {"login": ida.login, "password": ida.password})
        cookie = resp.headers["Set-Cookie"]
        assert cookie.startswith("__Host-safecheck=")
        for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
            assert flag in cookie
        assert "Domain" not in cookie


async def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        resp = await client.post("/logout", data={}, allow_redirects=False)
        assert resp.status == 403
        resp = await client.post("/logout", data={"_csrf": "forged"}, allow_redirects=False)
        assert resp.status == 403
        token = await csrf_of(client, "/login/second")
        resp = await client.post(
            "/logout", data={"_csrf": token}, headers={"Origin": "https://evil.example"}, allow_redirects=False
        )
        assert resp.status == 403
        assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/alerts"  # still signed in
    async with world.app.db.reading() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM sessions WHERE stage = 'full' AND ended_at IS NULL") == 1


async def test_idle_and_absolute_expiry(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world, idle_minutes=15, absolute_hours=8) as client:
        await login(client, world, ida)
        world.clock.advance(timedelta(minutes=14))
        assert (await client.get("/session")).status == 200  # a status check is not activity
        world.clock.advance(timedelta(minutes=1, seconds=1))
        resp = await client.get("/", allow_redirects=False)
        assert resp.headers["Location"] == "/login?ended=idle"
        # Asked again (another tab, or after the alert stream ended it), it still says why.
        resp = await client.get("/", allow_redirects=False)
        assert resp.headers["Location"] == "/login?ended=idle"
        assert "without activity" in await (await client.get("/login?ended=idle")).text()
    async with workspace(world, idle_minutes=15, absolute_hours=8) as client:
        world.clock.advance(timedelta(minutes=1))
        await login(client, world, ida)
        token = await csrf_of(client, "/login/second")
        for _ in range(40):  # active every 15 minutes... but never past 8 hours
            world.clock.advance(timedelta(minutes=14, seconds=59))
            resp = await client.post("/session", headers={"X-CSRF-Token": token}, allow_redirects=False)
            if resp.status != 200:
                break
        assert resp.status == 303 and resp.headers["Location"] == "/login?ended=absolute"
    async with world.app.db.reading() as tx:
        reasons = [
            r["end_reason"] for r in await tx.all("SELECT end_reason FROM sessions WHERE stage = 'full' ORDER BY id")
        ]
    assert reasons == ["idle", "absolute"]


async def test_logout_ends_the_session_server_side(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        token = client.session.cookie_jar.filter_cookies(client.make_url("/"))["__Host-safecheck"].value
        resp = await post_form(client, "/logout", {}, token_from="/login/second")
        assert resp.headers["Location"] == "/login?ended=out"
    async with world.app.db.reading() as tx:
        assert await accounts.session_by_token(tx, token) is None
        # Audited in her service, so its managers see it on their audit page.
        row = await tx.one("SELECT actor, service_id FROM audit_log WHERE action = 'logout'")
    assert (row["actor"], row["service_id"]) == (f"practitioner:{world.idva}", world.service_id)


async def test_login_names_totp_secrets_and_passwords_are_not_readable_in_the_file(world: World) -> None:
    ida = await person(world, "ida.unique.login", ("idva",), practitioner_id=world.idva)
    raw = world.settings.db_path.read_bytes()
    wal = world.settings.db_path.with_name(world.settings.db_path.name + "-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    for secret in (b"ida.unique.login", ida.totp_secret.encode(), PASSWORD.encode()):
        assert secret not in raw
    with sqlite3.connect(world.settings.db_path) as conn:
        stored = conn.execute("SELECT password_hash FROM accounts").fetchone()[0]
    assert stored.startswith("$argon2id$")


async def test_a_reset_link_replaces_password_and_totp_ends_sessions_and_old_codes(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as old_client:
        await login(old_client, world, ida)
        token = await commands.reset_account(world.app, world.service_id, world.idva, actor="os:test")
        async with workspace(world) as client:
            page = await (await client.get(f"/invite/{token}")).text()
            assert 'name="login"' not in page  # a reset keeps the login name
            secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
            assert secret
            new_password = "a brand new long passphrase"
            form = {
                "password": new_password,
                "password_again": new_password,
                **offered_key(page),
                "code": pyotp.TOTP(secret.group(1)).at(world.clock.now()),
            }
            resp = await post_form(client, f"/invite/{token}", form)
            assert resp.status == 200 and "recovery-codes" in await resp.text()
        # The session opened before the reset is over; the old password no longer works, the new one does.
        assert (await old_client.get("/", allow_redirects=False)).headers["Location"] == "/login"
    async with workspace(world) as client:
        assert (await post_form(client, "/login", {"login": "ida", "password": PASSWORD})).status == 401
        world.clock.advance(timedelta(seconds=30))
        ida.password, ida.totp_secret = new_password, secret.group(1)
        await login(client, world, ida)
    async with world.app.db.reading() as tx:
        actions = [r["action"] for r in await tx.all("SELECT action FROM audit_log WHERE action LIKE 'account_reset%'")]
    assert actions == ["account_reset_link", "account_reset_completed"]


async def test_a_reset_for_someone_without_an_account_says_so_in_one_line(world: World) -> None:
    try:
        await commands.reset_account(world.app, world.service_id, world.duty)
    except commands.UserError as exc:
        assert str(exc) == f"practitioner {world.duty} has no workspace account yet: send an invitation instead"
    else:
        raise AssertionError("a reset link was made for a person with no account")


async def test_an_invited_idva_is_told_of_her_cases_alerts_in_the_workspace(world: World) -> None:
    """Someone who signed up by invitation has no phone channel yet: the ladder still counts her as told."""
    token = await commands.invite(world.app, world.service_id, frozenset({"idva"}), "Nia", actor="os:test")
    async with workspace(world) as client:
        form = await invitation_form(client, world, token)
        assert (await post_form(client, f"/invite/{token}", form)).status == 200
    async with world.app.db.reading() as tx:
        nia = int(await tx.scalar("SELECT practitioner_id FROM invitations"))
    theirs = replace(world, idva=nia)
    await theirs.onboard()
    await theirs.say("+447700900123", "blue kettle")
    await world.deliver()
    async with world.app.db.reading() as tx:
        told = [
            (r["role"], r["practitioner_id"])
            for r in await tx.all("SELECT role, practitioner_id FROM alert_notifications")
        ]
    assert told == [("idva", nia)]


async def test_behind_a_proxy_the_configured_origin_is_ours_and_any_other_is_refused(world: World) -> None:
    """TLS in front: the browser says Origin https://safecheck.example.org while the Host that reaches
    serve may be an inner name. The configured origin is accepted; another site's is not."""
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    settings = workspace_settings("https://safecheck.example.org")
    server = TestServer(make_web_app(world.app, workspace=settings), host="127.0.0.1")
    await server.start_server()
    jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
    async with TestClient(server, cookie_jar=jar) as client:
        await login(client, world, ida)
        token = await csrf_of(client, "/login/second")
        session = {"X-CSRF-Token": token}
        refused = await client.post("/session", headers={**session, "Origin": "https://evil.example"})
        assert refused.status == 403
        accepted = await client.post("/session", headers={**session, "Origin": "https://safecheck.example.org"})
        assert accepted.status == 200


async def test_a_stranger_failing_at_her_login_name_does_not_keep_her_out_of_a_device_she_used(world: World) -> None:
    """OWASP's device cookies: failures from elsewhere share the login name's delay; her own browser, which
    she signed in from before, has a delay of its own. A cookie of someone else's, or a forged one, does not."""
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as hers, workspace(world) as stranger, workspace(world) as other:
        await login(hers, world, ida)
        await post_form(hers, "/logout", {}, token_from="/account")
        for _ in range(accounts.FREE_FAILURES + 3):
            await post_form(stranger, "/login", {"login": "ida", "password": "guess"})
        refused = await post_form(stranger, "/login", {"login": "ida", "password": PASSWORD})
        assert refused.status == 429
        # Her browser is not kept waiting.
        assert (await post_form(hers, "/login", {"login": "ida", "password": PASSWORD})).status == 303
        # Dan's device cookie is no pass for Ida's login name, nor is a forged one.
        await login(other, world, dan)
        dans = other.session.cookie_jar.filter_cookies(other.make_url("/"))[devices.COOKIE].value
        far_future = f"{ida.practitioner_id}.999999999999.nonce.mac"  # past the year 9999: still just refused
        as_hers = dans.replace(str(dan.practitioner_id), str(ida.practitioner_id), 1)
        for forged in (dans, as_hers, "1.2.3.4", far_future):
            other.session.cookie_jar.update_cookies({devices.COOKIE: forged}, other.make_url("/"))
            await post_form(other, "/logout", {}, token_from="/account")
            resp = await post_form(other, "/login", {"login": "ida", "password": PASSWORD})
            assert resp.status == 429, forged
        # The control: the same client carrying her own device cookie gets through, so the refusals above
        # were the cookies' doing.
        hers_cookie = hers.session.cookie_jar.filter_cookies(hers.make_url("/"))[devices.COOKIE].value
        other.session.cookie_jar.update_cookies({devices.COOKIE: hers_cookie}, other.make_url("/"))
        assert (await post_form(other, "/login", {"login": "ida", "password": PASSWORD})).status == 303
    # Her device's own failures slow her device down too: it is a delay of its own, not a free pass.
    world.clock.advance(accounts.MAX_DELAY)
    async with workspace(world) as client:
        await login(client, world, ida)
        await post_form(client, "/logout", {}, token_from="/account")
        statuses = [
            (await post_form(client, "/login", {"login": "ida", "password": "wrong"})).status
            for _ in range(accounts.FREE_FAILURES + 1)
        ]
        assert statuses[-1] == 429


async def test_a_new_password_ends_what_her_device_cookies_count_for_and_a_rehash_does_not(world: World) -> None:
    """A re-hash (stronger argon2 parameters, the same password) is made at the password step, before the
    second factor: if it ended her device cookies, knowing her password alone could lock her out."""
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as hers, workspace(world) as stranger:
        await login(hers, world, ida)
        await post_form(hers, "/logout", {}, token_from="/account")
        async with world.app.db.reading() as tx:
            account = await accounts.get_account(tx, world.app.crypto, ida.practitioner_id)
        assert account is not None
        rehashed = await hash_password(PASSWORD)

        async def rehash(tx: Tx) -> None:
            assert await accounts.rehash_password(tx, ida.practitioner_id, account.password_hash, rehashed)
            await tx.commit()

        await world.app.db.run(rehash)
        for _ in range(accounts.FREE_FAILURES + 3):
            await post_form(stranger, "/login", {"login": "ida", "password": "guess"})
        assert (await post_form(hers, "/login", {"login": "ida", "password": PASSWORD})).status == 303
        await post_form(hers, "/login/second", {"code": ida.code(world)})
        await post_form(hers, "/logout", {}, token_from="/account")
        world.clock.advance(timedelta(minutes=1))  # later, she changes her password
        changed = await hash_password(PASSWORD)

        async def new_password(tx: Tx) -> None:
            await accounts.set_password(tx, ida.practitioner_id, changed, world.clock.now())
            await tx.commit()

        await world.app.db.run(new_password)
        for _ in range(accounts.FREE_FAILURES + 3):
            await post_form(stranger, "/login", {"login": "ida", "password": "guess"})
        assert (await post_form(hers, "/login", {"login": "ida", "password": PASSWORD})).status == 429


async def test_a_reset_password_may_not_contain_the_login_name_it_keeps(world: World) -> None:
    await person(world, "zebra.quokka@agency.example", ("idva",), practitioner_id=world.idva)
    token = await commands.reset_account(world.app, world.service_id, world.idva, actor="os:test")
    async with workspace(world) as client:
        page = await (await client.get(f"/invite/{token}")).text()
        key = offered_key(page)
        mine = "zebra.quokka@agency.example-Plum"
        code = pyotp.TOTP(key["secret"]).at(world.clock.now())
        form = {**key, "password": mine, "password_again": mine, "code": code}
        resp = await post_form(client, f"/invite/{token}", form)
        assert resp.status == 400 and "must not contain your login name" in await resp.text()


async def test_a_burst_of_simultaneous_guesses_meets_the_delay_like_guesses_one_by_one(world: World) -> None:
    """The delay is checked and the attempt counted in one step on the writer: requests sent at the same
    moment each see those before them, so a burst of passwords or codes gets no more tries than a queue."""
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        token = await csrf_of(client, "/login")

        async def guess(path: str, field: dict[str, str]) -> int:
            resp = await client.post(path, data={**field, "_csrf": token}, allow_redirects=False)
            return resp.status

        passwords_tried = await asyncio.gather(
            *(guess("/login", {"login": "ida", "password": f"no{n}"}) for n in range(8))
        )
        assert sorted(passwords_tried) == [401] * accounts.FREE_FAILURES + [429] * (8 - accounts.FREE_FAILURES)
    world.clock.advance(accounts.MAX_DELAY)
    async with workspace(world) as client:
        await post_form(client, "/login", {"login": "ida", "password": PASSWORD})
        token = await csrf_of(client, "/login/second")
        codes = [f"{n:06d}" for n in range(8) if f"{n:06d}" != ida.code(world)]
        codes_tried = await asyncio.gather(*(guess("/login/second", {"code": code}) for code in codes))
        assert sorted(codes_tried) == [401] * accounts.FREE_FAILURES + [429] * (len(codes) - accounts.FREE_FAILURES)
