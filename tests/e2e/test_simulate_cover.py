"""Cover mode through the real CLI: two cases of one service, one direct and one dressed as a hair
salon ("salon" theme), answer the same check-in with the same digits. The cover case must record
exactly the same answers and signals and raise exactly the same alerts, while every message on her
phone reads as the salon's and passes the whole-body lint."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

import flows
from flows.discretion import thread_problems
from tests.e2e.conftest import Cli, Prepared, look, prepare

pytestmark = pytest.mark.e2e

SERVICE_NAME = "Northside Support"
SALON = tomllib.loads((Path(flows.__file__).parent / "questionsets" / "cover" / "salon.toml").read_text())
DIRECT_SAFE_NOW = "Are you safe right now?"
# talk yes, safe yes, afraid a little, contact by messages, incident choking (urgent), separation
# "thinking of leaving", stalking yes, call back today, nothing else.
CHECKIN = ["1", "1", "2", "2", "5", "3", "2", "2", "SKIP"]


def replies(lines: list[dict[str, object]]) -> list[str]:
    return [str(line["text"]) for line in lines if line["type"] == "reply"]


def events(lines: list[dict[str, object]], name: str | None = None) -> list[dict[str, object]]:
    return [line for line in lines if line["type"] == "event" and (name is None or line["event"] == name)]


def enrol_and_set_up(cli: Cli, address: str) -> tuple[str, list[str]]:
    """Enrol; her words set in person; set-up by her phone. Return the reference and set-up's replies."""
    out = cli.run("case", "enrol", "--idva", "1", "--address", address, "--intake", "high").stdout
    ref, code = re.search(r"case (C-\w+)", out), re.search(r"activation code (\S+)", out)
    assert ref and code
    cli.run("case", "set-secrets", ref.group(1), stdin="pasta\nblue kettle\n\n\n")
    lines = cli.json_lines("simulate", "--case", ref.group(1), "--json", stdin=f"{code.group(1)}\nYES\n1\n1\n")
    assert events(lines, "OnboardingCompleted")
    return ref.group(1), replies(lines)


def two_cases(cli: Cli) -> tuple[str, str, list[str]]:
    """A direct case and a salon-cover case in one service, both set up; the cover case's set-up replies."""
    cli.run("init", "--service-name", SERVICE_NAME)
    cli.run("practitioner", "add", "--name", "Ida Idva", "--role", "idva")
    direct, _ = enrol_and_set_up(cli, "+447700900401")
    cover, cover_setup = enrol_and_set_up(cli, "+447700900402")
    assert cli.run("case", "set-mode", cover, "cover", "--theme", "salon").stdout.strip() == (
        f"case {cover}: cover (theme salon)"
    )
    assert look(cli, "SELECT ref, checkin_mode, cover_theme FROM cases ORDER BY id") == [
        (direct, "direct", None),
        (cover, "cover", "salon"),
    ]
    # Different hours, so that simulating one case never starts the other's check-in.
    cli.run("schedule", "set", direct, "daily@10:00")
    cli.run("schedule", "set", cover, "daily@11:00")
    return direct, cover, cover_setup


@pytest.fixture(scope="module")
def prepared_cases(tmp_path_factory: pytest.TempPathFactory) -> Prepared[tuple[str, str, list[str]]]:
    return prepare(tmp_path_factory, two_cases)


@pytest.fixture
def cases(cli: Cli, prepared_cases: Prepared[tuple[str, str, list[str]]]) -> tuple[str, str, list[str]]:
    """`two_cases(cli)`: `cli` with its own copy of the two cases, set up once by the CLI."""
    direct, cover, cover_setup = prepared_cases.copy_to(cli)
    return direct, cover, list(cover_setup)


def salon_question(question: str) -> str:
    """The salon's wording of a question of the standard set, as sent: its text, then numbered options."""
    theme = SALON["questions"][question]
    options = [f"{n} {label}" for n, label in enumerate(theme.get("options", {}).values(), start=1)]
    return "\n".join([theme["text"].replace("{sender}", "Alex"), *options])


def alerts_shown(case: dict[str, object]) -> list[dict[str, object]]:
    """Her alerts as `case show --json` gives them, without what differs between two cases (id, time)."""
    alerts = case["alerts"]
    assert isinstance(alerts, list)
    return [{k: v for k, v in a.items() if k not in ("id", "created_at")} for a in alerts]


