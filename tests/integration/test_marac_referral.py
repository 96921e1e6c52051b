"""The Marac referral over real HTTP: drafted from what the case holds (DASH, dates, risk over time,
incidents by type, criteria, linked partners) plus the IDVA's two fields; downloaded as a PDF (its text
extracted), JSON and CSV that agree, each audited and named by the case reference only; refused to
anyone but the case's IDVA or a manager; Marac meetings recorded, and only a heard one starts the
"repeat" year."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sqlite3
from datetime import date, timedelta
from typing import Any

import pypdf
from aiohttp.test_utils import TestClient

from bot import commands
from flows.model import Answer
from safety.dash import Answer as DashAnswer
from safety.sharing import Agreement, Basis, Kind
from storage import checkins, dash, marac, partners, practitioners
from storage.db import Tx
from storage.keys import load_keys
from storage.practitioners import ChannelAddress
from tests.caseload_data import alert, checkin, enrol, other_service
from tests.conftest import START, World
from tests.forensics import recoverable
from tests.webtools import login, person, post_form, workspace

NAME = "Amy Able"
PHONE = "+447700900001"
HER_WORDS = "He waited by the bins with the kitchen knife"
NOTE = "Neighbour Jo keeps the spare key"
DRIVE_REF = "DRV-889"
REASON = "Three incidents since October and she is more afraid"
JUDGEMENT = "Her brother says he bought a shotgun"
VIEWS = "=She wants the police told\nShe does not want to move"


def rows(world: World, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        return conn.execute(sql, params).fetchall()


def shown(page: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, f"no #{element_id}"
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())
    return re.sub(r" ([:,])", r"\1", words)


async def incidents(world: World, case_id: int, days_ago: list[int], signals: tuple[str, ...], text: str = "") -> None:
    """Check-ins `days_ago` reporting `signals` (with her own words, when given)."""

    async def unit(tx: Tx) -> None:
        for days in days_ago:
            when = START - timedelta(days=days)
            cid = await checkins.open_checkin(tx, case_id, f"slot-{days}-{signals[0]}", when, when)
            assert cid is not None
            answer = Answer("q", ("a",), signals, text or None)
            await checkins.add_answers(tx, world.app.crypto, case_id, cid, (answer,), when)
            await checkins.close_checkin(tx, cid, "completed", when)
        await tx.commit()

    await world.app.db.run(unit)


async def drive_link(world: World, case_id: int) -> int:
    """The Drive team's case manager, linked to the case under the Drive reference; their id."""
    now = world.clock.now()
    async with world.app.db.transaction() as tx:
        agreement = Agreement("ISA-2026-014", Basis.CONSENT, frozenset({Kind.RISK_CHANGES}))
        partner_id = await partners.create(tx, world.service_id, "Drive West Mercia", "drive", agreement, now)
        contact = await practitioners.add(
            tx,
            world.app.crypto,
            world.service_id,
            "partner",
            "Carl Case-Manager",
            [ChannelAddress("email", "cm@drive.example.org")],
            now,
            partner_id=partner_id,
        )
        await partners.link(tx, world.app.crypto, case_id, partner_id, contact, DRIVE_REF, "test", now)
        await tx.commit()
    return contact


def dash_form(yes: int) -> dict[str, str]:
    return {f"q{n}": "yes" if n <= yes else "no" for n in range(1, 25)} | {"q24": "not_known"}


async def held_case(world: World, client: TestClient) -> tuple[str, int]:
    """A case holding a DASH (14 ticks), incidents with her words, a high check-in, a note, a Drive link."""
    ref, case_id = await enrol(world, PHONE, NAME, intake="standard")
    await incidents(world, case_id, [40, 20], ("threats",), HER_WORDS)
    await incidents(world, case_id, [20], ("choking",))
    await incidents(world, case_id, [400], ("weapons",))  # over 12 months ago: not counted
    await checkin(world, case_id, "levels-1", START - timedelta(days=30), level="raised", signals=("threats",))
    await checkin(world, case_id, "levels-2", START - timedelta(days=10), level="high", signals=("choking",))
    await drive_link(world, case_id)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    await login(client, world, ida)
    assert (await post_form(client, f"/cases/{ref}/dash", dash_form(14))).status == 303
    assert (await post_form(client, f"/cases/{ref}/notes", {"body": NOTE}, token_from=f"/cases/{ref}")).status == 303
    return ref, case_id


