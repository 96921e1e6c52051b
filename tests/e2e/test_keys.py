"""Key rotation through the CLI: a new current key, every value moved to it, nothing unreadable."""

from __future__ import annotations

import json
import sqlite3

import pytest

from storage.rekey import ENCRYPTED
from tests.e2e.conftest import Cli
from tests.e2e.test_cli_scenario import NAME, set_up_case

pytestmark = pytest.mark.e2e


def key_ids(cli: Cli) -> set[str]:
    """The key id embedded in every encrypted value (format byte, id length, id, nonce, ciphertext)."""
    found = set()
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:
        for field in ENCRYPTED:
            for (blob,) in conn.execute(f"SELECT {field.column} FROM {field.table} WHERE {field.column} IS NOT NULL"):
                found.add(blob[2 : 2 + blob[1]].decode())
    return found


def test_rotating_keys_moves_every_value_to_the_new_key_and_keeps_it_readable(cli: Cli) -> None:
    ref = set_up_case(cli)
    key_file = cli.folder / "safecheck.key"
    assert key_ids(cli) == {json.loads(key_file.read_text())["current"]}

    out = cli.run("keys", "rotate").stdout
    current = json.loads(key_file.read_text())["current"]
    assert f"new current key {current}" in out
    assert key_ids(cli) == {current}
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert cli.json_lines("case", "show", ref, "--as", "1", "--json")[0]["name"] == NAME


def test_rotation_refuses_keys_from_the_environment(cli: Cli) -> None:
    cli.run("init")
    cli.env["SAFECHECK_KEY"] = (cli.folder / "safecheck.key").read_text()
    proc = cli.run("keys", "rotate", ok=False)
    assert proc.returncode == 2 and "SAFECHECK_KEY" in proc.stderr and "Traceback" not in proc.stderr
