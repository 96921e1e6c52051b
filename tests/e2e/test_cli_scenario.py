"""The whole loop through the CLI, as a service would run it: enrol -> activate -> onboard ->
scheduled check-in -> codeword in an answer -> urgent alert -> escalation to duty -> acknowledge."""

from __future__ import annotations

import re

import pytest

from flows.discretion import thread_problems
from tests.e2e.conftest import Cli, Prepared, prepare

pytestmark = pytest.mark.e2e

PHONE = "+447700900123"
NAME = "Jane Plantedname"
EXIT_WORD = "pasta"
CODEWORD = "blue kettle"
FREE_TEXT = "my neighbour Zebedee saw everything"
SERVICE_NAME = "Test IDVA service"


def set_up_case(cli: Cli, idva_channels: str = "inbox,log") -> str:
    cli.run("init", "--service-name", SERVICE_NAME)
    ida = cli.run("practitioner", "add", "--name", "Ida Idva", "--role", "idva", "--channels", idva_channels)
    assert ida.stdout.strip() == "1"
    assert cli.run("practitioner", "add", "--name", "Dan Duty", "--role", "duty").stdout.strip() == "2"
    assert cli.run("practitioner", "add", "--name", "Meg Manager", "--role", "manager").stdout.strip() == "3"
    out = cli.run(
        "case", "enrol", "--idva", "1", "--address", "+44 7700 900123", "--name", NAME, "--intake", "high"
    ).stdout
    ref = re.search(r"case (C-\w+)", out)
    code = re.search(r"activation code (\S+)", out)
    assert ref and code
    # Her words are chosen in person, on stdin (never an argument); the exit word pauses her for a day.
    cli.run("case", "set-secrets", ref.group(1), "--exit-pause", "1d", stdin=f"{EXIT_WORD}\n{CODEWORD}\n\n\n")
    onboarding = "\n".join([code.group(1), "YES", "1", "1"]) + "\n"  # code, consent, mornings, missed check-ins
    replies = cli.json_lines("simulate", "--case", ref.group(1), "--json", stdin=onboarding)
    assert {"type": "event", "event": "OnboardingCompleted"} in replies
    texts = [str(r["text"]) for r in replies if r["type"] == "reply"]
    assert texts[-1].startswith("All set.")
    for text in texts:  # set-up stays on her phone: no secret asked for, no 999 or 55, no service name
        assert thread_problems(text, extra=[SERVICE_NAME]) == [], text
    return ref.group(1)


def test_codeword_in_scheduled_checkin_alerts_idva_escalates_to_duty_and_ack_stops_it(cli: Cli, case_ref: str) -> None:
    ref = case_ref  # set_up_case(cli), copied
    assert "next check-in 2026-11-23T10:00:00+00:00" in cli.run("schedule", "set", ref, "daily@10:00").stdout

    # The check-in falls due at 10:00; the survivor answers and puts the codeword in free text.
    # talk, safe now, afraid (a little), contact, incident, two rotating questions, callback, free text
    answers = "\n".join(["1", "yes", "2", "1", "1", "1", "1", "1", f"{FREE_TEXT}, {CODEWORD.upper()}!"]) + "\n"
    lines = cli.json_lines("simulate", "--case", ref, "--json", stdin=answers, now="2026-11-23T10:00:30Z")
    texts = [str(x["text"]) for x in lines if x["type"] == "reply"]
    assert texts[0].startswith("Hi, it's Alex. Is now a good time")
    assert texts[-1] == "Thanks, that's everything. Take care."  # the survivor's screen looks ordinary
    alerts = [x for x in lines if x.get("event") == "AlertRaised"]
    codeword = {"type": "event", "event": "AlertRaised", "severity": "urgent", "reason": "codeword", "facts": []}
    assert alerts == [codeword]  # no answer was urgent: the alert names no facts

    inbox = cli.json_lines("practitioner", "inbox", "1", "--json")
    assert [m["text"] for m in inbox] == [
        f"[URGENT] Case {ref}: codeword. Acknowledge: safecheck alerts ack 1 --as 1"
    ]
    assert cli.json_lines("practitioner", "inbox", "2", "--json") == []

    # Nobody acknowledges: after 5 minutes the duty IDVA is told.
    cli.run("tick", now="2026-11-23T10:06:00Z")
    duty = cli.json_lines("practitioner", "inbox", "2", "--json")
    assert len(duty) == 1 and f"Case {ref}: codeword" in str(duty[0]["text"])

    assert cli.run("alerts", "ack", "1", "--as", "2", now="2026-11-23T10:07:00Z").stdout.strip() == (
        "alert 1 acknowledged"
    )
    cli.run("tick", now="2026-11-23T10:15:00Z")
    assert cli.json_lines("practitioner", "inbox", "3", "--json") == []  # the manager was never needed
    [alert] = cli.json_lines("alerts", "list", "--json")
    assert alert["acknowledged_by"] == 2
    assert alert["acknowledged_at"] == "2026-11-23T10:07:00+00:00"
    assert [n["role"] for n in alert["notified"]] == ["idva", "duty"]  # type: ignore[union-attr]

    # The IDVA sees every answer, decrypted, and the view is audited.
    shown = cli.json_lines("case", "show", ref, "--as", "1", "--json")[0]
    assert shown["name"] == NAME and shown["address"] == "+44 7700 900123"
    checkin = shown["checkins"][0]  # type: ignore[index]
    assert checkin["status"] == "completed" and checkin["level"] == "urgent"
    assert any(a["text"] == f"{FREE_TEXT}, {CODEWORD.upper()}!" for a in checkin["answers"])


