"""Screening inbound text: quick exit, codeword and PIN checks, and vetting chosen secrets."""

from __future__ import annotations

import hmac

import pytest

from safety.model import PinResult, Screening, SurvivorSecrets
from safety.normalise import normalise
from safety.screening import (
    BOT_COMMANDS,
    CARRIER_KEYWORDS,
    check_pin,
    pin_digest,
    pin_problem,
    screen,
    secret_digest,
    secret_problem,
    without_codeword,
)


def hasher(text: str) -> bytes:
    return hmac.new(b"k" * 32, text.encode(), "sha256").digest()


SECRETS = SurvivorSecrets(
    exit_word=secret_digest("Bye now", hasher),
    codewords=frozenset(
        secret_digest(phrase, hasher) for phrase in ("blue moon", "Tulip", "وردة", "ਗੁਲਾਬ", "one two three four")
    ),
    pin=pin_digest("4321", hasher),
    duress_pin=pin_digest("9876", hasher),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bye now", True),
        ("BYE NOW!", True),
        ("  bye   now ", True),
        ("Bye\u200b now", True),
        ("\u202bbye now\u202c", True),
        ("Býe, nów 👋", True),
        ("bye now please", False),
        ("goodbye now", False),
        ("bye", False),
        ("byenow", False),
        ("", False),
    ],
)
def test_quick_exit_only_when_the_whole_message_is_the_exit_word(text: str, expected: bool) -> None:
    assert screen(text, SECRETS, hasher).quick_exit is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I saw a blue moon last night", True),
        ("BLUE-MOON", True),
        ("blue\nmoon", True),
        ("blue🙂moon", True),
        ("b\u200blue m\u200doon", True),
        ("blúe móon!!", True),
        ("two tulips? no, one tulip.", True),
        ("TULIP", True),
        ("a rose: وردة جميلة", True),
        ("ਇੱਕ ਗੁਲਾਬ ਦਾ ਫੁੱਲ", True),
        ("count one two three four five", True),
        ("blue moons", False),
        ("blue", False),
        ("moon blue", False),
        ("bluemoon", False),
        ("blue sky, moon", False),
        ("tulips", False),
        ("ورد", False),
        ("one two three", False),
        ("", False),
    ],
)
def test_codeword_anywhere_as_whole_words_is_detected(text: str, expected: bool) -> None:
    assert screen(text, SECRETS, hasher).codeword is expected


def test_codeword_inside_sentence_is_detected_but_is_not_a_quick_exit() -> None:
    assert screen("fine thanks, tulip season here", SECRETS, hasher) == Screening(quick_exit=False, codeword=True)


def test_message_can_be_both_the_exit_word_and_hold_a_codeword() -> None:
    secrets = SurvivorSecrets(
        exit_word=secret_digest("bye now", hasher), codewords=frozenset({secret_digest("now", hasher)})
    )
    assert screen("Bye now", secrets, hasher) == Screening(quick_exit=True, codeword=True)


def test_survivor_without_secrets_is_never_flagged() -> None:
    assert screen("bye now blue moon", SurvivorSecrets(), hasher) == Screening(quick_exit=False, codeword=False)


def test_codeword_in_the_last_screened_word_is_detected_and_beyond_it_ignored() -> None:
    filler = " ".join(f"w{i}" for i in range(1999))
    assert screen(f"{filler} tulip", SECRETS, hasher).codeword is True
    assert screen(f"{filler} w1999 tulip", SECRETS, hasher).codeword is False
    assert screen(f"{filler} blue moon", SECRETS, hasher).codeword is False


def test_screening_hashes_at_most_four_phrases_per_screened_word() -> None:
    calls: list[str] = []

    def counting(text: str) -> bytes:
        calls.append(text)
        return hasher(text)

    screen(" ".join(f"w{i}" for i in range(10_000)), SECRETS, counting)
    # 2000 + 1999 + 1998 + 1997 distinct phrases of one to four words, and one exit-word check.
    assert len(calls) == 7995


def test_screening_hashes_nothing_when_there_is_nothing_to_compare() -> None:
    calls: list[str] = []

    def counting(text: str) -> bytes:
        calls.append(text)
        return hasher(text)

    screen("bye now, blue moon", SurvivorSecrets(), counting)
    assert calls == []


@pytest.mark.parametrize("text", ["Blue MOON, bye!", "  ٤٣٢١ ", "a\u200bb\u202cc 🙂 d e f"])
def test_hasher_is_only_ever_given_normalised_text(text: str) -> None:
    seen: list[str] = []

    def checking(value: str) -> bytes:
        seen.append(value)
        return hasher(value)

    screen(text, SECRETS, checking)
    check_pin(text, SECRETS, checking)
    assert seen
    assert all(normalise(value) == value for value in seen)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4321", PinResult.CORRECT),
        (" 43 21 ", PinResult.CORRECT),
        ("4-3-2-1", PinResult.CORRECT),
        ("٤٣٢١", PinResult.CORRECT),
        ("۴۳۲۱", PinResult.CORRECT),
        ("9876", PinResult.DURESS),
        ("98 76.", PinResult.DURESS),
        ("1234", PinResult.WRONG),
        ("43210", PinResult.WRONG),
        ("4321a", PinResult.WRONG),
        ("four three two one", PinResult.WRONG),
        ("", PinResult.WRONG),
        ("🙂", PinResult.WRONG),
    ],
)
def test_pin_reply_is_checked_against_pin_and_duress_pin(text: str, expected: PinResult) -> None:
    assert check_pin(text, SECRETS, hasher) is expected


