"""Normalising survivor text: the same words match however they were typed."""

from __future__ import annotations

import pytest

from safety.normalise import normalise, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("Hello", "hello"),
        ("  HeLLo   WORLD  ", "hello world"),
        ("Straße", "strasse"),
        ("İstanbul", "istanbul"),
        ("ＨＥＬＬＯ", "hello"),
        ("ﬁne", "fine"),
    ],
)
def test_case_and_compatibility_forms_fold_to_plain_lowercase(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café", "cafe"),
        ("naïve façade", "naive facade"),
        ("ZAŻÓŁĆ GĘŚLĄ JAŹŃ", "zazolc gesla jazn"),
        ("Łódź", "lodz"),
        ("Søren", "soren"),
        ("cafe\u0301", "cafe"),
        ("Tiếng Việt", "tieng viet"),
        ("ΚΑΛΗΜΈΡΑ", "καλημερα"),
        ("Ёлка", "елка"),
        ("مَرْحَبًا", "مرحبا"),
        ("مـرحـبـا", "مرحبا"),
        ("שָׁלוֹם", "שלום"),
    ],
)
def test_accents_and_optional_vowel_points_are_stripped(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    "text",
    ["ਸਤਿ ਸ੍ਰੀ ਅਕਾਲ", "ਗੁਲਾਬ", "नमस्ते", "काम", "مرحبا", "שלום", "привет", "한국어", "東京", "สวัสดี"],
)
def test_letters_of_every_script_survive_unchanged(text: str) -> None:
    assert normalise(text) == text


def test_vowel_signs_that_spell_a_word_are_kept_so_different_words_stay_different() -> None:
    assert normalise("कम") == "कम"
    assert normalise("काम") == "काम"
    assert normalise("कम") != normalise("काम")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("he\u200bllo", "hello"),
        ("he\u200cllo", "hello"),
        ("he\u200dllo", "hello"),
        ("\ufeffhello", "hello"),
        ("\u200fhello\u200e", "hello"),
        ("\u202bhello\u202c", "hello"),
        ("\u2067hel\u2069lo", "hello"),
        ("hel\u00adlo", "hello"),
        ("hel\u2060lo", "hello"),
    ],
)
def test_invisible_format_characters_are_removed_without_splitting_words(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("blue-moon!", "blue moon"),
        ("don't", "don t"),
        ("a.b,c;d:e?f", "a b c d e f"),
        ("«quoted» “text”", "quoted text"),
        ("snake_case/path", "snake case path"),
        ("hi🙂there", "hi there"),
        ("👍🏽ok", "ok"),
        ("❤️", ""),
        ("1️⃣", "1"),
        ("£5 + €3 = $8", "5 3 8"),
        ("a\tb\nc\r\n\x00d\x7fe", "a b c d e"),
        ("a\u00a0b\u2003c\u3000d\u2028e", "a b c d e"),
        ("سلام، چطوری؟", "سلام چطوری"),
        ("ठीक है। धन्यवाद", "ठीक है धन्यवाद"),
        ("!!! ... ???", ""),
        ("a\ud800b", "a b"),
        ("a\ue000b", "a b"),
    ],
)
def test_punctuation_symbols_emoji_and_controls_become_single_spaces(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("१२३४", "1234"),
        ("੧੨੩੪", "1234"),
        ("１２３４", "1234"),
        ("²", "2"),
        ("pin ٤٣٢١", "pin 4321"),
    ],
)
def test_digits_of_any_script_become_ascii(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   ", []),
        ("Hello, world!", ["hello", "world"]),
        ("Blue\u200b-MOON 🙂 ok", ["blue", "moon", "ok"]),
        ("ਸਤਿ ਸ੍ਰੀ ਅਕਾਲ", ["ਸਤਿ", "ਸ੍ਰੀ", "ਅਕਾਲ"]),
    ],
)
def test_words_splits_the_normalised_text(text: str, expected: list[str]) -> None:
    assert words(text) == expected
