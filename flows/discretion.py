"""The over-the-shoulder lint: words that must never appear in a message's first line."""

from __future__ import annotations

from safety.normalise import words

# A phone's lock screen shows a message's first line to whoever holds the phone, so it must
# not reveal a domestic-abuse service. Matched as whole normalised words: "safely" or
# "Harmony" are fine, "Safe" and "SAFE!" are not.
BANNED_WORDS: frozenset[str] = frozenset(
    {
        "abuse",
        "abuser",
        "abusive",
        "domestic",
        "violence",
        "violent",
        "idva",
        "adviser",
        "advisor",
        "refuge",
        "police",
        "safe",
        "safety",
        "afraid",
        "fear",
        "danger",
        "victim",
        "survivor",
        "perpetrator",
        "marac",
        "dash",
        "assault",
        "rape",
        "harm",
        "hurt",
        "threat",
        "threats",
        "kill",
        "choking",
        "strangling",
        "weapon",
        "court",
        "bail",
        "injunction",
        "safecheck",  # the product's own name gives the service away
    }
)


def first_line(text: str) -> str:
    """Return the line a notification preview shows: the first line that is not blank."""
    # Previews skip leading blank lines, so "\nAre you safe?" shows the question itself.
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def first_line_problems(text: str) -> list[str]:
    """Name each banned word found in the first line of `text` (empty when it is discreet)."""
    found: list[str] = []
    for word in words(first_line(text)):
        if word in BANNED_WORDS and word not in found:
            found.append(word)
    return [f"first line contains {word!r}, which a phone's notification preview shows" for word in found]