def pdf_text(body: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages).split())


def flat(value: Any, path: str = "") -> dict[str, str]:
    """The JSON as the CSV should hold it: a dotted path per leaf, lists numbered from 1."""
    if isinstance(value, dict):
        return {k: v for key, inner in value.items() for k, v in flat(inner, f"{path}.{key}" if path else key).items()}
    if isinstance(value, list):
        return {k: v for n, inner in enumerate(value, 1) for k, v in flat(inner, f"{path}.{n}").items()}
    text = "" if value is None else ("true" if value is True else "false" if value is False else str(value))
    return {path: "'" + text if text[:1] in ("=", "+", "-", "@") else text}


async def test_the_draft_shows_what_the_case_holds_and_the_idva_adds_her_part(world: World) -> None:
    async with workspace(world) as client:
        ref, case_id = await held_case(world, client)
        case_page = await (await client.get(f"/cases/{ref}")).text()
        assert f'href="/cases/{ref}/marac"' in case_page
        page = await (await client.get(f"/cases/{ref}/marac")).text()
        text = shown(page, "referral")
        assert "Visible high risk: 14 of 24 DASH ticks" in text
        assert "Potential escalation: 3 incidents in the last 12 months (threshold 3)" in text
        for held in (
            "Intake 2026-11-23",
            "DASH recorded 2026-11-23",
            "Last check-in answered 2026-11-13",
            "Previous Marac none",
            "1 Current incident resulted in injury Yes",
            "15 Strangling, choking, suffocating or drowning No",
            "24 Abuser has a criminal history Not known",
            "Threats made: 2",
            "Strangulation disclosed: 1",
            "2026-10-24: raised (check-in)",
            "2026-11-13: high (check-in)",
            "2026-11-23: high (DASH)",
            f"Drive West Mercia, Carl Case-Manager: their reference {DRIVE_REF}",
        ):
            assert held in text, held
        assert "Weapon used or threatened:" not in text  # the 400-day-old incident is outside the 12 months
        for secret in (HER_WORDS, NOTE, PHONE):
            assert secret not in page
        resp = await post_form(client, f"/cases/{ref}/marac", {"reason": REASON, "views": VIEWS})
        assert (resp.status, resp.headers["Location"]) == (303, f"/cases/{ref}/marac?done=saved")
        page = await (await client.get(f"/cases/{ref}/marac?done=saved")).text()
    assert "Your part of the referral is saved." in page and REASON in shown(page, "referral")
    assert REASON.encode() not in world.settings.db_path.read_bytes()
    actions = [a for (a,) in rows(world, "SELECT action FROM audit_log WHERE case_id = ? ORDER BY id", (case_id,))]
    # Three views: the two pages read here, and the one the save's CSRF token was read from.
    assert actions.count("marac_referral_viewed") == 3 and "marac_referral_saved" in actions


async def test_the_pdf_json_and_csv_carry_the_same_referral_and_are_audited(world: World) -> None:
    async with workspace(world) as client:
        ref, _ = await held_case(world, client)
        assert (await post_form(client, f"/cases/{ref}/marac", {"reason": REASON, "views": VIEWS})).status == 303
        got = {}
        for fmt, kind in (("pdf", "application/pdf"), ("json", "application/json"), ("csv", "text/csv")):
            resp = await client.get(f"/cases/{ref}/marac.{fmt}")
            assert resp.status == 200 and resp.content_type == kind
            assert resp.headers["Cache-Control"] == "no-store"
            assert resp.headers["Content-Disposition"] == f'attachment; filename="marac-referral-{ref}.{fmt}"'
            got[fmt] = await resp.read()
    text = pdf_text(got["pdf"])
    for held in (
        f"Marac referral, case {ref}",
        NAME,
        "14 of 24",
        "Level high",
        "Strangling, choking, suffocating or drowning",
        "Threats made: 2",
        "Strangulation disclosed: 1",
        DRIVE_REF,
        REASON,
        "She does not want to move",
        "Visible high risk",
    ):
        assert held in text, held
    for secret in (HER_WORDS, NOTE, PHONE, "ISA-2026-014"):
        assert secret not in text, secret
    data = json.loads(got["json"])
    assert data["case_ref"] == ref and data["dash"]["ticks"] == 14 and data["dash"]["level"] == "high"
    assert [i["answer"] for i in data["dash"]["items"]] == ["yes"] * 14 + ["no"] * 9 + ["not_known"]
    assert data["incidents_12_months"] == [
        {"type": "threats", "label": "threats made", "count": 2},
        {"type": "choking", "label": "strangulation disclosed", "count": 1},
    ]
    assert data["partners"] == [{"agency": "Drive West Mercia", "contact": "Carl Case-Manager", "reference": DRIVE_REF}]
    assert data["idva_fields"] == {"reason_for_referral": REASON, "her_views": VIEWS}
    assert [c["criterion"] for c in data["criteria"]] == ["visible_high_risk", "potential_escalation"]
    assert HER_WORDS not in got["json"].decode() and PHONE not in got["json"].decode()
    table = list(csv.reader(io.StringIO(got["csv"].decode("utf-8-sig"))))
    assert table[0] == ["field", "value"]
    as_csv = dict((field, value) for field, value in table[1:])
    assert len(as_csv) == len(table) - 1
    assert as_csv == flat(data)
    assert as_csv["dash.items.15.answer"] == "no" and as_csv["idva_fields.her_views"].startswith("'=She")
    assert rows(world, "SELECT actor, detail FROM audit_log WHERE action = 'marac_referral_exported' ORDER BY id") == [
        (f"practitioner:{world.idva}", f"format={fmt}") for fmt in ("pdf", "json", "csv")
    ]


