"""The monthly report's e-mail, built when it is sent: last month's figures as a PDF attachment.

A missing WeasyPrint is a permanent failure for this e-mail (logged as an error), so the outbox moves
it to the manager's next channel, which gets one line saying where to download the report.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot import report_pdf
from bot.app import App
from bot.channels.base import Attachment, Outgoing, SendError
from bot.monthly_report import KIND
from bot.pdf import PdfUnavailable
from storage import services

log = logging.getLogger("safecheck.monthly_report")


async def outgoing(app: App, message: dict[str, Any]) -> Outgoing:
    period = str(message["period"])
    async with app.db.reading() as tx:
        service = await services.get(tx, int(message["service_id"]))
        report = await report_pdf.monthly(tx, service, period)
    try:
        data = await asyncio.to_thread(report_pdf.monthly_pdf, report, app.clock.now(), service.timezone)
    except PdfUnavailable as exc:
        log.error("monthly report PDF not made service=%d error=pdf_unavailable", service.id)
        raise SendError(str(exc), retryable=False) from None
    text = (
        f"Safecheck report for {service.name}, {period}: engagement, response to alerts, risk, outcomes at "
        "closure and sharing. Counts under 5 are shown as <5."
    )
    attachment = Attachment(f"safecheck-report-{service.slug}-{period}.pdf", "application/pdf", data)
    return Outgoing(text, meta={"kind": KIND, "period": period}, attachments=(attachment,))
