"""Erasure on request from the workspace: everything personal about her and everything written about her
goes (a byte scan with the key finds none of it in the database, its WAL or its free pages); the figures
the reports are built from stay; only a manager may do it, with a reason from the list and her reference
typed; it is audited with the reason code and put on record as a purge a manager can open."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot import commands
from bot.commands import erasure as erasure_commands
from safety.dash import Answer as DashAnswer
from safety.sharing import Agreement, Basis, Decision, Kind
from storage import accounts, alert_work, alerts, dash, marac, notes, partners, practitioners, share_requests
from storage.alert_work import Outcome
from storage.db import Tx
from storage.keys import load_keys
from storage.practitioners import ChannelAddress
from tests.conftest import World
from tests.forensics import recoverable
from tests.integration.conftest import CALM_ANSWERS, PHONE, answer_all, case_row, later, rows
from tests.webtools import login, person, post_form, workspace

NAME = "Jane Erasable"
WORDS = "Zebedee came round on Sunday"
WINDOWS = "07:13-08:47"
SAFE_TIMES = "[[433, 527]]"  # her safe window as stored
NOTE = "Her sister Philippa keeps the spare key"
ALERT_NOTE = "Rang her at Tesco Kidderminster, she was fine"
JUSTIFICATION = "Drive must know the knife is back in the house"
ACTION_NOTE = "Case manager phoned Wyre Forest police desk"
ACCESS_REASON = "Covering for Ida: the neighbour Gwendolyn called"
MARAC_ACTIONS = "Police to fit a panic alarm at Acacia Avenue"
MARAC_REASON = "Three incidents since Michaelmas"
MARAC_VIEWS = "She wants Bartholomew kept away from school"
PARTNER_REF = "DRV-77531"
DASH_REASON = "Her brother Montgomery says he bought a shotgun"
REQUEST_REASON = "Children at risk: Ophelia said he has a gun"
REFUSAL = "Not enough for overriding consent, ask Quentin"


async def plant_staff_records(world: World, case_id: int) -> None:
    """Everything staff write about her, through the storage functions the workspace uses."""
    now = world.clock.now()
    crypto = world.app.crypto

    async def unit(tx: Tx) -> None:
        await notes.add(tx, crypto, case_id, world.idva, NOTE, now)
        alert_id = await alerts.create(tx, world.service_id, case_id, "high", "risk_raised", now)
        await alerts.acknowledge(tx, alert_id, world.idva, now)
        await alert_work.resolve(tx, crypto, alert_id, world.idva, Outcome.SAFE, None, ALERT_NOTE, now)
        agreement = Agreement("ISA-1", Basis.CONSENT, frozenset({Kind.RISK_CHANGES}))
        partner_id = await partners.create(tx, world.service_id, "Drive West Mercia", "drive", agreement, now)
        contact = await practitioners.add(
            tx, crypto, world.service_id, "partner", "Carl", [ChannelAddress("inbox", None)], now, partner_id=partner_id
        )
        await partners.link(tx, crypto, case_id, partner_id, contact, PARTNER_REF, "test", now)
        share_id = await partners.record_share(
            tx,
            service_id=world.service_id,
            case_id=case_id,
            partner_id=partner_id,
            contact_id=contact,
            kind="manual",
            alert_id=None,
            decision=Decision(Basis.CONSENT),
            content={"level": "high"},
            now=now,
            crypto=crypto,
            justification=JUSTIFICATION,
            requested_by="test",
        )
        await partners.record_action(tx, crypto, share_id, "marac_action_raised", ACTION_NOTE, now)
        request_id = await share_requests.create(
            tx,
            crypto,
            service_id=world.service_id,
            case_id=case_id,
            partner_id=partner_id,
            contact_id=contact,
            kind="risk_changes",
            basis="safeguarding",
            alert_id=None,
            content={"level": "high"},
            reason=REQUEST_REASON,
            requested_by=world.idva,
            now=now,
        )
        await share_requests.refuse(tx, crypto, request_id, world.manager, REFUSAL, now)
        _, session = await accounts.new_session(tx, world.duty, "full", now)
        await accounts.record_reason(tx, crypto, session.id, case_id, ACCESS_REASON, now)
        await dash.add_meeting(tx, crypto, case_id, date(2026, 11, 1), MARAC_ACTIONS, world.idva, now)
        await marac.save_idva_fields(tx, crypto, case_id, MARAC_REASON, MARAC_VIEWS, world.idva, now)
        answers = {n: DashAnswer.YES if n <= 5 else DashAnswer.NO for n in range(1, 25)}
        await dash.add(tx, crypto, case_id, world.idva, answers, None, DASH_REASON, now)
        await tx.commit()

    await world.app.db.run(unit)


async def held_case(world: World) -> tuple[str, int, list[str | bytes]]:
    """A case with her words, her safe times and every staff record; its reference, id and planted values."""
    world.clock.set(world.clock.now().replace(hour=7, minute=0))
    ref = await world.onboard(PHONE, name=NAME, windows=WINDOWS)
    await commands.set_schedule(world.app, world.service_id, ref, "daily@07:30")
    await later(world, timedelta(minutes=31))
    await answer_all(world, [*CALM_ANSWERS[:-1], WORDS])
    case = await case_row(world, ref)
    await plant_staff_records(world, case["id"])
    hasher = world.app.crypto.secret_hasher(case["salt"])
    planted: list[str | bytes] = [
        NAME, PHONE, WORDS, SAFE_TIMES, world.app.crypto.lookup_hash("simulator", PHONE),
        hasher("pasta"), hasher("blue kettle"), NOTE, ALERT_NOTE, JUSTIFICATION, ACTION_NOTE, ACCESS_REASON,
        MARAC_ACTIONS, MARAC_REASON, MARAC_VIEWS, PARTNER_REF, DASH_REASON, REQUEST_REASON, REFUSAL,
    ]  # fmt: skip
    return ref, case["id"], planted


async def figures(world: World, case_id: int) -> dict[str, object]:
    """What the reports are built from: levels, statuses, dates, counts and codes."""
    app = world.app
    return {
        "case": await rows(app, "SELECT ref, idva_id, intake_level, created_at, onboarded_at, channel, language "
                                "FROM cases WHERE id = ?", (case_id,)),
        "checkins": await rows(app, "SELECT slot, due_at, status FROM checkins WHERE case_id = ?", (case_id,)),
        "levels": await rows(app, "SELECT score, level, fear, at FROM assessments WHERE case_id = ?", (case_id,)),
        "alerts": await rows(app, "SELECT severity, reason, created_at, acknowledged_at, outcome FROM alerts "
                                  "WHERE case_id = ?", (case_id,)),
        "shares": await rows(app, "SELECT kind, basis, action, created_at FROM shares WHERE case_id = ?", (case_id,)),
        "dash": await rows(app, "SELECT ticks, level FROM dash_assessments WHERE case_id = ?", (case_id,)),
        "marac": await rows(app, "SELECT meeting_date, heard FROM marac_meetings WHERE case_id = ?", (case_id,)),
        "consents": await rows(app, "SELECT topic, agreed, at FROM consents WHERE case_id = ?", (case_id,)),
    }  # fmt: skip


async def test_erasure_from_the_workspace_leaves_nothing_of_her_readable_with_the_key(world: World) -> None:
    ref, case_id, planted = await held_case(world)
    keys = load_keys({}, world.settings.key_file)
    assert len(recoverable(world.settings.db_path, keys, planted)) == len(planted)  # the scan does find them
    before = await figures(world, case_id)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        page = await (await client.get(f"/cases/{ref}")).text()
        assert f'action="/cases/{ref}/erase"' in page
        form = {"reason": "her_request", "confirm": ref.lower()}
        resp = await post_form(client, f"/cases/{ref}/erase", form, token_from=f"/cases/{ref}")
        assert resp.status == 303
        after = await (await client.get(resp.headers["Location"])).text()
        assert "Her personal data is erased" in after and 'id="case-erased"' in after

    assert recoverable(world.settings.db_path, keys, planted) == []
    assert await figures(world, case_id) == before  # the figures' inputs stay
    [case] = await rows(world.app, "SELECT status, closed_at, erased_at, erase_reason FROM cases WHERE id = ?",
                        (case_id,))  # fmt: skip
    assert case["status"] == "closed" and case["closed_at"] == case["erased_at"]  # closed first, then erased
    assert case["erase_reason"] == "her_request"
    assert await rows(world.app, "SELECT 1 FROM outbox WHERE case_id = ? AND status = 'pending'", (case_id,)) == []
    assert await rows(world.app, "SELECT 1 FROM timers WHERE case_id = ? AND done_at IS NULL", (case_id,)) == []
    [audited] = await rows(world.app, "SELECT actor, detail FROM audit_log WHERE action = 'case_erased'")
    [purge] = await rows(world.app, "SELECT * FROM purges")
    assert audited == {"actor": f"practitioner:{world.manager}", "detail": f"reason=her_request purge={purge['id']}"}
    assert (purge["kind"], purge["actor"], purge["reason"]) == ("request", audited["actor"], "her_request")
    assert purge["case_refs"] == f'["{ref}"]'
    counts = json.loads(purge["counts"])
    for kind in ("notes", "alert_notes", "share_texts", "share_request_texts", "access_reasons", "marac_actions",
                 "partner_refs", "answers", "messages_from_her", "sent_messages"):  # fmt: skip
        assert counts[kind] >= 1, kind
    assert counts["cases_erased"] == 1 and counts["cases_closed"] == 1


async def test_a_wrong_reference_or_no_reason_is_one_line_and_nothing_is_erased(world: World) -> None:
    ref = await world.onboard(PHONE, name=NAME)
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        for form, line in (
            ({"reason": "her_request", "confirm": "C-NOTME"}, f"Type the case reference {ref} exactly to confirm"),
            ({"reason": "", "confirm": ref}, "Choose why her personal data is erased."),
            ({"reason": "because", "confirm": ref}, "Choose why her personal data is erased."),
        ):
            resp = await post_form(client, f"/cases/{ref}/erase", form, token_from=f"/cases/{ref}")
            assert resp.status == 400
            page = await resp.text()
            assert page.count('id="case_erase-error"') == 1 and line in page
    case = await case_row(world, ref)
    assert case["erased_at"] is None and case["name_enc"] is not None and case["status"] == "active"
    assert await rows(world.app, "SELECT 1 FROM purges") == []


async def test_only_a_manager_may_erase_and_the_form_shows_only_to_managers(world: World) -> None:
    ref = await world.onboard(PHONE, name=NAME)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    dan = await person(world, "dan", ("duty",), practitioner_id=world.duty)
    async with workspace(world) as client:
        await login(client, world, ida)
        assert f'action="/cases/{ref}/erase"' not in await (await client.get(f"/cases/{ref}")).text()
        form = {"reason": "her_request", "confirm": ref}
        resp = await post_form(client, f"/cases/{ref}/erase", form, token_from=f"/cases/{ref}")
        assert resp.status == 403
    async with workspace(world) as client:
        await login(client, world, dan)
        resp = await post_form(client, f"/cases/{ref}/erase", form, token_from="/alerts")
        assert resp.status == 403  # not on duty with a reason, and no manager either way
    case = await case_row(world, ref)
    assert case["erased_at"] is None and case["name_enc"] is not None
    assert await rows(world.app, "SELECT 1 FROM purges") == []


async def test_the_purge_report_lists_each_purge_and_opens_it_for_managers_only(world: World) -> None:
    ref = await world.onboard(PHONE, name=NAME)
    await commands.set_status(world.app, world.service_id, ref, "close")
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    done = await erasure_commands.erase(world.app, world.service_id, ref, "not_needed", "practitioner:3")
    async with workspace(world) as client:
        await login(client, world, meg)
        assert 'href="/manage/purges"' in await (await client.get("/manage")).text()
        listing = await (await client.get("/manage/purges")).text()
        assert f'href="/manage/purges/{done.purge_id}"' in listing and ref in listing
        page = await (await client.get(f"/manage/purges/{done.purge_id}")).text()
        assert "Erasure on request" in page and "No longer needed" in page and ref in page
        assert 'id="count-cases_erased"' in page and 'href="/static/print.css"' in page
        assert NAME not in page and PHONE not in page
        assert (await client.get("/manage/purges/99999")).status == 404
    async with workspace(world) as client:
        await login(client, world, ida)
        assert (await client.get("/manage/purges")).status == 403
        assert (await client.get(f"/manage/purges/{done.purge_id}")).status == 403
    viewed = await rows(world.app, "SELECT detail FROM audit_log WHERE action = 'purges_viewed'")
    assert [v["detail"] for v in viewed] == ["list", f"purge={done.purge_id}"]
