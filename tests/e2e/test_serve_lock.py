"""One process delivers a database's messages: a second `serve` (or a `tick`) refuses while one runs,
and starts once it has gone, however it ended (SIGTERM or kill -9)."""

from __future__ import annotations

import signal

import pytest

from tests.contract.test_sms_cli import TWILIO_ENV
from tests.e2e.conftest import Background, Cli, refused

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(cli: Cli) -> Cli:
    cli.run("init")
    return cli


def test_a_second_serve_refuses_while_the_first_runs_and_starts_after_it_was_killed(
    service: Cli, background: list[Background]
) -> None:
    first = service.start("serve")
    background.append(first)
    first.wait_for("started;")

    second = service.start("serve")  # another port: only the database is shared
    background.append(second)
    assert second.proc.wait(timeout=60) == 2
    line = second.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert f"is in use by safecheck serve (pid {first.proc.pid})" in line
    assert first.proc.poll() is None  # the first one was not disturbed
    refused(service.run("tick", ok=False), f"safecheck serve (pid {first.proc.pid})")

    assert first.stop(signal.SIGKILL) == -signal.SIGKILL  # no clean-up ran: the kernel dropped the lock
    third = service.start("serve")
    background.append(third)
    third.wait_for("started;")
    assert third.stop() == 0
    fourth = service.start("serve")  # and after a clean stop too
    background.append(fourth)
    fourth.wait_for("started;")
    assert fourth.stop() == 0
    service.run("tick")


def test_serve_logs_which_channels_are_on_without_secrets_or_numbers(
    service: Cli, background: list[Background]
) -> None:
    service.env.update(TWILIO_ENV)
    serve = service.start("serve")
    background.append(serve)
    serve.wait_for("started;")
    assert serve.stop() == 0
    logs = serve.stderr
    assert "channels survivor=simulator,sms practitioner=inbox,log,sms" in logs
    assert TWILIO_ENV["TWILIO_AUTH_TOKEN"] not in logs and TWILIO_ENV["TWILIO_ACCOUNT_SID"] not in logs
    assert "7700900000" not in logs