async def test_only_the_cases_idva_or_a_manager_may_see_or_download_it(world: World) -> None:
    ref, case_id = await enrol(world, PHONE, NAME)
    await drive_link(world, case_id)
    bea_id = await commands.add_practitioner(world.app, world.service_id, "Bea", "idva", ["inbox"])
    who = {
        "bea": await person(world, "bea", ("idva",), practitioner_id=bea_id),  # another IDVA
        "dan": await person(world, "dan", ("duty",), practitioner_id=world.duty),  # duty, with an open alert
    }
    await alert(world, case_id, START)
    _, _, elsewhere = await other_service(world)
    paths = [f"/cases/{ref}/marac", f"/cases/{ref}/marac.pdf", f"/cases/{ref}/marac.json", f"/cases/{ref}/marac.csv"]
    for name, someone in who.items():
        world.clock.advance(timedelta(seconds=30))
        async with workspace(world) as client:
            await login(client, world, someone)
            for path in paths:
                assert (await client.get(path)).status in (403, 404), (name, path)
            meeting = {"meeting_date": "2026-11-01", "heard": "yes", "actions": "x"}
            resp = await post_form(client, f"/cases/{ref}/marac/meetings", meeting, token_from="/account")
            assert resp.status in (403, 404), name
            resp = await post_form(client, f"/cases/{ref}/marac", {"reason": "x"}, token_from="/account")
            assert resp.status in (403, 404), name
    world.clock.advance(timedelta(seconds=30))
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        for suffix in ("/marac", "/marac.json"):
            assert (await client.get(f"/cases/{elsewhere}{suffix}")).status == 404
        assert (await client.get(f"/cases/{ref}/marac.json")).status == 200  # her own service's case
    assert rows(world, "SELECT count(*) FROM marac_meetings") == [(0,)]
    assert rows(world, "SELECT count(*) FROM marac_referrals") == [(0,)]
    assert rows(world, "SELECT actor FROM audit_log WHERE action = 'marac_referral_exported'") == [
        (f"practitioner:{world.manager}",)
    ]
    denied = rows(world, "SELECT count(*) FROM audit_log WHERE action = 'case_view_denied' AND case_id = ?", (case_id,))
    assert denied[0][0] >= 2 * 4  # each refused view or download is on record


async def test_bad_input_is_one_line_and_changes_nothing(world: World) -> None:
    ref, _ = await enrol(world, PHONE, NAME)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    path = f"/cases/{ref}/marac/meetings"
    async with workspace(world) as client:
        await login(client, world, ida)
        for form, field, line in (
            ({"meeting_date": "23/11/2026", "heard": "yes"}, "meeting_date", "Give the Marac's date as a date"),
            ({"meeting_date": "", "heard": "yes"}, "meeting_date", "Give the date of the Marac."),
            ({"meeting_date": "2026-11-24", "heard": "yes"}, "meeting_date", "the date is in the future"),
            ({"meeting_date": "2026-11-02", "heard": "maybe"}, "heard", "Say whether her case was heard."),
            ({"meeting_date": "2026-11-02", "heard": "no", "actions": "a" * 4001}, "actions", "at most 4000"),
        ):
            resp = await post_form(client, path, form, token_from=f"/cases/{ref}/marac")
            page = await resp.text()
            assert resp.status == 400 and line in shown(page, f"{field}-error"), (form, page[-2000:])
        resp = await post_form(client, f"/cases/{ref}/marac", {"reason": "r" * 4001})
        assert resp.status == 400 and "The reason can be at most 4000 characters." in await resp.text()
    assert rows(world, "SELECT count(*) FROM marac_meetings") == [(0,)]
    assert rows(world, "SELECT count(*) FROM marac_referrals") == [(0,)]


