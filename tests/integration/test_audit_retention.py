"""Audit retention removes whole old months (UTC) from the start of the log, behind an anchor the rest
verifies from; each service's entries stay at least its own period; the database refuses any other removal
and any anchor that does not move forward to a real row."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import daily
from bot.clock import FixedClock
from storage import audit, audit_retention, services
from storage.db import Database, Tx
from tests.conftest import World

JAN = datetime(2020, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "db", create=True)
    yield database
    await database.close()


async def _log(db: Database, clock: FixedClock, service_id: int, action: str = "viewed") -> None:
    async def unit(tx: Tx) -> None:
        await audit.log(tx, clock.now(), "system", action, None, "", service_id)
        await tx.commit()

    await db.run(unit)


async def _retain(db: Database, clock: FixedClock, service_id: int) -> audit_retention.Removed:
    async def unit(tx: Tx) -> audit_retention.Removed:
        done = await audit_retention.run(tx, clock.now(), service_id)
        await tx.commit()
        return done

    return await db.run(unit)


async def _months(db: Database) -> list[str]:
    async with db.reading() as tx:
        return [r[0] for r in await tx.all("SELECT DISTINCT substr(at, 1, 7) FROM audit_log ORDER BY 1")]


async def _two_services(db: Database, north_days: int, south_days: int) -> tuple[int, int]:
    async with db.transaction() as tx:
        north = await services.create(tx, "north", "North", JAN)
        south = await services.create(tx, "south", "South", JAN)
        await services.update(tx, north, audit_retention_days=north_days)
        await services.update(tx, south, audit_retention_days=south_days)
        await tx.commit()
    return north, south


async def test_whole_expired_months_go_and_the_rest_verifies_from_the_anchor(db: Database) -> None:
    north, _ = await _two_services(db, 365, 365)
    clock = FixedClock(JAN)
    for month in range(4):  # January to April 2020, two entries each
        clock.set(JAN.replace(month=month + 1))
        await _log(db, clock, north)
        clock.advance(timedelta(days=10))
        await _log(db, clock, north)
    clock.set(datetime(2021, 3, 1, tzinfo=UTC))  # a year ago is 2020-03-01: January and February are over
    done = await _retain(db, clock, north)
    assert (done.rows, done.months) == (4, 2) and done.anchor is not None and done.anchor.last_id == 4
    assert await _months(db) == ["2020-03", "2020-04", "2021-03"]  # whole months, and this round's entry
    check = await audit.verify(db)
    assert (check.broken_at, check.anchor) == (None, done.anchor) and check.rows == 5
    # A second round the same day removes nothing, leaves the anchor where it was, and writes no entry.
    again = await _retain(db, clock, north)
    assert (again.rows, again.anchor) == (0, None)
    assert await _months(db) == ["2020-03", "2020-04", "2021-03"] and (await audit.verify(db)).rows == 5
    assert (await audit.verify(db)).anchor == done.anchor
    # A month half expired stays whole: on 2021-03-15 March 2020's first entry (the 10th) is over, not its 20th.
    clock.set(datetime(2021, 3, 15, tzinfo=UTC))
    assert (await _retain(db, clock, north)).rows == 0
    # The next row after an emptied log chains from the anchor too.
    clock.set(datetime(2026, 1, 1, tzinfo=UTC))
    assert (await _retain(db, clock, north)).rows > 0
    await _log(db, clock, north)
    assert (await audit.verify(db)).broken_at is None


async def test_a_month_goes_only_when_every_service_in_it_is_past_its_own_period(db: Database) -> None:
    north, south = await _two_services(db, 365, 730)
    clock = FixedClock(JAN)
    await _log(db, clock, north)
    clock.set(datetime(2020, 2, 3, tzinfo=UTC))
    await _log(db, clock, north)
    await _log(db, clock, south)  # February holds a South entry: two years for it
    clock.set(datetime(2020, 3, 3, tzinfo=UTC))
    await _log(db, clock, north)
    clock.set(datetime(2021, 6, 1, tzinfo=UTC))  # North's year is over for January to March, South's is not
    done = await _retain(db, clock, north)
    assert (done.rows, done.months) == (1, 1)  # January only: February waits for South, March waits for February
    assert await _months(db) == ["2020-02", "2020-03", "2021-06"]
    clock.set(datetime(2022, 2, 4, tzinfo=UTC))  # South's two years are over for February
    assert (await _retain(db, clock, south)).months == 2
    assert (await audit.verify(db)).broken_at is None


async def test_the_database_refuses_removals_above_the_anchor_and_anchors_that_do_not_move_forward(
    db: Database,
) -> None:
    north, _ = await _two_services(db, 365, 365)
    clock = FixedClock(JAN)
    for month in (1, 2, 3):
        clock.set(JAN.replace(month=month))
        await _log(db, clock, north)
    clock.set(datetime(2021, 3, 1, tzinfo=UTC))
    done = await _retain(db, clock, north)
    assert done.anchor is not None and done.anchor.last_id == 2
    with sqlite3.connect(db.path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="only rows up to the retention anchor"):
            conn.execute("DELETE FROM audit_log WHERE id = 3")  # a stray delete, above the anchor
        refusals = {
            "backwards": ("INSERT INTO audit_anchor (last_id, last_hash, at, removed) SELECT 1, x'00', '', 0", None),
            "wrong hash": ("INSERT INTO audit_anchor (last_id, last_hash, at, removed) VALUES (3, x'00', '', 1)", None),
            "update": ("UPDATE audit_anchor SET last_id = 3", "append-only"),
            "delete": ("DELETE FROM audit_anchor", "append-only"),
        }
        for sql, message in refusals.values():
            with pytest.raises(sqlite3.IntegrityError, match=message or "only moves forward"):
                conn.execute(sql)


@pytest.mark.parametrize(
    ("tamper", "broken_at"),
    [
        ("UPDATE audit_log SET detail = 'x' WHERE id = 4", 4),  # an edited row
        ("DELETE FROM audit_log WHERE id = 4", 5),  # a removed row
        ("INSERT INTO audit_log (id, at, actor, action, detail, row_hash) VALUES (2, 'x', 'a', 'b', '', x'00')", 2),
        ("DELETE FROM audit_log WHERE id = 3", 4),  # the first row after the anchor
        ("UPDATE audit_anchor SET last_hash = x'00'", 3),  # an edited anchor: the first row no longer follows
        ("UPDATE audit_anchor SET removed = 5", 2),  # ... or no longer matches the entry that vouches for it
        ("UPDATE audit_anchor SET at = '2021-03-02T00:00:00.000000Z'", 2),
    ],
)
async def test_verify_finds_rows_or_the_anchor_changed_behind_the_databases_back(
    db: Database, tamper: str, broken_at: int
) -> None:
    north, _ = await _two_services(db, 365, 365)
    clock = FixedClock(JAN)
    for month in (1, 2, 3, 4, 5):
        clock.set(JAN.replace(month=month))
        await _log(db, clock, north)
    clock.set(datetime(2021, 3, 1, tzinfo=UTC))
    assert (await _retain(db, clock, north)).rows == 2
    await _log(db, clock, north)
    assert (await audit.verify(db)).broken_at is None
    with sqlite3.connect(db.path) as conn:
        for trigger in ("audit_log_no_update", "audit_log_no_delete", "audit_anchor_no_update"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute(tamper)
    check = await audit.verify(db)
    assert check.broken_at == broken_at and check.problem


async def test_the_daily_round_removes_expired_audit_months_and_says_how_many(world: World) -> None:
    world.clock.advance(timedelta(days=2200))  # past the default six years
    now = world.clock.now()

    async def unit(tx: Tx) -> None:
        await daily.run(tx, await services.get(tx, world.service_id), now)
        await tx.commit()

    await world.app.db.run(unit)
    check = await audit.verify(world.app.db)
    assert check.broken_at is None and check.anchor is not None and check.anchor.removed > 0
    with sqlite3.connect(world.settings.db_path) as conn:
        [(detail,)] = conn.execute("SELECT detail FROM audit_log WHERE action = 'audit_retention'").fetchall()
    assert detail == audit.witness(check.anchor)
