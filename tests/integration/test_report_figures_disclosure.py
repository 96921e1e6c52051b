"""Review of issue 14, on the real report CSV: a figure (a share within a time, a share improved) published
beside a table must not give back a count that table hides as "<5". The share and its base (a shown total)
multiply back to the exact count, so where the count is hidden the figure is withheld too."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from safety.closure_outcomes import Outcome
from safety.disclosure import WITHHELD, figure_value
from safety.report_tables import HIDDEN, TOTAL, CellRef, Figure, Filters
from storage import report_response
from storage.db import Tx, ts
from tests.caseload_data import alert, enrol
from tests.conftest import World
from tests.integration.test_report_outcomes import _close
from tests.webtools import login, person, workspace

OCTOBER = datetime(2026, 10, 5, 12, tzinfo=UTC)


async def report_csv(world: World) -> list[list[str]]:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await client.get("/manage/reports.csv?month=2026-10")
        assert resp.status == 200, await resp.text()
        return list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))


def value(rows: list[list[str]], table: str, row: str, column: str) -> str:
    [found] = [r[4] for r in rows if r[1] == table and r[2] == row and r[3] == column]
    return found


async def test_the_share_with_safety_improved_does_not_give_back_a_hidden_count(world: World) -> None:
    for n, safety in enumerate(["improved"] * 4 + ["no_change"] * 2):
        _, case = await enrol(world, f"+4477009001{n:02d}", f"Case {n}")
        found = Outcome("support_ended", safety, "ceased", "ceased", "ceased", "ceased", "no_change")
        await _close(world, case, OCTOBER + timedelta(days=n), found, world.idva)
    rows = await report_csv(world)
    assert value(rows, "Her safety at closure", "Improved", "Cases") == HIDDEN  # 4: hidden
    assert value(rows, "Her safety at closure", "Total", "Total") == "6"  # the figure's base, shown
    [share] = [r[4] for r in rows if r[2].startswith("Increased safety at closure")]
    assert share != "66.6%"  # 66.6% of 6 is 4: the hidden count, given back
    assert "withheld" in share


async def test_a_lone_small_answer_for_one_abuse_type_is_not_given_back_by_the_number_of_closures(
    world: World,
) -> None:
    """Physical abuse ceased for 5 and continued for 1 of 6 closures: with 6 shown elsewhere, a lone "<5"
    in that row would be 6 - 5. Another cell of the row (or its total) is hidden with it."""
    for n in range(6):
        _, case = await enrol(world, f"+4477009003{n:02d}", f"Case {n}")
        physical = "continued" if n == 0 else "ceased"
        found = Outcome("support_ended", "improved", physical, "ceased", "ceased", "ceased", "improved")
        await _close(world, case, OCTOBER + timedelta(days=n), found, world.idva)
    rows = await report_csv(world)
    table = "Each type of abuse at closure"
    physical = [r[4] for r in rows if r[1] == table and r[2] == "Physical abuse"]
    assert value(rows, table, "Physical abuse", "Continued") == HIDDEN
    assert physical.count(HIDDEN) >= 2, physical


async def test_a_share_acknowledged_within_a_time_does_not_give_back_a_hidden_count(world: World) -> None:
    _, case = await enrol(world, "+447700900200", "Alerts")
    waits = [timedelta(seconds=30)] * 6 + [timedelta(minutes=3)] * 2 + [timedelta(minutes=10)] * 3
    for n, wait in enumerate(waits):
        made = OCTOBER + timedelta(hours=n)
        aid = await alert(world, case, made, severity="urgent")

        async def ack(tx: Tx, aid: int = aid, at: datetime = made + wait) -> None:
            await tx.execute("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?",
                             (ts(at), world.idva, aid))  # fmt: skip
            await tx.commit()

        await world.app.db.run(ack)
    rows = await report_csv(world)
    table = "Time to acknowledge"
    assert value(rows, table, "Within 1 min", "Urgent") == "6"
    assert value(rows, table, "1–5 min", "Urgent") == HIDDEN  # 2
    assert value(rows, table, "5–15 min", "Urgent") == HIDDEN  # 3
    assert value(rows, table, "Total", "Urgent") == "11"
    shares = {r[2]: r[4] for r in rows if r[1] == "Figures" and "within 5 min" in r[2]}
    assert shares, "no share within 5 min published"
    # 72.7% of 11 is 8, and 8 - 6 shown within a minute is the hidden 2 (and 11 - 8 the hidden 3).
    assert all(v != "72.7%" for v in shares.values()), shares


async def test_a_share_within_a_time_rests_on_its_column_total_and_every_row_up_to_its_time(world: World) -> None:
    """6 of a hidden total at 75% would say the total is 8; a hidden row before the time gives itself away."""
    _, case = await enrol(world, "+447700900150", "Case")
    await alert(world, case, OCTOBER, "codeword", "urgent")
    async with world.app.db.reading() as tx:
        sec = await report_response.section(
            tx, world.service_id, Filters(date(2026, 10, 1), date(2026, 11, 1)), ZoneInfo("Europe/London")
        )
    [within_5] = [f for f in sec.figures if f.key == "response.ack.urgent.within_5m"]
    table = "response.time_to_acknowledge"
    assert set(within_5.rests_on) == {
        CellRef(table, "Within 1 min", "Urgent"),
        CellRef(table, "1–5 min", "Urgent"),
        CellRef(table, TOTAL, "Urgent"),
    }
    shown = Figure(within_5.key, within_5.label, "75%", 8, within_5.rests_on)
    assert figure_value(shown, {CellRef(table, TOTAL, "Urgent")}) == WITHHELD
    assert figure_value(shown, {CellRef(table, "5–15 min", "Urgent")}) == "75%"  # after the time: not added up
