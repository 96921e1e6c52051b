"""The subject access export over real HTTP: a manager reviews what staff and partners wrote, withholds what
may identify someone else, and downloads a PDF and JSON of everything held about her case and nothing of
any other case, in her service or another; each download is audited and never cached; everyone but a
manager is refused, and an unknown case says nothing."""

from __future__ import annotations

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
from safety.model import Assessment, Change, Level, RiskChange
from safety.sharing import Agreement, Basis, Consent, Decision, Kind
from storage import (
    accounts,
    alert_work,
    alerts,
    audit,
    cases,
    checkins,
    dash,
    deliveries,
    inbound,
    marac,
    notes,
    outbox,
    partners,
    practitioners,
    schedules,
    services,
    share_requests,
)
from storage import subject_access as sar
from storage.alert_work import Outcome
from storage.db import Tx
from storage.practitioners import ChannelAddress
from tests.conftest import World
from tests.integration.test_partner_workspace import partner_account
from tests.webtools import csrf_of, login, person, workspace

# Every planted value carries its case's tag: hers is Amber; Birch is another case of her service, Cedar
# a case of another service. Her export must hold every Amber value and no Birch or Cedar one.
PLANTED = (
    "{t} Name", "+4477009{n}", "{t}-consent-v1", "q_{t}", "{t} her words", "{t} inbound text",
    "{t} outbox hello {t}-param", "{t} alert note", "{t} case note", "{t} Agency", "{t} Contact", "{t}-REF",
    "{t}-pc-v2", "{t}-content", "{t} share why", "{t} action note", "{t} request reason", "{t} refusal",
    "{t} dash reason", "{t} marac actions", "{t} referral reason", "{t} her views", "{t} access reason",
    "planted={t}",
)
NUMBERS = {"Amber": "00101", "Birch": "00202", "Cedar": "00303"}


def planted(tag: str) -> list[str]:
    return [p.format(t=tag, n=NUMBERS[tag]) for p in PLANTED]


async def plant(world: World, tag: str, service_id: int, idva: int, manager: int) -> tuple[str, int]:
    """A case of `service_id` with a distinctive value, carrying `tag`, in every part; its reference and id."""
    app, now = world.app, world.clock.now()
    ref, _ = await commands.enrol(app, service_id, idva=idva, channel="simulator", address=planted(tag)[1],
                                  name=f"{tag} Name", intake="high")
    async with app.db.reading() as tx:
        found = await cases.by_ref(tx, ref)
    assert found is not None
    case_id, crypto = found.id, app.crypto

    async def unit(tx: Tx) -> None:
        await cases.add_consent(tx, case_id, "checkins", True, f"{tag}-consent-v1", "in_person", now)
        await schedules.put(tx, case_id, schedules.StoredSchedule("mon,thu@10:00", 15, None), now)
        cid = await checkins.open_checkin(tx, case_id, f"slot-{tag}", now - timedelta(days=2), now - timedelta(days=2))
        assert cid is not None
        await checkins.add_answers(tx, crypto, case_id, cid, (Answer(f"q_{tag}", ("yes",), ("threats",),
                                                                      f"{tag} her words"),), now)
        await checkins.add_assessment(tx, case_id, cid, Assessment(7, Level.HIGH, ("threats",), ()),
                                      RiskChange(Change.SAME, Level.STANDARD, None, None), True, now)
        await checkins.close_checkin(tx, cid, "completed", now)
        msg = await inbound.record(tx, "simulator", f"{tag}-provider-id", now)
        assert msg is not None
        await inbound.attach(tx, crypto, msg, case_id, f"{tag} inbound text")
        hello = {"key": tag + " outbox hello {who}", "params": {"who": f"{tag}-param"}, "options": []}
        await outbox.to_survivor(tx, crypto, case_id=case_id, channel="simulator", address=planted(tag)[1],
                                 language="en_GB", timezone="Europe/London", message=hello, now=now)
        gone = await outbox.to_survivor(tx, crypto, case_id=case_id, channel="simulator", address="x",
                                        language="en_GB", timezone="Europe/London", message=hello, now=now)
        await outbox.mark_sent(tx, gone, None, now)
        assert await deliveries.archive(tx, [gone]) == 1  # only its delivery record is left
        aid = await alerts.create(tx, service_id, case_id, "high", "risk_raised", now)
        await alerts.notified(tx, aid, 0, "idva", idva, now)
        await alerts.acknowledge(tx, aid, idva, now)
        await alert_work.resolve(tx, crypto, aid, idva, Outcome.SAFE, None, f"{tag} alert note", now)
        await notes.add(tx, crypto, case_id, idva, f"{tag} case note", now)
        agreement = Agreement("ISA-1", Basis.CONSENT, frozenset({Kind.RISK_CHANGES}))
        pid = await partners.create(tx, service_id, f"{tag} Agency", "drive", agreement, now)
        contact = await practitioners.add(tx, crypto, service_id, "partner", f"{tag} Contact",
                                          [ChannelAddress("email", f"{tag.lower()}@partner.example.org")], now,
                                          partner_id=pid)
        await partners.link(tx, crypto, case_id, pid, contact, f"{tag}-REF", "test", now)
        consent = await partners.record_consent(tx, case_id, pid, Kind.RISK_CHANGES, True, f"{tag}-pc-v2",
                                                "in_person", "test", now)
        share = await partners.record_share(
            tx, service_id=service_id, case_id=case_id, partner_id=pid, contact_id=contact, kind="risk_changes",
            alert_id=aid, decision=Decision(Basis.CONSENT, Consent(consent, True, f"{tag}-pc-v2")),
            content={"level": "high", "fact": f"{tag}-content"}, now=now, crypto=crypto,
            justification=f"{tag} share why", requested_by=f"practitioner:{idva}")
        await partners.acknowledge_share(tx, share, contact, now)
        await partners.record_action(tx, crypto, share, partners.ACTION_CODES[0], f"{tag} action note", now)
        request = await share_requests.create(
            tx, crypto, service_id=service_id, case_id=case_id, partner_id=pid, contact_id=contact,
            kind="risk_changes", basis="safeguarding", alert_id=None, content={"level": "high"},
            reason=f"{tag} request reason", requested_by=idva, now=now)
        await share_requests.refuse(tx, crypto, request, manager, f"{tag} refusal", now)
        ticks = {n: DashAnswer.YES if n <= 15 else DashAnswer.NO for n in range(1, 25)}
        await dash.add(tx, crypto, case_id, idva, ticks, None, f"{tag} dash reason", now)
        await dash.add_meeting(tx, crypto, case_id, date(2026, 11, 1), f"{tag} marac actions", idva, now)
        await marac.save_idva_fields(tx, crypto, case_id, f"{tag} referral reason", f"{tag} her views", idva, now)
        _, session = await accounts.new_session(tx, manager, "full", now)
        await accounts.record_reason(tx, crypto, session.id, case_id, f"{tag} access reason", now)
        await audit.log(tx, now, "test", "planted", case_id, f"planted={tag}")
        await tx.commit()

    await app.db.run(unit)
    return ref, case_id


