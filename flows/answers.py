"""Read a survivor's reply to a question: which options it picks, or the free text it gives."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from flows.questionset import Question, QuestionKind
from safety.normalise import words

TEXT_LIMIT = 1000  # characters of free text kept; an SMS thread rarely needs more

# Built-in ways to say the common answers, so a set need not list them for every question.
# They apply to an option keyed yes / no / not_sure, or whose label is exactly that answer.
SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "yes": ("yes", "y", "yeah", "yep", "yup", "ok", "okay", "sure"),
    "no": ("no", "n", "nope", "nah"),
    "not_sure": ("not sure", "unsure", "maybe", "dont know", "don't know", "idk"),
}

# Words that join or pad a reply without choosing anything: "2 and 3", "no thanks".
_FILLERS: tuple[str, ...] = ("and", "please", "thanks", "thank you", "thx", "cheers")

# Replies to a free-text question that mean "nothing to add". Compared normalised, so
# "N/A" and "n/a." are "n a".
SKIP_WORDS: frozenset[str] = frozenset(
    {"skip", "no", "nothing", "none", "n a", "na", "nope", "no thanks", "no thank you", "nothing else"}
)

_FILLER = ""  # table value of a filler phrase; no option key is empty

Phrase = tuple[str, ...]


def _phrase(text: str) -> Phrase:
    return tuple(words(text))


def _explicit_phrases(question: Question) -> tuple[dict[Phrase, str], list[str]]:
    """Map each number, key, label and extra word to its option key, and list clashes."""
    table: dict[Phrase, str] = {}
    clashes: list[str] = []
    for number, option in enumerate(question.options, start=1):
        # A key reads as words too: "in_person" normalises to "in person".
        for raw in (str(number), option.key, option.label, *option.words):
            phrase = _phrase(raw)
            if not phrase:
                continue
            owner = table.setdefault(phrase, option.key)
            if owner != option.key:
                clash = f"{' '.join(phrase)!r} would pick both {owner!r} and {option.key!r}"
                if clash not in clashes:
                    clashes.append(clash)
    return table, clashes


def ambiguous_phrases(question: Question) -> list[str]:
    """Describe each reply that would pick more than one option of `question` (for the loader)."""
    return _explicit_phrases(question)[1]


def _phrase_table(question: Question) -> dict[Phrase, str]:
    table, _ = _explicit_phrases(question)
    # Synonyms and fillers come last, so a set's own labels and words win over them.
    for option in question.options:
        label = " ".join(_phrase(option.label))
        for answer, synonyms in SYNONYMS.items():
            if option.key == answer or label == answer.replace("_", " "):
                for synonym in synonyms:
                    table.setdefault(_phrase(synonym), option.key)
    for filler in _FILLERS:
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


def parse_options(text: str, question: Question) -> tuple[str, ...] | None:
    """Return the option keys `text` picks, in question order, or None if it is not a valid answer."""
    if question.kind is QuestionKind.TEXT or not question.options:
        return None
    keys = _match(words(text), _phrase_table(question))
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
