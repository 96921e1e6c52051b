"""Review of issue 14: once her personal data is erased, nothing new about her can be written onto the case.
Retention skips erased cases, so a note (or any text) written afterwards would stay for ever; and a second
erasure would overwrite when and why she was erased and count her twice in the purge report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.commands import erasure as erasure_commands
from bot.commands.common import UserError
from storage.keys import load_keys
from tests.caseload_data import alert, enrol
from tests.conftest import World
from tests.forensics import recoverable
from tests.integration.conftest import rows
from tests.webtools import login, person, post_form, workspace

NOTE = "Written after erasure: her new address is 12 Quince Lane"


async def test_an_erased_case_takes_no_new_note_nor_a_second_erasure(world: World) -> None:
    ref, case_id = await enrol(world, "+447700900401", "Nia Erased")
    first = await erasure_commands.erase(world.app, world.service_id, ref, "her_request", "test")
    [before] = await rows(world.app, "SELECT erased_at, erase_reason FROM cases WHERE id = ?", (case_id,))
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    for who in (ida, meg):
        async with workspace(world) as client:
            await login(client, world, who)
            resp = await post_form(client, f"/cases/{ref}/notes", {"body": NOTE}, token_from=f"/cases/{ref}")
            text = await resp.text()
            assert resp.status == 409 and "erased" in text and len(text.strip().splitlines()) == 1, text
        world.clock.advance(timedelta(minutes=1))  # a fresh TOTP step for the next sign-in
    async with workspace(world) as client:
        await login(client, world, meg)
        form = {"reason": "not_needed", "confirm": ref}
        resp = await post_form(client, f"/cases/{ref}/erase", form, token_from=f"/cases/{ref}")
        assert resp.status == 409
    with pytest.raises(UserError, match="already erased"):
        await erasure_commands.erase(world.app, world.service_id, ref, "other", "test")
    assert await rows(world.app, "SELECT id FROM case_notes WHERE case_id = ?", (case_id,)) == []
    assert await rows(world.app, "SELECT id FROM purges") == [{"id": first.purge_id}]
    assert await rows(world.app, "SELECT erased_at, erase_reason FROM cases WHERE id = ?", (case_id,)) == [before]
    keys = load_keys({}, world.settings.key_file)
    assert recoverable(world.settings.db_path, keys, ["Quince Lane"]) == []


async def test_an_alert_of_an_erased_case_is_resolved_without_a_note(world: World) -> None:
    ref, case_id = await enrol(world, "+447700900402", "Nia Alerted")
    aid = await alert(world, case_id, world.clock.now())
    await erasure_commands.erase(world.app, world.service_id, ref, "her_request", "test")
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        form = {"outcome": "safe", "action": "", "note": NOTE}
        resp = await post_form(client, f"/alerts/{aid}/resolve", form, token_from=f"/alerts/{aid}")
        assert resp.status == 400 and "erased" in await resp.text()
        resp = await post_form(client, f"/alerts/{aid}/resolve", {**form, "note": ""}, token_from=f"/alerts/{aid}")
        assert resp.status == 303  # the alert still closes
    assert await rows(world.app, "SELECT note_enc, outcome FROM alerts WHERE id = ?", (aid,)) == [
        {"note_enc": None, "outcome": "safe"}
    ]
    keys = load_keys({}, world.settings.key_file)
    assert recoverable(world.settings.db_path, keys, ["Quince Lane"]) == []
