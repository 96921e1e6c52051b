"""Recognise the survivor's standing commands: PAUSE, RESUME, HELP, LANGUAGE and WITHDRAW (or STOP).

The English keywords work in every language, and so do each language's own words for them
(safety/lexicon.py): "pomoc", "iaith", "زبان".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from safety.lexicon import PAUSE_LINKS, PAUSE_UNITS, command_words, every_language, normalised
from safety.normalise import normalise
from safety.screening import OPT_OUT_WORDS

DEFAULT_PAUSE = timedelta(days=7)
MAX_PAUSE = timedelta(days=90)
MIN_PAUSE = timedelta(hours=1)  # "PAUSE 0" still means the survivor wants quiet for a while

# The carriers' opt-out words (Twilio acts on them itself, before we see them) mean the
# survivor wants no more messages: treat them as withdrawing consent, never as an answer.
WITHDRAW_WORDS = OPT_OUT_WORDS | command_words("withdraw")
HELP_WORDS = command_words("help")
RESUME_WORDS = command_words("resume")
PAUSE_WORDS = command_words("pause")  # bare: a week; with a length in any language: "saib 3 diwrnod"
LANGUAGE_WORDS = command_words("language")

_HOURS_PER_UNIT = {
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 1),
    **dict.fromkeys(("d", "day", "days"), 24),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 24 * 7),
}
_PAUSE = re.compile(r"pause(?: for)?(?: (?P<count>\d+|an?|one) ?(?P<unit>[a-z]+)?)?")
_LOCAL_HOURS = {unit: hours for hours, table in PAUSE_UNITS.items() for unit in every_language(table)}
_LOCAL_LINKS = frozenset(normalised(PAUSE_LINKS))


@dataclass(frozen=True)
class Pause:
    """Send nothing until `until` (UTC)."""

    until: datetime


@dataclass(frozen=True)
class Resume:
    """Start check-ins again after a pause."""


@dataclass(frozen=True)
class Help:
    """Say what the survivor can do."""


@dataclass(frozen=True)
class Withdraw:
    """Withdraw consent: no more messages, ever, unless the survivor enrols again."""


@dataclass(frozen=True)
class ChooseLanguage:
    """Change language: `choice` is what followed the word ("cy", "Cymraeg", "2"), or empty to list them."""

    choice: str = ""


Command = Pause | Resume | Help | Withdraw | ChooseLanguage


def _pause_length(count: str | None, unit: str | None) -> timedelta | None:
    if count is None:
        return DEFAULT_PAUSE
    hours_per_unit = _HOURS_PER_UNIT.get(unit or "days")
    if hours_per_unit is None:
        return None
    number = 1 if count in ("a", "an", "one") else int(count)
    # Clamp in whole hours before building a timedelta: "PAUSE 99999999999 weeks" must not overflow.
    hours = min(number * hours_per_unit, MAX_PAUSE // timedelta(hours=1))
    return max(timedelta(hours=hours), MIN_PAUSE)


def _local_pause(folded: str) -> timedelta | None:
    """ "saib 3 diwrnod", "pauza na 2 tygodnie", "3 دن کا وقفہ": a pause word first or last, a number
    and a unit in any language (digits in any script are already Latin here). None if it is not one."""
    rest: list[str] | None = None
    for word in sorted(PAUSE_WORDS, key=len, reverse=True):
        if folded.startswith(word + " "):
            rest = folded[len(word) :].split()
        elif folded.endswith(" " + word):
            rest = folded[: -len(word)].split()
        if rest is not None:
            break
    if rest is None:
        return None
    rest = [token for token in rest if token not in _LOCAL_LINKS]
    if rest and rest[0].isdigit():
        count, unit = rest[0], " ".join(rest[1:])
    else:
        count, unit = "1", " ".join(rest)
    hours_per_unit = _LOCAL_HOURS.get(unit or "diwrnod")  # a bare number means days, as in English
    if hours_per_unit is None:
        return None
    hours = min(int(count) * hours_per_unit, MAX_PAUSE // timedelta(hours=1))
    return max(timedelta(hours=hours), MIN_PAUSE)


def parse_command(text: str, now: datetime) -> Command | None:
    """Return the command that `text` is in its entirety, or None if it is anything else."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    # The whole message must be the command: "please stop calling me" is an answer, not an opt-out.
    folded = normalise(text)
    if folded in WITHDRAW_WORDS:
        return Withdraw()
    if folded in RESUME_WORDS:
        return Resume()
    if folded in HELP_WORDS:
        return Help()
    if folded in PAUSE_WORDS:
        return Pause(until=now.astimezone(UTC) + DEFAULT_PAUSE)
    first, _, rest = folded.partition(" ")
    if folded in LANGUAGE_WORDS or (first in LANGUAGE_WORDS and len(rest.split()) <= 2):
        return ChooseLanguage("" if folded in LANGUAGE_WORDS else rest)
    match = _PAUSE.fullmatch(folded)
    length = _pause_length(match["count"], match["unit"]) if match is not None else _local_pause(folded)
    if length is None:
        return None
    # In UTC, so "12 hours" is twelve real hours even across a clock change.
    return Pause(until=now.astimezone(UTC) + length)
