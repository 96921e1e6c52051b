"""Carrier keywords over SMS: every opt-out word withdraws consent, and no keyword can be a secret word."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.commands import Withdraw, parse_command
from safety.screening import CARRIER_KEYWORDS, OPT_OUT_WORDS, secret_problem

# Twilio's default keywords on long codes and toll-free numbers (Advanced Opt-Out can add more).
TWILIO_OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
TWILIO_OPT_IN = {"START", "YES", "UNSTOP"}
TWILIO_HELP = {"HELP", "INFO"}
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def plain_hasher(text: str) -> bytes:
    return text.encode()


def test_every_twilio_keyword_is_known_as_a_carrier_keyword() -> None:
    assert {w.lower() for w in TWILIO_OPT_OUT} == OPT_OUT_WORDS
    assert {w.lower() for w in TWILIO_OPT_OUT | TWILIO_OPT_IN | TWILIO_HELP} <= CARRIER_KEYWORDS


@pytest.mark.parametrize("word", sorted(TWILIO_OPT_OUT))
def test_every_opt_out_word_on_its_own_is_a_withdrawal(word: str) -> None:
    for typed in (word, word.lower(), f"  {word.title()} ", f"{word}!", f"{word}."):
        assert parse_command(typed, NOW) == Withdraw(), typed
    assert parse_command(f"please {word.lower()} asking me that", NOW) is None  # a sentence is an answer


@pytest.mark.parametrize("word", sorted(TWILIO_OPT_OUT | TWILIO_OPT_IN | TWILIO_HELP))
@pytest.mark.parametrize("kind", ["exit_word", "codeword"])
def test_no_carrier_keyword_can_be_an_exit_word_or_codeword_however_it_is_typed(word: str, kind: str) -> None:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in word)  # "ＳＴＯＰ"
    for typed in (word, word.lower(), word.title(), f" {word} ", f"{word}!", f"'{word}'", fullwidth, f"\u200b{word}"):
        assert secret_problem(typed, kind, [], plain_hasher) == "reserved", typed
