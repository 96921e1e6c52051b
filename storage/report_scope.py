"""Which cases a report covers: one service's, narrowed by the report's filters (IDVA, channel, language)."""

from __future__ import annotations

from safety.report_tables import Filters


def cases_in_scope(service_id: int, filters: Filters, alias: str = "c") -> tuple[str, list[object]]:
    """A WHERE fragment over `cases AS alias`, with its parameters: the service's cases that match the filters.

    Every report section narrows by this, so a filter means the same thing in every table."""
    clauses = [f"{alias}.service_id = ?"]
    params: list[object] = [service_id]
    for column, value in (("idva_id", filters.idva_id), ("channel", filters.channel), ("language", filters.language)):
        if value is not None:
            clauses.append(f"{alias}.{column} = ?")
            params.append(value)
    return " AND ".join(clauses), params
