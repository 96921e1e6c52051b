"""The audit log is append-only and hash-chained: the database refuses changes, and a change made behind
its back (the triggers dropped, the file edited) is found by recomputing the chain."""

from __future__ import annotations

import sqlite3

import pytest

from storage import audit
from tests.conftest import World
from tests.integration.test_escalation import raise_codeword


async def _check(world: World) -> audit.ChainCheck:
    async with world.app.db.reading() as tx:
        return await audit.verify_chain(tx)


async def test_every_row_is_chained_to_the_one_before(world: World) -> None:
    await raise_codeword(world)
    check = await _check(world)
    with sqlite3.connect(world.settings.db_path) as conn:
        rows = conn.execute("SELECT COUNT(*), COUNT(row_hash) FROM audit_log").fetchone()
    assert rows[0] > 5 and rows[0] == rows[1]  # practitioners added, onboarding, the alert: all chained
    assert check == audit.ChainCheck(rows[0], None)


async def test_the_database_refuses_to_change_or_remove_a_row(world: World) -> None:
    await raise_codeword(world)
    with sqlite3.connect(world.settings.db_path) as conn:
        for sql in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log WHERE id = 1"):
            with pytest.raises(sqlite3.IntegrityError, match="the audit log is append-only"):
                conn.execute(sql)


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_log SET actor = 'os:nobody' WHERE id = 3",
        "UPDATE audit_log SET detail = '' WHERE id = 3",
        "DELETE FROM audit_log WHERE id = 3",
        "UPDATE audit_log SET at = '2020-01-01T00:00:00.000000Z' WHERE id = 3",
    ],
)
async def test_a_row_changed_behind_the_databases_back_breaks_the_chain_there(world: World, tamper: str) -> None:
    await raise_codeword(world)
    assert (await _check(world)).broken_at is None
    with sqlite3.connect(world.settings.db_path) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute(tamper)
    assert (await _check(world)).broken_at == (4 if tamper.startswith("DELETE") else 3)
