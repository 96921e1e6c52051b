"""Fold survivor text to one canonical form, so secrets and answers match however they were typed."""

from __future__ import annotations

import unicodedata

# Marks that are accents or optional vowel points: dropping them is what "without accents"
# means to a reader. Marks of Indic, Thai and similar scripts are NOT listed: they spell the
# word (Hindi "कम" and "काम" differ only by one), so dropping them would make different words
# collide and a codeword fire on an ordinary reply.
_ACCENT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0300, 0x036F),  # combining diacritical marks (Latin, Greek, Cyrillic accents)
    (0x0483, 0x0489),  # Cyrillic titlo and friends
    (0x0591, 0x05C7),  # Hebrew points: vowels are optional in everyday writing
    (0x0610, 0x061A),  # Arabic honorifics and small marks
    (0x064B, 0x065F),  # Arabic harakat: optional in everyday writing
    (0x0670, 0x0670),  # Arabic superscript alef
    (0x06D6, 0x06ED),  # Arabic Quranic marks
    (0x08D3, 0x08FF),  # Arabic extended marks
    (0x180B, 0x180F),  # Mongolian variation selectors
    (0x1AB0, 0x1AFF),  # combining diacritical marks extended
    (0x1DC0, 0x1DFF),  # combining diacritical marks supplement
    (0x20D0, 0x20FF),  # combining marks for symbols (keycaps, enclosing circles)
    (0xFE00, 0xFE0F),  # variation selectors: emoji vs text presentation, not spelling
    (0xFE20, 0xFE2F),  # combining half marks
    (0xE0100, 0xE01EF),  # variation selectors supplement
)

# Letters people read as "a letter with an accent" but which Unicode does not decompose,
# so a survivor who types "lodz" for "łódź" still matches.
_STROKES = {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "ŧ": "t"}

# Arabic-script letters that an Arabic and an Urdu (or Persian) keyboard type differently for
# the same letter: yeh, alef maksura and kaf. A codeword typed on either keyboard must match.
# (Hamza and madda on alef are marks: NFKD splits them off and they are dropped as accents.)
_ARABIC_VARIANTS = {"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9", "\u06c3": "\u0629"}

# Arabic tatweel only stretches a word for looks; it is not a letter of it.
_TATWEEL = "\u0640"


def _is_accent(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _ACCENT_RANGES)


def _fold_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf" or char == _TATWEEL:
        # Zero-width and direction marks are invisible: removing (not spacing) them keeps
        # "he\u200blp" one word, as the survivor sees it.
        return ""
    if category[0] == "M":
        return "" if _is_accent(char) else char
    if category == "Nd":
        # NFKC leaves Arabic-Indic, Devanagari, Gurmukhi... digits alone; a PIN is a PIN
        # whichever keyboard typed it.
        return str(unicodedata.decimal(char))
    if category[0] in "LN":
        return _STROKES.get(char) or _ARABIC_VARIANTS.get(char, char)
    # Punctuation, symbols, emoji, controls, separators, surrogates, private use and
    # unassigned code points all separate words.
    return " "


def normalise(text: str) -> str:
    """Return `text` folded for matching: no case, accents, invisible marks or punctuation."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    # NFC afterwards so Hangul and other composed letters come back whole.
    kept = unicodedata.normalize("NFC", "".join(map(_fold_char, folded)))
    return " ".join(kept.split())


def words(text: str) -> list[str]:
    """Return the words of `text` after normalising it."""
    return normalise(text).split()
