"""Read a survivor's reply to a question: which options it picks, or the free text it gives."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache

from flows.questionset import Question, QuestionKind
from safety import lexicon
from safety.normalise import words

TEXT_LIMIT = 1000  # characters of free text kept; an SMS thread rarely needs more

SOURCE_LANGUAGE = lexicon.SOURCE_LANGUAGE
Translate = Callable[[str, str], str]  # (language, msgid) -> text

# Built-in ways to say the common answers, so a set need not list them for every question.
# They apply to an option keyed yes / no / not_sure, or whose English label is exactly that
# answer, in the survivor's language and in English (safety/lexicon.py has every language's).
SYNONYMS: Mapping[str, tuple[str, ...]] = {name: table[SOURCE_LANGUAGE] for name, table in lexicon.ANSWERS.items()}

# Replies to a free-text question that mean "nothing to add", in any language. Compared
# normalised, so "N/A" and "n/a." are "n a".
SKIP_WORDS: frozenset[str] = lexicon.every_language(lexicon.SKIP)

_FILLER = ""  # table value of a filler phrase; no option key is empty

Phrase = tuple[str, ...]


def _phrase(text: str) -> Phrase:
    return tuple(words(text))


def _label(option_label: str, inline: Mapping[str, str], language: str, translate: Translate | None) -> str:
    """An option's label in `language`: its inline translation, else the catalog's."""
    if language in inline:
        return inline[language]
    return translate(language, option_label) if translate is not None else option_label


def _explicit_phrases(
    question: Question, language: str = SOURCE_LANGUAGE, translate: Translate | None = None
) -> tuple[dict[Phrase, str], list[str]]:
    """Map each number, label (in the survivor's language and English), key and extra word to
    its option key, and list clashes."""
    table: dict[Phrase, str] = {}
    clashes: list[str] = []
    for number, option in enumerate(question.options, start=1):
        # A key reads as words too: "in_person" normalises to "in person".
        local = _label(option.label, option.labels, language, translate)
        for raw in (str(number), local, option.key, option.label, *option.words):
            phrase = _phrase(raw)
            if not phrase:
                continue
            owner = table.setdefault(phrase, option.key)
            if owner != option.key:
                clash = f"{' '.join(phrase)!r} would pick both {owner!r} and {option.key!r}"
                if clash not in clashes:
                    clashes.append(clash)
    return table, clashes


def ambiguous_phrases(
    question: Question, language: str = SOURCE_LANGUAGE, translate: Translate | None = None
) -> list[str]:
    """Describe each reply that would pick more than one option of `question` (for the loader)."""
    return _explicit_phrases(question, language, translate)[1]


@lru_cache(maxsize=4096)
def _phrase_table(question: Question, language: str, translate: Translate | None) -> Mapping[Phrase, str]:
    """Every reply phrase of `question` in `language` -> its option key. Cached: questions are
    immutable and a catalog does not change while the process runs."""
    table, _ = _explicit_phrases(question, language, translate)
    # Synonyms and fillers come last, so a set's own labels and words win over them.
    for option in question.options:
        label = " ".join(_phrase(option.label))
        for answer, synonyms in lexicon.ANSWERS.items():
            if option.key == answer or label == answer.replace("_", " "):
                for synonym in lexicon.for_language(synonyms, language):
                    table.setdefault(_phrase(synonym), option.key)
    for filler in lexicon.for_language(lexicon.FILLERS, language):
        table.setdefault(_phrase(filler), _FILLER)
    return table


def _match(tokens: list[str], table: Mapping[Phrase, str]) -> list[str] | None:
    """Cover `tokens` with phrases, longest first; None if any word belongs to no phrase."""
    longest = max(map(len, table), default=0)
    keys: list[str] = []
    i = 0
    while i < len(tokens):
        # Longest first, so "threats to kill" is one option rather than "threats" and noise.
        for size in range(min(longest, len(tokens) - i), 0, -1):
            key = table.get(tuple(tokens[i : i + size]))
            if key is not None:
                if key != _FILLER:
                    keys.append(key)
                i += size
                break
        else:
            return None
    return keys


def parse_options(
    text: str, question: Question, language: str = SOURCE_LANGUAGE, translate: Translate | None = None
) -> tuple[str, ...] | None:
    """Return the option keys `text` picks, in question order, or None if it is not a valid answer.

    Numbers in any script (٣, ۳, ੩), the labels in the survivor's language and in English, and the
    common answers of both languages are understood.
    """
    if question.kind is QuestionKind.TEXT or not question.options:
        return None
    keys = _match(words(text), _phrase_table(question, language, translate))
    if not keys:
        return None
    picked = {*keys}
    if question.kind is QuestionKind.CHOICE and len(picked) != 1:
        return None
    if len(picked) > 1 and any(option.exclusive and option.key in picked for option in question.options):
        # "None of these" with something else contradicts itself: ask again rather than guess.
        return None
    return tuple(option.key for option in question.options if option.key in picked)


def _keep(char: str) -> bool:
    if char == "\n":
        return True
    # Cc are control characters; Cs are lone surrogates, which cannot even be stored as UTF-8.
    # Format characters (Cf) stay: they carry RTL marks and emoji joiners.
    return unicodedata.category(char) not in ("Cc", "Cs")


def parse_text(text: str) -> str | None:
    """Return the free text to record, cleaned and capped, or None when the reply means 'skip'."""
    unified = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    cleaned = "".join(char for char in unified if _keep(char))
    cleaned = cleaned.strip()[:TEXT_LIMIT].rstrip()
    if not cleaned or " ".join(words(cleaned)) in SKIP_WORDS:
        return None
    return cleaned