def recorded(cli: Cli, ref: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Her recorded answers with their signals, and her alerts with theirs, read from the database file."""
    answers = look(
        cli,
        "SELECT a.question, a.options, a.signals, a.unanswered FROM answers a JOIN cases c ON c.id = a.case_id "
        f"WHERE c.ref = '{ref}' ORDER BY a.id",
    )
    alerts = look(
        cli,
        "SELECT a.severity, a.reason, a.signals FROM alerts a JOIN cases c ON c.id = a.case_id "
        f"WHERE c.ref = '{ref}' ORDER BY a.id",
    )
    return answers, alerts


def test_a_cover_check_in_records_the_same_signals_and_alerts_as_a_direct_one(
    cli: Cli, cases: tuple[str, str, list[str]]
) -> None:
    direct, cover, cover_setup = cases
    stdin = "\n".join(CHECKIN) + "\n"
    direct_lines = cli.json_lines("simulate", "--case", direct, "--json", stdin=stdin, now="2026-11-23T10:00:30Z")
    cover_lines = cli.json_lines("simulate", "--case", cover, "--json", stdin=stdin, now="2026-11-23T11:00:30Z")

    # The same digits mean the same answers: every event, alerts and their facts included, is the same.
    assert events(cover_lines) == events(direct_lines)
    alert = {"type": "event", "event": "AlertRaised", "severity": "urgent", "reason": "risk_raised"}
    assert events(cover_lines, "AlertRaised") == [{**alert, "facts": ["choking"]}]
    assert {"type": "event", "event": "CallbackRequested", "urgency": "today"} in cover_lines

    shown = {ref: cli.json_lines("case", "show", ref, "--as", "1", "--json")[0] for ref in (direct, cover)}
    [direct_checkin] = shown[direct]["checkins"]  # type: ignore[misc]
    [cover_checkin] = shown[cover]["checkins"]  # type: ignore[misc]
    assert {k: v for k, v in cover_checkin.items() if k not in ("checkin", "slot")} == {
        k: v for k, v in direct_checkin.items() if k not in ("checkin", "slot")
    }
    assert [a["question"] for a in cover_checkin["answers"]] == [
        "safe_to_talk",
        "safe_now",
        "afraid",
        "contact",
        "incident",
        "separation",
        "stalking",
        "callback",
        "anything_else",
    ]
    said = alerts_shown(shown[cover])
    assert said == alerts_shown(shown[direct])
    assert [(a["severity"], a["signals"]) for a in said] == [("urgent", ["choking"])]
    direct_recorded, cover_recorded = recorded(cli, direct), recorded(cli, cover)
    assert cover_recorded == direct_recorded
    signals = {signal for row in cover_recorded[0] for signal in json.loads(str(row[2]))}  # a JSON list each
    assert {"fear_little", "contact_remote", "choking", "separation_planned", "stalking"} <= signals
    assert cover_recorded[1] == [("urgent", "risk_raised", "choking")]

    # What each phone showed: the direct case the plain questions, the cover case the salon's.
    direct_texts, cover_texts = replies(direct_lines), replies(cover_lines)
    assert any(DIRECT_SAFE_NOW in text for text in direct_texts)
    assert not any(DIRECT_SAFE_NOW in text for text in cover_texts)
    asked = [a["question"] for a in cover_checkin["answers"]]
    assert cover_texts[: len(asked)] == [salon_question(q) for q in asked]
    assert len(cover_texts) == len(asked) + 1  # and the closing line
    for text in cover_setup + cover_texts:  # her whole thread, set-up included
        assert thread_problems(text, extra=[SERVICE_NAME]) == [], text


def test_a_cover_case_cancelling_her_appointment_ends_the_check_in_with_the_salons_line(
    cli: Cli, cases: tuple[str, str, list[str]]
) -> None:
    direct, cover, _ = cases
    # "2" to "Is your next appointment still OK?" is "No" to "Are you safe right now?".
    direct_lines = cli.json_lines("simulate", "--case", direct, "--json", stdin="1\n2\n", now="2026-11-23T10:00:30Z")
    cover_lines = cli.json_lines("simulate", "--case", cover, "--json", stdin="1\n2\n", now="2026-11-23T11:00:30Z")

    cover_texts = replies(cover_lines)
    assert cover_texts == [salon_question("safe_to_talk"), salon_question("safe_now"), SALON["ended_line"]]
    assert replies(direct_lines)[-1] == "No problem, talk soon."
    alert = {"type": "event", "event": "AlertRaised", "severity": "urgent", "reason": "risk_raised"}
    assert events(cover_lines, "AlertRaised") == [{**alert, "facts": ["not_safe_now"]}]
    assert events(cover_lines) == events(direct_lines)
    assert recorded(cli, cover) == recorded(cli, direct)
    [checkin] = cli.json_lines("case", "show", cover, "--as", "1", "--json")[0]["checkins"]  # type: ignore[misc]
    assert [a["question"] for a in checkin["answers"]] == ["safe_to_talk", "safe_now"]  # nothing more asked
    for text in cover_texts:
        assert thread_problems(text, extra=[SERVICE_NAME]) == [], text
