"""An alert e-mail points at the alert's page in the workspace when its URL is set (real SMTP, real pipeline).
SAFECHECK_ALERT_LINK stays an explicit override of where to read the case."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.fakes.smtp_server import SmtpServer
from tests.integration.conftest import later
from tests.integration.test_practitioner_fallback import IDA, codeword, mail_world

WORKSPACE = "https://workspace.example.org"


async def test_the_alert_mail_links_to_its_workspace_page_and_holds_nothing_of_hers(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    async with mail_world(tmp_path, smtp, workspace_url=WORKSPACE) as world:
        ref = await world.onboard(name="Jane Plantedname")
        alert_id = await codeword(world, "he found me, Zebedee knows, blue kettle")
        await later(world, timedelta(minutes=5))  # the ladder: the duty IDVA's mail links to the same page
        assert [m.rcpt_tos for m in smtp.received][:2] == [(IDA,), ("dan@example.org",)]
        for mail in smtp.received:
            lines = mail.body.splitlines()
            assert f"Acknowledge in Safecheck: {WORKSPACE}/alerts/{alert_id}" in lines
            assert not [line for line in lines if line.startswith("Details:")]  # the page is both: said once
            assert "safecheck " not in mail.body  # no CLI command for someone who works in the browser
            raw = mail.raw.decode()
            assert ref in raw
            for planted in ("Plantedname", "Jane", "7700900123", "Zebedee", "kettle", "he found me", "pasta"):
                assert planted not in raw


async def test_the_alert_link_setting_still_says_where_to_read_the_case(tmp_path: Path, smtp: SmtpServer) -> None:
    link = {"SAFECHECK_ALERT_LINK": "https://cms.example.org/cases/{case_ref}?alert={alert_id}"}
    async with mail_world(tmp_path, smtp, env=link, workspace_url=WORKSPACE) as world:
        ref = await world.onboard()
        alert_id = await codeword(world)
        lines = smtp.received[0].body.splitlines()
        assert f"Details: https://cms.example.org/cases/{ref}?alert={alert_id}" in lines
        assert f"Acknowledge in Safecheck: {WORKSPACE}/alerts/{alert_id}" in lines
