"""The monthly report e-mailed as a PDF to the managers who asked for it.

The daily round queues one outbox item per subscribed manager, once per month, for the month just
ended (so a service that was down on the 1st still sends it when it is back). The PDF is built when
the e-mail is sent, from figures with small counts suppressed: nothing about a survivor goes out,
and the outbox's retries and fallback apply. Should the e-mail fail for good, the next channel
gets one line saying where to download it instead.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from zoneinfo import ZoneInfo

from storage import monthly_reports, outbox, practitioners
from storage.db import Tx
from storage.services import Service

log = logging.getLogger("safecheck.monthly_report")
KIND = "monthly_report"


async def queue_due(tx: Tx, service: Service, now: datetime) -> int:
    """Queue last month's report for the service's subscribed managers, if not queued yet; how many."""
    tz = ZoneInfo(service.timezone)
    period = monthly_reports.previous_month(now.astimezone(tz).date())
    ended = datetime.combine(monthly_reports.month_bounds(period)[1], time(), tzinfo=tz)
    managers = await monthly_reports.recipients(tx, service.id, ended)
    if not managers or not await monthly_reports.mark_queued(tx, service.id, period, len(managers), now):
        return 0
    message = {"kind": KIND, "service_id": service.id, "period": period}
    for manager in managers:
        channels = await practitioners.channel_names(tx, manager)
        if not channels:
            log.error("monthly report not sent: manager=%d has no alert channel", manager)
            continue
        # E-mail first, as the PDF can only go that way; the other channels are its fallback.
        position = channels.index("email") if "email" in channels else 0
        await outbox.to_practitioner(
            tx,
            practitioner_id=manager,
            alert_id=None,
            channel=channels[position],
            position=position,
            message=message,
            now=now,
        )
    return len(managers)


def render_line(message: dict[str, object], workspace_url: str | None) -> str:
    """What a channel that cannot carry the PDF says instead."""
    where = f"{workspace_url.rstrip('/')}/manage/reports" if workspace_url else "the workspace, Manage > Reports"
    return f"Safecheck monthly report for {message['period']}: download it at {where}."
