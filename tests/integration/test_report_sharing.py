"""The report's sharing section against seeded shares whose answers are counted by hand: by partner and
kind, by basis, what partners did, and the partners' time to acknowledge (from the alert, BS 8484-shaped);
the period's edges in local time, the filters, and another service's shares never counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import commands
from safety.report_tables import Filters, Section
from safety.sharing import Agreement, Basis, Consent, Decision, Kind, Override
from storage import alerts, partners, practitioners, report_sharing
from storage.db import Tx
from storage.practitioners import ChannelAddress
from tests.caseload_data import case_id, enrol, other_service
from tests.conftest import World

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 9, 30, 23, 0, tzinfo=UTC)  # 1 October, 00:00 in London (summer time)
END = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # 1 November, 00:00 in London (winter time)
MIN = timedelta(minutes=1)


@dataclass(frozen=True)
class Seeded:
    bea: int
    drive: int
    police: int


async def _partner(world: World, service_id: int, name: str, kind: str) -> tuple[int, int]:
    async def unit(tx: Tx) -> tuple[int, int]:
        agreement = Agreement(f"ISA-{kind}", Basis.CONSENT, frozenset(Kind))
        pid = await partners.create(tx, service_id, name, kind, agreement, START - timedelta(days=60))
        contact = await practitioners.add(
            tx, world.app.crypto, service_id, "partner", f"{name} person",
            [ChannelAddress("email", "x@agency.example")], START - timedelta(days=60), partner_id=pid,
        )  # fmt: skip
        await tx.commit()
        return pid, contact

    return await world.app.db.run(unit)


async def _share(
    world: World,
    service_id: int,
    case: int,
    partner: tuple[int, int],
    at: datetime,
    *,
    kind: str = "risk_changes",
    alert_before: timedelta | None = timedelta(0),  # the alert it shares, raised this long before; None: none
    ack_after: timedelta | None = None,  # acknowledged this long after the alert (or the share)
    action: str | None = None,
    basis: Basis = Basis.CONSENT,
) -> None:
    pid, contact = partner

    async def unit(tx: Tx) -> None:
        raised = at - alert_before if alert_before is not None else at
        alert_id = (
            await alerts.create(tx, service_id, case, "high", "risk_raised", raised)
            if alert_before is not None
            else None
        )
        if basis is Basis.CONSENT:
            consent_kind = "risk_changes" if kind == "manual" else kind
            cid = await partners.record_consent(tx, case, pid, consent_kind, True, "v1", "in_person", "test", raised)
            decision = Decision(basis, Consent(cid, True, "v1"))
        else:
            decision = Decision(basis, None, Override(world.idva, "recorded elsewhere", basis, world.manager))
        content = {"severity": "high", "reason": "risk_raised", "level": "high", "facts": []}
        sid = await partners.record_share(
            tx, service_id=service_id, case_id=case, partner_id=pid, contact_id=contact, kind=kind,
            alert_id=alert_id, decision=decision, content=content, now=at,
        )  # fmt: skip
        if ack_after is not None:
            assert await partners.acknowledge_share(tx, sid, contact, raised + ack_after)
        if action is not None:
            assert ack_after is not None, "a partner acts after acknowledging"
            await partners.record_action(tx, world.app.crypto, sid, action, None, raised + ack_after + MIN)
        await tx.commit()

    await world.app.db.run(unit)


async def seed(world: World) -> Seeded:
    bea = await commands.add_practitioner(world.app, world.service_id, "Bea", "idva", ["inbox"])
    drive = await _partner(world, world.service_id, "Drive West Mercia", "drive")
    police = await _partner(world, world.service_id, "Police DA Unit", "police")
    _, ida_case = await enrol(world, "+447700900001", "Ida's client")
    _, bea_case = await enrol(world, "+447700900002", "Bea's client", idva=bea)
    oct5 = datetime(2026, 10, 5, 10, tzinfo=UTC)
    # In October: Drive 4 (waits 3, 12, 40 min and never), the police 1 (7 min, without consent).
    await _share(world, world.service_id, ida_case, drive, START, ack_after=3 * MIN, action="perpetrator_visited")
    await _share(world, world.service_id, ida_case, drive, oct5, alert_before=2 * MIN, ack_after=12 * MIN)
    await _share(
        world, world.service_id, bea_case, drive, oct5 + timedelta(days=1), kind="checkin_summaries",
        alert_before=None, ack_after=40 * MIN, action="no_action_needed",
    )  # fmt: skip
    await _share(world, world.service_id, ida_case, drive, oct5 + timedelta(days=2), kind="urgent_alerts")
    await _share(
        world, world.service_id, bea_case, police, oct5 + timedelta(days=3), ack_after=7 * MIN,
        action="safeguarding_referral", basis=Basis.SAFEGUARDING,
    )  # fmt: skip
    # Just outside October, at either end.
    await _share(world, world.service_id, ida_case, drive, START - timedelta(seconds=1), ack_after=MIN)
    await _share(world, world.service_id, ida_case, police, END, kind="manual", ack_after=MIN)
    # Another service's share in October: never counted.
    svc, _, ref = await other_service(world)
    elsewhere = await _partner(world, svc, "Drive West Mercia", "drive")  # the same name, another service
    await _share(world, svc, await case_id(world, ref), elsewhere, oct5, ack_after=MIN, action="other")
    return Seeded(bea, drive[0], police[0])


def rows(found: Section, key: str) -> dict[str, tuple[int, ...]]:
    [table] = [t for t in found.tables if t.key == key]
    return dict(table.rows)


def figures(found: Section, group: str) -> dict[str, tuple[str, int]]:
    prefix = f"sharing.ack.{group}."
    return {f.key.removeprefix(prefix): (f.value, f.base) for f in found.figures if f.key.startswith(prefix)}


ACTIONS = (
    "Perpetrator visited",
    "Bail condition enforced",
    "Marac action raised",
    "Safeguarding referral made",
    "No action needed",
    "Other",
    "Acknowledged, no action recorded yet",
    "Not acknowledged",
)
BASES = ("Her consent", "Vital interests (without consent)", "Public task (without consent)",
         "Safeguarding (without consent)")  # fmt: skip


def acks(within: tuple[str, str, str, str], p50: str, p80: str, p98: str, base: int) -> dict[str, tuple[str, int]]:
    return {
        **{f"within_{m}m": (v, base) for m, v in zip((5, 15, 30, 60), within, strict=True)},
        "p50": (p50, base),
        "p80": (p80, base),
        "p98_5": (p98, base),
    }


# (name, IDVA filter, by partner, by basis, actions, figures per group ("drive"/"police" stand for the ids))
CASES = [
    (
        "all of October",
        None,
        {"Drive West Mercia": (2, 1, 1, 0), "Police DA Unit": (1, 0, 0, 0)},
        (4, 0, 0, 1),
        (1, 0, 0, 1, 1, 0, 1, 1),
        {
            "all": acks(("20%", "60%", "60%", "80%"), "12 min", "40 min", "not reached", 5),
            "drive": acks(("25%", "50%", "50%", "75%"), "12 min", "not reached", "not reached", 4),
            "police": acks(("0%", "100%", "100%", "100%"), "7 min", "7 min", "7 min", 1),
        },
    ),
    (
        "Bea's caseload",
        "bea",
        {"Drive West Mercia": (0, 0, 1, 0), "Police DA Unit": (1, 0, 0, 0)},
        (1, 0, 0, 1),
        (0, 0, 0, 1, 1, 0, 0, 0),
        {
            "all": acks(("0%", "50%", "50%", "100%"), "7 min", "40 min", "40 min", 2),
            "drive": acks(("0%", "0%", "0%", "100%"), "40 min", "40 min", "40 min", 1),
            "police": acks(("0%", "100%", "100%", "100%"), "7 min", "7 min", "7 min", 1),
        },
    ),
    (
        "Ida's caseload",
        "ida",
        {"Drive West Mercia": (2, 1, 0, 0)},
        (3, 0, 0, 0),
        (1, 0, 0, 0, 0, 0, 1, 1),
        {
            "all": acks(("33.3%", "66.6%", "66.6%", "66.6%"), "12 min", "not reached", "not reached", 3),
            "drive": acks(("33.3%", "66.6%", "66.6%", "66.6%"), "12 min", "not reached", "not reached", 3),
        },
    ),
    (
        "Welsh-language cases (none)",
        "cy",
        {},
        (0, 0, 0, 0),
        (0,) * 8,
        {"all": acks(("no shares",) * 4, "no shares", "no shares", "no shares", 0)},
    ),
]


@pytest.mark.parametrize(("narrowing", "by_partner", "by_basis", "actions", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
async def test_sharing_section_counts_what_was_seeded(
    world: World,
    narrowing: str | None,
    by_partner: dict[str, tuple[int, ...]],
    by_basis: tuple[int, ...],
    actions: tuple[int, ...],
    expected: dict[str, dict[str, tuple[str, int]]],
) -> None:
    seeded = await seed(world)
    idva = {"bea": seeded.bea, "ida": world.idva}.get(narrowing or "")
    language = "cy" if narrowing == "cy" else None
    filters = Filters(date(2026, 10, 1), date(2026, 11, 1), idva_id=idva, language=language)
    async with world.app.db.reading() as tx:
        found = await report_sharing.section(tx, world.service_id, filters, LONDON)
    assert found.key == "sharing"
    [table] = [t for t in found.tables if t.key == "sharing.by_partner"]
    assert table.columns == ("Risk-level changes", "Urgent alerts", "Check-in summaries", "Shared by her adviser")
    assert rows(found, "sharing.by_partner") == by_partner
    assert rows(found, "sharing.by_basis") == {b: (n,) for b, n in zip(BASES, by_basis, strict=True)}
    assert rows(found, "sharing.actions") == {a: (n,) for a, n in zip(ACTIONS, actions, strict=True)}
    ids = {"all": "all", "drive": f"partner_{seeded.drive}", "police": f"partner_{seeded.police}"}
    for group, wanted in expected.items():
        assert figures(found, ids[group]) == wanted, group
    groups = {f.key.split(".")[2] for f in found.figures}
    assert groups == {ids[g] for g in expected}  # no figures for a partner with no share in scope


async def test_the_periods_edges_follow_local_midnight(world: World) -> None:
    await seed(world)
    async with world.app.db.reading() as tx:
        september = await report_sharing.section(
            tx, world.service_id, Filters(date(2026, 9, 1), date(2026, 10, 1)), LONDON
        )
        november = await report_sharing.section(
            tx, world.service_id, Filters(date(2026, 11, 1), date(2026, 12, 1)), LONDON
        )
    assert rows(september, "sharing.by_partner") == {"Drive West Mercia": (1, 0, 0, 0)}
    assert rows(november, "sharing.by_partner") == {"Police DA Unit": (0, 0, 0, 1)}
    assert figures(november, "all")["within_5m"] == ("100%", 1)
