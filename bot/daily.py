"""The daily round per service: retention purge, the IDVAs' digest where the service wants one, and the
monthly report for the managers who asked for it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import monthly_report, retention
from storage import audit, audit_retention, checkins, outbox, practitioners, reports, timers
from storage.db import Tx
from storage.services import Service

PURGE_HOUR = 3  # local time; the digest hour is used instead when a digest is configured


def next_run(service: Service, after: datetime) -> datetime:
    tz = ZoneInfo(service.timezone)
    hour = service.digest_hour if service.digest_hour is not None else PURGE_HOUR
    local = after.astimezone(tz)
    candidate = datetime.combine(local.date(), time(hour), tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=tz)
    return candidate


async def ensure_scheduled(tx: Tx, service: Service, now: datetime) -> None:
    at = next_run(service, now)
    await timers.add(tx, "daily", f"{service.id}:{at.date().isoformat()}", at, service_id=service.id)


async def run(tx: Tx, service: Service, now: datetime) -> None:
    purged = await checkins.purge_free_text(tx, service.id, now - timedelta(days=service.retention_days))
    if purged:
        tx.erasing()  # purged words must not live on in the WAL
    await audit.log(tx, now, "system", "retention_purge", None, f"service={service.id} values={purged}")
    await audit_retention.run(tx, now, service.id)  # whole expired months of the audit log, behind its anchor
    await retention.run(tx, service, now)  # closed cases' personal data and old delivery records (a purge row)
    if service.digest_hour is not None:
        for idva in await practitioners.ids_with_role(tx, service.id, "idva"):
            day = await reports.caseload(tx, idva, now - timedelta(days=1), now)
            channels = await practitioners.channel_names(tx, idva)
            if channels:
                message = {
                    "kind": "digest",
                    "statuses": day.statuses,
                    "levels": day.levels,
                    "alerts": day.alerts,
                    "open_alerts": day.open_alerts,
                }
                await outbox.to_practitioner(
                    tx, practitioner_id=idva, alert_id=None, channel=channels[0], position=0, message=message, now=now
                )
    await monthly_report.queue_due(tx, service, now)
    await ensure_scheduled(tx, service, now + timedelta(minutes=1))
