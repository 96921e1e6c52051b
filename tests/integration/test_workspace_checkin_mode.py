"""The check-in mode over real HTTP: chosen at enrolment (the service's default only pre-selected), cover
offered only where her language has a theme, changed on the case page only with the in-person tick."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from storage import services, signposting
from storage.case_mode import CaseMode
from storage.db import Tx
from tests.caseload_data import enrol
from tests.conftest import World
from tests.webtools import Person, login, person, post_form, workspace

CASE = {
    "channel": "simulator",
    "address": "+447700900123",
    "name": "Rosa Quill",
    "intake": "high",
    "language": "en_GB",
    "timezone": "Europe/London",
    "thread_explained": "yes",
}
REF = re.compile(r"Case (C-[0-9A-Z]+) created")


def rows(world: World, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        return conn.execute(sql, params).fetchall()


async def ida(world: World) -> Person:
    return await person(world, "ida", ("idva",), practitioner_id=world.idva)


async def service_setup(world: World, *, languages: tuple[str, ...] = ("en_GB",), mode: CaseMode | None = None) -> None:
    async def unit(tx: Tx) -> None:
        await services.set_languages(tx, world.service_id, languages, languages[0])
        if mode is not None:
            await signposting.set_default_mode(tx, world.service_id, mode)
        await tx.commit()

    await world.app.db.run(unit)


def checked(page: str, input_id: str) -> bool:
    found = re.search(rf'<input [^>]*id="{input_id}"[^>]*>', page)
    assert found, f"no #{input_id}"
    return " checked" in found.group(0)


def selected_theme(page: str) -> str | None:
    found = re.search(r'<select id="theme".*?</select>', page, re.S)
    assert found, "no theme choice"
    option = re.search(r'<option value="(\w+)" selected>', found.group(0))
    return option.group(1) if option else None


async def test_enrolment_records_the_mode_she_chose_and_audits_it_with_codes_only(world: World) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        resp = await post_form(client, "/cases/new", {**CASE, "mode": "cover", "theme": "salon"})
        page = await resp.text()
    assert resp.status == 200, page
    ref = REF.search(page)
    assert ref and f'href="/cases/{ref.group(1)}/card"' in page  # the card, from the success page
    assert rows(world, "SELECT checkin_mode, cover_theme, secrets_on_channel FROM cases") == [("cover", "salon", 0)]
    [(actor, detail)] = rows(world, "SELECT actor, detail FROM audit_log WHERE action = 'checkin_mode_set'")
    assert (actor, detail) == (f"practitioner:{world.idva}", "mode=cover theme=salon secrets_on_channel=no")


async def test_direct_needs_no_theme_and_a_theme_left_selected_is_ignored(world: World) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        resp = await post_form(client, "/cases/new", {**CASE, "mode": "direct", "theme": "salon"})
        assert resp.status == 200, await resp.text()
    assert rows(world, "SELECT checkin_mode, cover_theme FROM cases") == [("direct", None)]


@pytest.mark.parametrize("mode", [{"mode": "direct"}, {}])  # chosen, or the service's default
async def test_direct_questions_need_the_tick_that_she_was_told_the_thread_stays_readable(
    world: World, mode: dict[str, str]
) -> None:
    untold = {k: v for k, v in CASE.items() if k != "thread_explained"} | mode
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        resp = await post_form(client, "/cases/new", untold)
        page = await resp.text()
        assert resp.status == 400 and 'id="thread-explained-error"' in page
        assert "Tick that you explained the thread stays readable, or choose cover questions." in page
        assert rows(world, "SELECT count(*) FROM cases") == [(0,)]
        # Cover questions give nothing away: no tick needed.
        resp = await post_form(client, "/cases/new", untold | {"mode": "cover", "theme": "salon"})
        assert resp.status == 200, await resp.text()
    assert rows(world, "SELECT checkin_mode FROM cases") == [("cover",)]


async def test_the_pre_selection_follows_the_services_default(world: World) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        page = await (await client.get("/cases/new")).text()
        assert checked(page, "mode-direct") and not checked(page, "mode-cover")
        assert "Only if she chooses it after you have explained that the thread stays readable" in page
        await service_setup(world, mode=CaseMode("cover", "catch_up"))
        page = await (await client.get("/cases/new")).text()
        assert checked(page, "mode-cover") and not checked(page, "mode-direct")
        assert selected_theme(page) == "catch_up"
        # Only pre-selected: she may still choose direct.
        resp = await post_form(client, "/cases/new", {**CASE, "mode": "direct"})
        assert resp.status == 200
    assert rows(world, "SELECT checkin_mode, cover_theme FROM cases") == [("direct", None)]


async def test_cover_is_offered_only_where_her_language_has_a_theme(world: World) -> None:
    await service_setup(world, languages=("pl",))
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        page = await (await client.get("/cases/new")).text()
        assert 'id="mode-cover"' not in page and 'id="no-cover"' in page
        await service_setup(world, languages=("en_GB", "pl"))
        page = await (await client.get("/cases/new")).text()
        assert 'id="mode-cover"' in page
        resp = await post_form(client, "/cases/new", {**CASE, "language": "pl", "mode": "cover", "theme": "salon"})
        page = await resp.text()
    assert resp.status == 400
    assert re.search(r'<p class="error" id="theme-error" role="alert">[^<]*not available in her language', page)
    assert rows(world, "SELECT count(*) FROM cases") == [(0,)]


async def test_a_cover_choice_without_a_theme_or_with_an_unknown_one_is_one_line(world: World) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        for theme, line in (("", "Choose a cover theme."), ("opera", "Choose one of the cover themes.")):
            resp = await post_form(client, "/cases/new", {**CASE, "mode": "cover", "theme": theme})
            page = await resp.text()
            assert resp.status == 400
            assert f'<p class="error" id="theme-error" role="alert">{line}</p>' in page
    assert rows(world, "SELECT count(*) FROM cases") == [(0,)]


async def test_her_words_on_her_channel_are_refused_off_telegram(world: World) -> None:
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        page = await (await client.get("/cases/new")).text()
        assert 'name="secrets_on_channel"' not in page  # no Telegram here: never offered
        form = {**CASE, "mode": "direct", "secrets_on_channel": "yes", "autodelete": "60"}
        resp = await post_form(client, "/cases/new", form)
        page = await resp.text()
    assert resp.status == 400
    assert 'id="secrets_on_channel-error" role="alert">Only on Telegram' in page
    assert rows(world, "SELECT count(*) FROM cases") == [(0,)]


async def test_the_case_page_shows_the_mode_and_a_change_needs_the_in_person_tick(world: World) -> None:
    ref, case_id = await enrol(world, "+447700900001", "Amy Able")
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        page = await (await client.get(f"/cases/{ref}")).text()
        assert re.search(r'<dd id="case-mode">direct \(plain questions\)</dd>', page)
        assert f'href="/cases/{ref}/card"' in page
        change = {"mode": "cover", "theme": "salon"}
        resp = await post_form(client, f"/cases/{ref}/mode", change, token_from=f"/cases/{ref}")
        page = await resp.text()
        assert resp.status == 400
        assert (
            '<p class="error" id="in_person-error" role="alert">Tick that she chose this with you in person.</p>'
            in page
        )
        assert rows(world, "SELECT checkin_mode FROM cases") == [("direct",)]
        resp = await post_form(client, f"/cases/{ref}/mode", {**change, "in_person": "yes"}, token_from=f"/cases/{ref}")
        assert (resp.status, resp.headers["Location"]) == (303, f"/cases/{ref}?done=mode#mode")
        page = await (await client.get(f"/cases/{ref}")).text()
        assert re.search(r'<dd id="case-mode">cover: A salon booking</dd>', page)
    assert rows(world, "SELECT checkin_mode, cover_theme FROM cases") == [("cover", "salon")]
    [(actor, detail)] = rows(world, "SELECT actor, detail FROM audit_log WHERE action = 'checkin_mode_changed'")
    assert actor == f"practitioner:{world.idva}"
    assert detail == '{"after": {"mode": "cover", "theme": "salon"}, "before": {"mode": "direct", "theme": null}}'
    assert rows(world, "SELECT case_id FROM audit_log WHERE action = 'checkin_mode_changed'") == [(case_id,)]


async def test_a_theme_her_language_lacks_is_refused_on_the_case_page(world: World) -> None:
    await service_setup(world, languages=("en_GB", "pl"))
    ref, _ = await enrol(world, "+447700900001", "Amy Able")

    async def to_polish(tx: Tx) -> None:
        await tx.execute("UPDATE cases SET language = 'pl'")
        await tx.commit()

    await world.app.db.run(to_polish)
    async with workspace(world) as client:
        await login(client, world, await ida(world))
        page = await (await client.get(f"/cases/{ref}")).text()
        assert 'id="mode-cover"' not in page  # nothing to offer in Polish yet
        form = {"mode": "cover", "theme": "salon", "in_person": "yes"}
        resp = await post_form(client, f"/cases/{ref}/mode", form, token_from=f"/cases/{ref}")
        assert resp.status == 400 and "not available in her language" in await resp.text()
    assert rows(world, "SELECT checkin_mode FROM cases") == [("direct",)]


async def test_only_the_cases_idva_or_a_manager_changes_the_mode(world: World) -> None:
    ref, _ = await enrol(world, "+447700900001", "Amy Able")
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as client:
        await login(client, world, dan)
        form = {"mode": "cover", "theme": "salon", "in_person": "yes"}
        # A duty worker with no reason given does not reach the case at all.
        resp = await post_form(client, f"/cases/{ref}/mode", form, token_from="/cases")
        assert resp.status == 403
    assert rows(world, "SELECT checkin_mode FROM cases") == [("direct",)]


async def signed_in(client: TestClient, world: World, who: Person) -> TestClient:
    await login(client, world, who)
    return client
