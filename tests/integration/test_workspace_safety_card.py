"""The printable safety card and the service's signposting, over real HTTP: 999 and 55 on paper, the
service's helplines and advice, the commands, and the cover key only in cover mode; never her name or
number; reached through the same per-record check as the case page. The HELP line passes the
over-the-shoulder lint in every language the service offers, the service's own name included."""

from __future__ import annotations

import html
import re
import sqlite3
from typing import Any

import pytest

from bot import commands
from bot.commands import case_mode
from flows import cover
from storage import services
from storage.db import Tx
from storage.services import Helpline
from tests.caseload_data import enrol, other_service
from tests.conftest import World
from tests.webtools import login, person, post_form, workspace

PHONE = "+447700900001"
NAME = "Amy Able"
SIGNPOSTS = "/manage/service/signposting"


def rows(world: World, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        return conn.execute(sql, params).fetchall()


async def card_of(world: World, ref: str, login_as: str = "ida") -> tuple[int, str]:
    who = {"ida": ("idva", world.idva), "meg": ("manager", world.manager), "dan": ("duty", world.duty)}[login_as]
    async with workspace(world) as client:
        await login(client, world, await person(world, login_as, (who[0],), practitioner_id=who[1]))
        resp = await client.get(f"/cases/{ref}/card")
        return resp.status, await resp.text()


async def test_a_direct_cases_card_has_the_emergency_numbers_and_commands_but_no_key_and_nothing_of_hers(
    world: World,
) -> None:
    ref, case_id = await enrol(world, PHONE, NAME)
    status, page = await card_of(world, ref)
    assert status == 200
    text = html.unescape(page)
    assert "Call 999." in text and "press 55" in text and "Silent Solution" in text
    for word in ("HELP", "PAUSE", "RESUME", "LANGUAGE", "WITHDRAW"):
        assert f"<code>{word}</code>" in page
    assert "What our messages mean" not in text and 'class="key"' not in page
    assert NAME not in text and PHONE not in text and PHONE.removeprefix("+44") not in text
    assert '<link rel="stylesheet" href="/static/card.css">' in page
    assert rows(world, "SELECT actor, case_id FROM audit_log WHERE action = 'safety_card_printed'") == [
        (f"practitioner:{world.idva}", case_id)
    ]


async def test_a_cover_cases_card_carries_the_key_to_each_cover_question_and_answer(world: World) -> None:
    ref, _ = await enrol(world, PHONE, NAME)
    await case_mode.set_mode(world.app, world.service_id, ref, "cover", "salon", actor="test")
    status, page = await card_of(world, ref)
    assert status == 200
    text = html.unescape(page)
    qs = world.app.questionset(None)
    lines = cover.key(cover.themes()["salon"], qs, "en_GB", world.app.catalogs.gettext, "Alex")
    assert lines and "What our messages mean" in text
    for line in lines:
        assert line.cover in text and line.meaning in text
        for said, meant in line.options:
            assert said in text and meant in text


async def test_a_cover_case_whose_theme_is_gone_gets_the_card_without_a_key_and_one_line(world: World) -> None:
    ref, case_id = await enrol(world, PHONE, NAME)
    with sqlite3.connect(world.settings.db_path) as conn:  # a theme removed from a later release
        conn.execute("UPDATE cases SET checkin_mode = 'cover', cover_theme = 'bakery' WHERE id = ?", (case_id,))
    status, page = await card_of(world, ref)
    assert status == 200 and "Call 999." in page and 'class="key"' not in page
    assert "Her cover theme cannot be used with the service's questions: change her mode first." in html.unescape(page)


async def test_the_card_prints_without_the_workspace_around_it(world: World) -> None:
    ref, _ = await enrol(world, PHONE, NAME)
    status, page = await card_of(world, ref)
    assert status == 200 and 'class="screen-only"' in page
    async with workspace(world) as client:
        css = await (await client.get("/static/card.css")).text()
    printed = css[css.index("@media print") :]
    assert "header.top" in printed and ".screen-only" in printed and "display: none" in printed


async def test_the_card_is_reached_only_as_the_case_page_is(world: World) -> None:
    ref, _ = await enrol(world, PHONE, NAME)
    bea = await commands.add_practitioner(world.app, world.service_id, "Bea", "idva", ["inbox"])
    ref_b, _ = await enrol(world, "+447700900002", "Bo Brown", idva=bea)
    _, _, elsewhere = await other_service(world)
    assert (await card_of(world, ref_b))[0] == 403  # another IDVA's case
    assert (await card_of(world, elsewhere, "meg"))[0] == 404  # another service's case, even for a manager
    status, page = await card_of(world, ref, "dan")  # duty, no open alert, no reason given
    assert status == 403 and 'name="reason"' in page and "999" not in page
    denied = rows(world, "SELECT count(*) FROM audit_log WHERE action = 'case_view_denied'")
    assert denied == [(3,)]
    assert rows(world, "SELECT count(*) FROM audit_log WHERE action = 'safety_card_printed'") == [(0,)]


async def test_helplines_and_advice_set_by_a_manager_are_on_the_card(world: World) -> None:
    ref, _ = await enrol(world, PHONE, NAME)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    helplines = "Town Helpline | 0800 000 1234 | 24 hours\nCounselling line|0300 111 2222"
    advice = "Keep a bag ready at a friend's.\n\nKnow which rooms have a way out."
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(
            client, SIGNPOSTS + "/card", {"helplines": "just a name", "safety_card": advice}, token_from=SIGNPOSTS
        )
        page = await resp.text()
        assert resp.status == 400
        assert re.search(r'id="helplines-error" role="alert">Line 1: write name \| number \| hours', page)
        resp = await post_form(
            client, SIGNPOSTS + "/card", {"helplines": helplines, "safety_card": advice}, token_from=SIGNPOSTS
        )
        assert (resp.status, resp.headers["Location"]) == (303, SIGNPOSTS + "?done=card")
        form = await (await client.get(SIGNPOSTS)).text()
        assert "Counselling line | 0300 111 2222</textarea>" in form
    async with world.app.db.reading() as tx:
        s = await services.get(tx, world.service_id)
    assert s.helplines == (
        Helpline("Town Helpline", "0800 000 1234", "24 hours"),
        Helpline("Counselling line", "0300 111 2222"),
    )
    assert rows(world, "SELECT detail FROM audit_log WHERE action = 'service_safety_card_set'") == [
        (f"helplines=2 card_chars={len(advice)}",)
    ]
    _, page = await card_of(world, ref)
    text = html.unescape(page)
    assert "<strong>Town Helpline</strong>: 0800 000 1234 (24 hours)" in text
    assert "<p>Keep a bag ready at a friend's.</p>" in text and "<p>Know which rooms have a way out.</p>" in text


@pytest.mark.parametrize(
    ("line", "word"),
    [
        ("Call the police on 101 if you need to", "police"),
        ("Lighthouse Project says hello: 0800 000 1234", "lighthouse"),
        ("If you're in danger call 0800 000 1234", "danger"),
    ],
)
async def test_a_help_line_that_gives_the_service_away_is_refused_by_the_field(
    world: World, line: str, word: str
) -> None:
    async def named(tx: Tx) -> None:
        await services.update(tx, world.service_id, name="Lighthouse Project")
        await tx.commit()

    await world.app.db.run(named)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, SIGNPOSTS + "/help", {"help_line": line}, token_from=SIGNPOSTS)
        page = html.unescape(await resp.text())
    assert resp.status == 400
    found = re.search(r'<p class="error" id="help_line-error" role="alert">([^<]+)</p>', page)
    assert found and f"'{word}'" in found.group(1).lower(), page
    assert rows(world, "SELECT help_line FROM services") == [(None,)]


