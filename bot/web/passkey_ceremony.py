"""WebAuthn ceremonies for passkeys as a second factor: options out, responses checked (library `webauthn`).

No aiohttp and no database here: the page module keeps the challenge in the session row and the
credentials in storage.webauthn_creds, and passes them in. Every failure is `PasskeyRejected`, with a
short reason for the audit log (never shown raw to the person, never containing key material).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

CHALLENGE_TTL = timedelta(minutes=3)  # the browser is told a little less, so its prompt closes first
BROWSER_TIMEOUT_MS = 150_000
MAX_RESPONSE_CHARS = 16_000  # a real response is ~1-2 KB; anything far larger is not one
# ES256 and EdDSA cover platform and roaming authenticators; RS256 is for Windows Hello.
ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
# What malformed client JSON can raise inside the library (deep nesting: RecursionError).
_BAD_INPUT = (WebAuthnException, ValueError, KeyError, TypeError, AttributeError, RecursionError)
REGISTER = "register"
LOGIN = "login"


class PasskeyRejected(Exception):
    """A passkey response that does not prove what it should (the reason goes to the audit log)."""


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host name the workspace is served on, never an IP address
    origin: str  # scheme://host[:port] exactly as the browser reports it
    name: str = "Safecheck"


@dataclass(frozen=True)
class Pending:
    """A challenge waiting for its answer: what it is for and until when (kept in the session row)."""

    purpose: str
    challenge: bytes
    expires_at: datetime

    def encode(self) -> str:
        return f"{self.purpose} {self.expires_at.isoformat()} {bytes_to_base64url(self.challenge)}"

    @staticmethod
    def decode(text: str) -> Pending | None:
        try:
            purpose, expires, challenge = text.split(" ")
            return Pending(purpose, base64url_to_bytes(challenge), datetime.fromisoformat(expires))
        except ValueError:
            return None


def new_pending(purpose: str, now: datetime) -> Pending:
    return Pending(purpose, secrets.token_bytes(32), now + CHALLENGE_TTL)


def check_pending(stored: str | None, purpose: str, now: datetime) -> bytes:
    """The challenge to verify against, if the stored one is for this purpose and still fresh."""
    pending = Pending.decode(stored) if stored else None
    if pending is None:
        raise PasskeyRejected("no pending challenge")
    if pending.purpose != purpose:
        raise PasskeyRejected("challenge for another purpose")
    if now >= pending.expires_at:
        raise PasskeyRejected("challenge expired")
    return pending.challenge


@dataclass(frozen=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes
    sign_count: int


def registration_options(
    rp: RelyingParty, user_handle: bytes, user_name: str, existing: list[bytes], pending: Pending
) -> str:
    """JSON for navigator.credentials.create(); `existing` stops one authenticator being added twice."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=user_name,
        challenge=pending.challenge,
        timeout=BROWSER_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in existing],
        supported_pub_key_algs=ALGORITHMS,
    )
    return str(options_to_json(options))


def verify_registration(rp: RelyingParty, response: str, challenge: bytes) -> NewCredential:
    """The new credential, if the response answers this challenge from this origin and relying party."""
    _check_size(response)
    try:
        verified = verify_registration_response(
            credential=response,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            supported_pub_key_algs=ALGORITHMS,
        )
    except _BAD_INPUT as exc:
        raise PasskeyRejected(_reason(exc)) from None
    return NewCredential(verified.credential_id, verified.credential_public_key, verified.sign_count)


def authentication_options(rp: RelyingParty, allowed: list[bytes], pending: Pending) -> str:
    """JSON for navigator.credentials.get(), limited to this person's credentials."""
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=pending.challenge,
        timeout=BROWSER_TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=c) for c in allowed],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return str(options_to_json(options))


def credential_id_of(response: str) -> bytes:
    """The credential an assertion claims to come from (to look its key up before verifying)."""
    _check_size(response)
    try:
        raw = json.loads(response)
        return base64url_to_bytes(str(raw["rawId"]))
    except _BAD_INPUT as exc:
        raise PasskeyRejected(_reason(exc)) from None


def verify_authentication(rp: RelyingParty, response: str, challenge: bytes, public_key: bytes, sign_count: int) -> int:
    """The authenticator's new sign count, if the assertion is good; a count that did not go up is refused."""
    _check_size(response)
    try:
        verified = verify_authentication_response(
            credential=response,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
        )
    except _BAD_INPUT as exc:
        raise PasskeyRejected(_reason(exc)) from None
    return int(verified.new_sign_count)


def _check_size(response: str) -> None:
    if not response or len(response) > MAX_RESPONSE_CHARS:
        raise PasskeyRejected("response empty or too large")


def _reason(exc: Exception) -> str:
    """A short, fixed-vocabulary reason: the library's messages can quote the client's data."""
    text = str(exc).lower()
    for needle, reason in (
        ("origin", "wrong origin"),
        ("challenge", "wrong challenge"),
        ("rp id", "wrong relying party"),
        ("sign count", "sign count did not increase"),
        ("signature", "bad signature"),
        ("user was not present", "user not present"),
    ):
        if needle in text:
            return reason
    return f"malformed response ({type(exc).__name__})"
