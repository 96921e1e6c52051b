"""Manage → Shares over real HTTP on a real SQLite file: a manager sees every share of their own service
(what, to whom, when, why, the agreement's basis, the consent text version, the acknowledgement, the action)
with the partners' response times from the risk change to the acknowledgement; a share without consent is
flagged; the filters by partner and period work; the CSV holds the same with the response-time summary and
never the partner's reference or her name; another service's shares never show; an IDVA, a duty worker and a
partner's person are refused; viewing and downloading are audited."""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from safety.sharing import Agreement, Basis, Consent, Decision, Kind, Override
from storage import partners, practitioners
from storage.db import Tx
from storage.practitioners import ChannelAddress
from tests.caseload_data import alert, case_id, enrol, other_service
from tests.conftest import World
from tests.webtools import login, person, workspace

PAGE = "/manage/shares"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the world's clock
DRIVE_REF = "DRV-889"
SURVIVOR = "Rita Survivor"
JUSTIFICATION = "Threat to the children reported by the school"


@dataclass(frozen=True)
class Seeded:
    drive: int
    police: int
    carl: int
    pete: int
    ref: str
    shares: dict[str, int]  # label -> share id


async def _partner(world: World, service_id: int, name: str, kind: str, person_name: str) -> tuple[int, int]:
    async def unit(tx: Tx) -> tuple[int, int]:
        agreement = Agreement(f"ISA-{kind}", Basis.CONSENT, frozenset({Kind.RISK_CHANGES, Kind.CHECKIN_SUMMARIES}))
        pid = await partners.create(tx, service_id, name, kind, agreement, T0 - timedelta(days=30))
        contact = await practitioners.add(
            tx,
            world.app.crypto,
            service_id,
            "partner",
            person_name,
            [ChannelAddress("email", "x@agency.example")],
            T0 - timedelta(days=30),
            partner_id=pid,
        )
        await tx.commit()
        return pid, contact

    return await world.app.db.run(unit)


async def _share(
    world: World,
    service_id: int,
    case: int,
    partner_id: int,
    contact: int,
    at: datetime,
    *,
    kind: str = "risk_changes",
    ack_after: timedelta | None = None,
    override: Override | None = None,
    with_alert: bool = True,
    action: str | None = None,
) -> int:
    # (the alert helper raises alerts in the world's service only)
    alert_id = await alert(world, case, at) if with_alert and service_id == world.service_id else None

    async def unit(tx: Tx) -> int:
        consent = None
        if override is None:
            cid = await partners.record_consent(
                tx, case, partner_id, kind, True, "2026-12-partners-v1", "in_person", "test", at
            )
            consent = Consent(cid, True, "2026-12-partners-v1")
        decision = Decision(override.basis if override else Basis.CONSENT, consent, override)
        content = {
            "severity": "high",
            "reason": "risk_raised",
            "level": "high",
            "facts": ["choking"],
            "at": at.isoformat(),
        }
        if kind == "checkin_summaries":
            content = {
                "severity": "summary",
                "reason": "checkin_summary",
                "level": "raised",
                "facts": [],
                "at": at.isoformat(),
            }
        sid = await partners.record_share(
            tx,
            service_id=service_id,
            case_id=case,
            partner_id=partner_id,
            contact_id=contact,
            kind=kind,
            alert_id=alert_id,
            decision=decision,
            content=content,
            now=at,
        )
        if override is not None:
            blob = world.app.crypto.encrypt(JUSTIFICATION, partners.JUSTIFICATION.at(sid))
            await tx.execute("UPDATE shares SET justification_enc = ? WHERE id = ?", (blob, sid))
        if ack_after is not None:
            assert await partners.acknowledge_share(tx, sid, contact, at + ack_after)
        if action is not None:
            await partners.record_action(tx, world.app.crypto, sid, action, "visited at home", at + timedelta(hours=1))
        await tx.commit()
        return sid

    return await world.app.db.run(unit)


