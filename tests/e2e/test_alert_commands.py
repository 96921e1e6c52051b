"""The command at the foot of an alert works exactly as printed, for the practitioner who received it:
the text that reached an inbox or a mailbox is run as it stands, in a new process."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.e2e.conftest import Cli, add_service, refused
from tests.e2e.test_cli_scenario import CODEWORD, FREE_TEXT, set_up_case
from tests.fakes.smtp_server import SmtpServer

pytestmark = pytest.mark.e2e

# A calm check-in (two rotating questions before the call back) with the codeword in the free text at the end.
CHECKIN = "\n".join(["1", "yes", "2", "1", "1", "1", "1", "1", f"{FREE_TEXT}, {CODEWORD}"]) + "\n"
AT_TEN = "2026-11-23T10:00:30Z"


def run_as_printed(cli: Cli, text: str, after: str, now: str) -> str:
    """Run the command that follows `after` in an alert's text, word for word; return what it printed."""
    found = re.search(re.escape(after) + r"(safecheck [^\n]+?)\s*$", text, re.MULTILINE)
    assert found, text
    words = shlex.split(found.group(1))
    assert words[0] == "safecheck"
    return cli.run(*words[1:], now=now).stdout.strip()


def test_each_inbox_alert_carries_its_recipients_own_command_and_it_acknowledges(cli: Cli, case_ref: str) -> None:
    ref = case_ref  # set_up_case(cli), copied
    cli.run("schedule", "set", ref, "daily@10:00")
    cli.run("simulate", "--case", ref, stdin=CHECKIN, now=AT_TEN)
    cli.run("tick", now="2026-11-23T10:06:00Z")  # nobody acknowledged: the duty IDVA is told too
    [to_idva] = cli.json_lines("practitioner", "inbox", "1", "--json")
    [to_duty] = cli.json_lines("practitioner", "inbox", "2", "--json")
    assert str(to_idva["text"]).endswith("Acknowledge: safecheck alerts ack 1 --as 1")
    assert str(to_duty["text"]).endswith("Acknowledge: safecheck alerts ack 1 --as 2")

    assert run_as_printed(cli, str(to_duty["text"]), "Acknowledge: ", "2026-11-23T10:07:00Z") == "alert 1 acknowledged"
    assert run_as_printed(cli, str(to_idva["text"]), "Acknowledge: ", "2026-11-23T10:08:00Z") == (
        "alert 1 was already acknowledged"
    )
    [alert] = cli.json_lines("alerts", "list", "--json")
    assert alert["acknowledged_by"] == 2


def test_acknowledging_with_another_service_chosen_is_refused(cli: Cli, case_ref: str) -> None:
    ref = case_ref
    cli.run("schedule", "set", ref, "daily@10:00")
    cli.run("simulate", "--case", ref, stdin=CHECKIN, now=AT_TEN)
    add_service(cli, "other")
    proc = cli.run("--service", "other", "alerts", "ack", "1", "--as", "1", ok=False)
    refused(proc, "alert 1 belongs to another service")
    [alert] = cli.json_lines("alerts", "list", "--json")
    assert alert["acknowledged_at"] is None


async def test_the_command_in_an_alert_email_acknowledges_it_as_printed(cli: Cli, smtp: SmtpServer) -> None:
    cli.env.update(smtp.env())
    ref = set_up_case(cli, idva_channels="email:ida@example.org")
    cli.run("schedule", "set", ref, "daily@10:00")
    await cli.arun("simulate", "--case", ref, stdin=CHECKIN, now=AT_TEN)  # the alert goes out by e-mail
    [mail] = smtp.received
    assert "Acknowledge in Safecheck: safecheck alerts ack 1 --as 1" in mail.body.splitlines()
    out = run_as_printed(cli, mail.body, "Acknowledge in Safecheck: ", "2026-11-23T10:02:00Z")
    assert out == "alert 1 acknowledged"
    [alert] = cli.json_lines("alerts", "list", "--json")
    assert alert["acknowledged_by"] == 1
