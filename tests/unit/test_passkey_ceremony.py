"""WebAuthn ceremonies checked against a software authenticator with a real ES256 key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.web.passkey_ceremony import (
    LOGIN,
    REGISTER,
    PasskeyRejected,
    RelyingParty,
    authentication_options,
    check_pending,
    credential_id_of,
    new_pending,
    registration_options,
    verify_authentication,
    verify_registration,
)
from tests.fakes.authenticator import SoftAuthenticator

RP = RelyingParty(id="localhost", origin="http://localhost:8080")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HANDLE = b"\x01" * 32


def _register(device: SoftAuthenticator, **kw: str) -> tuple[bytes, bytes, int]:
    pending = new_pending(REGISTER, NOW)
    options = json.loads(registration_options(RP, HANDLE, "ida", [], pending))
    made = verify_registration(RP, device.create(options, **kw), pending.challenge)
    return made.credential_id, made.public_key, made.sign_count


def _assert(device: SoftAuthenticator, cred: bytes, **kw: object) -> tuple[str, bytes]:
    pending = new_pending(LOGIN, NOW)
    options = json.loads(authentication_options(RP, [cred], pending))
    return device.get(options, **kw), pending.challenge  # type: ignore[arg-type]


def test_registration_options_name_the_relying_party_and_exclude_known_credentials() -> None:
    pending = new_pending(REGISTER, NOW)
    options = json.loads(registration_options(RP, HANDLE, "ida", [b"old-credential"], pending))
    assert options["rp"] == {"name": "Safecheck", "id": "localhost"}
    assert [c["id"] for c in options["excludeCredentials"]] == ["b2xkLWNyZWRlbnRpYWw"]
    assert options["attestation"] == "none"


def test_a_software_passkey_registers_and_then_signs_in() -> None:
    device = SoftAuthenticator()
    cred, key, count = _register(device)
    assert cred == device.credential_id and count == 0
    response, challenge = _assert(device, cred)
    assert credential_id_of(response) == cred
    assert verify_authentication(RP, response, challenge, key, count) == 1


def test_registration_from_another_origin_is_refused() -> None:
    with pytest.raises(PasskeyRejected, match="wrong origin"):
        _register(SoftAuthenticator(), origin="http://evil.example:8080")


def test_registration_for_another_relying_party_is_refused() -> None:
    with pytest.raises(PasskeyRejected, match="wrong relying party"):
        _register(SoftAuthenticator(), rp_id="evil.example")


def test_an_assertion_from_another_origin_is_refused() -> None:
    device = SoftAuthenticator()
    cred, key, count = _register(device)
    response, challenge = _assert(device, cred, origin="https://localhost.evil.example")
    with pytest.raises(PasskeyRejected, match="wrong origin"):
        verify_authentication(RP, response, challenge, key, count)


def test_an_assertion_for_another_challenge_is_refused() -> None:
    device = SoftAuthenticator()
    cred, key, count = _register(device)
    response, _ = _assert(device, cred)
    with pytest.raises(PasskeyRejected, match="wrong challenge"):
        verify_authentication(RP, response, new_pending(LOGIN, NOW).challenge, key, count)


def test_a_sign_count_that_goes_backwards_is_refused() -> None:
    device = SoftAuthenticator()
    cred, key, _ = _register(device)
    response, challenge = _assert(device, cred, sign_count=4)
    with pytest.raises(PasskeyRejected, match="sign count"):
        verify_authentication(RP, response, challenge, key, 5)


def test_an_assertion_signed_by_another_key_is_refused() -> None:
    device = SoftAuthenticator()
    cred, _, count = _register(device)
    _, other_key, _ = _register(SoftAuthenticator())
    response, challenge = _assert(device, cred)
    with pytest.raises(PasskeyRejected, match="bad signature"):
        verify_authentication(RP, response, challenge, other_key, count)


@pytest.mark.parametrize("junk", ["", "{", "[]", '{"id": 1}', "[" * 15_000, "x" * 20_000])
def test_junk_is_refused_without_a_traceback(junk: str) -> None:
    with pytest.raises(PasskeyRejected):
        verify_registration(RP, junk, b"c" * 32)
    with pytest.raises(PasskeyRejected):
        verify_authentication(RP, junk, b"c" * 32, b"k", 0)
    with pytest.raises(PasskeyRejected):
        credential_id_of(junk)


def test_a_pending_challenge_works_only_for_its_purpose_and_until_it_expires() -> None:
    pending = new_pending(LOGIN, NOW)
    stored = pending.encode()
    assert check_pending(stored, LOGIN, NOW + timedelta(minutes=2)) == pending.challenge
    with pytest.raises(PasskeyRejected, match="expired"):
        check_pending(stored, LOGIN, pending.expires_at)
    with pytest.raises(PasskeyRejected, match="another purpose"):
        check_pending(stored, REGISTER, NOW)
    with pytest.raises(PasskeyRejected, match="no pending"):
        check_pending(None, LOGIN, NOW)
    with pytest.raises(PasskeyRejected, match="no pending"):
        check_pending("garbage", LOGIN, NOW)
