"""The engagement section against a real SQLite file with seeded cases and check-ins whose answers are worked by
hand: cases enrolled, activated and active; check-ins by channel, language and local time of day, by how they
ended; response rates; the IDVA, channel and language filters; the period's edges in the service's time zone
(BST in June); another service's cases never counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import commands
from safety.disclosure import WITHHELD
from safety.report_tables import Filters, Section, Table
from storage.db import Tx, ts
from storage.report_engagement import section
from tests.caseload_data import enrol, other_service
from tests.conftest import World

LONDON = ZoneInfo("Europe/London")
W = WITHHELD  # every rate below rests on a count under 5
JUNE = Filters(date(2026, 6, 1), date(2026, 7, 1))  # BST: local midnight is 23:00 UTC the day before


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _case(
    world: World, address: str, *, idva: int, channel: str, language: str, created: str, onboarded: str | None
) -> int:
    _, case = await enrol(world, address, "Seeded Survivor", idva=idva)

    async def unit(tx: Tx) -> None:
        await tx.execute(
            "UPDATE cases SET channel = ?, language = ?, created_at = ?, onboarded_at = ?, status = ? WHERE id = ?",
            (
                channel,
                language,
                ts(utc(created)),
                ts(utc(onboarded)) if onboarded else None,
                "active" if onboarded else "pending",
                case,
            ),
        )
        await tx.commit()

    await world.app.db.run(unit)
    return case


async def _checkins(world: World, case: int, *due: tuple[str, str]) -> None:
    async def unit(tx: Tx) -> None:
        await tx.executemany(
            "INSERT INTO checkins (case_id, slot, due_at, status) VALUES (?, ?, ?, ?)",
            [(case, f"s{n}", ts(utc(when)), status) for n, (when, status) in enumerate(due)],
        )
        await tx.commit()

    await world.app.db.run(unit)


@dataclass(frozen=True)
class Seeded:
    ivy: int  # a second IDVA


@pytest.fixture
async def seeded(world: World) -> Seeded:
    ivy = await commands.add_practitioner(world.app, world.service_id, "Ivy", "idva", ["inbox"])
    # A: Ida's, SMS, English; enrolled in May, activated in June.
    a = await _case(
        world, "+447700900201", idva=world.idva, channel="sms", language="en_GB", created="2026-05-20T10:00:00",
        onboarded="2026-06-02T10:00:00",
    )  # fmt: skip
    await _checkins(
        world,
        a,
        ("2026-05-31T22:30:00", "completed"),  # 23:30 BST on 31 May: before the period
        ("2026-05-31T23:30:00", "completed"),  # 00:30 BST on 1 June: in, at night
        ("2026-06-03T08:00:00", "completed"),  # 09:00: morning
        ("2026-06-04T08:00:00", "partial"),
        ("2026-06-05T13:00:00", "missed"),  # 14:00: afternoon
        ("2026-06-06T13:00:00", "missed_system"),
        ("2026-06-30T23:30:00", "completed"),  # 00:30 BST on 1 July: after the period
    )
    # B: Ivy's, Telegram, Welsh; enrolled and activated in June.
    b = await _case(
        world, "+447700900202", idva=ivy, channel="telegram", language="cy", created="2026-06-05T10:00:00",
        onboarded="2026-06-06T10:00:00",
    )  # fmt: skip
    await _checkins(
        world,
        b,
        ("2026-06-07T17:30:00", "completed"),  # 18:30: evening
        ("2026-06-08T17:30:00", "deferred"),
        ("2026-06-08T19:30:00", "exited"),  # the retry; she used her exit word
        ("2026-06-09T05:00:00", "open"),  # 06:00 BST: morning, still waiting
    )
    # C: Ida's, Telegram, English; enrolled in June, never activated, no check-ins.
    await _case(
        world, "+447700900203", idva=world.idva, channel="telegram", language="en_GB", created="2026-06-10T10:00:00",
        onboarded=None,
    )  # fmt: skip
    # Another service's case, in June: never counted.
    svc, _, ref = await other_service(world)
    async with world.app.db.reading() as tx:
        other = int(await tx.scalar("SELECT id FROM cases WHERE ref = ?", (ref,)))
    await _checkins(world, other, ("2026-06-07T08:00:00", "completed"), ("2026-06-08T08:00:00", "missed"))
    assert svc != world.service_id
    return Seeded(ivy)


async def _section(world: World, filters: Filters) -> Section:
    async with world.app.db.reading() as tx:
        return await section(tx, world.service_id, filters, LONDON)


def _table(s: Section, key: str) -> dict[str, tuple[int, ...]]:
    found: Table = next(t for t in s.tables if t.key == f"engagement.{key}")
    return dict(found.rows)


def _rates(s: Section) -> dict[str, tuple[str, int]]:
    return {f.key.removeprefix("engagement.response_rate."): (f.value, f.base) for f in s.figures}


#        Completed, Partly answered, Not a good time, Missed by her, Stopped early, Still open, Missed by the system
SMS_EN = (2, 1, 0, 1, 0, 0, 1)  # A: 5 due, 4 sent, 3 answered
TELEGRAM_CY = (1, 0, 1, 0, 1, 1, 0)  # B: 4 due, 4 sent, 1 answered

CASES: dict[str, tuple[Filters, dict[str, dict[str, tuple[int, ...]]], dict[str, tuple[str, int]]]] = {
    "the whole service": (
        JUNE,
        {
            "cases": {"Enrolled": (2,), "Activated": (2,), "Active": (2,)},
            "checkins_by_channel": {"SMS": SMS_EN, "Telegram": TELEGRAM_CY},
            "checkins_by_language": {"English (United Kingdom)": SMS_EN, "Welsh": TELEGRAM_CY},
            "checkins_by_time_of_day": {
                "Night (00:00-06:00)": (1, 0, 0, 0, 0, 0, 0),
                "Morning (06:00-12:00)": (1, 1, 0, 0, 0, 1, 0),
                "Afternoon (12:00-18:00)": (0, 0, 0, 1, 0, 0, 1),
                "Evening (18:00-24:00)": (1, 0, 1, 0, 1, 0, 0),
            },
        },
        {
            "channel.sms": (W, 4),
            "channel.telegram": (W, 4),
            "language.english_united_kingdom": (W, 4),
            "language.welsh": (W, 4),
            "time_of_day.night_00_00_06_00": (W, 1),
            "time_of_day.morning_06_00_12_00": (W, 3),
            "time_of_day.afternoon_12_00_18_00": (W, 1),
            "time_of_day.evening_18_00_24_00": (W, 3),
        },
    ),
    "Ida's cases only": (
        Filters(JUNE.start, JUNE.end, idva_id=-1),  # -1: replaced by the world's IDVA
        {
            "cases": {"Enrolled": (1,), "Activated": (1,), "Active": (1,)},
            "checkins_by_channel": {"SMS": SMS_EN},
            "checkins_by_language": {"English (United Kingdom)": SMS_EN},
        },
        {"channel.sms": (W, 4)},
    ),
    "Telegram only": (
        Filters(JUNE.start, JUNE.end, channel="telegram"),
        {
            "cases": {"Enrolled": (2,), "Activated": (1,), "Active": (1,)},
            "checkins_by_channel": {"Telegram": TELEGRAM_CY},
        },
        {"channel.telegram": (W, 4)},
    ),
    "Welsh only": (
        Filters(JUNE.start, JUNE.end, language="cy"),
        {
            "cases": {"Enrolled": (1,), "Activated": (1,), "Active": (1,)},
            "checkins_by_language": {"Welsh": TELEGRAM_CY},
            "checkins_by_time_of_day": {
                "Night (00:00-06:00)": (0,) * 7,
                "Morning (06:00-12:00)": (0, 0, 0, 0, 0, 1, 0),
                "Afternoon (12:00-18:00)": (0,) * 7,
                "Evening (18:00-24:00)": (1, 0, 1, 0, 1, 0, 0),
            },
        },
        {"language.welsh": (W, 4), "time_of_day.night_00_00_06_00": ("-", 0)},
    ),
    "May: only the check-in at 23:30 BST on the 31st": (
        Filters(date(2026, 5, 1), date(2026, 6, 1)),
        {
            "cases": {"Enrolled": (1,), "Activated": (0,), "Active": (1,)},
            "checkins_by_channel": {"SMS": (1, 0, 0, 0, 0, 0, 0)},
            "checkins_by_time_of_day": {
                "Night (00:00-06:00)": (0,) * 7,
                "Morning (06:00-12:00)": (0,) * 7,
                "Afternoon (12:00-18:00)": (0,) * 7,
                "Evening (18:00-24:00)": (1, 0, 0, 0, 0, 0, 0),
            },
        },
        {"channel.sms": (W, 1)},
    ),
}


@pytest.mark.parametrize("filters, tables, rates", CASES.values(), ids=list(CASES))
async def test_engagement_numbers(
    world: World,
    seeded: Seeded,
    filters: Filters,
    tables: dict[str, dict[str, tuple[int, ...]]],
    rates: dict[str, tuple[str, int]],
) -> None:
    if filters.idva_id == -1:
        filters = Filters(filters.start, filters.end, idva_id=world.idva)
    s = await _section(world, filters)
    assert (s.key, s.title) == ("engagement", "Engagement")
    for key, rows in tables.items():
        assert _table(s, key) == rows, key
    got = _rates(s)
    for key, want in rates.items():
        assert got[key] == want, key


async def test_tables_are_the_shape_the_page_expects(world: World, seeded: Seeded) -> None:
    s = await _section(world, JUNE)
    cases = next(t for t in s.tables if t.key == "engagement.cases")
    assert not cases.totals  # a case can be enrolled, activated and active at once
    for t in s.tables[1:]:
        assert t.totals and "Sent" in t.note
        assert t.columns[0] == "Completed" and t.columns[-1] == "Missed by the system"


async def test_another_services_report_sees_none_of_these(world: World, seeded: Seeded) -> None:
    svc = int(await _scalar(world, "SELECT id FROM services WHERE slug = 'other'"))
    async with world.app.db.reading() as tx:
        s = await section(tx, svc, JUNE, LONDON)
    assert _table(s, "cases") == {"Enrolled": (0,), "Activated": (0,), "Active": (1,)}
    assert _table(s, "checkins_by_channel") == {"Simulator": (1, 0, 0, 1, 0, 0, 0)}


async def _scalar(world: World, sql: str) -> Any:
    async with world.app.db.reading() as tx:
        return await tx.scalar(sql)


async def test_a_rate_is_withheld_when_the_table_hides_a_count_it_rests_on(world: World) -> None:
    # SMS: 15 completed, 2 partly answered, 3 missed by her: 17 of 20. The 2 and the 3 are hidden, and the rate
    # with its base would give the 2 back (17 - 15). Telegram: 8 completed and 6 missed, nothing hidden: 8 of 14.
    sms = await _case(
        world, "+447700900301", idva=world.idva, channel="sms", language="en_GB", created="2026-05-01T10:00:00",
        onboarded="2026-05-02T10:00:00",
    )  # fmt: skip
    tg = await _case(
        world, "+447700900302", idva=world.idva, channel="telegram", language="cy", created="2026-05-01T10:00:00",
        onboarded="2026-05-02T10:00:00",
    )  # fmt: skip
    day = utc("2026-06-01T09:00:00")
    statuses = ["completed"] * 15 + ["partial"] * 2 + ["missed"] * 3
    await _checkins(world, sms, *((ts(day + timedelta(days=n))[:19], st) for n, st in enumerate(statuses)))
    statuses = ["completed"] * 8 + ["missed"] * 6
    await _checkins(world, tg, *((ts(day + timedelta(days=n))[:19], st) for n, st in enumerate(statuses)))
    rates = _rates(await _section(world, JUNE))
    assert rates["channel.sms"] == (WITHHELD, 20)
    assert rates["channel.telegram"] == ("57%", 14)
    assert rates["language.welsh"] == ("57%", 14)