async def test_a_help_line_is_checked_in_every_language_the_service_offers(world: World) -> None:
    async def welsh(tx: Tx) -> None:
        await services.set_languages(tx, world.service_id, ("en_GB", "cy"), "en_GB")
        await tx.commit()

    await world.app.db.run(welsh)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        # "Heddlu" is Welsh for police: harmless-looking to an English reader, not to a Welsh one.
        resp = await post_form(
            client, SIGNPOSTS + "/help", {"help_line": "Heddlu: 0800 000 1234"}, token_from=SIGNPOSTS
        )
        assert resp.status == 400 and "checked in cy" in html.unescape(await resp.text())
    assert rows(world, "SELECT help_line FROM services") == [(None,)]


async def test_a_discreet_help_line_is_saved_audited_without_its_words_and_follows_help(world: World) -> None:
    line = "You can also ring Sam on 0800 000 1234."
    ref = await world.onboard(PHONE)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, SIGNPOSTS + "/help", {"help_line": f"  {line} "}, token_from=SIGNPOSTS)
        assert (resp.status, resp.headers["Location"]) == (303, SIGNPOSTS + "?done=help")
    assert rows(world, "SELECT help_line FROM services") == [(line,)]
    [(detail,)] = rows(world, "SELECT detail FROM audit_log WHERE action = 'service_help_line_set'")
    assert detail == '{"after": {"help_line": true}, "before": {"help_line": false}}'
    assert ref
    await world.say(PHONE, "HELP")
    assert any(line in text for text in await world.deliver())


async def test_the_default_mode_is_set_by_a_manager_and_pre_selected_at_enrolment(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, SIGNPOSTS + "/mode", {"mode": "cover", "theme": "opera"}, token_from=SIGNPOSTS)
        assert resp.status == 400 and 'id="theme-error" role="alert">Unknown cover theme' in await resp.text()
        resp = await post_form(client, SIGNPOSTS + "/mode", {"mode": "cover", "theme": "salon"}, token_from=SIGNPOSTS)
        assert resp.status == 303
        page = await (await client.get("/cases/new")).text()
    assert re.search(r'<input [^>]*id="mode-cover"[^>]* checked>', page)
    assert rows(world, "SELECT default_checkin_mode, default_cover_theme FROM services") == [("cover", "salon")]
    [(detail,)] = rows(world, "SELECT detail FROM audit_log WHERE action = 'service_default_mode_set'")
    assert detail == '{"after": {"mode": "cover", "theme": "salon"}, "before": {"mode": "direct", "theme": null}}'


async def test_only_those_who_configure_the_service_reach_signposting(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        assert (await client.get(SIGNPOSTS)).status == 403
        resp = await post_form(client, SIGNPOSTS + "/help", {"help_line": "Hi"}, token_from="/cases")
        assert resp.status == 403
    assert rows(world, "SELECT help_line FROM services") == [(None,)]
