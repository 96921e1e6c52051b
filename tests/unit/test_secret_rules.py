"""The in-person screen vets secrets with onboarding's own rules: each typed twice, stored as the same digests."""

from __future__ import annotations

import pytest

from flows.engine import handle
from flows.model import Message
from safety.normalise import normalise
from safety.screening import pin_digest, secret_digest
from safety.secret_rules import ChosenSecrets, vet_in_person
from tests.unit.flows_support import hasher
from tests.unit.test_flows_onboarding import AFTER_EXIT_WORD, AFTER_PIN, STEP_TABLE, at, context

GOOD = {"exit_word": "Pasta", "codeword": "Blue Kettle", "pin": "2468", "duress_pin": "1357"}


def vet(**changes: str) -> tuple[ChosenSecrets | None, dict[str, str]]:
    first = {**GOOD, **changes}
    return vet_in_person(first, first, hasher)


def test_good_secrets_give_the_digests_onboarding_would_store() -> None:
    chosen, problems = vet()
    assert problems == {}
    assert chosen == ChosenSecrets(
        exit_word=secret_digest("pasta", hasher),
        codeword=secret_digest("blue kettle", hasher),
        pin=pin_digest("2468", hasher),
        duress_pin=pin_digest("1357", hasher),
    )


def test_the_pins_are_optional_as_at_onboarding() -> None:
    chosen, problems = vet(pin="", duress_pin="")
    assert problems == {} and chosen is not None
    assert (chosen.pin, chosen.duress_pin) == (None, None)
    chosen, problems = vet(duress_pin="")
    assert problems == {} and chosen is not None and chosen.duress_pin is None


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"exit_word": ""}, {"exit_word": "empty"}),
        ({"exit_word": "STOP"}, {"exit_word": "reserved"}),
        ({"exit_word": "pause"}, {"exit_word": "reserved"}),
        ({"exit_word": "help me"}, {"exit_word": "command"}),
        ({"exit_word": "yes"}, {"exit_word": "reserved"}),
        ({"exit_word": "1234"}, {"exit_word": "reserved"}),
        ({"exit_word": "one two three four five"}, {"exit_word": "too_long"}),
        ({"codeword": ""}, {"codeword": "empty"}),
        ({"codeword": "unsubscribe"}, {"codeword": "reserved"}),
        ({"codeword": "PASTA!"}, {"codeword": "same_as_other"}),
        ({"pin": "12"}, {"pin": "length"}),
        ({"pin": "abcd"}, {"pin": "not_digits"}),
        ({"duress_pin": "2468"}, {"duress_pin": "same_as_other"}),
        ({"duress_pin": "24 68"}, {"duress_pin": "same_as_other"}),
        ({"pin": "", "duress_pin": "1357"}, {"duress_pin": "needs_pin"}),
    ],
)
def test_each_rule_is_reported_by_its_field(changes: dict[str, str], problems: dict[str, str]) -> None:
    assert vet(**changes) == (None, problems)


@pytest.mark.parametrize("field", ["exit_word", "codeword", "pin", "duress_pin"])
def test_two_entries_that_differ_are_a_mismatch_and_nothing_is_chosen(field: str) -> None:
    second = {**GOOD, field: GOOD[field] + "9"}
    assert vet_in_person(GOOD, second, hasher) == (None, {field: "mismatch"})


def test_the_same_word_typed_in_another_case_or_with_spaces_matches() -> None:
    second = {**GOOD, "exit_word": " pasta ", "pin": "24 68"}
    assert vet_in_person(GOOD, second, hasher)[1] == {}


# Onboarding's table of secret steps, less its ways of saying "no PIN" (SKIP over her channel, where an
# empty message is asked again; on the screen she leaves the PIN blank).
NO_PIN = ("", "skip", "no thanks", "none")
SECRET_ROWS = [
    (step, fields, text)
    for step, fields, text, *_ in STEP_TABLE
    if step in ("exit_word", "codeword") or (step in ("pin", "duress_pin") and normalise(text) not in NO_PIN)
]


@pytest.mark.parametrize(("step", "fields", "text"), SECRET_ROWS)
def test_the_screen_accepts_exactly_what_onboarding_accepts(step: str, fields: dict[str, object], text: str) -> None:
    # Onboarding's own answer to the same text at the same step, after the same earlier secret.
    onboarding_took = handle(at(step, **fields), Message(text), context()).state.step != step
    typed = {"exit_word": "red balloon", "codeword": "tulip", "pin": "", "duress_pin": ""}
    if fields == AFTER_EXIT_WORD:
        typed["exit_word"] = "pasta"
    if fields == AFTER_PIN:
        typed["pin"] = "2468"
    typed[step] = text
    _, problems = vet_in_person(typed, typed, hasher)
    assert set(problems) <= {step}
    assert (step not in problems) == onboarding_took, (step, text, problems)