def test_database_and_wal_hold_no_planted_personal_data(cli: Cli, case_ref: str) -> None:
    ref = case_ref
    cli.run("schedule", "set", ref, "daily@10:00")
    answers = "\n".join(["1", "yes", "2", "1", "1", "1", "1", "1", f"{FREE_TEXT} {CODEWORD}"]) + "\n"
    cli.run("simulate", "--case", ref, stdin=answers, now="2026-11-23T10:00:30Z")
    cli.run("tick", now="2026-11-23T10:06:00Z")
    raw = b"".join(p.read_bytes() for p in cli.folder.glob("safecheck.db*"))
    assert len(raw) > 10_000
    for planted in (
        PHONE,
        "7700900123",
        "7700 900123",
        NAME,
        "Plantedname",
        FREE_TEXT,
        "Zebedee",
        CODEWORD,
        "kettle",
        EXIT_WORD,
        "Ida Idva",
        "Dan Duty",
    ):
        for encoded in (planted.encode(), planted.upper().encode(), planted.encode("utf-16-le")):
            assert encoded not in raw, f"{planted!r} found in the database file"


def test_quick_exit_pauses_and_sends_nothing_more(cli: Cli, case_ref: str) -> None:
    ref = case_ref
    cli.run("schedule", "set", ref, "daily@10:00")
    lines = cli.json_lines("simulate", "--case", ref, "--json", stdin="1\n  Pasta! \n", now="2026-11-23T10:00:30Z")
    after_exit = lines[next(i for i, x in enumerate(lines) if x.get("event") == "QuickExitUsed") :]
    assert [x for x in after_exit if x["type"] == "reply"] == []
    assert cli.json_lines("case", "list", "--json")[0]["status"] == "paused"
    # The next day's slot falls inside the chosen one-day pause: no prompt is sent.
    assert "to survivor" not in cli.run("tick", now="2026-11-24T10:00:30Z").stdout


@pytest.fixture(scope="module")
def with_an_idva(tmp_path_factory: pytest.TempPathFactory) -> Prepared[None]:
    """A service with one IDVA, set up once by the CLI for the bad-argument cases below."""

    def set_up(cli: Cli) -> None:
        cli.run("init")
        cli.run("practitioner", "add", "--name", "Ida", "--role", "idva")

    return prepare(tmp_path_factory, set_up)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("case", "enrol", "--idva", "1", "--address", "+447700900999", "--intake", "extreme"),
            "--intake must be standard, medium or high",
        ),
        (
            ("case", "enrol", "--idva", "99", "--address", "+447700900999", "--intake", "high"),
            "--idva 99 is not an active practitioner",
        ),
        (("schedule", "set", "C-NOPE1", "daily@10:00"), "no case 'C-NOPE1'"),
        (("alerts", "ack", "42", "--as", "1"), "no alert 42"),
        (("practitioner", "add", "--name", "X", "--role", "boss"), "invalid choice"),
        (("--now", "yesterday", "case", "list"), "must be an ISO date-time"),
        (
            (
                "case",
                "enrol",
                "--idva",
                "1",
                "--address",
                "+447700900999",
                "--intake",
                "high",
                "--timezone",
                "Mars/Base",
            ),
            "unknown time zone",
        ),
    ],
)
def test_bad_arguments_give_one_line_exit_2_and_change_nothing(
    cli: Cli, with_an_idva: Prepared[None], args: tuple[str, ...], message: str
) -> None:
    with_an_idva.copy_to(cli)  # init; practitioner add Ida
    before = cli.run("case", "list", "--json").stdout
    proc = cli.run(*args, ok=False)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert cli.run("case", "list", "--json").stdout == before


def test_commands_before_init_say_to_run_init(cli: Cli) -> None:
    proc = cli.run("case", "list", ok=False)
    assert proc.returncode == 2 and "safecheck init" in proc.stderr


def test_bad_schedule_spec_is_one_line(cli: Cli, case_ref: str) -> None:
    ref = case_ref
    proc = cli.run("schedule", "set", ref, "whenever", ok=False)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    proc = cli.run("schedule", "set", ref, "daily@23:00", ok=False)  # outside the chosen morning window
    assert proc.returncode == 2 and "safe times" in proc.stderr
