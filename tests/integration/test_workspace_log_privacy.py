"""The workspace logs no personal data: a practitioner's whole day over real HTTP at DEBUG, every log record
of every library searched for planted values (names, logins, passwords, numbers, notes, her secrets)."""

from __future__ import annotations

import logging
import re

import pytest

from bot import commands
from tests.conftest import World
from tests.integration.test_escalation import raise_codeword
from tests.webtools import PASSWORD, invitation_form, login, person, post_form, workspace

INVITEE = "Zofia Plantedinvitee"
LOGIN = "zofia.plantedlogin@example.org"
NEW_PASSWORD = "plantedpassword horse staple"
SURVIVOR = "Rosa Plantedsurvivor"
PHONE = "+447700900654"
NOTE = "planted note: she is staying with her sister Wilhelmina"
RESOLUTION = "planted resolution: called from the Zanzibar pharmacy"
REASON = "planted reason: checking after a call from Quentin"
SECRETS = {"exit_word": "Tagliatelle", "codeword": "Orange Kettle", "pin": "8642", "duress_pin": "9753"}
PLANTED = (
    INVITEE,
    "Plantedinvitee",
    LOGIN,
    "plantedlogin",
    NEW_PASSWORD,
    PASSWORD,
    SURVIVOR,
    "Plantedsurvivor",
    PHONE,
    "7700900654",
    NOTE,
    "Wilhelmina",
    RESOLUTION,
    "Zanzibar",
    REASON,
    "Quentin",
    "Tagliatelle",
    "Orange Kettle",
    "8642",
    "9753",
)


def leaks(records: list[logging.LogRecord]) -> list[tuple[str, str]]:
    found = []
    for record in records:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        found += [(record.name, planted) for planted in PLANTED if planted.lower() in text.lower()]
    return found


async def test_a_workspace_day_logs_no_personal_data(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    alert_id = await raise_codeword(world)
    token = await commands.invite(world.app, world.service_id, frozenset({"idva"}), INVITEE, actor="os:test")
    async with workspace(world) as client:
        form = await invitation_form(client, world, token, login=LOGIN, password=NEW_PASSWORD)
        form["password_again"] = NEW_PASSWORD
        assert (await post_form(client, f"/invite/{token}", form)).status == 200
        # A wrong password, then the IDVA at work.
        assert (await post_form(client, "/login", {"login": LOGIN, "password": PASSWORD})).status == 401
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        page = f"/alerts/{alert_id}"
        form = {"outcome": "action", "action": "other", "note": RESOLUTION}
        assert (await post_form(client, f"{page}/resolve", form, token_from=page)).status == 303
        case = {
            "channel": "simulator",
            "address": PHONE,
            "name": SURVIVOR,
            "intake": "high",
            "language": "en_GB",
            "timezone": "Europe/London",
            "windows": "09:00-12:00",
            "thread_explained": "yes",
        }
        created = await (await post_form(client, "/cases/new", case)).text()
        ref = re.search(r"Case (C-[0-9A-Z]+) created", created)
        assert ref
        typed = {**SECRETS, **{f"{k}_again": v for k, v in SECRETS.items()}, "exit_pause": "3d"}
        assert (await post_form(client, f"/cases/{ref.group(1)}/secrets", typed)).status == 303
        note = await post_form(
            client, f"/cases/{ref.group(1)}/notes", {"body": NOTE}, token_from=f"/cases/{ref.group(1)}"
        )
        assert note.status == 303
        search = await post_form(client, "/cases", {"q": "Plantedsurvivor"})
        assert ref.group(1) in await search.text()  # found by her name (the list shows no names)
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as client:
        await login(client, world, dan)
        reason = await post_form(
            client, f"/cases/{ref.group(1)}/reason", {"reason": REASON}, token_from=f"/cases/{ref.group(1)}"
        )
        assert reason.status in (200, 303)
    assert caplog.records, "nothing was logged at all: the search below would prove nothing"
    assert leaks(caplog.records) == []
