"""Manage → Reports over real HTTP on a real SQLite file, with sections from a test builder that returns
known tables: a manager sees the page (last month by default, tables with captions and row headers, bar
charts with accessible names, "<5" for a hidden count, a figure on a small base withheld); IDVA, duty,
admin and partner people are refused; every filter is checked, a bad one a one-line error beside its
field; the CSV and the PDF carry exactly the published numbers; exports are audited with ids only.

What is hidden is safety/disclosure.py's business and tested there: these tests compare the page and the
exports with that module's output, and rely only on a count of 3 being hidden (any rule hides it)."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import sys
from datetime import date, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
import pytest
from aiohttp import web
from markupsafe import escape

from bot import report_pdf
from bot.pdf import MISSING
from bot.web.report_view import csv_rows, view
from bot.web.reports import SECTIONS_KEY
from safety.report_tables import HIDDEN, Figure, Filters, Report, Section, Table
from storage import partners, practitioners
from storage.db import Tx
from storage.report_figures import SectionBuilder, build
from tests.caseload_data import other_service
from tests.conftest import World
from tests.webtools import login, person, workspace

PAGE = "/manage/reports"
LAST_MONTH = Filters(date(2026, 10, 1), date(2026, 11, 1))  # the world's clock is in November 2026
SERVICE_NAME = "Test service"
CHART = "table-engagement-checkins-by-channel-chart"


class Known:
    """A section builder with known tables and figures, which records what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, Filters]] = []

    async def __call__(self, tx: Tx, service_id: int, filters: Filters, tz: tzinfo) -> Section:
        self.asked.append((service_id, filters))
        by_channel = Table(
            "engagement.checkins_by_channel",
            "Check-ins by channel",
            "Channel",
            ("Sent", "Completed"),
            (("sms", (40, 31)), ("telegram", (27, 3)), ("=cmd|' /C calc'!A0", (20, 18))),
        )
        languages = Table(
            "engagement.cases_by_language", "Active cases by language", "Language", ("Active",), (("en_GB", (25,)),)
        )
        figures = (
            Figure("engagement.response_rate", "Response rate", "76%", 87),
            Figure("engagement.small_rate", "Response rate, Welsh", "67%", 3),
        )
        return Section("engagement", "Engagement", (by_channel, languages), figures)


def served(builder: SectionBuilder) -> Any:
    def setup(app: web.Application) -> None:
        app[SECTIONS_KEY] = (builder,)

    return setup


def audit_rows(world: World, actions: tuple[str, ...] = ("report_viewed", "report_export")) -> list[dict[str, Any]]:
    marks = ", ".join("?" for _ in actions)
    with sqlite3.connect(world.settings.db_path) as conn:
        conn.row_factory = sqlite3.Row
        sql = f"SELECT actor, action, case_id, detail FROM audit_log WHERE action IN ({marks}) ORDER BY id"
        return [dict(r) for r in conn.execute(sql, actions)]


async def expected(world: World, filters: Filters) -> Report:
    """The report the test builder gives, built the way the page builds it."""
    async with world.app.db.reading() as tx:
        return await build(tx, world.service_id, SERVICE_NAME, ZoneInfo("Europe/London"), filters, [Known()])


def pdf_text(body: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages).split())


async def test_a_manager_sees_last_months_report_with_tables_charts_and_hidden_counts(world: World) -> None:
    known = Known()
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world, setup=served(known)) as client:
        await login(client, world, meg)
        index = await (await client.get("/manage")).text()
        assert 'href="/manage/reports"' in index
        resp = await client.get(PAGE)
        page = await resp.text()
    assert resp.status == 200, page
    assert known.asked == [(world.service_id, LAST_MONTH)]
    assert 'value="2026-10"' in page  # the month picker shows the month reported
    assert "1 October 2026 to 31 October 2026" in page
    table = page[page.index('<table id="table-engagement-checkins-by-channel"') :]
    table = table[: table.index("</table>")]
    assert "<caption" in table and "Check-ins by channel" in table
    assert '<th scope="col">Completed</th>' in table and '<th scope="row">telegram</th>' in table
    assert "<td>40</td>" in table and "<td>&lt;5</td>" in table and "<td>3</td>" not in table
    # One chart, for the table with rows to compare; named by its title and described in words.
    charts = re.findall(r'<svg class="chart report-chart"[^>]*role="img"[^>]*>', page)
    assert len(charts) == 1 and f'aria-labelledby="{CHART}-title" aria-describedby="{CHART}-desc"' in charts[0]
    # the chart's <desc>: the 3 is hidden, and so is the 27 beside it, or the row total (30) would give the 3 away
    assert "telegram: Sent &lt;5, Completed &lt;5" in page
    assert '<dd id="figure-engagement-response_rate">76%</dd>' in page
    assert "67%" not in page  # a rate of 3 cases is withheld
    assert audit_rows(world) == [
        {
            "actor": f"practitioner:{world.manager}",
            "action": "report_viewed",
            "case_id": None,
            "detail": "format=page start=2026-10-01 end=2026-11-01",
        }
    ]


