"""A manager's report: the sections, each built by its own builder over the same filters.

Each builder (storage/report_*.py) is `async def section(tx, service_id, filters, tz) -> Section` and
narrows its cases with storage/report_scope.py. `build` runs them in order in one read transaction,
so every section sees the same data. Which builders a service's report has is `SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from zoneinfo import ZoneInfo

from safety.report_tables import Filters, Report, Section
from storage import report_engagement, report_outcomes, report_response, report_risk, report_sharing
from storage.db import Tx


class SectionBuilder(Protocol):
    async def __call__(self, tx: Tx, service_id: int, filters: Filters, tz: ZoneInfo) -> Section: ...


# The report's sections, in the order they are shown.
SECTIONS: tuple[SectionBuilder, ...] = (
    report_engagement.section,
    report_response.section,
    report_risk.section,
    report_outcomes.section,
    report_sharing.section,
)


async def build(
    tx: Tx,
    service_id: int,
    service_name: str,
    tz: ZoneInfo,
    filters: Filters,
    sections: Sequence[SectionBuilder] = SECTIONS,
) -> Report:
    built = [await builder(tx, service_id, filters, tz) for builder in sections]
    return Report(service_name, filters, tuple(built))


async def filter_values(tx: Tx, service_id: int) -> tuple[list[int], list[str], list[str]]:
    """The IDVAs, channels and languages the service's cases have had: what the filters may narrow to."""
    idvas = await tx.all("SELECT DISTINCT idva_id FROM cases WHERE service_id = ? ORDER BY idva_id", (service_id,))
    channels = await tx.all("SELECT DISTINCT channel FROM cases WHERE service_id = ? ORDER BY channel", (service_id,))
    languages = await tx.all(
        "SELECT DISTINCT language FROM cases WHERE service_id = ? ORDER BY language", (service_id,)
    )
    return (
        [r["idva_id"] for r in idvas],
        [r["channel"] for r in channels],
        [r["language"] for r in languages],
    )