async def seeded(world: World) -> Seeded:
    """Drive (4 timed shares: acknowledged after 3, 12 and 40 minutes, one never; a summary; an older one),
    the police (one share without consent, acknowledged after 7 minutes), and another service's share."""
    drive, carl = await _partner(world, world.service_id, "Drive West Mercia", "drive", "Carl Case-Manager")
    police, pete = await _partner(world, world.service_id, "Police DA Unit", "police", "Pete Officer")
    ref, case = await enrol(world, "+447700900123", SURVIVOR)

    async def link(tx: Tx) -> None:
        await partners.link(tx, world.app.crypto, case, drive, carl, DRIVE_REF, "test", T0)
        await tx.commit()

    await world.app.db.run(link)
    s = {
        "old": await _share(
            world, world.service_id, case, drive, carl, T0 - timedelta(days=3), ack_after=timedelta(minutes=1)
        ),
        "a3": await _share(
            world, world.service_id, case, drive, carl, T0, ack_after=timedelta(minutes=3), action="perpetrator_visited"
        ),
        "a12": await _share(
            world, world.service_id, case, drive, carl, T0 + timedelta(hours=1), ack_after=timedelta(minutes=12)
        ),
        "a40": await _share(
            world,
            world.service_id,
            case,
            drive,
            carl,
            T0 + timedelta(hours=2),
            ack_after=timedelta(minutes=40, seconds=30),
        ),
        "never": await _share(world, world.service_id, case, drive, carl, T0 + timedelta(hours=3)),
        "summary": await _share(
            world,
            world.service_id,
            case,
            drive,
            carl,
            T0 + timedelta(hours=4),
            kind="checkin_summaries",
            with_alert=False,
            ack_after=timedelta(minutes=1),
        ),
        "police": await _share(
            world,
            world.service_id,
            case,
            police,
            pete,
            T0 + timedelta(hours=5),
            kind="manual",
            override=Override(world.idva, "x", Basis.SAFEGUARDING, world.manager),
            ack_after=timedelta(minutes=7),
        ),
    }
    other_svc, _, other_ref = await other_service(world)
    other_partner, other_contact = await _partner(world, other_svc, "Elsewhere Drive", "drive", "Olga Other")
    other_case = await case_id(world, other_ref)
    s["other"] = await _share(
        world, other_svc, other_case, other_partner, other_contact, T0, ack_after=timedelta(minutes=2)
    )
    return Seeded(drive, police, carl, pete, ref, s)


def db_rows(world: World, sql: str) -> list[dict[str, Any]]:
    with sqlite3.connect(world.settings.db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql)]


