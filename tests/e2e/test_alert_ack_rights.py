"""`safecheck alerts ack` as an operator runs it: the wrong person is refused in one line, exit 2."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Cli
from tests.e2e.test_cli_scenario import CODEWORD

pytestmark = pytest.mark.e2e


def test_alerts_ack_as_a_practitioner_it_was_not_sent_to_is_refused_and_changes_nothing(
    cli: Cli, case_ref: str
) -> None:
    ref = case_ref  # set_up_case(cli), copied
    cli.run("simulate", "--case", ref, stdin=f"{CODEWORD}\n")
    assert cli.run("practitioner", "add", "--name", "Ivy Idva", "--role", "idva").stdout.strip() == "4"

    refused = cli.run("alerts", "ack", "1", "--as", "4", ok=False)

    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0 and "Traceback" not in refused.stderr
    assert "alert 1 was not sent to practitioner 4" in refused.stderr
    [alert] = cli.json_lines("alerts", "list", "--json")
    assert alert["acknowledged_at"] is None
    assert cli.run("alerts", "ack", "1", "--as", "3").stdout.strip() == "alert 1 acknowledged"  # the manager
