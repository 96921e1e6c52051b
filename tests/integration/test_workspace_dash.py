"""The DASH checklist and the Marac criteria over real HTTP: recorded by the case's IDVA or a manager only,
its level (count, raised never lowered by judgement) becomes the intake level, and the case page shows the
latest DASH and the referral criteria the case meets."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from bot import commands
from flows.model import Answer
from storage import checkins, dash, services
from storage.db import Tx
from tests.caseload_data import alert, enrol, other_service
from tests.conftest import START, World
from tests.webtools import Person, login, person, post_form, workspace

NAME = "Amy Able"
REASON = "She described him waiting outside the school every day this week"


def rows(world: World, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        return conn.execute(sql, params).fetchall()


def checklist(yes: int, **extra: str) -> dict[str, str]:
    """The form with `yes` ticks (questions 1..yes), the rest "no"; `extra` adds or overrides fields."""
    form = {f"q{n}": "yes" if n <= yes else "no" for n in range(1, 25)}
    return {**form, **extra}


def shown(page: str, element_id: str) -> str:
    """The text of the element with this id (tags stripped, spaces collapsed)."""
    found = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, f"no #{element_id}"
    return " ".join(re.sub(r"<[^>]+>", "", found.group(2)).split())


async def record(client: TestClient, ref: str, form: dict[str, str]) -> tuple[int, str]:
    resp = await post_form(client, f"/cases/{ref}/dash", form)
    return resp.status, (resp.headers.get("Location", "") if resp.status == 303 else await resp.text())


async def signed_in(client: TestClient, world: World, who: Person) -> TestClient:
    await login(client, world, who)
    return client


async def test_the_idva_records_a_dash_and_its_level_becomes_the_intake_level(world: World) -> None:
    ref, case_id = await enrol(world, "+447700900001", NAME, intake="standard")
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        page = await (await client.get(f"/cases/{ref}")).text()
        assert "No DASH recorded yet" in shown(page, "dash-latest")
        assert f'href="/cases/{ref}/dash"' in page
        form = await (await client.get(f"/cases/{ref}/dash")).text()
        assert form.count('type="radio"') == 24 * 3 + 3
        assert "15. Strangling, choking, suffocating or drowning" in form
        assert await record(client, ref, checklist(14, q14="not_known", q24="yes")) == (
            303,
            f"/cases/{ref}?done=dash#dash",
        )
        page = await (await client.get(f"/cases/{ref}?done=dash")).text()
    assert rows(world, "SELECT intake_level FROM cases WHERE id = ?", (case_id,)) == [("high",)]
    assert rows(world, "SELECT ticks, level, judgement_level, reason_enc FROM dash_assessments") == [
        (14, "high", None, None)
    ]
    assert "DASH recorded" in page
    latest = shown(page, "dash-latest")
    assert "14 of 24" in latest and "high" in latest and "Mon 23 Nov 2026 09:00" in latest
    assert "Visible high risk: 14 of 24 DASH ticks" in shown(page, "marac-criteria")
    assert rows(world, "SELECT actor, case_id, detail FROM audit_log WHERE action = 'dash_recorded'") == [
        (f"practitioner:{world.idva}", case_id, "ticks=14")
    ]


async def test_judgement_raises_the_level_with_a_reason_and_never_lowers_it(world: World) -> None:
    ref, case_id = await enrol(world, "+447700900001", NAME, intake="standard")
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        # Refused, each with its line, and nothing stored:
        status, page = await record(client, ref, checklist(10, judgement="medium", reason="x"))
        assert status == 400 and "Judgement can only raise the level: the count already gives medium." in page
        status, page = await record(client, ref, checklist(14, judgement="high", reason="x"))
        assert status == 400 and "the count already gives high" in page
        status, page = await record(client, ref, checklist(9, judgement="high"))
        assert status == 400 and "Say why your professional judgement raises the level." in page
        status, page = await record(client, ref, checklist(9, judgement="urgent", reason="x"))
        assert status == 400 and "Choose whether your professional judgement raises the level." in page
        incomplete = checklist(9)
        del incomplete["q3"]
        status, page = await record(client, ref, {**incomplete, "q7": "maybe"})
        assert status == 400 and "Question 3: choose yes, no or not known." in page
        assert "Question 7: choose yes, no or not known." in page and 'id="q3-error"' in page
        assert 'id="q1-yes" name="q1" value="yes" checked' in page  # what she answered is kept
        assert rows(world, "SELECT count(*) FROM dash_assessments") == [(0,)]
        assert rows(world, "SELECT intake_level FROM cases") == [("standard",)]
        # 9 ticks is standard by the count; judgement raises it to high.
        assert (await record(client, ref, checklist(9, judgement="high", reason=REASON)))[0] == 303
        page = await (await client.get(f"/cases/{ref}")).text()
    assert rows(world, "SELECT ticks, level, judgement_level FROM dash_assessments") == [(9, "high", "high")]
    assert rows(world, "SELECT intake_level FROM cases") == [("high",)]
    assert REASON.encode() not in world.settings.db_path.read_bytes()
    async with world.app.db.reading() as tx:
        latest = await dash.latest(tx, world.app.crypto, case_id)
    assert latest is not None and latest.reason == REASON
    assert "raised by professional judgement" in shown(page, "dash-latest")
    criteria = shown(page, "marac-criteria")
    assert "Professional judgement: the IDVA judged the risk high" in criteria and "Visible" not in criteria
    [(detail,)] = rows(world, "SELECT detail FROM audit_log WHERE action = 'dash_recorded'")
    assert detail == "ticks=9"


async def test_a_later_dash_with_fewer_ticks_lowers_the_intake_level(world: World) -> None:
    ref, _ = await enrol(world, "+447700900001", NAME, intake="standard")
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        done = (303, f"/cases/{ref}?done=dash#dash")
        assert await record(client, ref, checklist(14)) == done
        world.clock.advance(timedelta(minutes=5))
        assert await record(client, ref, checklist(11)) == done
        page = await (await client.get(f"/cases/{ref}")).text()
    assert rows(world, "SELECT intake_level FROM cases") == [("medium",)]
    assert "11 of 24" in shown(page, "dash-latest")
    assert shown(page, "marac-criteria") == "No Marac referral criterion is met."


async def test_only_the_cases_idva_or_a_manager_may_record_a_dash(world: World) -> None:
    ref, case_id = await enrol(world, "+447700900001", NAME)
    bea_id = await commands.add_practitioner(world.app, world.service_id, "Bea", "idva", ["inbox"])
    bea = await person(world, "bea", ("idva",), practitioner_id=bea_id)
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    _, _, elsewhere = await other_service(world)
    async with workspace(world) as client:
        await signed_in(client, world, dan)
        # On duty, no open alert, no reason given: the reason form, and nothing recorded.
        resp = await client.get(f"/cases/{ref}/dash")
        assert resp.status == 403 and 'name="reason"' in await resp.text()
        resp = await post_form(client, f"/cases/{ref}/dash", checklist(14), token_from="/cases")
        assert resp.status == 403
        # Even able to read the case (an open alert), duty staff do not record the DASH.
        await alert(world, case_id, START)
        assert (await client.get(f"/cases/{ref}")).status == 200
        assert (await client.get(f"/cases/{ref}/dash")).status == 403
        resp = await post_form(client, f"/cases/{ref}/dash", checklist(14), token_from="/cases")
        assert resp.status == 403
    world.clock.advance(timedelta(seconds=30))
    async with workspace(world) as client:
        await signed_in(client, world, bea)  # another IDVA's case
        assert (await client.get(f"/cases/{ref}/dash")).status == 403
        resp = await post_form(client, f"/cases/{ref}/dash", checklist(14), token_from="/cases")
        assert resp.status == 403
    world.clock.advance(timedelta(seconds=30))
    async with workspace(world) as client:
        await signed_in(client, world, meg)
        # Another service's case does not exist for her.
        assert (await client.get(f"/cases/{elsewhere}/dash")).status == 404
        resp = await post_form(client, f"/cases/{elsewhere}/dash", checklist(14), token_from="/cases")
        assert resp.status == 404
        assert rows(world, "SELECT count(*) FROM dash_assessments") == [(0,)]
        # Her own service's case: a manager may.
        assert (await record(client, ref, checklist(14)))[0] == 303
    assert rows(world, "SELECT recorded_by FROM dash_assessments") == [(world.manager,)]
    assert rows(world, "SELECT count(*) FROM audit_log WHERE action = 'dash_recorded'") == [(1,)]


async def test_a_closed_case_takes_no_new_dash(world: World) -> None:
    ref, case_id = await enrol(world, "+447700900001", NAME)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with world.app.db.transaction() as tx:
        await tx.execute("UPDATE cases SET status = 'closed' WHERE id = ?", (case_id,))
        await tx.commit()
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        status, page = await record(client, ref, checklist(14))
    assert status == 409 and "The case is closed: a DASH can no longer be recorded." in page
    assert rows(world, "SELECT count(*) FROM dash_assessments") == [(0,)]


async def incident_checkins(world: World, case_id: int, days_ago: list[int], signals: tuple[str, ...]) -> None:
    async def unit(tx: Tx) -> None:
        for days in days_ago:
            when: datetime = START - timedelta(days=days)
            cid = await checkins.open_checkin(tx, case_id, f"slot-{days}", when, when)
            assert cid is not None
            await checkins.add_answers(tx, world.app.crypto, case_id, cid, (Answer("q", ("a",), signals),), when)
            await checkins.close_checkin(tx, cid, "completed", when)
        await tx.commit()

    await world.app.db.run(unit)


async def test_the_case_page_shows_escalation_and_repeat_from_the_checkins(world: World) -> None:
    ref, case_id = await enrol(world, "+447700900001", NAME)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    await incident_checkins(world, case_id, [400, 200, 100], ("threats",))
    await incident_checkins(world, case_id, [50, 40], ("fear_a_lot",))
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        assert "No Marac referral criterion is met." in await (await client.get(f"/cases/{ref}")).text()
        await incident_checkins(world, case_id, [365], ("choking",))  # exactly 12 months back: counts

        async def marac(tx: Tx) -> None:
            meeting = date(2026, 1, 10)  # the 200-day-old incident (7 May 2026) came after it
            actions = "Police flag on the address"
            await dash.add_meeting(tx, world.app.crypto, case_id, meeting, actions, world.idva, START)
            await tx.commit()

        await world.app.db.run(marac)
        page = await (await client.get(f"/cases/{ref}")).text()
    criteria = shown(page, "marac-criteria")
    assert "Potential escalation: 3 incidents in the last 12 months (threshold 3)" in criteria
    assert "Repeat: incident on 2026-05-07, within 12 months of the Marac on 2026-01-10" in criteria
    assert b"Police flag on the address" not in world.settings.db_path.read_bytes()


async def test_the_escalation_threshold_is_the_services_own(world: World) -> None:
    ref, case_id = await enrol(world, "+447700900001", NAME)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    await incident_checkins(world, case_id, [10, 20], ("other_incident",))
    async with world.app.db.transaction() as tx:
        await services.update(tx, world.service_id, marac_escalation_incidents=2)
        await tx.commit()
    async with workspace(world) as client:
        await signed_in(client, world, ida)
        page = await (await client.get(f"/cases/{ref}")).text()
    assert "Potential escalation: 2 incidents in the last 12 months (threshold 2)" in shown(page, "marac-criteria")
