"""The manager's report as a PDF, from a `Report` alone: the reports page's download and the monthly
e-mail render the same document, with the same suppression (bot/web/report_view.py).

`report_html` is cheap; `render` runs WeasyPrint and blocks, so call it off the event loop. Raises
bot.pdf.PdfUnavailable (one line) where WeasyPrint's libraries are missing.
"""

from __future__ import annotations

import gettext
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

import jinja2

from bot import pdf
from bot.web.report_view import SUPPRESSION_RULE, ReportView, period_words, view
from safety.report_tables import Filters, Report
from storage import monthly_reports, report_figures
from storage.db import Tx
from storage.services import Service


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(gettext.NullTranslations(), newstyle=True)  # type: ignore[attr-defined]
    return env


def report_html(shown: ReportView, prepared_on: date) -> str:
    context = {
        "shown": shown,
        "rule": SUPPRESSION_RULE,
        "period": period_words(shown.report.filters),
        "prepared_on": prepared_on.isoformat(),
    }
    return _templates().get_template("report_print.html").render(context)


def render(shown: ReportView, prepared_on: date) -> bytes:
    """The PDF (blocking)."""
    return pdf.html_to_pdf(report_html(shown, prepared_on))


async def monthly(tx: Tx, service: Service, period: str) -> Report:
    """The whole service's report for a month ('YYYY-MM'), as the monthly e-mail sends it."""
    start, end = monthly_reports.month_bounds(period)
    return await report_figures.build(tx, service.id, service.name, ZoneInfo(service.timezone), Filters(start, end))


def monthly_pdf(report: Report, now: datetime, timezone: str) -> bytes:
    """The monthly e-mail's attachment (blocking): no filters, so no IDVA to name."""
    return render(view(report), now.astimezone(ZoneInfo(timezone)).date())
