"""Passwords (argon2id, off the event loop) and TOTP codes (each usable once)."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults (RFC 9106 low-memory: t=3, m=64 MiB, p=4) are above OWASP's minimum (t=2, m=19 MiB).
HASHER = PasswordHasher()
MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON = frozenset(
    {"password1234", "passwordpassword", "123456789012", "qwertyuiopas", "safecheck123", "letmeinletmein"}
)


def password_problem(password: str, again: str, login: str) -> str | None:
    """Why a new password cannot be used (one line), or None."""
    if password != again:
        return "The two passwords do not match."
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters: a few words together make a good password."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if login and login.strip().lower() in password.lower():
        return "The password must not contain your login name."
    if password.lower() in COMMON or len(set(password)) < 4:
        return "That password is too easy to guess."
    return None


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, HASHER.hash, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash("an account that does not exist")


async def check_password(stored: str | None, password: str) -> bool:
    """Whether the password matches; an unknown account costs the same time, so timing tells nothing."""
    loop = asyncio.get_running_loop()
    if stored is None:
        await loop.run_in_executor(None, _verify, _dummy_hash(), password)
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