async def test_a_heard_marac_recorded_makes_a_later_incident_a_repeat(world: World) -> None:
    ref, case_id = await enrol(world, PHONE, NAME)
    await incidents(world, case_id, [30], ("physical_harm",))
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        page = await (await client.get(f"/cases/{ref}")).text()
        assert shown(page, "marac-criteria") == "No Marac referral criterion is met."
        assert shown(page, "marac-meetings") == "No Marac meeting recorded."
        # Listed but not heard (deferred): no repeat year starts.
        deferred = {"meeting_date": "2026-09-10", "heard": "no", "actions": "Deferred to next month"}
        resp = await post_form(client, f"/cases/{ref}/marac/meetings", deferred, token_from=f"/cases/{ref}/marac")
        assert (resp.status, resp.headers["Location"]) == (303, f"/cases/{ref}/marac?done=meeting")
        page = await (await client.get(f"/cases/{ref}")).text()
        assert shown(page, "marac-criteria") == "No Marac referral criterion is met."
        lines = " Police flag on the address \n\n IDVA to call weekly"
        heard = {"meeting_date": "2026-10-08", "heard": "yes", "actions": lines}
        resp = await post_form(client, f"/cases/{ref}/marac/meetings", heard, token_from=f"/cases/{ref}/marac")
        assert resp.status == 303
        page = await (await client.get(f"/cases/{ref}")).text()
        data = json.loads(await (await client.get(f"/cases/{ref}/marac.json")).read())
    repeat = "Repeat: incident on 2026-10-24, within 12 months of the Marac on 2026-10-08"
    assert repeat in shown(page, "marac-criteria")
    meetings = shown(page, "marac-meetings")
    assert "2026-09-10: not heard (deferred) Deferred to next month" in meetings
    assert "2026-10-08: heard Police flag on the address IDVA to call weekly" in meetings
    assert data["dates"]["previous_marac"] == "2026-10-08"
    assert data["marac_meetings"] == [{"date": "2026-09-10", "heard": False}, {"date": "2026-10-08", "heard": True}]
    assert b"Police flag on the address" not in world.settings.db_path.read_bytes()
    assert rows(world, "SELECT detail FROM audit_log WHERE action = 'marac_meeting_recorded' ORDER BY id") == [
        ("meeting=1 heard=0",),
        ("meeting=2 heard=1",),
    ]
    assert date(2026, 10, 24) == (START - timedelta(days=30)).date()


async def test_her_withdrawal_erases_her_views_the_reason_and_her_dash_answers(world: World) -> None:
    ref = await world.onboard(PHONE)
    [(case_id,)] = rows(world, "SELECT id FROM cases WHERE ref = ?", (ref,))

    async def unit(tx: Tx) -> None:
        await marac.save_idva_fields(tx, world.app.crypto, case_id, REASON, VIEWS, world.idva, world.clock.now())
        answers = {n: DashAnswer.YES if n <= 14 else DashAnswer.NO for n in range(1, 25)}
        await dash.add(tx, world.app.crypto, case_id, world.idva, answers, None, JUDGEMENT, world.clock.now())
        await tx.commit()

    await world.app.db.run(unit)
    keys = load_keys({}, world.settings.key_file)
    assert len(recoverable(world.settings.db_path, keys, [REASON, VIEWS, JUDGEMENT])) == 3  # the scan finds them
    await world.say(PHONE, "STOP")
    await world.deliver()
    assert rows(world, "SELECT reason_enc, views_enc FROM marac_referrals") == [(None, None)]
    assert recoverable(world.settings.db_path, keys, [REASON, VIEWS, JUDGEMENT]) == []
    # Her DASH answers go too; the count and the level stay, as her check-ins' levels do.
    assert rows(world, "SELECT answers, reason_enc, ticks, level FROM dash_assessments") == [("{}", None, 14, "high")]
