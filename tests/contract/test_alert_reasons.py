"""Alerts say what happened, on every practitioner channel: Telegram, SMS, e-mail and the workspace.

Alerts are raised the way the engine raises them, by handling an AlertRaised event that carries fact
codes, inside a real transaction on a real SQLite file; they reach the practitioner through the real
dispatcher and the contract fakes (Bot API, Twilio, SMTP) or the workspace over real HTTP.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot import commands
from bot.app import App
from bot.commands.common import case_by_ref
from bot.handlers import HANDLERS, Effects, H
from flows.events import AlertRaised
from safety.model import AlertReason, Severity
from storage import alerts, services
from tests.conftest import World
from tests.fakes.sms_harness import DUTY_PHONE, IDVA_PHONE, sms_world
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_world import telegram_world
from tests.integration.conftest import rows
from tests.integration.test_practitioner_fallback import IDA, mail_world
from tests.webtools import login, person, workspace

URGENT, RAISED = Severity.URGENT, Severity.RAISED

# (severity, reason, facts, what the practitioner reads)
SAID = [
    (URGENT, AlertReason.RISK_RAISED, ("choking",), "strangulation disclosed"),
    (URGENT, AlertReason.RISK_RAISED, ("contact_despite_order",), "in-person contact despite a no-contact order"),
    (URGENT, AlertReason.RISK_RAISED, ("not_safe_now",), "not safe now"),
    (
        URGENT,
        AlertReason.RISK_RAISED,
        ("not_safe_now", "threats_to_kill", "choking"),
        "not safe now; threats to kill disclosed; strangulation disclosed",
    ),
    (URGENT, AlertReason.RISK_RAISED, ("self_harm_thoughts",), "thoughts of self-harm disclosed"),
    (RAISED, AlertReason.FEAR_RISING, (), "fear rising over 3 check-ins"),
    (URGENT, AlertReason.CODEWORD, (), "codeword"),
]


async def raise_event(app: App, service_id: int, ref: str, event: AlertRaised) -> int:
    """Handle an AlertRaised as the pipeline does: its handler, inside the step's transaction."""
    now = app.clock.now()
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, service_id)
        service = await services.get(tx, service_id)
        await HANDLERS[AlertRaised](H(tx, app.core, case, service, Effects(), now), event)
        alert_id = int(await tx.scalar("SELECT MAX(id) FROM alerts"))
        await tx.commit()
    return alert_id


async def test_telegram_alerts_say_what_happened(tmp_path: Path) -> None:
    async with telegram_world(tmp_path) as w:
        ida = w.new_chat()
        await w.link_practitioner(w.idva, ida)
        ref, _ = await w.enrol()
        for severity, reason, facts, words in SAID:
            await raise_event(w.app, w.service_id, ref, AlertRaised(severity, reason, facts=facts))
            await w.deliver()
            shown = w.fake.bot_texts(ida)[-1]
            assert shown.startswith(f"[{severity.value.upper()}] Case {ref}: {words}.\nDetails: "), shown


async def test_sms_alerts_say_what_happened_and_the_next_rung_reads_the_same(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with sms_world(tmp_path) as w:
        ref, _ = await w.enrol()
        for severity, reason, facts, words in SAID:
            alert_id = await raise_event(w.app, w.service_id, ref, AlertRaised(severity, reason, facts=facts))
            [sent] = [m for m in await w.deliver() if m.to == IDVA_PHONE]
            assert sent.body == f"[{severity.value.upper()}] Case {ref}: {words}. Reply ACK {ref}"
            async with w.app.db.reading() as tx:
                stored = await alerts.get(tx, alert_id)
            assert stored is not None and stored.signals == facts  # alerts.signals, comma-separated codes

        # Nobody acknowledged: five minutes on, the duty IDVA is told the same things, read back from each alert.
        w.clock.advance(timedelta(minutes=5))
        escalated = [m.body for m in await w.deliver() if m.to == DUTY_PHONE]
        expected = [f"[URGENT] Case {ref}: {words}. Reply ACK {ref}" for s, _, _, words in SAID if s is URGENT]
        assert sorted(escalated) == sorted(expected)  # timers due at the same moment fire in no promised order

        # The audit trail and the log keep codes only: the reason code, never the words or the facts.
        audited = await w.rows("SELECT action, detail FROM audit_log WHERE action LIKE 'alert_%'")
        assert audited and all("strangulation" not in str(a) and "choking" not in str(a) for a in audited)
        assert "reason=risk_raised" in caplog.text and "strangulation" not in caplog.text


async def test_email_alerts_say_what_happened(tmp_path: Path, smtp: SmtpServer) -> None:
    async with mail_world(tmp_path, smtp) as world:
        ref, _ = await world.enrol()
        for severity, reason, facts, words in SAID:
            alert_id = await raise_event(world.app, world.service_id, ref, AlertRaised(severity, reason, facts=facts))
            await world.deliver()
            mail = smtp.received[-1]
            lines = mail.body.splitlines()
            assert mail.rcpt_tos == (IDA,) and lines[0] == f"Safecheck alert {alert_id} for case {ref}"
            assert f"Reason:   {words}" in lines
            assert mail.message["Subject"] == f"[{severity.value.upper()}] Safecheck alert {ref}"  # no reason there


async def test_the_workspace_alert_pages_say_what_happened(world: World) -> None:
    ref, _ = await world.enrol()
    raised = [
        (await raise_event(world.app, world.service_id, ref, AlertRaised(severity, reason, facts=facts)), words)
        for severity, reason, facts, words in SAID
    ]
    ida = await person(world, "ida", ("idva",), practitioner_id=world.idva)
    async with workspace(world) as client:
        await login(client, world, ida)
        queue = await (await client.get("/alerts")).text()
        fragment = await (await client.get("/alerts/fragment")).text()  # what the live stream makes the page fetch
        for alert_id, words in raised:
            assert f"{ref}</a>: {words}</h3>" in queue, words
            assert f"{ref}</a>: {words}</h3>" in fragment, words
            page = await client.get(f"/alerts/{alert_id}")
            assert page.status == 200
            assert f"{ref}: {words}</h1>" in await page.text(), words
    assert await rows(world.app, "SELECT signals FROM alerts ORDER BY id") == [
        {"signals": ",".join(facts)} for _, _, facts, _ in SAID
    ]
    # The CLI says it the same way: `safecheck alerts list` and `safecheck case show`.
    listed = await commands.list_alerts(world.app, world.service_id, open_only=True)
    shown = await commands.show_case(world.app, world.service_id, ref, world.idva)
    for said in (listed, shown["alerts"]):
        assert sorted((a["signals"], a["said"]) for a in said) == sorted((list(f), w) for _, _, f, w in SAID)