async def test_a_hidden_count_has_no_bar_and_does_not_set_the_scale(world: World) -> None:
    from bot.web.charts import bar_chart
    from safety.disclosure import publish

    table = Table("t.k", "T", "Row", ("Only",), (("a", (10,)), ("b", (3,)), ("c", (0,))), totals=False)
    svg = str(bar_chart(publish(table), "c"))
    assert svg.count("<rect") == 1  # 10 drawn; 3 hidden and 0 have no bar
    assert 'width="410.0"' in svg  # the shown 10 is the full width: the scale is of published values
    assert "&lt;5" in svg


async def _partner_person(world: World) -> Any:
    async def unit(tx: Tx) -> int:
        from safety.sharing import Agreement, Basis, Kind

        agreement = Agreement("ISA-1", Basis.CONSENT, frozenset({Kind.RISK_CHANGES}))
        pid = await partners.create(tx, world.service_id, "Drive", "drive", agreement, world.clock.now())
        contact = await practitioners.add(
            tx, world.app.crypto, world.service_id, "partner", "Carl", [], world.clock.now(), partner_id=pid
        )
        await tx.commit()
        return contact

    contact = await world.app.db.run(unit)
    who = await person(world, "carl", ("duty",), practitioner_id=contact)  # accounts set staff roles only

    async def partner_only(tx: Tx) -> None:
        await tx.execute("DELETE FROM practitioner_roles WHERE practitioner_id = ?", (contact,))
        await tx.execute("INSERT INTO practitioner_roles VALUES (?, 'partner')", (contact,))
        await tx.commit()

    await world.app.db.run(partner_only)
    return who


@pytest.mark.parametrize("roles", [("idva",), ("duty",), ("admin",), ("partner",)])
async def test_only_a_manager_gets_the_report_or_its_exports(world: World, roles: tuple[str, ...]) -> None:
    known = Known()
    who = await _partner_person(world) if roles == ("partner",) else await person(world, "someone", roles)
    async with workspace(world, setup=served(known)) as client:
        await login(client, world, who)
        for path in (PAGE, PAGE + ".csv", PAGE + ".pdf"):
            assert (await client.get(path)).status == 403, path
        if roles == ("admin",):
            assert 'href="/manage/reports"' not in await (await client.get("/manage")).text()
    assert known.asked == []
    assert audit_rows(world) == []


BAD = [
    ({"month": "2026-13"}, "month", "Choose a month, as YYYY-MM."),
    ({"month": "next"}, "month", "Choose a month, as YYYY-MM."),
    ({"from": "2026-10-01"}, "to", "Give both dates, or clear both to report on the month."),
    ({"from": "2026-10-09", "to": "2026-10-01"}, "to", "The end date is before the start date."),
    ({"from": "2026-10-01", "to": "9999-12-31"}, "to", "Give a date between 2000 and 2099."),
    ({"from": "1/10/2026", "to": "2026-10-31"}, "from", "Give the date as YYYY-MM-DD."),
    ({"idva": "abc"}, "idva", "Choose one of the service's IDVAs."),
    ({"channel": "fax"}, "channel", "Choose one of the channels listed."),
    ({"language": "xx_XX"}, "language", "Choose one of the languages listed."),
]


@pytest.mark.parametrize(("query", "field", "message"), BAD)
async def test_a_bad_filter_is_one_line_beside_its_field(
    world: World, query: dict[str, str], field: str, message: str
) -> None:
    known = Known()
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world, setup=served(known)) as client:
        await login(client, world, meg)
        resp = await client.get(PAGE, params=query)
        page = await resp.text()
        assert resp.status == 400
        assert f'<p class="error" id="{field}-error" role="alert">{escape(message)}</p>' in page, page
        assert f'id="{field}" name="{field}"' in page and f'aria-describedby="{field}-error"' in page
        for ext in (".csv", ".pdf"):
            resp = await client.get(PAGE + ext, params=query)
            assert resp.status == 400 and (await resp.text()) == message
    assert known.asked == []
    assert audit_rows(world) == []


