"""New passwords over real HTTP (ASVS 5.0 6.2): common and guessable ones are refused with one line on the
invitation and password-change forms, strong passphrases pass; an old argon2 hash is upgraded at sign-in."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher, extract_parameters

from bot import commands
from bot.web.passwords import HASHER, SCORED, password_problem
from storage import accounts
from storage.db import Tx
from tests.conftest import World
from tests.webtools import PASSWORD, invitation_form, login, person, post_form, workspace

COMMON = ("iloveyouiloveyou", "password123456", "Password123456!", "qwertyuiop123456")
STRONG = "violet tractor quietly umbrella"
TOO_EASY = "That password is too easy to guess."
ERROR = re.compile(r'<p class="error" id="([a-z-]+)" role="alert">([^<]*)</p>')


def one_error(page: str) -> str:
    """The page's single error line (its text, which must not run over lines)."""
    found = ERROR.findall(page)
    assert len(found) == 1, found
    text = found[0][1]
    assert text and "\n" not in text
    return text


async def accounts_made(world: World) -> int:
    async with world.app.db.reading() as tx:
        return int(await tx.scalar("SELECT COUNT(*) FROM accounts"))


async def test_common_long_passwords_are_refused_on_the_invitation_form_and_nothing_is_made(world: World) -> None:
    token = await commands.invite(world.app, world.service_id, frozenset({"idva"}), "Nia Jones", actor="os:test")
    async with workspace(world) as client:
        for common in COMMON:
            form = await invitation_form(client, world, token, password=common, password_again=common)
            resp = await post_form(client, f"/invite/{token}", form)
            assert resp.status == 400, common
            assert one_error(await resp.text()).startswith(TOO_EASY), common
        assert await accounts_made(world) == 0
        form = await invitation_form(client, world, token, password=STRONG, password_again=STRONG)
        resp = await post_form(client, f"/invite/{token}", form)
        assert resp.status == 200, await resp.text()
    assert await accounts_made(world) == 1


async def test_the_invited_persons_name_in_the_password_makes_it_guessable(world: World) -> None:
    # zxcvbn alone scores this name top (4): it is refused only because it is the invited person's own name.
    name = "Zephyrine Quatermaine"
    token = await commands.invite(world.app, world.service_id, frozenset({"idva"}), name, actor="os:test")
    async with workspace(world) as client:
        form = await invitation_form(client, world, token, login="zq", password=name, password_again=name)
        resp = await post_form(client, f"/invite/{token}", form)
        assert resp.status == 400 and one_error(await resp.text()).startswith(TOO_EASY)
    assert await accounts_made(world) == 0


async def change(client: TestClient, new: str) -> tuple[int, str]:
    form = {"current_password": PASSWORD, "new_password": new, "new_password_again": new}
    resp = await post_form(client, "/account/password", form, token_from="/account")
    return resp.status, await resp.text()


async def test_the_password_change_form_refuses_common_passwords_and_the_login_name(world: World) -> None:
    ida = await person(world, "idawork", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        for common in COMMON:
            status, page = await change(client, common)
            assert status == 400 and one_error(page).startswith(TOO_EASY), common
        status, page = await change(client, "IDAWORK violet tractor")
        assert status == 400 and one_error(page) == "The password must not contain your login name."
        async with world.app.db.reading() as tx:
            account = await accounts.get_account(tx, world.app.crypto, ida.practitioner_id)
        assert account is not None and HASHER.verify(account.password_hash, PASSWORD)  # unchanged
        resp = await post_form(
            client,
            "/account/password",
            {"current_password": PASSWORD, "new_password": STRONG, "new_password_again": STRONG},
            token_from="/account",
        )
        assert resp.status == 303 and resp.headers["Location"] == "/account?done=password"


async def test_the_old_short_list_and_long_inputs_are_judged_in_one_line() -> None:
    for weak in ("password1234", "passwordpassword", "123456789012", "qwertyuiopas", "safecheck123", "letmeinletmein"):
        assert (await password_problem(weak, weak, "nia") or "").startswith(TOO_EASY), weak
    # Only the first SCORED characters are scored (zxcvbn's cost grows with length): a guessable start is
    # refused however it goes on, and 256 characters of a strong passphrase pass.
    assert (await password_problem("a" * 256, "a" * 256, "nia") or "").startswith(TOO_EASY)
    long_strong = ((STRONG + " ") * 9)[:256]
    assert len(long_strong) > SCORED and await password_problem(long_strong, long_strong, "nia") is None
    # The service's name and slug count as known words as well as the person's.
    assert await password_problem("brightwater refuge", "brightwater refuge", "nia") is None
    refused = await password_problem("brightwater refuge", "brightwater refuge", "nia", ("Brightwater Refuge", "bw"))
    assert (refused or "").startswith(TOO_EASY)


async def test_a_hash_made_with_weaker_parameters_is_upgraded_when_its_password_signs_in(
    world: World, production_hasher: None
) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)

    async def weaken(tx: Tx) -> None:
        await accounts.set_password(tx, ida.practitioner_id, weak, world.clock.now())
        await tx.commit()

    await world.app.db.run(weaken)
    async with workspace(world) as client:
        await login(client, world, ida)
    async with world.app.db.reading() as tx:
        account = await accounts.get_account(tx, world.app.crypto, ida.practitioner_id)
        rows = await tx.all(
            "SELECT action, detail FROM audit_log WHERE actor = ? ORDER BY id", (f"practitioner:{ida.practitioner_id}",)
        )
    assert account is not None and account.password_hash != weak
    stored = extract_parameters(account.password_hash)
    assert stored == extract_parameters(HASHER.hash("x")) and stored.memory_cost == 65536
    assert HASHER.verify(account.password_hash, PASSWORD)
    assert [(r["action"], r["detail"]) for r in rows] == [("password_rehashed", ""), ("login", "totp")]