def test_pin_is_wrong_when_no_pin_is_set() -> None:
    assert check_pin("4321", SurvivorSecrets(), hasher) is PinResult.WRONG


def test_duress_wins_when_pin_and_duress_pin_are_the_same() -> None:
    same = pin_digest("4321", hasher)
    assert check_pin("4321", SurvivorSecrets(pin=same, duress_pin=same), hasher) is PinResult.DURESS


def test_digests_are_taken_of_the_normalised_secret() -> None:
    assert secret_digest("  Blue-MOON! ", hasher) == hasher("blue moon")
    assert pin_digest(" ٤٣ ٢١ ", hasher) == hasher("4321")


KINDS = ["exit_word", "codeword"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("", "empty"),
        ("  !! 🙂 ", "empty"),
        ("one two three four five", "too_long"),
        ("a" * 41, "too_long"),
        ("a" * 40, None),
        ("one two three four", None),
        ("STOP", "reserved"),
        ("Stop!", "reserved"),
        ("S T O P", None),
        ("stop now", "command"),
        ("unsubscribe", "reserved"),
        ("Pause", "reserved"),
        ("1234", "reserved"),
        ("12 34", "reserved"),
        ("٤٣٢١", "reserved"),
        ("blue moon", None),
        ("ਗੁਲਾਬ", None),
        ("room 101", None),
        # A secret that is, or begins with, a command would fire every time she uses the command.
        ("PAUSE 4", "command"),
        ("pause for 3 days", "command"),
        ("help me", "command"),
        ("Resume now", "command"),
        ("language cy", "command"),
        ("saib 3 diwrnod", "command"),  # Welsh: PAUSE 3 days
        ("3 دن کا وقفہ", "command"),  # Urdu puts the pause word last
        ("blue help", "command"),
        ("helpful kettle", None),  # a word that only starts like one is fine
    ],
)
def test_secret_phrase_problems_are_reported_by_code(kind: str, phrase: str, expected: str | None) -> None:
    assert secret_problem(phrase, kind, [], hasher) == expected


@pytest.mark.parametrize("word", sorted(CARRIER_KEYWORDS | BOT_COMMANDS))
def test_every_carrier_keyword_and_bot_command_is_reserved(word: str) -> None:
    assert secret_problem(word.upper(), "exit_word", [], hasher) == "reserved"


def test_reserved_words_are_exactly_the_carrier_keywords_and_bot_commands() -> None:
    assert set(CARRIER_KEYWORDS) == {
        "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
        "start", "yes", "no", "help", "info", "unstop",
    }  # fmt: skip
    assert set(BOT_COMMANDS) == {"pause", "resume", "withdraw", "language", "skip"}


@pytest.mark.parametrize("kind", KINDS)
def test_secret_equal_to_another_secret_is_refused(kind: str) -> None:
    others = [secret_digest("tulip", hasher), secret_digest("Blue Moon", hasher)]
    assert secret_problem("blue-moon!", kind, others, hasher) == "same_as_other"
    assert secret_problem("blue moons", kind, others, hasher) is None


def test_unknown_secret_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown secret kind 'pin'"):
        secret_problem("blue moon", "pin", [], hasher)


@pytest.mark.parametrize(
    ("pin", "expected"),
    [
        ("1234", None),
        ("12345678", None),
        ("12 34", None),
        ("١٢٣٤", None),
        ("123", "length"),
        ("123456789", "length"),
        ("12a4", "not_digits"),
        ("", "not_digits"),
        ("four", "not_digits"),
    ],
)
def test_pin_problems_are_reported_by_code(pin: str, expected: str | None) -> None:
    assert pin_problem(pin, [], hasher) == expected


def test_pin_equal_to_the_other_pin_is_refused() -> None:
    assert pin_problem("٤٣٢١", [pin_digest("43 21", hasher)], hasher) == "same_as_other"
    assert pin_problem("4322", [pin_digest("4321", hasher)], hasher) is None


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("2 blue kettle", "2"),
        ("No, BLUE kettle!", "no"),
        ("blue kettle", ""),
        ("a little blue kettle and blue", "a little and blue"),  # a lone half of the phrase stays
        ("nothing to see here", "nothing to see here"),
    ],
)
def test_without_codeword_leaves_the_answer_around_it(text: str, left: str) -> None:
    secrets = SurvivorSecrets(codewords=frozenset({secret_digest("blue kettle", hasher)}))
    assert without_codeword(text, secrets, hasher) == left