async def test_another_services_idva_is_not_a_filter_but_the_services_own_narrow_the_report(world: World) -> None:
    _, other_idva, _ = await other_service(world)
    known = Known()
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world, setup=served(known)) as client:
        await login(client, world, meg)
        assert (await client.get(PAGE, params={"idva": str(other_idva)})).status == 400
        wanted = {"from": "2026-10-05", "to": "2026-10-11", "idva": str(world.idva), "channel": "simulator"}
        resp = await client.get(PAGE, params={**wanted, "language": "en_GB", "month": "2026-01"})
        page = await resp.text()
        assert resp.status == 200, page
        assert f'href="/manage/reports.csv?from=2026-10-05&amp;to=2026-10-11&amp;idva={world.idva}' in page
    assert known.asked == [
        (world.service_id, Filters(date(2026, 10, 5), date(2026, 10, 12), world.idva, "simulator", "en_GB"))
    ]
    [viewed] = audit_rows(world)
    assert (
        viewed["detail"]
        == f"format=page start=2026-10-05 end=2026-10-12 idva={world.idva} channel=simulator language=en_GB"
    )


async def test_the_csv_holds_every_published_cell_and_figure_and_is_audited(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world, setup=served(Known())) as client:
        await login(client, world, meg)
        resp = await client.get(PAGE + ".csv", params={"month": "2026-10", "channel": "simulator"})
        body = await resp.read()
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="safecheck-report-2026-10-01-to-2026-10-31.csv"'
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["section", "table", "row", "column", "value"]
    report = await expected(world, Filters(date(2026, 10, 1), date(2026, 11, 1), channel="simulator"))
    want = [list(r) for r in csv_rows(view(report))]
    want = [[("'" + v if v.startswith("=") else v) for v in r] for r in want]
    assert rows[1:] == want
    assert ["Report", "About", "Channel", "", "simulator"] in rows
    assert ["Engagement", "Check-ins by channel", "sms", "Sent", "40"] in rows
    assert ["Engagement", "Check-ins by channel", "telegram", "Completed", HIDDEN] in rows
    assert ["Engagement", "Figures", "Response rate", "", "76%"] in rows
    assert not any("67%" in cell for row in rows for cell in row)
    assert any(row[2] == "'=cmd|' /C calc'!A0" for row in rows)  # a spreadsheet opens it as text
    [exported] = audit_rows(world, ("report_export",))
    assert exported["detail"] == "format=csv start=2026-10-01 end=2026-11-01 channel=simulator"


async def test_the_pdf_states_the_service_period_filters_and_rule_and_holds_the_published_numbers(
    world: World,
) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world, setup=served(Known())) as client:
        await login(client, world, meg)
        resp = await client.get(PAGE + ".pdf", params={"idva": str(world.idva)})
        body = await resp.read()
    assert resp.status == 200 and resp.content_type == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    text = pdf_text(body)
    first = " ".join(pypdf.PdfReader(io.BytesIO(body)).pages[0].extract_text().split())
    for said in ("1 October 2026 to 31 October 2026", "Channel All", "every hidden count is shown as <5"):
        assert said in first, (said, first)
    assert "Check-ins by channel" in text and "40" in text and "76%" in text and HIDDEN in text
    assert "67%" not in text
    [exported] = audit_rows(world, ("report_export",))
    assert exported["detail"] == f"format=pdf start=2026-10-01 end=2026-11-01 idva={world.idva}"


async def test_the_monthly_pdf_is_made_from_a_report_without_a_request(world: World) -> None:
    report = await expected(world, LAST_MONTH)
    text = pdf_text(report_pdf.monthly_pdf(report, world.clock.now(), "Europe/London"))
    assert SERVICE_NAME in text and "Response rate 76%" in text and HIDDEN in text


async def test_without_weasyprint_the_pdf_is_one_line_on_the_page(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if it were not installed: the import fails
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world, setup=served(Known())) as client:
        await login(client, world, meg)
        resp = await client.get(PAGE + ".pdf")
        page = await resp.text()
    assert resp.status == 503
    assert (
        f'<p class="error" id="pdf-error" role="alert">{MISSING.replace("`", "&#96;")}</p>' in page
        or MISSING.split(":")[0] in page
    )
    assert audit_rows(world, ("report_export",)) == []