async def three_cases(world: World) -> str:
    """Amber (hers), Birch (her service) and Cedar (another service), all planted; Amber's reference."""
    ref, _ = await plant(world, "Amber", world.service_id, world.idva, world.manager)
    await plant(world, "Birch", world.service_id, world.idva, world.manager)

    async def other(tx: Tx) -> int:
        svc = await services.create(tx, "other", "Other service", world.clock.now())
        await tx.commit()
        return svc

    svc = await world.app.db.run(other)
    olu = await commands.add_practitioner(world.app, svc, "Olu", "idva", ["inbox"])
    mo = await commands.add_practitioner(world.app, svc, "Mo", "manager", ["inbox"])
    await plant(world, "Cedar", svc, olu, mo)
    return ref


async def as_manager(world: World, client: TestClient) -> None:
    await login(client, world, await person(world, "meg", ("manager",), practitioner_id=world.manager))


async def download(client: TestClient, ref: str, fmt: str, **choices: str) -> Any:
    path = f"/cases/{ref}/subject-access"
    page = await (await client.get(path)).text()
    reviewed = re.search(r'name="reviewed" value="([^"]*)"', page)
    assert reviewed, page[:300]
    form = {"_csrf": await csrf_of(client, path), "reviewed": reviewed.group(1), "format": fmt, **choices}
    return await client.post(path, data=form, allow_redirects=False)


def pdf_text(body: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages).split())


