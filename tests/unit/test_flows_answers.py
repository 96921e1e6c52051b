"""Replies pick options by number, key, label, words or common synonyms; free text is cleaned."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.answers import TEXT_LIMIT, parse_options, parse_text
from flows.loader import load_default
from flows.questionset import Option, Question, QuestionKind

QS = load_default()

CHOICE = [
    ("safe_now", "1", ("yes",)),
    ("safe_now", " 2 ", ("no",)),
    ("safe_now", "3.", ("not_sure",)),
    ("safe_now", "٢", ("no",)),  # Arabic-Indic two
    ("safe_now", "۳", ("not_sure",)),  # extended Arabic-Indic three
    ("safe_now", "yes", ("yes",)),
    ("safe_now", "YES!", ("yes",)),
    ("safe_now", "Yeah", ("yes",)),
    ("safe_now", "y", ("yes",)),
    ("safe_now", "ok", ("yes",)),
    ("safe_now", "okay", ("yes",)),
    ("safe_now", "sure", ("yes",)),
    ("safe_now", "yes please", ("yes",)),
    ("safe_now", "No.", ("no",)),
    ("safe_now", "nope", ("no",)),
    ("safe_now", "nah", ("no",)),
    ("safe_now", "n", ("no",)),
    ("safe_now", "not sure", ("not_sure",)),
    ("safe_now", "Not_Sure", ("not_sure",)),
    ("safe_now", "unsure", ("not_sure",)),
    ("safe_now", "maybe", ("not_sure",)),
    ("safe_now", "don't know", ("not_sure",)),
    ("safe_now", "dont know", ("not_sure",)),
    ("safe_now", "Don’t know", ("not_sure",)),
    ("safe_now", "idk", ("not_sure",)),
    ("safe_to_talk", "not now", ("no",)),
    ("safe_to_talk", "no", ("no",)),
    ("safe_to_talk", "later", ("no",)),
    ("afraid", "a lot", ("lot",)),
    ("afraid", "A little", ("little",)),
    ("afraid", "lot", ("lot",)),
    ("afraid", "no thanks", ("no",)),
    ("callback", "Yes, today", ("today",)),
    ("callback", "yes urgently", ("urgent",)),
    ("callback", "today", ("today",)),
    ("callback", "3", ("urgent",)),
    # asked in turn (rotation)
    ("separation", "2", ("separated",)),
    ("separation", "thinking", ("planning",)),
    ("separation", "I am thinking of leaving", ("planning",)),
    ("stalking", "yes", ("yes",)),
    ("sexual", "rather not", ("rather_not",)),
    ("child_contact", "no children", ("not_relevant",)),
    ("mood", "fine", ("ok",)),
    ("mood", "3", ("self_harm",)),
    ("others_feared", "nope", ("no",)),
]


@pytest.mark.parametrize(("question", "text", "expected"), CHOICE)
def test_a_choice_reply_picks_exactly_one_option(question: str, text: str, expected: tuple[str, ...]) -> None:
    assert parse_options(text, QS.question(question)) == expected


UNRECOGNISED_CHOICE = [
    ("safe_now", ""),
    ("safe_now", "   "),
    ("safe_now", "4"),
    ("safe_now", "0"),
    ("safe_now", "12"),
    ("safe_now", "1 2"),
    ("safe_now", "yes and no"),
    ("safe_now", "yes I am at home"),
    ("safe_now", "I am not safe"),  # a sentence is not an option: the engine asks again
    ("safe_now", "nothing"),
    ("afraid", "yes"),  # no option means yes here: ask again rather than guess
    ("callback", "yes"),  # "yes" alone could be today or urgently
    ("separation", "yes"),  # separated, or thinking of leaving: ask again rather than guess
    ("mood", "4"),
]


@pytest.mark.parametrize(("question", "text"), UNRECOGNISED_CHOICE)
def test_a_choice_reply_that_is_not_one_option_is_unrecognised(question: str, text: str) -> None:
    assert parse_options(text, QS.question(question)) is None


MULTI = [
    ("contact", "1", ("none",)),
    ("contact", "no", ("none",)),
    ("contact", "2 3", ("remote", "in_person")),
    ("contact", "2,3", ("remote", "in_person")),
    ("contact", "3, 2", ("remote", "in_person")),  # question order, not reply order
    ("contact", "2 and 3", ("remote", "in_person")),
    ("contact", "messages and in person", ("remote", "in_person")),
    ("contact", "Messages or calls", ("remote",)),
    ("contact", "calls, texts", ("remote",)),  # duplicates collapse
    ("contact", "2 2", ("remote",)),
    ("contact", "in_person", ("in_person",)),
    ("incident", "none of these", ("none",)),
    ("incident", "nothing", ("none",)),
    ("incident", "threats to kill", ("threats_to_kill",)),
    ("incident", "threats and threats to kill", ("threats", "threats_to_kill")),
    ("incident", "a child being hurt", ("child",)),
    ("incident", "4 5 7", ("hurt", "choking", "weapon")),
    ("incident", "knife, strangled", ("choking", "weapon")),
    ("incident", "٤ ٥", ("hurt", "choking")),
    ("contact", "4", ("live_together",)),
    ("contact", "we live together", ("live_together",)),
    ("contact", "texts and same house", ("remote", "live_together")),
    ("incident", "8", ("other",)),
    ("incident", "something else", ("other",)),
    ("incident", "5 8", ("choking", "other")),
    ("escalation", "2 3", ("worse", "more_often")),
    ("money_isolation", "money and cut off", ("money", "cut_off")),
]


@pytest.mark.parametrize(("question", "text", "expected"), MULTI)
def test_a_multi_reply_picks_one_or_more_options_in_question_order(
    question: str, text: str, expected: tuple[str, ...]
) -> None:
    assert parse_options(text, QS.question(question)) == expected


UNRECOGNISED_MULTI = [
    ("contact", "1 2"),  # "no" and "messages" contradict each other
    ("contact", "no and in person"),
    ("incident", "none of these, threats"),
    ("contact", "2 5"),  # contact has four options
    ("incident", "9"),  # incident has eight
    ("escalation", "no and worse"),
    ("contact", "2 and banana"),
    ("contact", "and"),
    ("incident", "threats to"),
]


@pytest.mark.parametrize(("question", "text"), UNRECOGNISED_MULTI)
def test_a_multi_reply_with_an_exclusive_option_or_a_stray_word_is_unrecognised(question: str, text: str) -> None:
    assert parse_options(text, QS.question(question)) is None


def test_a_text_question_has_no_options_to_pick() -> None:
    assert parse_options("1", QS.question("anything_else")) is None


def test_synonyms_never_override_a_sets_own_words() -> None:
    question = Question(
        id="q",
        kind=QuestionKind.CHOICE,
        text="Hello.\nPick one",
        options=(Option("yes", "Yes"), Option("later", "Later", words=("ok",))),
    )
    assert parse_options("ok", question) == ("later",)
    assert parse_options("yep", question) == ("yes",)


def test_synonyms_apply_to_an_option_labelled_yes_whatever_its_key() -> None:
    question = Question(
        id="q",
        kind=QuestionKind.CHOICE,
        text="Hello.\nPick one",
        options=(Option("agree", "Yes"), Option("refuse", "No")),
    )
    assert parse_options("yep", question) == ("agree",)
    assert parse_options("nah", question) == ("refuse",)


TEXT = [
    ("  I moved flat  ", "I moved flat"),
    ("line one\r\nline two", "line one\nline two"),
    ("bell\x07 and null\x00 gone", "bell and null gone"),
    ("tab\there", "tab here"),
    ("lone surrogate \ud800 dropped", "lone surrogate  dropped"),
    ("emoji stay 👩‍👧 ❤️", "emoji stay 👩‍👧 ❤️"),
    ("\u202bمرحبا\u202c", "\u202bمرحبا\u202c"),  # RTL embedding marks stay
    ("No, but thanks", "No, but thanks"),
]


@pytest.mark.parametrize(("text", "expected"), TEXT)
def test_free_text_keeps_what_the_survivor_wrote_without_control_characters(text: str, expected: str) -> None:
    assert parse_text(text) == expected


def test_free_text_is_capped() -> None:
    assert parse_text("x" * (TEXT_LIMIT + 500)) == "x" * TEXT_LIMIT


@pytest.mark.parametrize(
    "text", ["skip", "SKIP", "Skip.", "no", "nothing", "none", "n/a", "N/A", "na", "nope", "", "  "]
)
def test_a_skip_word_records_no_free_text(text: str) -> None:
    assert parse_text(text) is None


@given(st.text())
def test_any_reply_gives_known_keys_in_question_order_or_none(text: str) -> None:
    for question in QS.questions:
        picked = parse_options(text, question)
        if picked is None:
            continue
        keys = [option.key for option in question.options]
        assert picked and list(picked) == [key for key in keys if key in picked]
        if question.kind is QuestionKind.CHOICE:
            assert len(picked) == 1


@given(st.text())
def test_any_free_text_comes_back_capped_and_without_control_characters(text: str) -> None:
    kept = parse_text(text)
    if kept is not None:
        assert 0 < len(kept) <= TEXT_LIMIT
        assert all(char == "\n" or unicodedata.category(char) not in ("Cc", "Cs") for char in kept)
