"""The report's outcomes section against seeded closures whose answers are counted by hand: the period's
edges in local time (October 2026 starts at 23:00 UTC on 30 September, in summer time), the filters, a
case closed without an outcome, and another service's closure never counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import case_state, commands
from safety.closure_outcomes import Outcome
from safety.report_tables import Filters, Section
from storage import cases, report_outcomes
from storage.db import Tx
from tests.caseload_data import case_id, enrol, other_service
from tests.conftest import World

LONDON = ZoneInfo("Europe/London")
OCTOBER = Filters(date(2026, 10, 1), date(2026, 11, 1))
START = datetime(2026, 9, 30, 23, 0, tzinfo=UTC)  # 1 October, 00:00 in London (summer time)
END = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # 1 November, 00:00 in London (winter time)


def outcome(reason: str, safety: str, phys: str, sex: str, stalk: str, control: str, life: str) -> Outcome:
    return Outcome(reason, safety, phys, sex, stalk, control, life)


@dataclass(frozen=True)
class Seeded:
    bea: int


async def _close(world: World, case: int, at: datetime, found: Outcome | None, by: int) -> None:
    async def unit(tx: Tx) -> None:
        await case_state.close(tx, await cases.get(tx, case), at, outcome=found, by=by if found else None)
        await tx.commit()

    await world.app.db.run(unit)


async def seed(world: World) -> Seeded:
    bea = await commands.add_practitioner(world.app, world.service_id, "Bea", "idva", ["inbox"])
    cases_closed = [
        # (IDVA, when closed, outcome): the first three and the fourth (no outcome) are in October.
        (
            world.idva,
            START,
            outcome("risk_reduced", "improved", "ceased", "not_present", "reduced", "continued", "improved"),
        ),
        (
            world.idva,
            datetime(2026, 10, 10, 12, tzinfo=UTC),
            outcome("support_ended", "improved", "reduced", "not_present", "ceased", "reduced", "no_change"),
        ),
        (
            bea,
            datetime(2026, 10, 20, 12, tzinfo=UTC),
            outcome("her_choice", "not_known", "not_known", "not_known", "not_known", "not_known", "not_known"),
        ),
        (world.idva, datetime(2026, 10, 15, 12, tzinfo=UTC), None),  # closed from the CLI
        # Just outside the period, at either end.
        (
            world.idva,
            datetime(2026, 9, 30, 22, 59, 59, tzinfo=UTC),
            outcome("other", "improved", "ceased", "ceased", "ceased", "ceased", "improved"),
        ),
        (world.idva, END, outcome("other", "worse", "continued", "continued", "continued", "continued", "worse")),
    ]
    for n, (idva, at, found) in enumerate(cases_closed):
        _, case = await enrol(world, f"+4477009000{n:02d}", f"Case {n}", idva=idva)
        await _close(world, case, at, found, idva)
    await enrol(world, "+447700900050", "Still open")  # open: never counted
    # Another service's closure in October, with an outcome: never counted.
    _, olu, ref = await other_service(world)
    await _close(
        world,
        await case_id(world, ref),
        datetime(2026, 10, 10, tzinfo=UTC),
        outcome("risk_reduced", "improved", "ceased", "ceased", "ceased", "ceased", "improved"),
        olu,
    )
    return Seeded(bea)


def rows(found: Section, key: str) -> dict[str, tuple[int, ...]]:
    [table] = [t for t in found.tables if t.key == key]
    return dict(table.rows)


def figures(found: Section) -> dict[str, tuple[str, int]]:
    return {f.key: (f.value, f.base) for f in found.figures}


LABELS = (
    "Support ended as planned",
    "Risk reduced",
    "Moved or transferred to another service",
    "No longer engaging",
    "She asked to stop",
    "Other (see notes)",
    "Not recorded",
)

# (case name, filters (None: the IDVA is Bea), by reason, safety, abuse types, quality of life, figures)
CASES = [
    (
        "all of October",
        {},
        (1, 1, 0, 0, 1, 0, 1),
        (2, 0, 0, 1),
        {
            "Physical abuse": (1, 1, 0, 0, 1),
            "Sexual abuse": (0, 0, 0, 2, 1),
            "Harassment and stalking": (1, 1, 0, 0, 1),
            "Jealous and controlling behaviour": (0, 1, 1, 0, 1),
        },
        (1, 1, 0, 1),
        {"outcomes.safety_improved": ("66.6%", 3), "outcomes.quality_of_life_improved": ("33.3%", 3)},
    ),
    (
        "Bea's caseload",
        {"idva": "bea"},
        (0, 0, 0, 0, 1, 0, 0),
        (0, 0, 0, 1),
        {
            "Physical abuse": (0, 0, 0, 0, 1),
            "Sexual abuse": (0, 0, 0, 0, 1),
            "Harassment and stalking": (0, 0, 0, 0, 1),
            "Jealous and controlling behaviour": (0, 0, 0, 0, 1),
        },
        (0, 0, 0, 1),
        {"outcomes.safety_improved": ("0%", 1), "outcomes.quality_of_life_improved": ("0%", 1)},
    ),
    (
        "Ida's caseload",
        {"idva": "ida"},
        (1, 1, 0, 0, 0, 0, 1),
        (2, 0, 0, 0),
        {
            "Physical abuse": (1, 1, 0, 0, 0),
            "Sexual abuse": (0, 0, 0, 2, 0),
            "Harassment and stalking": (1, 1, 0, 0, 0),
            "Jealous and controlling behaviour": (0, 1, 1, 0, 0),
        },
        (1, 1, 0, 0),
        {"outcomes.safety_improved": ("100%", 2), "outcomes.quality_of_life_improved": ("50%", 2)},
    ),
    (
        "Welsh-language cases (none)",
        {"language": "cy"},
        (0,) * 7,
        (0,) * 4,
        {
            t: (0,) * 5
            for t in ("Physical abuse", "Sexual abuse", "Harassment and stalking", "Jealous and controlling behaviour")
        },
        (0,) * 4,
        {
            "outcomes.safety_improved": ("no outcomes recorded", 0),
            "outcomes.quality_of_life_improved": ("no outcomes recorded", 0),
        },
    ),
]


@pytest.mark.parametrize(
    ("narrowing", "by_reason", "safety", "abuse", "life", "expected_figures"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
async def test_outcomes_section_counts_what_was_seeded(
    world: World,
    narrowing: dict[str, str],
    by_reason: tuple[int, ...],
    safety: tuple[int, ...],
    abuse: dict[str, tuple[int, ...]],
    life: tuple[int, ...],
    expected_figures: dict[str, tuple[str, int]],
) -> None:
    seeded = await seed(world)
    idva = {"bea": seeded.bea, "ida": world.idva}.get(narrowing.get("idva", ""))
    filters = Filters(OCTOBER.start, OCTOBER.end, idva_id=idva, language=narrowing.get("language"))
    async with world.app.db.reading() as tx:
        found = await report_outcomes.section(tx, world.service_id, filters, LONDON)
    assert found.key == "outcomes"
    assert rows(found, "outcomes.closed_by_reason") == {label: (n,) for label, n in zip(LABELS, by_reason, strict=True)}
    changes = ("Improved", "No change", "Worse", "Not known")
    assert rows(found, "outcomes.safety") == {c: (n,) for c, n in zip(changes, safety, strict=True)}
    assert rows(found, "outcomes.abuse_types") == abuse
    assert rows(found, "outcomes.quality_of_life") == {c: (n,) for c, n in zip(changes, life, strict=True)}
    assert figures(found) == expected_figures
    [abuse_table] = [t for t in found.tables if t.key == "outcomes.abuse_types"]
    assert abuse_table.columns == ("Ceased", "Reduced", "Continued", "Not present", "Not known")


async def test_the_periods_edges_follow_local_midnight(world: World) -> None:
    """September (local) holds the closure one second before October; November holds the one at its start."""
    await seed(world)
    async with world.app.db.reading() as tx:
        september = await report_outcomes.section(
            tx, world.service_id, Filters(date(2026, 9, 1), date(2026, 10, 1)), LONDON
        )
        november = await report_outcomes.section(
            tx, world.service_id, Filters(date(2026, 11, 1), date(2026, 12, 1)), LONDON
        )
    assert rows(september, "outcomes.closed_by_reason")["Other (see notes)"] == (1,)
    assert figures(september)["outcomes.safety_improved"] == ("100%", 1)
    assert rows(november, "outcomes.closed_by_reason")["Other (see notes)"] == (1,)
    assert rows(november, "outcomes.safety")["Worse"] == (1,)
    assert sum(n for (n,) in rows(november, "outcomes.closed_by_reason").values()) == 1
