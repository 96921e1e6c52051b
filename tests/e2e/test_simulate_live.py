"""`simulate` on a case whose channel reaches a real phone: refused unless forced; forced, it leaves
the messages already queued for her exactly as they were, holds off `serve`, and is audited as the
person who ran it."""

from __future__ import annotations

import asyncio
import getpass
import re
from datetime import datetime

import pytest

from bot.bootstrap import open_app
from bot.config import Settings
from bot.i18n import to_message
from flows import replies as R
from flows.model import Reply
from storage import cases, outbox
from tests.contract.test_sms_cli import TWILIO_ENV
from tests.e2e.conftest import Background, Cli, Prepared, look, prepare, refused

pytestmark = pytest.mark.e2e

PHONE = "+447700900123"


def sms_case(cli: Cli) -> tuple[str, str]:
    cli.env.update(TWILIO_ENV)  # SMS on, pointed at a port where nothing listens: nothing can really be sent
    cli.run("init")
    cli.run("practitioner", "add", "--name", "Ida", "--role", "idva")
    out = cli.run("case", "enrol", "--idva", "1", "--channel", "sms", "--address", PHONE, "--intake", "high").stdout
    ref, code = re.search(r"case (C-\w+)", out), re.search(r"activation code (\S+)", out)
    assert ref and code
    return ref.group(1), code.group(1)


@pytest.fixture(scope="module")
def prepared_sms_case(tmp_path_factory: pytest.TempPathFactory) -> Prepared[tuple[str, str]]:
    return prepare(tmp_path_factory, sms_case)


@pytest.fixture
def sms(cli: Cli, prepared_sms_case: Prepared[tuple[str, str]]) -> tuple[str, str]:
    """`sms_case(cli)`: `cli` with its own copy of the SMS case and its settings, set up once by the CLI."""
    return prepared_sms_case.copy_to(cli)


def queue_a_text_for_her(cli: Cli, ref: str) -> int:
    """A real text waiting in the outbox, as a serve that stopped before sending it would leave it."""

    async def queue() -> int:
        settings = Settings(db_path=cli.folder / "safecheck.db", key_file=cli.folder / "safecheck.key")
        async with open_app(settings) as app, app.db.transaction() as tx:
            case = await cases.by_ref(tx, ref)
            assert case is not None
            row = await outbox.to_survivor(
                tx,
                app.crypto,
                case_id=case.id,
                channel="sms",
                address=PHONE,
                language="en_GB",
                timezone="Europe/London",
                message=to_message(Reply(R.RESUMED)),
                now=datetime.fromisoformat(cli.now),
            )
            await tx.commit()
        return row

    return asyncio.run(queue())


def test_simulate_on_an_sms_case_needs_force_and_never_marks_her_queued_text_as_sent(
    cli: Cli, sms: tuple[str, str]
) -> None:
    ref, code = sms
    queued = queue_a_text_for_her(cli, ref)
    row = f"SELECT * FROM outbox WHERE id = {queued}"
    before = look(cli, row)
    assert look(cli, f"SELECT status, attempts FROM outbox WHERE id = {queued}") == [("pending", 0)]

    proc = cli.run("simulate", "--case", ref, stdin=f"{code}\n", ok=False)
    refused(proc, f"case {ref} is on sms, a live channel", "--force")
    assert look(cli, row) == before
    assert look(cli, "SELECT status FROM cases") == [("pending",)]
    assert look(cli, "SELECT count(*) FROM audit_log WHERE action = 'simulate_started'") == [(0,)]

    lines = cli.json_lines("simulate", "--case", ref, "--force", "--json", stdin=f"{code}\nYES\n")
    replies = [str(x["text"]) for x in lines if x["type"] == "reply"]
    assert len(replies) == 2 and replies[0].startswith("Hi, it's Alex. Thanks for setting this up.")
    assert "OK, we will start again." not in replies  # hers, not the simulation's: not shown, not sent
    assert look(cli, row) == before  # untouched: still pending, no attempt recorded, address kept
    assert look(cli, "SELECT id FROM outbox WHERE status = 'pending'") == [(queued,)]
    assert look(cli, "SELECT actor, detail FROM audit_log WHERE action = 'simulate_started'") == [
        (f"os:{getpass.getuser()}", "channel=sms forced")
    ]


def test_a_forced_simulate_refuses_while_serve_runs(
    cli: Cli, sms: tuple[str, str], background: list[Background]
) -> None:
    ref, code = sms
    serve = cli.start("serve")
    background.append(serve)
    serve.wait_for("started;")
    proc = cli.run("simulate", "--case", ref, "--force", stdin=f"{code}\n", ok=False)
    refused(proc, f"is in use by safecheck serve (pid {serve.proc.pid})")
    assert serve.stop() == 0
    assert look(cli, "SELECT status FROM cases") == [("pending",)]  # the code was never handled
