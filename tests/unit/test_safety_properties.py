"""Properties of the safety core: codewords are found however disguised, and nothing crashes it."""

from __future__ import annotations

import hmac
import unicodedata
from datetime import timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from safety.model import AlertReason, History, IntakeLevel, Level, PinResult, Severity, SurvivorSecrets
from safety.normalise import normalise, words
from safety.policy import (
    AlertPolicy,
    EscalationStep,
    MissedPolicy,
    Role,
    alert_policy_to_json,
    missed_policy_to_json,
    parse_alert_policy,
    parse_missed_policy,
)
from safety.risk import assess, compare
from safety.screening import check_pin, screen, secret_digest
from safety.signals import SIGNALS

FAST = settings(max_examples=200, deadline=None)


def hasher(text: str) -> bytes:
    return hmac.new(b"k" * 32, text.encode(), "sha256").digest()


def _letters(low: int, high: int) -> list[str]:
    # Only letters that are already in normal form, so a generated codeword is its own digest input.
    return [
        chr(code)
        for code in range(low, high + 1)
        if unicodedata.category(chr(code)).startswith("L") and normalise(chr(code)) == chr(code)
    ]


SCRIPTS = {
    "latin": _letters(0x61, 0x7A),
    "cyrillic": _letters(0x430, 0x44F),
    "greek": _letters(0x3B1, 0x3C9),
    "arabic": _letters(0x621, 0x64A),
    "devanagari": _letters(0x915, 0x939),
    "gurmukhi": _letters(0xA15, 0xA39),
    "hangul": _letters(0xAC00, 0xAC40),
    "han": _letters(0x4E00, 0x4E40),
}
GURMUKHI_VOWEL_SIGNS = [
    "",
    "\u0a3e",
    "\u0a3f",
    "\u0a40",
    "\u0a41",
    "\u0a42",
    "\u0a47",
    "\u0a48",
    "\u0a4b",
    "\u0a4c",
]


def _word_in(script: str) -> st.SearchStrategy[str]:
    letter = st.sampled_from(SCRIPTS[script])
    if script == "gurmukhi":
        # Vowel signs are part of Gurmukhi spelling and must survive normalising.
        letter = st.tuples(letter, st.sampled_from(GURMUKHI_VOWEL_SIGNS)).map("".join)
    return st.lists(letter, min_size=2, max_size=6).map("".join).filter(lambda w: normalise(w) == w)


word = st.sampled_from(sorted(SCRIPTS)).flatmap(_word_in)
codeword_words = st.lists(word, min_size=1, max_size=3)

INVISIBLES = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\ufeff",
    "\u200e",
    "\u200f",
    "\u202b",
    "\u202c",
    "\u2066",
    "\u00ad",
]
ACCENTS = ["\u0301", "\u0300", "\u0308", "\u0327", "\u0303", "\u030c"]
SEPARATORS = [
    " ", "  ", "\n", "\t", "\u00a0", "\u3000", "-", ", ", "... ", "!", "?!", "_", "/", "“", "”", "'",
    "🙂", "👍🏽", "❤️", "#️⃣", "؟", "،", "।", "\u200f ", " \u202b",
]  # fmt: skip


def _variants(char: str) -> list[str]:
    forms = {char, char.upper(), char.title()}
    return sorted(form for form in forms if normalise(form) == char)


@st.composite
def disguised(draw: st.DrawFn, text: str) -> str:
    """`text` with random case changes, accents and invisible marks that normalise away."""
    out: list[str] = []
    for char in text:
        out.append(draw(st.sampled_from(_variants(char))))
        accents = [accent for accent in ACCENTS if normalise(char + accent) == char]
        if draw(st.booleans()) and accents:
            out.append(draw(st.sampled_from(accents)))
        if draw(st.booleans()):
            out.append(draw(st.sampled_from(INVISIBLES)))
    return "".join(out)


separator = st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=3).map("".join)


@st.composite
def disguised_phrase(draw: st.DrawFn, phrase_words: list[str]) -> str:
    parts = [draw(disguised(phrase_words[0]))]
    for next_word in phrase_words[1:]:
        parts.append(draw(separator))
        parts.append(draw(disguised(next_word)))
    return "".join(parts)


def secrets_for(phrase_words: list[str]) -> SurvivorSecrets:
    return SurvivorSecrets(codewords=frozenset({secret_digest(" ".join(phrase_words), hasher)}))


@FAST
@given(data=st.data(), phrase_words=codeword_words, before=st.text(max_size=40), after=st.text(max_size=40))
def test_codeword_is_detected_however_it_is_disguised_and_wherever_it_is(
    data: st.DataObject, phrase_words: list[str], before: str, after: str
) -> None:
    message = before + data.draw(separator) + data.draw(disguised_phrase(phrase_words)) + data.draw(separator) + after
    result = screen(message, secrets_for(phrase_words), hasher)
    assert result.codeword is True
    assert result.quick_exit is False


