"""Review of issue 14: an audit log emptied outright (every row deleted, no retention anchor) must not verify
as "intact: 0 rows". Every database has audited rows from `init` on (the service's creation), and retention
always leaves its anchor and the row that witnesses it, so an empty log beside a service is a removed one."""

from __future__ import annotations

import re
import sqlite3

from tests.e2e.conftest import Cli


def test_an_emptied_audit_log_fails_verify_in_one_line(cli: Cli) -> None:
    cli.run("init")
    cli.run("practitioner", "add", "--name", "Ida", "--role", "idva")
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute("DELETE FROM audit_log")
    proc = cli.run("audit", "verify", ok=False)
    assert proc.returncode != 0 and proc.stdout == ""
    assert re.match(r"safecheck: error: the audit log's chain breaks at row 1: ", proc.stderr), proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
