"""`safecheck tick` removes the audit log's expired months behind an anchor, `safecheck audit verify` checks
the chain from it in one line, and an edited database makes verify fail with one line and a non-zero exit."""

from __future__ import annotations

import re
import sqlite3

import pytest

from tests.e2e.conftest import Cli


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_anchor SET last_hash = x'00'",
        "UPDATE audit_log SET actor = 'os:someone-else' WHERE id = (SELECT MAX(id) FROM audit_log)",
        "DELETE FROM audit_log WHERE id = (SELECT MIN(id) + 1 FROM audit_log)",
    ],
)
def test_tick_keeps_the_chain_verifiable_and_an_edited_file_fails_verify(cli: Cli, tamper: str) -> None:
    cli.run("init")
    cli.run("practitioner", "add", "--name", "Ida", "--role", "idva")
    assert cli.run("service", "set", "--audit-retention-days", "365").stdout.startswith("updated audit_retention_days")
    cli.run("tick", now="2028-01-15T09:00:00Z")  # November 2026 is more than a year old: it goes
    verified = cli.run("audit", "verify", now="2028-01-15T09:05:00Z").stdout
    assert re.fullmatch(
        r"audit log intact: \d+ rows chained from the anchor after row \d+ "
        r"\(\d+ removed by retention on 2028-01-15\)\n",
        verified,
    )
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:
        assert conn.execute("SELECT MIN(substr(at, 1, 7)) FROM audit_log").fetchone()[0] == "2028-01"
        for trigger in ("audit_log_no_update", "audit_log_no_delete", "audit_anchor_no_update"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute(tamper)
    proc = cli.run("audit", "verify", ok=False)
    assert proc.returncode != 0 and proc.stdout == ""
    assert re.match(r"safecheck: error: the audit log's chain breaks at row \d+: ", proc.stderr)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_audit_retention_outside_its_range_is_one_line_and_changes_nothing(cli: Cli) -> None:
    cli.run("init")
    proc = cli.run("service", "set", "--audit-retention-days", "30", ok=False)
    assert proc.returncode == 2 and proc.stderr == (
        "safecheck: error: --audit-retention-days must be between 365 and 7300 (days audit entries are kept)\n"
    )
    assert '"audit_retention_days": 2190' in cli.run("service", "show", "--json").stdout
