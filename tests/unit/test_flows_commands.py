"""Standing commands are recognised only as a whole message, never inside a sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.commands import Help, Pause, Resume, Withdraw, parse_command

NOW = datetime(2026, 3, 28, 21, 0, tzinfo=UTC)

PAUSES = [
    ("PAUSE", timedelta(days=7)),
    ("pause", timedelta(days=7)),
    (" Pause. ", timedelta(days=7)),
    ("PAUSE 3 days", timedelta(days=3)),
    ("pause 3d", timedelta(days=3)),
    ("pause 1 day", timedelta(days=1)),
    ("PAUSE 3", timedelta(days=3)),
    ("PAUSE 2 weeks", timedelta(days=14)),
    ("PAUSE 2w", timedelta(days=14)),
    ("pause a week", timedelta(days=7)),
    ("pause for 2 weeks", timedelta(days=14)),
    ("pause 12 hours", timedelta(hours=12)),
    ("pause 12h", timedelta(hours=12)),
    ("pause ١٢ hours", timedelta(hours=12)),  # Arabic-Indic digits
    ("PAUSE 90 days", timedelta(days=90)),
    ("PAUSE 91 days", timedelta(days=90)),
    ("PAUSE 13 weeks", timedelta(days=90)),
    ("PAUSE 99999999999999999999 weeks", timedelta(days=90)),
    ("PAUSE 0 days", timedelta(hours=1)),
]


@pytest.mark.parametrize(("text", "length"), PAUSES)
def test_pause_lasts_the_asked_length_up_to_ninety_days(text: str, length: timedelta) -> None:
    assert parse_command(text, NOW) == Pause(until=NOW + length)


def test_pause_counts_real_hours_across_a_clock_change() -> None:
    # 21:00 GMT on 28 March 2026; the clocks go forward overnight.
    now = NOW.astimezone(ZoneInfo("Europe/London"))
    command = parse_command("pause 12 hours", now)
    assert isinstance(command, Pause)
    assert command.until == datetime(2026, 3, 29, 9, 0, tzinfo=UTC)
    assert command.until.utcoffset() == timedelta(0)


COMMANDS = [
    ("RESUME", Resume()),
    ("resume", Resume()),
    ("HELP", Help()),
    ("help?", Help()),
    ("WITHDRAW", Withdraw()),
    ("STOP", Withdraw()),
    ("stop", Withdraw()),
    ("STOPALL", Withdraw()),
    ("UNSUBSCRIBE", Withdraw()),
    ("CANCEL", Withdraw()),
    ("END", Withdraw()),
    ("QUIT", Withdraw()),
    ("REVOKE", Withdraw()),
    ("OPTOUT", Withdraw()),
]


@pytest.mark.parametrize(("text", "command"), COMMANDS)
def test_a_whole_message_command_is_recognised(text: str, command: object) -> None:
    assert parse_command(text, NOW) == command


NOT_COMMANDS = [
    "please stop",
    "stop it",
    "I need help",
    "help me please",
    "pause for a bit",
    "pause 3 fortnights",
    "pause days",
    "can we pause",
    "resume tomorrow",
    "the end",
    "yes",
    "",
]


@pytest.mark.parametrize("text", NOT_COMMANDS)
def test_a_command_word_inside_a_sentence_is_not_a_command(text: str) -> None:
    assert parse_command(text, NOW) is None


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_command("PAUSE", datetime(2026, 3, 28, 21, 0))


@given(st.text(), st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_any_message_is_at_most_one_command_and_a_pause_is_bounded(text: str, now: datetime) -> None:
    command = parse_command(text, now)
    if isinstance(command, Pause):
        assert now + timedelta(hours=1) <= command.until <= now + timedelta(days=90)
