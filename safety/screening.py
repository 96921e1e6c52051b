"""Screen every inbound text for the exit word, codeword and PIN, and vet the secrets chosen."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from safety.lexicon import ALL_ANSWER_WORDS, ALL_COMMAND_WORDS, ALL_LANGUAGE_WORDS
from safety.model import Hasher, PinResult, Screening, SurvivorSecrets
from safety.normalise import normalise

MAX_SECRET_WORDS = 4
MAX_SECRET_CHARS = 40
MAX_SCREEN_WORDS = 2000
PIN_LENGTHS = range(4, 9)

# Carrier opt-out/in keywords: an exit word or codeword equal to one of these would make the
# carrier unsubscribe (or resubscribe) the survivor. Then the bot's own commands.
# fmt: off
# The carriers' opt-out words: always a withdrawal of consent, never a secret.
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
CARRIER_KEYWORDS = OPT_OUT_WORDS | {"start", "yes", "no", "help", "info", "unstop"}
BOT_COMMANDS = frozenset({"pause", "resume", "withdraw", "language", "skip"})
# Ordinary answers: an exit word of "maybe" would end the chat on an honest reply.
ANSWER_WORDS = frozenset({
    "y", "n", "ok", "okay", "yeah", "yep", "yup", "nope", "nah", "sure", "maybe", "none", "nothing", "later",
    "not now", "not sure", "unsure", "a lot", "a little", "fine", "thanks", "thank you", "idk", "dont know",
})
# Every language's answers and commands too: an exit word of "nie" or "ਨਹੀਂ" would end the chat
# on an honest answer, one of "iaith" would hide the LANGUAGE command.
RESERVED_WORDS = (
    CARRIER_KEYWORDS | BOT_COMMANDS | ANSWER_WORDS | ALL_ANSWER_WORDS | ALL_COMMAND_WORDS | ALL_LANGUAGE_WORDS
)

# Words that make a message a command, in any language: no secret may be one or start with one.
COMMAND_WORDS = OPT_OUT_WORDS | BOT_COMMANDS | ALL_COMMAND_WORDS | {"start", "unstop", "help", "info"}

SECRET_KINDS = frozenset({"exit_word", "codeword"})


def _same(digest: bytes, stored: bytes | None) -> bool:
    # Timing-safe, because a digest is a stand-in for the secret itself.
    return stored is not None and hmac.compare_digest(digest, stored)


def screen(text: str, secrets: SurvivorSecrets, hasher: Hasher) -> Screening:
    """Say whether `text` is the exit word, whether it holds a codeword anywhere, and whether it is a PIN."""
    folded = normalise(text)
    quick_exit = bool(folded) and secrets.exit_word is not None and _same(hasher(folded), secrets.exit_word)
    pin = (secrets.pin is not None or secrets.duress_pin is not None) and check_pin(
        text, secrets, hasher
    ) is not PinResult.WRONG
    return Screening(quick_exit=quick_exit, codeword=_holds_codeword(folded, secrets, hasher), pin=pin)


def _holds_codeword(folded: str, secrets: SurvivorSecrets, hasher: Hasher) -> bool:
    if not secrets.codewords:
        return False
    # maxsplit bounds the list as well as the loop for a hostile, very long message.
    tokens = folded.split(" ", MAX_SCREEN_WORDS)[:MAX_SCREEN_WORDS] if folded else []
    phrases = {
        " ".join(tokens[start : start + size])
        for size in range(1, MAX_SECRET_WORDS + 1)
        for start in range(len(tokens) - size + 1)
    }
    return any(hasher(phrase) in secrets.codewords for phrase in phrases)


def without_codeword(text: str, secrets: SurvivorSecrets, hasher: Hasher) -> str:
    """The message's words with every codeword occurrence taken out, so the answer around it can be read."""
    tokens = normalise(text).split()[:MAX_SCREEN_WORDS]
    kept: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(MAX_SECRET_WORDS, 0, -1):
            phrase = " ".join(tokens[i : i + size])
            if len(tokens) - i >= size and hasher(phrase) in secrets.codewords:
                i += size
                break
        else:
            kept.append(tokens[i])
            i += 1
    return " ".join(kept)


def _pin_digits(text: str) -> str:
    return normalise(text).replace(" ", "")


def _is_ascii_digits(text: str) -> bool:
    return bool(text) and text.isascii() and text.isdigit()


def check_pin(text: str, secrets: SurvivorSecrets, hasher: Hasher) -> PinResult:
    """Check a PIN reply: CORRECT, DURESS (looks correct, alerts silently) or WRONG."""
    digits = _pin_digits(text)
    if not _is_ascii_digits(digits):
        return PinResult.WRONG
    digest = hasher(digits)
    # Compare with both before deciding, so the answer time does not tell which one matched;
    # duress wins if both match, as the safer reading.
    duress = _same(digest, secrets.duress_pin)
    correct = _same(digest, secrets.pin)
    if duress:
        return PinResult.DURESS
    return PinResult.CORRECT if correct else PinResult.WRONG


def secret_digest(phrase: str, hasher: Hasher) -> bytes:
    """Return the digest to store for an exit word or codeword, as `screen` will compare it."""
    return hasher(normalise(phrase))


def pin_digest(pin: str, hasher: Hasher) -> bytes:
    """Return the digest to store for a PIN or duress PIN, as `check_pin` will compare it."""
    return hasher(_pin_digits(pin))


def _matches_any(digest: bytes, other_digests: Iterable[bytes]) -> bool:
    return any(hmac.compare_digest(digest, other) for other in other_digests)


def _starts_with_command(folded: str) -> bool:
    """ "pause 4", "help me", "3 دن کا وقفہ": a phrase a survivor may send as a command, or one that opens
    (or, for the languages that put it last, closes) with a command word."""
    return any(
        folded == word or folded.startswith(word + " ") or folded.endswith(" " + word) for word in COMMAND_WORDS
    )


def secret_problem(phrase: str, kind: str, other_digests: Iterable[bytes], hasher: Hasher) -> str | None:
    """Return why `phrase` cannot be an exit word or codeword (a reason code), or None if fine.

    Codes: "empty", "too_long", "reserved", "command", "same_as_other".
    """
    if kind not in SECRET_KINDS:
        raise ValueError(f"unknown secret kind {kind!r} (use exit_word or codeword)")
    folded = normalise(phrase)
    if not folded:
        return "empty"
    if len(folded.split()) > MAX_SECRET_WORDS or len(folded) > MAX_SECRET_CHARS:
        return "too_long"
    # Digits-only phrases would collide with PINs and numbered answers.
    if folded in RESERVED_WORDS or folded.replace(" ", "").isdigit():
        return "reserved"
    # A codeword "pause 4" would raise an urgent alert each time she pauses for four days.
    if _starts_with_command(folded):
        return "command"
    if _matches_any(hasher(folded), other_digests):
        return "same_as_other"
    return None


def pin_problem(pin: str, other_digests: Iterable[bytes], hasher: Hasher) -> str | None:
    """Return why `pin` cannot be a PIN (a reason code), or None if fine.

    Codes: "not_digits", "length" (4 to 8 digits), "same_as_other".
    """
    digits = _pin_digits(pin)
    if not _is_ascii_digits(digits):
        return "not_digits"
    if len(digits) not in PIN_LENGTHS:
        return "length"
    if _matches_any(hasher(digits), other_digests):
        return "same_as_other"
    return None
