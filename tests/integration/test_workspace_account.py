"""The account page over real HTTP: roles and factors, new recovery codes, a new password, own sessions."""

from __future__ import annotations

import re
from datetime import timedelta

from storage import accounts
from tests.conftest import World
from tests.webtools import PASSWORD, csrf_of, login, person, post_form, workspace

NEW_PASSWORD = "a brand new long passphrase"
CODE = re.compile(r"<code>([0-9a-f-]{19})</code>")


async def audit_actions(world: World, pid: int) -> list[tuple[str, str]]:
    async with world.app.db.reading() as tx:
        rows = await tx.all(
            "SELECT action, detail FROM audit_log WHERE actor = ? ORDER BY id", (f"practitioner:{pid}",)
        )
    return [(r["action"], r["detail"]) for r in rows]


async def test_the_account_page_shows_roles_service_factors_and_sessions(world: World) -> None:
    ida = await person(world, "ida", ("idva", "duty"), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        resp = await client.get("/account")
        page = await resp.text()
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert '<dd id="account-roles">duty, idva</dd>' in page and "Test service" in page and "Ida" in page
    assert "Authenticator app (TOTP): on." in page and "You have no passkey yet." in page
    assert 'id="passkey-register"' in page and "Unused recovery codes: 0." in page  # webtools.person makes none
    assert "This session" in page


async def test_new_recovery_codes_need_a_password_or_code_and_the_old_ones_stop_working(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        async with world.app.db.reading() as tx:
            before = await tx.all(
                "SELECT code_hash FROM recovery_codes WHERE practitioner_id = ?", (ida.practitioner_id,)
            )
        resp = await post_form(client, "/account/recovery-codes", {"confirm": "wrong"}, token_from="/account")
        page = await resp.text()
        assert resp.status == 400 and 'id="codes-error"' in page and "not your password" in page
        resp = await post_form(client, "/account/recovery-codes", {"confirm": PASSWORD}, token_from="/account")
        codes = CODE.findall(await resp.text())
        assert resp.status == 200 and len(codes) == accounts.RECOVERY_CODES
    async with world.app.db.reading() as tx:
        after = await tx.all("SELECT code_hash FROM recovery_codes WHERE practitioner_id = ?", (ida.practitioner_id,))
    assert not {bytes(r[0]) for r in before} & {bytes(r[0]) for r in after}
    # A new code signs in; the page shows them once only.
    async with workspace(world) as client:
        await login(client, world, ida, code=codes[0])
        assert codes[1] not in await (await client.get("/account")).text()
    assert ("recovery_codes_regenerated", "") in await audit_actions(world, ida.practitioner_id)
    assert ("reauth_failed", "recovery_codes") in await audit_actions(world, ida.practitioner_id)


async def test_an_old_recovery_code_stops_working_after_new_ones_are_made(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        world.clock.advance(timedelta(seconds=30))
        resp = await post_form(client, "/account/recovery-codes", {"confirm": ida.code(world)}, token_from="/account")
        first = CODE.findall(await resp.text())
        resp = await post_form(client, "/account/recovery-codes", {"confirm": PASSWORD}, token_from="/account")
        assert CODE.findall(await resp.text())
    async with workspace(world) as client:
        await post_form(client, "/login", {"login": "ida", "password": PASSWORD})
        assert (await post_form(client, "/login/second", {"code": first[0]})).status == 401


async def test_a_new_password_needs_the_current_one_and_ends_the_other_sessions(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as other, workspace(world) as client:
        await login(other, world, ida)
        world.clock.advance(timedelta(seconds=30))
        await login(client, world, ida)
        for form, message in (
            (
                {"current_password": "wrong", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
                "That is not your current password.",
            ),
            (
                {"current_password": ida.code(world), "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
                "That is not your current password.",
            ),  # a TOTP code alone does not change the password
            (
                {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": "different"},
                "The two passwords do not match.",
            ),
            (
                {"current_password": PASSWORD, "new_password": "short", "new_password_again": "short"},
                "Use at least 12 characters",
            ),
        ):
            resp = await post_form(client, "/account/password", form, token_from="/account")
            page = await resp.text()
            assert resp.status == 400 and 'id="password-error"' in page and message in page, message
        form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
        resp = await post_form(client, "/account/password", form, token_from="/account")
        assert resp.headers["Location"] == "/account?done=password"
        assert (await client.get("/account", allow_redirects=False)).status == 200  # this session goes on
        assert (await other.get("/account", allow_redirects=False)).headers["Location"] == "/login"
    world.clock.advance(timedelta(seconds=30))
    async with workspace(world) as client:
        assert (await post_form(client, "/login", {"login": "ida", "password": PASSWORD})).status == 401
        resp = await post_form(client, "/login", {"login": "ida", "password": NEW_PASSWORD})
        assert resp.headers["Location"] == "/login/second"
    assert ("password_changed", "sessions_ended=1") in await audit_actions(world, ida.practitioner_id)


async def test_a_person_ends_their_own_sessions_and_no_one_elses(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as dans, workspace(world) as other, workspace(world) as client:
        await login(dans, world, dan)
        await login(other, world, ida)
        world.clock.advance(timedelta(seconds=30))
        await login(client, world, ida)
        async with world.app.db.reading() as tx:
            [dan_session] = [r["id"] for r in await accounts.live_sessions(tx, dan.practitioner_id)]
            ida_sessions = [r["id"] for r in await accounts.live_sessions(tx, ida.practitioner_id)]
        current, older = ida_sessions  # newest first
        resp = await post_form(client, f"/account/sessions/{dan_session}/end", {}, token_from="/account")
        assert resp.status == 404
        assert (await dans.get("/account", allow_redirects=False)).status == 200
        resp = await post_form(client, f"/account/sessions/{older}/end", {}, token_from="/account")
        assert resp.headers["Location"] == "/account?done=session-ended"
        assert (await other.get("/account", allow_redirects=False)).headers["Location"] == "/login"
        resp = await post_form(client, f"/account/sessions/{current}/end", {}, token_from="/account")
        assert resp.headers["Location"] == "/login?ended=out"
        assert (await client.get("/account", allow_redirects=False)).headers["Location"] == "/login"
    assert ("session_ended", f"session={older}") in await audit_actions(world, ida.practitioner_id)


async def test_account_changes_need_the_csrf_token(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        await csrf_of(client, "/account")
        for path in ("/account/recovery-codes", "/account/password", "/account/passkeys/options"):
            resp = await client.post(path, data={"confirm": PASSWORD, "current_password": PASSWORD})
            assert resp.status == 403, path
    assert [a for a, _ in await audit_actions(world, ida.practitioner_id)] == ["login"]
