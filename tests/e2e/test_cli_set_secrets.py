"""`safecheck case set-secrets`: the operator's way to set her words in person. They come on stdin, never
as arguments; a bad word is one line and nothing is stored; set words then work over her channel, and
set-up there never asks for them."""

from __future__ import annotations

import re
import sqlite3

import pytest

from tests.e2e.conftest import Cli, Prepared, prepare

pytestmark = pytest.mark.e2e


def enrol_one(cli: Cli) -> tuple[str, str]:
    cli.run("init", "--service-name", "Test IDVA service")
    cli.run("practitioner", "add", "--name", "Ida Idva", "--role", "idva")
    out = cli.run("case", "enrol", "--idva", "1", "--address", "+447700900201", "--intake", "standard").stdout
    ref, code = re.search(r"case (C-\w+)", out), re.search(r"activation code (\S+)", out)
    assert ref and code and f"safecheck case set-secrets {ref.group(1)}" in out
    return ref.group(1), code.group(1)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared[tuple[str, str]]:
    return prepare(tmp_path_factory, enrol_one)


@pytest.fixture
def enrolled(cli: Cli, prepared: Prepared[tuple[str, str]]) -> tuple[Cli, str, str]:
    """`cli` with its own copy of an enrolled case (set up once by the CLI), her reference and code."""
    ref, code = prepared.copy_to(cli)
    return cli, ref, code


def digests(cli: Cli, ref: str) -> tuple[object, ...]:
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:
        row = conn.execute(
            "SELECT exit_word_hash, codeword_hash, pin_hash, secrets_set_in_person_at FROM cases WHERE ref = ?", (ref,)
        ).fetchone()
    return tuple(row)


BAD = [
    ("STOP\nred kite\n\n\n", "exit word: is a word replies or commands use"),
    ("mango\nmango\n\n\n", "codeword: must differ from the other"),
    ("mango\nred kite\n12\n\n", "pin: must be 4 to 8 digits"),
    ("mango\nred kite\n\n1357\n", "duress pin: needs a first PIN"),
]


def test_a_bad_word_is_one_line_and_nothing_is_stored(enrolled: tuple[Cli, str, str]) -> None:
    cli, ref, _ = enrolled
    for lines, said in BAD:
        result = cli.run("case", "set-secrets", ref, stdin=lines, ok=False)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and said in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and "mango" not in result.stderr
        assert digests(cli, ref) == (None, None, None, None)


def test_words_set_on_stdin_work_over_her_channel_and_set_up_never_asks_for_them(
    enrolled: tuple[Cli, str, str],
) -> None:
    cli, ref, code = enrolled
    out = cli.run("case", "set-secrets", ref, "--exit-pause", "3d", stdin="mango\nred kite\n2468 1357\n\n").stdout
    assert out.strip().startswith(f"case {ref}: her words are set (1 PIN(s))") and "mango" not in out
    assert all(value is not None for value in digests(cli, ref)[:3])
    lines = cli.json_lines("simulate", "--case", ref, "--json", stdin=f"{code}\nYES\n1 2 3\n1\n")
    replies = [str(line["text"]) for line in lines if line["type"] == "reply"]
    assert replies[-1].startswith("All set.") and len(replies) == 4  # consent, times, missed check-ins, done
    assert not any(word in reply.lower() for reply in replies for word in ("word", "pin", "mango", "kite"))
    cli.run("schedule", "set", ref, "daily@10:00")
    lines = cli.json_lines(
        "simulate", "--case", ref, "--json", stdin="1\n24681357\nred kite\n", now="2026-11-23T10:00:30Z"
    )
    events = [line for line in lines if line.get("event") == "AlertRaised"]
    assert [(e["severity"], e["reason"]) for e in events] == [("urgent", "codeword")]
    with sqlite3.connect(cli.folder / "safecheck.db") as conn:
        [(actor, detail)] = conn.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'secrets_set_in_person'"
        ).fetchall()
    assert actor.startswith("os:") and detail == "pins=1"
