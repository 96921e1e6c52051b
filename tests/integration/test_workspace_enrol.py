"""Enrolment over real HTTP: a new case with the CLI's checks, the activation code shown once, and the
survivor's own screen where she sets her exit word, codeword and PINs, kept only as onboarding's digests."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot import commands
from safety.screening import pin_digest, secret_digest
from storage import cases
from tests.conftest import World
from tests.webtools import Person, login, person, post_form, workspace

PHONE = "+447700900123"
GOOD_CASE = {
    "channel": "simulator",
    "address": PHONE,
    "name": "Rosa Quill",
    "intake": "high",
    "language": "en_GB",
    "timezone": "Europe/London",
    "windows": "09:00-12:00,17:00-20:00",
    "thread_explained": "yes",  # direct questions (the default mode), explained to her
}
# 8-digit PINs: the file scan below would find 4 digits by chance in a hex digest.
SECRETS = {"exit_word": "Pasta", "codeword": "Blue Kettle", "pin": "24681357", "duress_pin": "97531864"}
CODE = re.compile(r'<code id="activation-code">([^<]+)</code>')
REF = re.compile(r"Case (C-[0-9A-Z]+) created")


def twice(values: dict[str, str], **second: str) -> dict[str, str]:
    """The form as typed: each secret, then again (`second` overrides the second entries)."""
    form = {**values, **{f"{k}_again": v for k, v in values.items()}, "exit_pause": "3d"}
    return {**form, **{f"{k}_again": v for k, v in second.items()}}


async def ida(world: World) -> Person:
    return await person(world, "ida", ("idva",), practitioner_id=world.idva)


async def case_rows(world: World) -> list[dict[str, Any]]:
    async with world.app.db.reading() as tx:
        return [dict(r) for r in await tx.all("SELECT * FROM cases ORDER BY id")]


async def audit_rows(world: World) -> list[tuple[str, str, str]]:
    async with world.app.db.reading() as tx:
        rows = await tx.all("SELECT actor, action, detail FROM audit_log ORDER BY id")
    return [(r["actor"], r["action"], r["detail"]) for r in rows]


def file_bytes(world: World) -> bytes:
    path = world.settings.db_path
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def enrol_on_page(client: TestClient, **changes: str) -> tuple[str, str]:
    resp = await post_form(client, "/cases/new", {**GOOD_CASE, **changes})
    page = await resp.text()
    assert resp.status == 200, page
    ref, code = REF.search(page), CODE.search(page)
    assert ref and code
    return ref.group(1), code.group(1)


async def test_an_idva_enrols_to_her_own_caseload_and_sees_the_activation_code_once(world: World) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        form = await (await client.get("/cases/new")).text()
        assert 'name="idva"' not in form  # an IDVA enrols to her own caseload
        resp = await post_form(client, "/cases/new", {**GOOD_CASE, "idva": str(world.duty)})
        page = await resp.text()
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
        ref, code = REF.search(page), CODE.search(page)
        assert ref and code
        assert f'href="/cases/{ref.group(1)}/secrets"' in page
    [case] = await case_rows(world)
    assert (case["ref"], case["idva_id"], case["status"], case["intake_level"]) == (
        ref.group(1),
        world.idva,
        "pending",
        "high",
    )
    assert case["safe_windows"] == "[[540, 720], [1020, 1200]]"
    raw = file_bytes(world)
    for secret in (b"Rosa Quill", code.group(1).encode(), code.group(1).replace("-", "").encode(), PHONE.encode()):
        assert secret not in raw
    assert (f"practitioner:{world.idva}", "case_enrolled", "intake=high") in await audit_rows(world)
    # The code works, once, from her phone.
    await world.say(PHONE, code.group(1))
    [case] = await case_rows(world)
    assert case["status"] == "onboarding"


@pytest.mark.parametrize(
    ("changes", "field", "line"),
    [
        ({"intake": ""}, "intake", "Choose the DASH level at intake: standard, medium or high."),
        ({"intake": "extreme"}, "intake", "Choose the DASH level at intake: standard, medium or high."),
        ({"address": " "}, "address", "Give her mobile number."),
        ({"channel": "carrier-pigeon"}, "channel", "Choose how she will get her messages."),
        ({"language": "xx"}, "language", "Choose one of the service&#39;s languages."),
        ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone: use a name like Europe/London."),
        ({"windows": "9-12"}, "windows", "use HH:MM from 00:00 to 23:59"),
        ({"windows": "12:00-09:00"}, "windows", "it must end after it starts"),
    ],
)
async def test_enrolment_errors_are_one_line_by_their_field_and_create_nothing(
    world: World, changes: dict[str, str], field: str, line: str
) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        resp = await post_form(client, "/cases/new", {**GOOD_CASE, **changes})
        page = await resp.text()
    assert resp.status == 400
    assert re.search(rf'<p class="error" id="{field}-error" role="alert">[^<]*{re.escape(line)}', page), page
    assert page.count('class="error"') == 1
    assert 'value="Rosa Quill"' in page  # what was typed stays in the form
    assert await case_rows(world) == []


async def test_a_number_already_in_an_open_case_is_refused_by_the_field(world: World) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        await enrol_on_page(client)
        resp = await post_form(client, "/cases/new", GOOD_CASE)
        page = await resp.text()
    assert resp.status == 400 and 'id="address-error"' in page
    assert "That number already belongs to an open case." in page
    assert len(await case_rows(world)) == 1


async def test_a_manager_chooses_an_idva_of_her_own_service(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        form = await (await client.get("/cases/new")).text()
        assert f'<option value="{world.idva}">Ida</option>' in form
        assert f'<option value="{world.duty}">' not in form  # duty and managers are not a case's first rung
        ref, _ = await enrol_on_page(client, idva=str(world.idva))
        for bad, line in (
            (str(world.duty), "Choose an IDVA."),
            ("999", "Choose an active IDVA."),
            ("x", "Choose the IDVA"),
        ):
            resp = await post_form(client, "/cases/new", {**GOOD_CASE, "address": "+447700900124", "idva": bad})
            page = await resp.text()
            assert resp.status == 400 and 'id="idva-error"' in page and line in page, bad
    [case] = await case_rows(world)
    assert (case["ref"], case["idva_id"]) == (ref, world.idva)


@pytest.mark.parametrize("roles", [("duty",), ("admin",)])
async def test_only_idvas_and_managers_enrol(world: World, roles: tuple[str, ...]) -> None:
    dan = await person(world, "dan", roles, practitioner_id=world.duty)
    async with workspace(world) as client:
        await login(client, world, dan)
        assert (await client.get("/cases/new")).status == 403
        resp = await post_form(client, "/cases/new", GOOD_CASE, token_from="/account")
        assert resp.status == 403
    assert await case_rows(world) == []


# ---- her secrets, set in person ----


async def test_secrets_set_in_person_are_kept_only_as_onboardings_digests(world: World) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        ref, _ = await enrol_on_page(client)
        resp = await client.get(f"/cases/{ref}/secrets")
        page = await resp.text()
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
        assert 'href="/alerts"' not in page and "Rosa" not in page and "Sign out" not in page  # she holds the device
        assert page.count('type="password" autocomplete="off"') == 8
        resp = await post_form(client, f"/cases/{ref}/secrets", twice(SECRETS))
        assert resp.status == 303 and resp.headers["Location"] == f"/cases/{ref}/secrets/done"
        done = await (await client.get(resp.headers["Location"])).text()
        assert "Please hand the device back to your adviser now." in done and 'href="/alerts"' not in done
        again = await (await client.get(f"/cases/{ref}/secrets")).text()
        assert "Your words are already set." in again
    [row] = await case_rows(world)
    hasher = world.app.crypto.secret_hasher(row["salt"])
    assert row["exit_word_hash"] == secret_digest("pasta", hasher)
    assert row["codeword_hash"] == secret_digest("blue kettle", hasher)
    assert (row["pin_hash"], row["duress_pin_hash"]) == (pin_digest("24681357", hasher), pin_digest("97531864", hasher))
    assert row["exit_pause_minutes"] == 3 * 24 * 60 and row["secrets_set_in_person_at"] is not None
    raw = file_bytes(world).lower()
    for secret in (b"pasta", b"blue kettle", b"24681357", b"97531864"):
        assert secret not in raw
    actions = await audit_rows(world)
    assert (f"practitioner:{world.idva}", "secrets_set_in_person", "pins=2") in actions
    assert all("pasta" not in detail.lower() and "24681357" not in detail for _, _, detail in actions)


async def test_her_pins_are_optional(world: World) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        ref, _ = await enrol_on_page(client)
        resp = await post_form(client, f"/cases/{ref}/secrets", twice({**SECRETS, "pin": "", "duress_pin": ""}))
        assert resp.status == 303
    [row] = await case_rows(world)
    assert row["exit_word_hash"] is not None and (row["pin_hash"], row["duress_pin_hash"]) == (None, None)
    assert (f"practitioner:{world.idva}", "secrets_set_in_person", "pins=0") in await audit_rows(world)


@pytest.mark.parametrize(
    ("typed", "second", "field", "line"),
    [
        ({}, {"exit_word": "Pastas"}, "exit_word", "The two entries are not the same."),
        ({}, {"pin": "2469"}, "pin", "The two entries are not the same."),
        ({"exit_word": "STOP"}, {}, "exit_word", "like YES, STOP or a number"),
        ({"exit_word": "pause 3"}, {}, "exit_word", "command word"),
        ({"codeword": "help"}, {}, "codeword", "like YES, STOP or a number"),
        ({"codeword": "pasta"}, {}, "codeword", "different from your exit word"),
        ({"exit_word": ""}, {}, "exit_word", "Please choose a word."),
        ({"pin": "12"}, {}, "pin", "Please use 4 to 8 digits."),
        ({"pin": "abcd"}, {}, "pin", "Please use digits only."),
        ({"duress_pin": "24681357"}, {}, "duress_pin", "different from your first PIN"),
        ({"pin": ""}, {"pin": ""}, "duress_pin", "Choose a first PIN before a second one"),
    ],
)
async def test_a_mismatch_or_a_word_onboarding_would_refuse_is_one_line_by_the_field_and_nothing_is_stored(
    world: World, typed: dict[str, str], second: dict[str, str], field: str, line: str
) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        ref, _ = await enrol_on_page(client)
        values = {**SECRETS, **typed}
        resp = await post_form(
            client, f"/cases/{ref}/secrets", twice(values, **second), token_from=f"/cases/{ref}/secrets"
        )
        page = await resp.text()
    assert resp.status == 400
    assert re.search(rf'<p class="error" id="{field}-error" role="alert">[^<]*{re.escape(line)}', page), page
    assert page.count('class="error"') == 2  # "nothing was saved", and the line by the field
    for value in {*values.values(), *second.values()} - {""}:
        assert f'value="{value}"' not in page  # nothing she typed comes back in the page
    [row] = await case_rows(world)
    assert [row[k] for k in ("exit_word_hash", "codeword_hash", "pin_hash", "duress_pin_hash")] == [None] * 4
    assert row["secrets_set_in_person_at"] is None
    assert "secrets_set_in_person" not in {action for _, action, _ in await audit_rows(world)}


async def test_another_idvas_case_cannot_take_secrets_and_the_attempt_is_audited(world: World) -> None:
    ref, _ = await world.enrol()
    nia = await person(world, "nia", ("idva",))
    async with workspace(world) as client:
        await login(client, world, nia)
        assert (await client.get(f"/cases/{ref}/secrets")).status == 403
        resp = await post_form(client, f"/cases/{ref}/secrets", twice(SECRETS), token_from="/account")
        assert resp.status == 403
    [row] = await case_rows(world)
    assert row["exit_word_hash"] is None
    denied = [a for a in await audit_rows(world) if a[1] == "case_view_denied"]
    assert len(denied) == 2 and all(actor == f"practitioner:{nia.practitioner_id}" for actor, _, _ in denied)


async def test_a_closed_case_takes_no_secrets(world: World) -> None:
    ref, _ = await world.enrol()
    await commands.set_status(world.app, world.service_id, ref, "close")
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        assert (await client.get(f"/cases/{ref}/secrets")).status == 409
        resp = await post_form(client, f"/cases/{ref}/secrets", twice(SECRETS), token_from="/account")
        assert resp.status == 409
    async with world.app.db.reading() as tx:
        found = await cases.by_ref(tx, ref)
    assert found is not None and found.exit_word_hash is None


async def test_the_case_page_leads_to_her_screen_and_says_when_her_words_were_set_in_person(world: World) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        ref, _ = await enrol_on_page(client)
        before = await (await client.get(f"/cases/{ref}")).text()
        assert "not set yet" in before and f'href="/cases/{ref}/secrets"' in before
        await post_form(client, f"/cases/{ref}/secrets", twice(SECRETS))
        after = await (await client.get(f"/cases/{ref}")).text()
        assert "set in person on" in after and "Blue Kettle" not in after
