"""The daily round's retention: erase the personal data of cases closed longer ago than the service keeps
it, and remove delivery records older than their period; each pass that removed anything is a purge row."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from storage import audit, cases, erasure, services
from storage.db import Tx
from storage.services import Service

CASES_PER_ROUND = 50  # erasures per daily round: a backlog (a shorter period just set) goes over a few days


async def run(tx: Tx, service: Service, now: datetime) -> int | None:
    """Apply the service's retention periods; return the purge row's id, or None when nothing went."""
    counts: Counter[str] = Counter()
    refs: list[str] = []
    erased: list[int] = []
    for case_id in await erasure.due_for_retention(
        tx, service.id, now - timedelta(days=service.closed_case_days), CASES_PER_ROUND
    ):
        counts.update(await erasure.erase_case(tx, case_id, now, erasure.RETENTION))
        refs.append((await cases.get(tx, case_id)).ref)
        erased.append(case_id)
    if erased:
        counts["cases_erased"] = len(erased)
    shortest = min(
        (s.delivery_record_days for s in await services.all_services(tx)), default=service.delivery_record_days
    )
    removed = await erasure.remove_delivery_records(
        tx, service.id, now - timedelta(days=service.delivery_record_days), now - timedelta(days=shortest)
    )
    counts.update(removed)
    if not +counts:  # nothing removed: no purge row, and nothing to wipe
        return None
    tx.erasing()
    purge_id = await erasure.record(tx, service.id, now, "retention", "system", counts, refs)
    for case_id in erased:
        await audit.log(tx, now, "system", "case_erased", case_id, f"reason=retention purge={purge_id}", service.id)
    if sum(removed.values()):
        detail = f"purge={purge_id} " + " ".join(f"{k}={v}" for k, v in sorted(removed.items()))
        await audit.log(tx, now, "system", "delivery_records_removed", None, detail, service.id)
    return purge_id
