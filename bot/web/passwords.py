"""Passwords (argon2id, off the event loop; new ones checked for guessability by zxcvbn) and TOTP codes.

New passwords (ASVS 5.0 6.2): 12 to 256 characters, not containing the login name, and scored at least
MIN_SCORE by zxcvbn, whose 30,000 common passwords, English words, names and keyboard, repeat, sequence,
date and l33t patterns stand in for a breached-password list (none can be fetched offline). TOTP codes are
each usable once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from bot.web.words import _

# argon2-cffi's defaults (RFC 9106 low-memory: t=3, m=64 MiB, p=4) are above OWASP's minimum (t=2, m=19 MiB).
HASHER = PasswordHasher()
MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn's "safely unguessable" (about 10^8 guesses and more); 0-2 are refused
# zxcvbn's cost grows with the square of the length (and with the l33t look-alikes present): a random
# 256-character password took over 9 s, 64 characters 0.3 s. Only the first SCORED characters are scored;
# a longer password whose first 64 are guessable is refused all the same.
SCORED = 64
# One worker: zxcvbn keeps the user inputs in a module-level dictionary (two threads at once would mix
# them up), and a slow check holds neither the event loop nor the executor that hashes sign-ins.
_SCORER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zxcvbn")
_WORDS = re.compile(r"[^\W_]+")


async def password_problem(password: str, again: str, login: str, known: Iterable[str] = ()) -> str | None:
    """Why a new password cannot be used (one line), or None. `known`: words about the person and the
    service (their name, the service's name and slug) that make a password easy to guess for those who know them."""
    if password != again:
        return _("The two passwords do not match.")
    if len(password) < MIN_LENGTH:
        return _("Use at least {n} characters: a few words together make a good password.").format(n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most {n} characters.").format(n=MAX_LENGTH)
    if login and login.strip().lower() in password.lower():
        return _("The password must not contain your login name.")
    inputs = _user_inputs([login, *known, "safecheck"])
    return await asyncio.get_running_loop().run_in_executor(_SCORER, _guessable, password, inputs)


def _user_inputs(given: Iterable[str]) -> list[str]:
    """Each phrase whole and word by word ("Nia Hussain" also as "nia" and "hussain"), lower case."""
    found: list[str] = []
    for phrase in given:
        for piece in [phrase.strip(), *_WORDS.findall(phrase)]:
            if len(piece) > 2 and piece.lower() not in found:
                found.append(piece.lower())
    return found


def _guessable(password: str, inputs: list[str]) -> str | None:
    result: dict[str, Any] = zxcvbn(password[:SCORED], user_inputs=inputs, max_length=SCORED)
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    hint = feedback["warning"] or next(iter(feedback["suggestions"]), "") or _("Add a few uncommon words.")
    return _("That password is too easy to guess. {hint}").format(hint=hint)


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, HASHER.hash, password)


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with other parameters than HASHER's (weaker ones, before they were raised)."""
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return False


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def check_password(stored: str | None, password: str) -> bool:
    """Whether the password matches; an unknown account costs the same time, so timing tells nothing."""
    loop = asyncio.get_running_loop()
    if stored is None:  # hashing costs what verifying costs (the same parameters), from the first try on
        await loop.run_in_executor(None, HASHER.hash, password)
        return False
    return await loop.run_in_executor(None, _verify, stored, password)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, login: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=issuer)


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step the code belongs to (this one or either neighbour, for clock drift); None if wrong."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        at = now.timestamp() + drift * totp.interval
        if totp.at(at) == code:
            return int(at // totp.interval)
    return None