def audit_rows(world: World, action: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        return conn.execute("SELECT actor, case_id, detail FROM audit_log WHERE action = ?", (action,)).fetchall()


async def test_the_export_holds_everything_of_hers_and_nothing_of_anyone_else(world: World) -> None:
    ref = await three_cases(world)
    async with workspace(world) as client:
        await as_manager(world, client)
        case_page = await (await client.get(f"/cases/{ref}")).text()
        assert f'href="/cases/{ref}/subject-access"' in case_page
        resp = await download(client, ref, "json")
        assert resp.status == 200, await resp.text()
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers["Content-Disposition"] == f'attachment; filename="subject-access-{ref}.json"'
        data = json.loads(await resp.read())
        text = json.dumps(data, ensure_ascii=False)
        for value in planted("Amber"):
            assert value in text, value
        for value in planted("Birch") + planted("Cedar"):
            assert value.split(" ")[0] not in text, value
        assert data["case"]["reference"] == ref
        assert [m["content_held"] for m in data["messages_to_her"]] == [True, False]  # held, then record only
        assert data["alerts"][0]["ladder"][0]["told"] == "Ida"
        assert data["case_notes"][0]["by"] == "Ida"
        assert data["case"]["created_at"].endswith("+00:00")  # London in November: GMT

        resp = await download(client, ref, "pdf")
        assert resp.status == 200 and resp.headers["Content-Type"] == "application/pdf"
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers["Content-Disposition"] == f'attachment; filename="subject-access-{ref}.pdf"'
        shown = pdf_text(await resp.read())
        for value in planted("Amber"):
            assert value in shown, value
        assert "Birch" not in shown and "Cedar" not in shown
        for heading in ("Her case record", "Messages she sent", "Case notes", "Audit entries about her case"):
            assert heading in shown
    exports = audit_rows(world, "subject_access_export")
    assert [detail for _, _, detail in exports] == ["format=json withheld=none", "format=pdf withheld=none"]
    assert {actor for actor, _, _ in exports} == {f"practitioner:{world.manager}"}


async def test_a_withheld_note_is_named_but_its_text_is_in_neither_file(world: World) -> None:
    ref = await three_cases(world)
    async with workspace(world) as client:
        await as_manager(world, client)
        page = await (await client.get(f"/cases/{ref}/subject-access")).text()
        for reviewed in ("Amber case note", "Amber alert note", "Amber share why", "Amber action note",
                         "Amber dash reason", "Amber marac actions", "Amber referral reason", "Amber her views",
                         "Amber access reason", "Amber-REF", "Amber request reason", "Amber refusal"):
            assert reviewed in page, reviewed
        note = re.search(r'name="(withhold-case_note-\d+)"', page)
        assert note
        choice = {note.group(1): "third_party"}
        data = await (await download(client, ref, "json", **choice)).read()
        shown = pdf_text(await (await download(client, ref, "pdf", **choice)).read())
    for body in (data.decode(), shown):
        assert "Amber case note" not in body
        assert "withheld: may identify another person" in body
        assert "Amber alert note" in body  # released: only what was withheld goes
    item = note.group(1).removeprefix("withhold-").replace("-", ":")
    assert json.loads(data)["withheld"] == [{"item": item, "reason": "third_party"}]
    details = [detail for _, _, detail in audit_rows(world, "subject_access_export")]
    assert details == [f"format=json withheld={item}/third_party", f"format=pdf withheld={item}/third_party"]


async def test_an_item_added_after_the_review_stops_the_download_until_reviewed(world: World) -> None:
    ref = await three_cases(world)
    async with workspace(world) as client:
        await as_manager(world, client)
        path = f"/cases/{ref}/subject-access"
        page = await (await client.get(path)).text()
        reviewed = re.search(r'name="reviewed" value="([^"]*)"', page)
        assert reviewed
        async with world.app.db.transaction() as tx:
            case = await cases.by_ref(tx, ref)
            assert case is not None
            await notes.add(tx, world.app.crypto, case.id, world.idva, "Written after the review", world.clock.now())
            await tx.commit()
        form = {"_csrf": await csrf_of(client, path), "reviewed": reviewed.group(1), "format": "json"}
        resp = await client.post(path, data=form)
        body = await resp.text()
    assert resp.status == 409
    assert "new since you opened this page" in body and "Written after the review" in body
    assert audit_rows(world, "subject_access_export") == []


async def test_only_a_manager_may_export_and_an_unknown_case_says_nothing(world: World) -> None:
    ref = await three_cases(world)
    async with world.app.db.reading() as tx:
        (cedar_case,) = await cases.list_for_service(tx, world.service_id + 1)
        cedar = cedar_case.ref
        partner = await tx.scalar("SELECT id FROM practitioners WHERE role = 'partner' AND service_id = ?",
                                  (world.service_id,))
    staff = [await person(world, name, roles, practitioner_id=pid)
             for name, roles, pid in (("ida", ("idva",), world.idva), ("dan", ("duty",), world.duty))]
    for who in [*staff, await partner_account(world, partner, "pat")]:
        async with workspace(world) as client:
            await login(client, world, who)
            assert (await client.get(f"/cases/{ref}/subject-access")).status == 403
            token = await csrf_of(client, "/account")
            resp = await client.post(f"/cases/{ref}/subject-access", data={"_csrf": token, "format": "json"})
            assert resp.status == 403
            assert "Amber" not in await resp.text()
    async with workspace(world) as client:
        await as_manager(world, client)
        unknown = await client.get("/cases/C-ZZZZZZ/subject-access")
        elsewhere = await client.get(f"/cases/{cedar}/subject-access")
        assert unknown.status == elsewhere.status == 404
        assert await unknown.text() == await elsewhere.text() == "No such case."
    assert audit_rows(world, "subject_access_export") == []
    assert len(audit_rows(world, "case_view_denied")) >= 6


async def test_every_table_about_a_case_is_exported_or_its_leaving_out_explained(world: World) -> None:
    with sqlite3.connect(world.settings.db_path) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        about_a_case = {
            t for t in tables
            if {"case_id", "alert_id"} & {col[1] for col in conn.execute(f"PRAGMA table_info({t})")}
        } | {"cases"}
    assert not sar.INCLUDED & set(sar.NOT_INCLUDED)
    assert about_a_case - sar.INCLUDED - set(sar.NOT_INCLUDED) == set()
