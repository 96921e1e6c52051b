"""The rules for the secrets a survivor chooses, one per secret, shared by onboarding and the in-person screen.

Onboarding asks for them one at a time over her channel; the in-person screen takes all four at once on
the practitioner's device. Both call these functions, so a rule added here holds in both places.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from safety.model import Hasher
from safety.normalise import normalise
from safety.screening import pin_digest, pin_problem, secret_digest, secret_problem


def exit_word_problem(phrase: str, hasher: Hasher) -> str | None:
    """Why `phrase` cannot be her exit word (a reason code of `secret_problem`), or None."""
    return secret_problem(normalise(phrase), "exit_word", (), hasher)


def codeword_problem(phrase: str, exit_word: bytes | None, hasher: Hasher) -> str | None:
    """Why `phrase` cannot be her codeword: the exit word's rules, and not the exit word itself."""
    return secret_problem(normalise(phrase), "codeword", (exit_word,) if exit_word else (), hasher)


def pin_text(text: str) -> str:
    """A PIN as typed, without spaces ("24 68" is 2468)."""
    return "".join(normalise(text).split())


def first_pin_problem(pin: str, hasher: Hasher) -> str | None:
    """Why `pin` cannot be her PIN (a reason code of `pin_problem`), or None."""
    return pin_problem(pin_text(pin), (), hasher)


def duress_pin_problem(pin: str, first_pin: bytes | None, hasher: Hasher) -> str | None:
    """Why `pin` cannot be her duress PIN: the PIN's rules, and not the PIN itself."""
    return pin_problem(pin_text(pin), (first_pin,) if first_pin else (), hasher)


@dataclass(frozen=True)
class ChosenSecrets:
    """The digests to store, computed exactly as onboarding's `SecretChosen` handler does."""

    exit_word: bytes
    codeword: bytes
    pin: bytes | None
    duress_pin: bytes | None


# Each field of the in-person form: typed twice.
FIELDS = ("exit_word", "codeword", "pin", "duress_pin")


def vet_in_person(
    first: Mapping[str, str], second: Mapping[str, str], hasher: Hasher
) -> tuple[ChosenSecrets | None, dict[str, str]]:
    """Check all four secrets typed twice in person; return the digests, or the problems by field.

    Problem codes are those of `secret_problem` and `pin_problem`, plus "mismatch" (the two entries
    differ), "empty" (a word left blank) and "needs_pin" (a duress PIN without a PIN). The exit word
    and codeword are required; the PINs are optional, as at onboarding.
    """
    problems: dict[str, str] = {}
    for name in FIELDS:
        a, b = first.get(name, ""), second.get(name, "")
        same = pin_text(a) == pin_text(b) if name in ("pin", "duress_pin") else normalise(a) == normalise(b)
        if not same:
            problems[name] = "mismatch"
    exit_text, code_text = first.get("exit_word", ""), first.get("codeword", "")
    pin, duress = pin_text(first.get("pin", "")), pin_text(first.get("duress_pin", ""))
    exit_digest = secret_digest(exit_text, hasher)
    checks = {
        "exit_word": exit_word_problem(exit_text, hasher),
        "codeword": codeword_problem(code_text, exit_digest, hasher),
        "pin": first_pin_problem(pin, hasher) if pin else None,
        "duress_pin": (duress_pin_problem(duress, pin_digest(pin, hasher), hasher) if pin else "needs_pin")
        if duress
        else None,
    }
    for name, problem in checks.items():
        if problem is not None:
            problems.setdefault(name, problem)
    if problems:
        return None, problems
    return (
        ChosenSecrets(
            exit_word=exit_digest,
            codeword=secret_digest(code_text, hasher),
            pin=pin_digest(pin, hasher) if pin else None,
            duress_pin=pin_digest(duress, hasher) if duress else None,
        ),
        {},
    )