@FAST
@given(
    extra=st.lists(st.sampled_from(sorted(SIGNALS)), max_size=6),
    no_contact_order=st.booleans(),
    levels=st.lists(st.sampled_from(list(Level)), max_size=4),
)
def test_codeword_always_alerts_urgently_with_codeword_listed_once(
    extra: list[str], no_contact_order: bool, levels: list[Level]
) -> None:
    assert assess(["codeword"], False).urgent_signals == ("codeword",)
    assessment = assess([*extra, "codeword", *extra], no_contact_order)
    assert assessment.level is Level.URGENT
    assert assessment.urgent_signals.count("codeword") == 1
    past = History(intake=IntakeLevel.STANDARD, no_contact_order=no_contact_order, recent_levels=tuple(levels))
    change = compare(assessment, past)
    assert (change.alert, change.reason) == (Severity.URGENT, AlertReason.CODEWORD)


@FAST
@given(
    phrase_words=codeword_words,
    others=st.lists(word, max_size=8),
    glue=st.lists(separator, min_size=9, max_size=9),
    noise=st.text(max_size=30),
)
def test_text_without_the_codewords_words_does_not_match(
    phrase_words: list[str], others: list[str], glue: list[str], noise: str
) -> None:
    message = noise + "".join(g + w for g, w in zip(glue, others, strict=False))
    assume(not set(words(message)) & set(phrase_words))
    assert screen(message, secrets_for(phrase_words), hasher).codeword is False


@FAST
@given(data=st.data(), phrase_words=st.lists(word, min_size=2, max_size=3), filler=st.lists(word, max_size=4))
def test_near_misses_of_a_codeword_do_not_match(
    data: st.DataObject, phrase_words: list[str], filler: list[str]
) -> None:
    assume(not set(filler) & set(phrase_words))
    around = " ".join(filler)
    glued = data.draw(disguised("".join(phrase_words)))
    reordered = " ".join(reversed(phrase_words))
    assume(list(reversed(phrase_words)) != phrase_words)
    dropped = " ".join(phrase_words[1:])
    secrets = secrets_for(phrase_words)
    for miss in (glued, reordered, dropped):
        assert screen(f"{around} {miss} {around}", secrets, hasher).codeword is False


any_text = st.text(st.characters(exclude_categories=()), max_size=200)


@FAST
@given(text=any_text, phrase_words=codeword_words)
def test_any_text_is_screened_without_raising(text: str, phrase_words: list[str]) -> None:
    secrets = SurvivorSecrets(
        exit_word=secret_digest("bye now", hasher),
        codewords=secrets_for(phrase_words).codewords,
        pin=hasher("4321"),
        duress_pin=hasher("9876"),
    )
    assert isinstance(screen(text, secrets, hasher).codeword, bool)
    assert check_pin(text, secrets, hasher) in set(PinResult)


@FAST
@given(text=any_text)
def test_normalised_text_is_stable_lowercase_words_separated_by_single_spaces(text: str) -> None:
    folded = normalise(text)
    assert normalise(folded) == folded
    assert folded == folded.strip()
    assert "  " not in folded
    assert words(text) == (folded.split(" ") if folded else [])
    for char in folded.replace(" ", ""):
        category = unicodedata.category(char)
        assert category[0] in "LMN", (char, category)
        assert category != "Nd" or char in "0123456789"


@FAST
@given(text=st.text(max_size=60))
def test_normalising_is_blind_to_case_and_invisible_marks(text: str) -> None:
    assert normalise(text.upper().lower()) == normalise(text.lower())
    spread = "\u200b".join(text) + "\u200f"
    assert normalise(spread) == normalise(text)


ladder = st.lists(st.tuples(st.integers(min_value=1, max_value=600), st.sampled_from(list(Role))), max_size=4).map(
    lambda steps: (
        EscalationStep(timedelta(0), Role.ASSIGNED_IDVA),
        *(
            EscalationStep(timedelta(minutes=sum(gap for gap, _ in steps[: n + 1])), role)
            for n, (_, role) in enumerate(steps)
        ),
    )
)


@FAST
@given(raised=ladder, high=ladder, urgent=ladder)
def test_any_valid_alert_policy_round_trips_through_json(
    raised: tuple[EscalationStep, ...], high: tuple[EscalationStep, ...], urgent: tuple[EscalationStep, ...]
) -> None:
    policy = AlertPolicy({Severity.RAISED: raised, Severity.HIGH: high, Severity.URGENT: urgent})
    assert parse_alert_policy(alert_policy_to_json(policy)) == policy


@FAST
@given(
    reminder=st.integers(min_value=1, max_value=1440),
    extra=st.integers(min_value=1, max_value=1440),
    each=st.booleans(),
)
def test_any_valid_missed_policy_round_trips_through_json(reminder: int, extra: int, each: bool) -> None:
    policy = MissedPolicy(timedelta(minutes=reminder), timedelta(minutes=reminder + extra), each)
    assert parse_missed_policy(missed_policy_to_json(policy)) == policy
