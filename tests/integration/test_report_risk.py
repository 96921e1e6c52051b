"""The report's "Risk" section against seeded cases, check-ins, DASH checklists and Marac meetings whose
answers are worked out by hand (November 2026, London time, which is GMT then).

Covered by the level tables (active in November or with a check-in due in it):
  A  intake high,   latest check-in standard (one at the period's very end is too late)   high -> standard
  B  enrolled standard; DASHes: 10 ticks (Oct), 14 ticks (Nov): intake is the first DASH  medium -> urgent
  C  intake medium, no check-in yet: now is its intake                                    medium -> raised
  F  intake high, closed in the period after a high check-in                              high -> high
  G  Bea's case in Welsh, intake high, a raised check-in                                  high -> raised
  H  set up before onboarding was dated, intake standard, a high check-in in November     standard -> high
Not covered: D (never set up), E (closed before November); another service's case never counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import commands
from safety.dash import ITEMS, Answer
from safety.model import IntakeLevel, Level
from safety.report_tables import Filters, Section
from storage import cases, dash
from storage.db import Tx
from storage.report_risk import section, trajectory
from tests.caseload_data import case_id, checkin, enrol, other_service
from tests.conftest import World

LONDON = ZoneInfo("Europe/London")
NOVEMBER = Filters(date(2026, 11, 1), date(2026, 12, 1))
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _ticks(n: int) -> dict[int, Answer]:
    return {item: Answer.YES if i < n else Answer.NO for i, item in enumerate(ITEMS)}


async def _dash(world: World, case: int, ticks: int, at: datetime) -> None:
    async def unit(tx: Tx) -> None:
        await dash.add(tx, world.app.crypto, case, world.idva, _ticks(ticks), None, None, at)
        await tx.commit()

    await world.app.db.run(unit)


async def _marac(world: World, case: int, day: date, heard: bool = True) -> None:
    async def unit(tx: Tx) -> None:
        await dash.add_meeting(tx, world.app.crypto, case, day, None, world.idva, START, heard)
        await tx.commit()

    await world.app.db.run(unit)


async def _set(world: World, case: int, **fields: object) -> None:
    async def unit(tx: Tx) -> None:
        await cases.update(tx, case, **fields)
        await tx.commit()

    await world.app.db.run(unit)


@dataclass(frozen=True)
class Seeded:
    bea: int


async def seed(world: World) -> Seeded:
    svc = world.service_id
    set_up = START - 30 * DAY
    _, a = await enrol(world, "+447700900101", "A", intake="high")
    await _set(world, a, status="active", onboarded_at=set_up)
    await checkin(world, a, "a1", START + 9 * DAY, level="standard")
    await checkin(world, a, "a2", END, level="urgent")  # the period's end is not in it
    await _marac(world, a, date(2026, 11, 3))
    await _marac(world, a, date(2026, 11, 24))  # a second hearing: still one case

    _, b = await enrol(world, "+447700900102", "B", intake="standard")
    await _set(world, b, status="active", onboarded_at=set_up)
    await _dash(world, b, 10, START - 17 * DAY)  # medium: her first DASH, so her intake
    await _dash(world, b, 14, START + 4 * DAY)  # high, in the period: counted for Marac
    await checkin(world, b, "b1", START + 19 * DAY, level="urgent")
    await checkin(world, b, "b2", END + 4 * DAY, level="standard")  # after the period
    await _marac(world, b, date(2026, 11, 12))

    _, c = await enrol(world, "+447700900103", "C", intake="medium")
    await _set(world, c, status="paused", onboarded_at=set_up)
    await _marac(world, c, date(2026, 11, 12), heard=False)  # deferred: not heard
    await _marac(world, c, date(2026, 10, 31))  # before the period
    await _marac(world, c, date(2026, 12, 1))  # the period's end date is not in it

    _, d = await enrol(world, "+447700900104", "D", intake="standard")  # never set up: not covered
    await _dash(world, d, 20, START + 2 * DAY)  # counted: any case in scope
    await _dash(world, d, 13, START + 3 * DAY)  # under 14
    await _dash(world, d, 20, END)  # too late

    _, e = await enrol(world, "+447700900105", "E", intake="high")
    await _set(world, e, status="closed", onboarded_at=set_up, closed_at=START - DAY)
    await checkin(world, e, "e1", START - 5 * DAY, level="urgent")

    _, f = await enrol(world, "+447700900106", "F", intake="high")
    await checkin(world, f, "f1", START + DAY, level="high")
    await _set(world, f, status="closed", onboarded_at=set_up, closed_at=START + 14 * DAY)

    # H: set up before Safecheck recorded when (no onboarded_at): covered by its check-in in the period.
    _, h = await enrol(world, "+447700900108", "H", intake="standard")
    await _set(world, h, status="active")
    await checkin(world, h, "h1", START + 7 * DAY, level="high")

    bea = await commands.add_practitioner(world.app, svc, "Bea", "idva", ["inbox"])
    await commands.set_languages(world.app, svc, enable="cy")
    ref_g, _ = await commands.enrol(
        world.app,
        svc,
        idva=bea,
        channel="simulator",
        address="+447700900107",
        name="G",
        intake="high",
        language="cy",
    )
    g = await case_id(world, ref_g)
    await _set(world, g, status="active", onboarded_at=set_up)
    await checkin(world, g, "g1", START + 27 * DAY, level="raised")

    _, _, other_ref = await other_service(world)
    z = await case_id(world, other_ref)
    await _set(world, z, status="active", onboarded_at=set_up)
    await checkin(world, z, "z1", START + DAY, level="urgent")
    await _dash(world, z, 20, START + DAY)
    await _marac(world, z, date(2026, 11, 12))
    return Seeded(bea)


async def _section(world: World, filters: Filters) -> Section:
    async with world.app.db.reading() as tx:
        return await section(tx, world.service_id, filters, LONDON)


def _tables(sec: Section) -> dict[str, dict[str, tuple[int, ...]]]:
    return {t.key: dict(t.rows) for t in sec.tables}


ALL = {
    "risk.intake_against_now": {
        "Standard": (0, 0, 1, 0),  # H high
        "Medium": (0, 1, 0, 1),  # C raised, B urgent
        "High": (1, 1, 1, 0),  # A standard, G raised, F high
    },
    "risk.trajectories": {
        "Improved": (0, 0, 2),  # A, G
        "No change": (0, 1, 1),  # C, F
        "Worse": (1, 1, 0),  # H, B
    },
    "risk.marac": {
        "Cases heard at a Marac in the period": (2,),  # A (twice), B
        "DASH checklists recorded with 14 or more ticks": (2,),  # B's 14, D's 20
        "Cases with such a checklist (14+ ticks)": (2,),
    },
}
BEA_ONLY = {
    "risk.intake_against_now": {"Standard": (0, 0, 0, 0), "Medium": (0, 0, 0, 0), "High": (0, 1, 0, 0)},
    "risk.trajectories": {"Improved": (0, 0, 1), "No change": (0, 0, 0), "Worse": (0, 0, 0)},
    "risk.marac": {
        "Cases heard at a Marac in the period": (0,),
        "DASH checklists recorded with 14 or more ticks": (0,),
        "Cases with such a checklist (14+ ticks)": (0,),
    },
}
NONE = {key: {label: tuple(0 for _ in row) for label, row in rows.items()} for key, rows in ALL.items()}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param(NOVEMBER, ALL, id="the whole service"),
        pytest.param("bea", BEA_ONLY, id="one IDVA"),
        pytest.param(Filters(NOVEMBER.start, NOVEMBER.end, language="cy"), BEA_ONLY, id="one language"),
        pytest.param(Filters(NOVEMBER.start, NOVEMBER.end, channel="sms"), NONE, id="no case on SMS"),
    ],
)
async def test_tables_hold_the_known_counts(
    world: World, filters: Filters | str, expected: dict[str, dict[str, tuple[int, ...]]]
) -> None:
    seeded = await seed(world)
    if filters == "bea":
        filters = Filters(NOVEMBER.start, NOVEMBER.end, idva_id=seeded.bea)
    assert isinstance(filters, Filters)
    sec = await _section(world, filters)
    assert (sec.key, sec.title) == ("risk", "Risk")
    assert _tables(sec) == expected


async def test_october_covers_the_case_closed_then_and_levels_as_they_stood(world: World) -> None:
    await seed(world)
    sec = await _section(world, Filters(date(2026, 10, 1), date(2026, 11, 1)))
    tables = _tables(sec)
    # A, B, C, F, G were set up by then (B's latest DASH came later, but intake is her first); E closed on
    # 31 October after an urgent check-in. No check-in of A, B, C, F or G before November: intake stands.
    assert tables["risk.intake_against_now"] == {
        "Standard": (0, 0, 0, 0),
        "Medium": (0, 2, 0, 0),  # B, C
        "High": (0, 0, 3, 1),  # A, F, G; E urgent
    }
    assert tables["risk.trajectories"] == {"Improved": (0, 0, 0), "No change": (0, 2, 3), "Worse": (0, 0, 1)}
    assert tables["risk.marac"]["Cases heard at a Marac in the period"] == (1,)  # C on 31 October


@pytest.mark.parametrize(
    ("intake", "now", "expected"),
    [
        (IntakeLevel.MEDIUM, Level.RAISED, "No change"),
        (IntakeLevel.MEDIUM, Level.STANDARD, "Improved"),
        (IntakeLevel.HIGH, Level.URGENT, "Worse"),
        (IntakeLevel.STANDARD, Level.STANDARD, "No change"),
    ],
)
def test_trajectory_compares_on_the_risk_models_scale(intake: IntakeLevel, now: Level, expected: str) -> None:
    assert trajectory(intake, now) == expected


async def test_the_level_tables_say_which_cases_they_cover(world: World) -> None:
    sec = await _section(world, NOVEMBER)
    notes = {t.key: t.note for t in sec.tables}
    for key in ("risk.intake_against_now", "risk.trajectories"):
        assert notes[key].startswith("Cases active in the period (set up before it ended, not closed or withdrawn")
    assert "check-in due in it" in notes["risk.trajectories"]
