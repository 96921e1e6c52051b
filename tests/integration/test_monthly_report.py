"""The monthly report by e-mail: a manager asks for it in the workspace; the daily round queues last month's
report once, also when the service was down on the 1st; the e-mail goes over real SMTP with the PDF
attached, whose text holds the service and the month; only subscribed, active managers get it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdf
import pytest

from bot import daily
from bot.web.report_mailing import NO_EMAIL, PATH
from storage import monthly_reports, practitioners, services
from tests.conftest import World
from tests.fakes.smtp_server import SmtpServer
from tests.integration.conftest import rows
from tests.integration.test_practitioner_fallback import MEG, mail_world
from tests.webtools import login, person, post_form, workspace

DEC_1 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # the daily round's hour in London (GMT)


@pytest.fixture
async def w(tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[World]:
    async with mail_world(tmp_path, smtp) as world:
        yield world


async def daily_round(w: World, at: datetime) -> None:
    w.clock.set(at)
    async with w.app.db.transaction() as tx:
        await daily.run(tx, await services.get(tx, w.service_id), at)
        await tx.commit()
    await w.deliver()


async def subscribe(w: World, practitioner_id: int) -> None:
    async with w.app.db.transaction() as tx:
        assert await monthly_reports.subscribe(tx, w.service_id, practitioner_id, w.clock.now())
        await tx.commit()


def reports_to(smtp: SmtpServer, address: str) -> list[pypdf.PdfReader]:
    found = []
    for mail in (r for r in smtp.received if address in r.rcpt_tos):
        [pdf] = [part for part in mail.message.iter_attachments() if part.get_content_type() == "application/pdf"]
        found.append(pypdf.PdfReader(io.BytesIO(pdf.get_content())))
    return found


def text_of(pdf: pypdf.PdfReader) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in pdf.pages)


async def test_last_month_goes_to_a_subscribed_manager_once_as_a_pdf(w: World, smtp: SmtpServer) -> None:
    await subscribe(w, w.manager)  # on 23 November
    await daily_round(w, w.clock.now() + timedelta(days=1))
    assert reports_to(smtp, MEG) == []  # October ended before she asked
    await daily_round(w, DEC_1)
    [pdf] = reports_to(smtp, MEG)
    assert "Test service" in text_of(pdf) and "November 2026" in text_of(pdf)
    [mail] = [r for r in smtp.received if MEG in r.rcpt_tos]
    assert mail.message["Subject"] == "Safecheck monthly report 2026-11" and mail.tls
    await daily_round(w, DEC_1 + timedelta(days=1))
    assert len(reports_to(smtp, MEG)) == 1  # once a month


async def test_a_service_down_on_the_first_sends_it_when_it_is_back(w: World, smtp: SmtpServer) -> None:
    await subscribe(w, w.manager)
    await daily_round(w, DEC_1 + timedelta(days=2))
    assert len(reports_to(smtp, MEG)) == 1


async def test_only_subscribed_active_managers_get_it(w: World, smtp: SmtpServer) -> None:
    await subscribe(w, w.idva)  # not a manager: never a recipient
    await daily_round(w, DEC_1)
    assert smtp.received == [] and await rows(w.app, "SELECT * FROM report_mailings") == []
    await subscribe(w, w.manager)
    async with w.app.db.transaction() as tx:
        await practitioners.deactivate(tx, w.manager)
        await tx.commit()
    await daily_round(w, datetime(2027, 1, 1, 3, 0, tzinfo=UTC))
    assert smtp.received == []


async def test_a_manager_asks_for_it_and_stops_it_in_the_workspace(world: World) -> None:
    meg = await person(world, "meg", ("manager",), practitioner_id=world.manager)
    async with workspace(world) as client:
        await login(client, world, meg)
        resp = await post_form(client, PATH, {"monthly": "on"}, token_from="/manage/reports")
        assert resp.headers["Location"] == "/manage/reports?mailing=no_email"  # her channels are inbox and log
        page = await (await client.get(resp.headers["Location"])).text()
        assert NO_EMAIL in page
        assert await rows(world.app, "SELECT * FROM report_subscriptions") == []
        async with world.app.db.transaction() as tx:
            await practitioners.set_address(tx, world.app.crypto, world.manager, "email", "meg@service.example")
            await tx.commit()
        resp = await post_form(client, PATH, {"monthly": "on"}, token_from="/manage/reports")
        assert resp.headers["Location"] == "/manage/reports?mailing=on"
        assert "Stop the monthly e-mail" in await (await client.get("/manage/reports")).text()
        resp = await post_form(client, PATH, {"monthly": "off"}, token_from="/manage/reports")
        assert await rows(world.app, "SELECT * FROM report_subscriptions") == []
    actions = [r["action"] for r in await rows(world.app, "SELECT action FROM audit_log WHERE action LIKE 'report_m%'")]
    assert actions == ["report_mailing_started", "report_mailing_stopped"]


async def test_an_idva_cannot_ask_for_it(world: World) -> None:
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with world.app.db.transaction() as tx:
        await practitioners.set_address(tx, world.app.crypto, world.idva, "email", "ida@service.example")
        await tx.commit()
    async with workspace(world) as client:
        await login(client, world, ida)
        resp = await post_form(client, PATH, {"monthly": "on"}, token_from="/")
        assert resp.status == 403
    assert await rows(world.app, "SELECT * FROM report_subscriptions") == []
