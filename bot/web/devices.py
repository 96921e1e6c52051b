"""Devices a person has signed in from, remembered so that a stranger's failed logins cannot keep them out.

Throttling slows guessing at a login name, but if every attempt at that name shares one delay, anyone who
knows a duty worker's login name can keep her waiting for as long as they keep failing (OWASP, "Slow Down
Online Guessing Attacks with Device Cookies"). After a full sign-in her browser gets a device cookie: a
keyed hash of her id, a random nonce, when it was given and when her password was last set. Attempts
carrying a valid one count against that device's own delay; all others share the login name's. A new
password or a reset changes that time, so every device cookie she had stops counting; re-hashing the same
password with stronger parameters does not (anyone knowing only the password could otherwise trigger it).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from aiohttp import web

from storage.crypto import Crypto

COOKIE = "__Host-safecheck-device"
LIFETIME = timedelta(days=180)


def remember(
    response: web.StreamResponse, crypto: Crypto, practitioner_id: int, password_set: str, now: datetime
) -> None:
    """Give this browser a device cookie, after a full sign-in."""
    issued, nonce = str(int(now.timestamp())), secrets.token_urlsafe(16)
    value = ".".join((str(practitioner_id), issued, nonce, _mac(crypto, practitioner_id, issued, nonce, password_set)))
    max_age = int(LIFETIME.total_seconds())
    response.set_cookie(COOKIE, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="Strict")


def throttle_key(
    request: web.Request, crypto: Crypto, practitioner_id: int, password_set: str, shared: bytes, now: datetime
) -> bytes:
    """Whose delay this login attempt counts against: the device's own, if it carries a valid device cookie of
    this person; else `shared`, the login name's, which every other device shares."""
    parts = request.cookies.get(COOKIE, "").split(".")
    if len(parts) != 4:
        return shared
    pid, issued, nonce, mac = parts
    if pid != str(practitioner_id) or not (issued.isascii() and issued.isdigit()) or len(issued) > 12:
        return shared
    if not 0 <= now.timestamp() - int(issued) <= LIFETIME.total_seconds():  # seconds: no date past 9999 to raise
        return shared
    if not hmac.compare_digest(mac, _mac(crypto, practitioner_id, issued, nonce, password_set)):
        return shared
    return crypto.lookup_hash("login-device", f"{practitioner_id}:{nonce}")


def _mac(crypto: Crypto, practitioner_id: int, issued: str, nonce: str, password_set: str) -> str:
    return crypto.lookup_hash("device", f"{practitioner_id}:{issued}:{nonce}:{password_set}").hex()