def row_of(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</tr>", start)]


async def as_manager(client: TestClient, world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    await login(client, world, meg)


async def test_the_page_shows_every_share_of_the_service_and_the_response_times(world: World) -> None:
    seed = await seeded(world)
    async with workspace(world) as client:
        await as_manager(client, world)
        assert PAGE in await (await client.get("/manage")).text()
        resp = await client.get(PAGE)
        page = await resp.text()
    assert resp.status == 200, page
    s = seed.shares
    for label in ("old", "a3", "a12", "a40", "never", "summary", "police"):
        assert f'id="share-{s[label]}"' in page
    assert f'id="share-{s["other"]}"' not in page and "Elsewhere Drive" not in page and "Olga Other" not in page

    # Drive: 5 timed shares (the older one too, 1 minute), acknowledged after 1, 3, 12, 40:30 and never.
    drive = row_of(page, f"times-{seed.drive}")
    cells = [c.split("<")[0] for c in drive.split("<td>")[1:]]
    assert cells == ["5", "4", "12:00", "not reached", "2 (40%)", "3 (60%)", "3 (60%)", "4 (80%)"]
    police = row_of(page, f"times-{seed.police}")
    assert [c.split("<")[0] for c in police.split("<td>")[1:]] == [
        "1",
        "1",
        "7:00",
        "7:00",
        "0 (0%)",
        "1 (100%)",
        "1 (100%)",
        "1 (100%)",
    ]
    overall = [c.split("<")[0] for c in row_of(page, "times-all").split("<td>")[1:]]
    assert overall == ["6", "5", "7:00", "not reached", "2 (33%)", "4 (67%)", "4 (67%)", "5 (83%)"]

    first = row_of(page, f"share-{s['a3']}")
    assert "risk changes · high: strangulation disclosed" in first
    assert "Drive West Mercia · Carl Case-Manager" in first
    assert "Basis: consent" in first and "ISA-drive (consent)" in first and "consent text 2026-12-partners-v1" in first
    assert "Without consent" not in first and "(3:00)" in first and "Perpetrator visited" in first
    assert "Not acknowledged" in row_of(page, f"share-{s['never']}")
    flagged = row_of(page, f"share-{s['police']}")
    assert f'id="share-{s["police"]}-flag">Without consent' in flagged and "Basis: safeguarding" in flagged
    assert JUSTIFICATION in flagged and "approved by" in flagged
    assert DRIVE_REF not in page and SURVIVOR not in page  # the partner's reference and her name stay out
    [viewed] = db_rows(world, "SELECT actor, detail FROM audit_log WHERE action = 'shares_viewed'")
    assert viewed == {"actor": f"practitioner:{world.manager}", "detail": '{"filters": {}, "shares": 7}'}


async def test_filters_by_partner_and_by_period(world: World) -> None:
    seed = await seeded(world)
    s = seed.shares
    async with workspace(world) as client:
        await as_manager(client, world)
        police_only = await (await client.get(PAGE, params={"partner": str(seed.police)})).text()
        recent = await (await client.get(PAGE, params={"from": "2026-11-23", "to": "2026-11-23"})).text()
        bad = await client.get(PAGE, params={"from": "23/11/2026"})
        bad_text = await bad.text()
        backwards = await (await client.get(PAGE, params={"from": "2026-11-23", "to": "2026-11-20"})).text()
        unknown = await client.get(PAGE, params={"partner": "999"})
        unknown_text = await unknown.text()
    assert f'id="share-{s["police"]}"' in police_only and f'id="share-{s["a3"]}"' not in police_only
    assert f'id="times-{seed.drive}"' not in police_only
    assert f'id="share-{s["old"]}"' not in recent and f'id="share-{s["a3"]}"' in recent
    assert [c.split("<")[0] for c in row_of(recent, f"times-{seed.drive}").split("<td>")[1:]][:4] == [
        "4",
        "3",
        "12:00",
        "not reached",
    ]
    assert bad.status == 400 and 'id="from-error" role="alert">Give the date as YYYY-MM-DD.' in bad_text
    assert 'id="to-error" role="alert">The end date is before the start date.' in backwards
    assert unknown.status == 400 and "Choose one of the service" in unknown_text


async def test_the_csv_holds_the_shares_and_the_response_times_and_is_audited(world: World) -> None:
    seed = await seeded(world)
    s = seed.shares
    async with workspace(world) as client:
        await as_manager(client, world)
        page = await (await client.get(PAGE, params={"from": "2026-11-23"})).text()
        assert 'href="/manage/shares.csv?from=2026-11-23"' in page
        resp = await client.get("/manage/shares.csv", params={"from": "2026-11-23"})
        body = await resp.text()
        bad = await client.get("/manage/shares.csv", params={"to": "nope"})
        bad_text = await bad.text()
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert resp.headers["Cache-Control"] == "no-store" and "attachment" in resp.headers["Content-Disposition"]
    assert bad.status == 400 and bad_text == "Give the date as YYYY-MM-DD."
    shares_part, summary_part = body.split("\r\n\r\n")
    table = list(csv.DictReader(io.StringIO(shares_part)))
    assert [r["share"] for r in table] == [f"S-{s[k]}" for k in ("a3", "a12", "a40", "never", "summary", "police")]
    a3 = table[0]
    assert {
        k: a3[k]
        for k in (
            "created_utc",
            "risk_change_utc",
            "case_ref",
            "partner",
            "person",
            "kind",
            "level",
            "reason",
            "basis",
            "without_consent",
            "agreement_basis",
            "consent_version",
            "acknowledged_utc",
            "acknowledged_by",
            "minutes_to_acknowledge",
            "action",
        )
    } == {
        "created_utc": "2026-11-23 09:00:00",
        "risk_change_utc": "2026-11-23 09:00:00",
        "case_ref": seed.ref,
        "partner": "Drive West Mercia",
        "person": "Carl Case-Manager",
        "kind": "risk_changes",
        "level": "high",
        "reason": "strangulation disclosed",
        "basis": "consent",
        "without_consent": "no",
        "agreement_basis": "consent",
        "consent_version": "2026-12-partners-v1",
        "acknowledged_utc": "2026-11-23 09:03:00",
        "acknowledged_by": "Carl Case-Manager",
        "minutes_to_acknowledge": "3:00",
        "action": "perpetrator_visited",
    }
    police = table[-1]
    assert (police["without_consent"], police["basis"], police["justification_recorded"]) == (
        "yes",
        "safeguarding",
        "yes",
    )
    assert table[3]["acknowledged_utc"] == "" and table[3]["minutes_to_acknowledge"] == ""
    summary = list(csv.DictReader(io.StringIO(summary_part)))
    assert [
        (r["partner"], r["shares_of_risk_changes"], r["median_m_ss"], r["p90_m_ss"], r["within_15_min"])
        for r in summary
    ] == [
        ("Drive West Mercia", "4", "12:00", "not reached", "2 (50%)"),
        ("Police DA Unit", "1", "7:00", "7:00", "1 (100%)"),
        ("All partners", "5", "12:00", "not reached", "3 (60%)"),
    ]
    for private in (DRIVE_REF, SURVIVOR, JUSTIFICATION, "visited at home", "Elsewhere"):
        assert private not in body
    [exported] = db_rows(world, "SELECT detail FROM audit_log WHERE action = 'shares_exported'")
    assert exported == {"detail": '{"filters": {"from": "2026-11-23"}, "shares": 6}'}


@pytest.mark.parametrize("roles", [("idva",), ("duty",), ("admin",), ("partner",)])
async def test_only_a_manager_sees_the_shares(world: World, roles: tuple[str, ...]) -> None:
    seed = await seeded(world)
    if roles == ("partner",):  # Carl, Drive's case manager, with a workspace login of his own
        who = await person(world, "someone", ("duty",), practitioner_id=seed.carl)

        async def partner_only(tx: Tx) -> None:
            await tx.execute("DELETE FROM practitioner_roles WHERE practitioner_id = ?", (seed.carl,))
            await tx.execute("INSERT INTO practitioner_roles VALUES (?, 'partner')", (seed.carl,))
            await tx.commit()

        await world.app.db.run(partner_only)
    else:
        who = await person(world, "someone", roles)
    async with workspace(world) as client:
        await login(client, world, who)
        assert (await client.get(PAGE)).status == 403
        assert (await client.get("/manage/shares.csv")).status == 403
    assert db_rows(world, "SELECT id FROM audit_log WHERE action IN ('shares_viewed', 'shares_exported')") == []


async def test_a_share_is_reported_under_the_agreement_it_went_under_after_the_agreement_changes(
    world: World,
) -> None:
    seed = await seeded(world)

    async def change(tx: Tx) -> None:
        agreement = Agreement("ISA-drive-v2", Basis.PUBLIC_TASK, frozenset({Kind.RISK_CHANGES}))
        assert await partners.update_agreement(tx, world.service_id, seed.drive, agreement, 30)
        await tx.commit()

    await world.app.db.run(change)
    async with workspace(world) as client:
        await as_manager(client, world)
        page = await (await client.get(PAGE)).text()
    first = row_of(page, f"share-{seed.shares['a3']}")
    assert "ISA-drive (consent)" in first and "ISA-drive-v2" not in first
