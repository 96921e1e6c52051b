"""The CLI acts as the operator: whoever holds the database and its key. Each change is audited as the
operating-system user who ran it, and `--as` is recorded as "on behalf of", never as an identity."""

from __future__ import annotations

import asyncio
import getpass
import re
import sqlite3
from datetime import UTC, datetime

from storage import services
from storage.db import Database
from tests.e2e.conftest import Cli


def _audit(cli: Cli) -> list[tuple[str, str, str]]:
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:
        return conn.execute("SELECT actor, action, detail FROM audit_log ORDER BY id").fetchall()


def test_cli_changes_are_audited_as_the_os_user_and_as_means_on_behalf_of(cli: Cli) -> None:
    me = f"os:{getpass.getuser()}"
    cli.run("init")
    cli.run("practitioner", "add", "--name", "Ida", "--role", "idva")
    link = cli.run("invite", "--name", "Meg Manager", "--role", "manager", "--role", "admin").stdout
    assert re.fullmatch(r"invitation \(valid 3 days, once\): http://127\.0\.0\.1:8080/invite/[\w-]{43}\n", link)
    ref = cli.run("case", "enrol", "--idva", "1", "--address", "+447700900123", "--intake", "high").stdout.split()[1]
    cli.run("case", "show", ref, "--as", "1")
    cli.run("alerts", "list")
    rows = [row for row in _audit(cli) if row[1] != "cli_command"]
    assert [(actor, action) for actor, action, _ in rows] == [
        (me, "service_created"),
        (me, "practitioner_added:idva"),
        (me, "invitation_created"),
        (me, "case_enrolled"),
        (me, "checkin_mode_set"),  # how her check-ins read, chosen with her at enrolment
        (me, "case_viewed"),
    ]
    assert rows[2][2] == "roles=admin,manager"
    assert rows[4][2] == "mode=direct theme=- secrets_on_channel=no"  # codes only
    assert rows[-1][2] == "on_behalf_of=practitioner:1"
    # Every command is on record, reads too, by name only (its arguments may hold personal data).
    commands = [(actor, detail) for actor, action, detail in _audit(cli) if action == "cli_command"]
    assert commands == [(me, "practitioner add"), (me, "case enrol"), (me, "case show"), (me, "alerts list")]
    # The invitee's name is not in the audit log, nor readable in the file.
    assert b"Meg Manager" not in (cli.folder / "safecheck.db").read_bytes()


def test_an_invitation_with_no_role_or_name_is_refused_in_one_line(cli: Cli) -> None:
    cli.run("init")
    proc = cli.run("invite", "--name", " ", "--role", "idva", ok=False)
    assert proc.returncode == 2 and proc.stderr == "safecheck: error: an invitation needs the person's name (--name)\n"
    proc = cli.run("invite", "--name", "X", ok=False)
    assert proc.returncode == 2 and "--role" in proc.stderr and "Traceback" not in proc.stderr


def test_audit_verify_says_whether_the_chain_holds_in_one_line(cli: Cli) -> None:
    cli.run("init")
    cli.run("practitioner", "add", "--name", "Ida", "--role", "idva")
    assert re.fullmatch(r"audit log intact: \d+ rows chained from the first row\n", cli.run("audit", "verify").stdout)
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET actor = 'os:someone-else' WHERE id = 1")
    proc = cli.run("audit", "verify", ok=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("safecheck: error: the audit log's chain breaks at row 1: ")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_db_upgrade_is_on_record_with_the_schema_versions_it_moved(cli: Cli) -> None:
    """`db upgrade` opens no keys, yet it changes the install: each service's log says who ran it."""
    me = f"os:{getpass.getuser()}"

    async def older_database() -> int:
        db = await Database.open(cli.folder / "safecheck.db", create=True, migrate=False)
        await db.upgrade(to=20)
        async with db.transaction() as tx:
            await services.create(tx, "north", "North", datetime(2026, 11, 1, tzinfo=UTC))
            await tx.commit()
        version = await db.version()
        await db.close()
        return version

    before = asyncio.run(older_database())
    cli.run("db", "upgrade")
    cli.run("db", "upgrade")  # nothing left to apply: still on record
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:
        latest = conn.execute("PRAGMA user_version").fetchone()[0]
    commands = [(actor, detail) for actor, action, detail in _audit(cli) if action == "cli_command"]
    assert commands == [(me, f"db upgrade: schema {before} to {latest}"), (me, "db upgrade")]
