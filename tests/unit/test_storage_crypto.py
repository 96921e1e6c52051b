"""Behaviour of encryption at rest, keyed hashes, random codes and key loading."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.crypto import (
    CODE_ALPHABET,
    NONCE_BYTES,
    Crypto,
    DecryptError,
    Field,
    new_activation_code,
    new_case_ref,
    new_case_salt,
)
from storage.keys import (
    KeyConfigError,
    KeyMaterial,
    create_key_file,
    dumps,
    generate,
    load_keys,
    loads,
    rotate,
    without_old_keys,
)

ADDRESS = b"case.address"


@pytest.fixture
def keys() -> KeyMaterial:
    return generate()


@pytest.fixture
def crypto(keys: KeyMaterial) -> Crypto:
    return Crypto(keys)


def _header_len(blob: bytes) -> int:
    return 2 + blob[1]


def _key_id(blob: bytes) -> str:
    return blob[2 : _header_len(blob)].decode("ascii")


def _serialised(**overrides: object) -> str:
    data: dict[str, object] = json.loads(dumps(generate()))
    data.update(overrides)
    return json.dumps(data)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# --- encryption -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plaintext",
    [
        "",
        "I'm OK, he's out till 6",
        "safe now 👍🏽 🏳️‍🌈",
        "أنا بخير، شكراً",
        "אני בסדר",
        "Ich bin sicher — ça va 😊 " * 64,
        "x" * 1600,
        "lone surrogate \ud800 from a provider payload",
    ],
)
def test_text_round_trips_through_encryption(crypto: Crypto, plaintext: str) -> None:
    assert crypto.decrypt(crypto.encrypt(plaintext, ADDRESS), ADDRESS) == plaintext


def test_1600_character_message_round_trips(crypto: Crypto) -> None:
    message = ("Not safe to talk. Call after 3. " * 60)[:1600]
    assert len(message) == 1600
    assert crypto.decrypt(crypto.encrypt(message, b"message.text"), b"message.text") == message


def test_ciphertext_does_not_contain_the_plaintext(crypto: Crypto) -> None:
    blob = crypto.encrypt("+447700900123", ADDRESS)
    assert b"447700900123" not in blob


def test_blob_starts_with_format_version_and_current_key_id(crypto: Crypto, keys: KeyMaterial) -> None:
    blob = crypto.encrypt("hello", ADDRESS)
    assert blob[0] == 1
    assert _key_id(blob) == keys.current
    assert len(blob) == _header_len(blob) + NONCE_BYTES + len("hello") + 16


def test_same_value_encrypted_1000_times_gives_1000_different_blobs_and_nonces(crypto: Crypto) -> None:
    blobs = [crypto.encrypt("same value", ADDRESS) for _ in range(1000)]
    assert len(set(blobs)) == 1000
    start = _header_len(blobs[0])
    assert len({blob[start : start + NONCE_BYTES] for blob in blobs}) == 1000


def test_value_decrypted_under_another_context_fails(crypto: Crypto) -> None:
    blob = crypto.encrypt("+447700900123", ADDRESS)
    with pytest.raises(DecryptError, match="another column"):
        crypto.decrypt(blob, b"case.name")


def test_any_changed_byte_makes_decryption_fail(crypto: Crypto) -> None:
    blob = crypto.encrypt("meet at the library", ADDRESS)
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(DecryptError):
            crypto.decrypt(bytes(tampered), ADDRESS)


@pytest.mark.parametrize("cut", [0, 1, 2, 5, 20])
def test_truncated_value_fails_to_decrypt(crypto: Crypto, cut: int) -> None:
    blob = crypto.encrypt("hello", ADDRESS)
    with pytest.raises(DecryptError):
        crypto.decrypt(blob[:cut], ADDRESS)


def test_decrypt_error_is_one_line_without_plaintext_or_key(crypto: Crypto, keys: KeyMaterial) -> None:
    blob = bytearray(crypto.encrypt("Flat 2, 14 Elm Road", ADDRESS))
    blob[-1] ^= 0xFF
    with pytest.raises(DecryptError) as caught:
        crypto.decrypt(bytes(blob), ADDRESS)
    message = str(caught.value)
    assert "\n" not in message
    assert "Elm Road" not in message
    assert _b64(keys.encryption[keys.current]) not in message


def test_value_under_unknown_key_id_fails_with_clear_message(keys: KeyMaterial) -> None:
    rotated = rotate(keys)
    blob = Crypto(rotated).encrypt("hello", ADDRESS)
    with pytest.raises(DecryptError, match=f"unknown key id '{rotated.current}'"):
        Crypto(keys).decrypt(blob, ADDRESS)


def test_empty_context_is_refused(crypto: Crypto) -> None:
    with pytest.raises(ValueError, match="context"):
        crypto.encrypt("hello", b"")


def test_optional_helpers_pass_none_through(crypto: Crypto) -> None:
    assert crypto.encrypt_optional(None, ADDRESS) is None
    assert crypto.decrypt_optional(None, ADDRESS) is None
    blob = crypto.encrypt_optional("Sam", b"case.name")
    assert blob is not None
    assert crypto.decrypt_optional(blob, b"case.name") == "Sam"


# --- values bound to their rows ---------------------------------------------------------------


def test_a_value_copied_into_another_row_does_not_decrypt_there(crypto: Crypto) -> None:
    number = Field("cases", "address_enc")
    blob = crypto.encrypt("+447700900123", number.at(7))
    assert crypto.decrypt(blob, number.at(7)) == "+447700900123"
    for elsewhere in (number.at(8), Field("outbox", "address_enc").at(7), Field("cases", "name_enc").at(7)):
        with pytest.raises(DecryptError):
            crypto.decrypt(blob, elsewhere)


def test_a_field_needs_every_part_of_its_row_key() -> None:
    channel = Field("practitioner_channels", "address_enc", ("practitioner_id", "position"))
    assert channel.at(3, 0) != channel.at(3, 1) != channel.at(30, 1)
    with pytest.raises(ValueError, match="practitioner_id, position"):
        channel.at(3)


# --- key rotation -----------------------------------------------------------------------------


def test_value_encrypted_under_old_key_still_decrypts_after_rotation(keys: KeyMaterial) -> None:
    old_blob = Crypto(keys).encrypt("+447700900123", ADDRESS)
    assert Crypto(rotate(keys)).decrypt(old_blob, ADDRESS) == "+447700900123"


def test_new_values_use_the_new_key_after_rotation(keys: KeyMaterial) -> None:
    rotated = rotate(keys)
    assert rotated.current != keys.current
    assert set(rotated.encryption) == {keys.current, rotated.current}
    assert _key_id(Crypto(rotated).encrypt("hello", ADDRESS)) == rotated.current


def test_rotation_keeps_lookup_and_secrets_keys_so_blind_indexes_still_match(keys: KeyMaterial) -> None:
    rotated = rotate(keys)
    assert (rotated.lookup, rotated.secrets) == (keys.lookup, keys.secrets)
    salt = new_case_salt()
    before, after = Crypto(keys), Crypto(rotated)
    assert before.lookup_hash("sms", "+447700900123") == after.lookup_hash("sms", "+447700900123")
    assert before.secret_hasher(salt)("bluebell") == after.secret_hasher(salt)("bluebell")


def test_repeated_rotation_gives_distinct_key_ids_numbered_in_order(keys: KeyMaterial) -> None:
    km = keys
    for _ in range(3):
        km = rotate(km)
    assert len(km.encryption) == 4
    assert sorted(key_id.split("-")[0] for key_id in km.encryption) == ["k1", "k2", "k3", "k4"]
    assert km.current.startswith("k4-")


def test_no_two_installations_share_a_key_id() -> None:
    first_ids = {generate().current for _ in range(50)}
    assert len(first_ids) == 50
    assert all(re.fullmatch(r"k1-[0-9a-f]{8}", key_id) for key_id in first_ids)


def test_old_encryption_keys_can_be_retired_after_a_rotation(keys: KeyMaterial) -> None:
    rotated = rotate(keys)
    retired = without_old_keys(rotated)
    assert list(retired.encryption) == [rotated.current]
    assert (retired.current, retired.lookup, retired.secrets) == (rotated.current, keys.lookup, keys.secrets)


def test_rotation_can_replace_the_lookup_key_but_never_the_secrets_key(keys: KeyMaterial) -> None:
    rotated = rotate(keys, new_lookup=True)
    assert rotated.lookup != keys.lookup
    assert rotated.secrets == keys.secrets
    assert Crypto(rotated).lookup_hash("sms", "+447700900123") != Crypto(keys).lookup_hash("sms", "+447700900123")


def test_reencrypt_moves_an_old_value_to_the_current_key(keys: KeyMaterial) -> None:
    old_blob = Crypto(keys).encrypt("Sam", b"case.name")
    new_keys = rotate(keys)
    rotated = Crypto(new_keys)
    new_blob = rotated.reencrypt(old_blob, b"case.name")
    assert _key_id(new_blob) == new_keys.current
    assert rotated.decrypt(new_blob, b"case.name") == "Sam"


def test_reencrypt_returns_the_same_blob_when_already_under_current_key(crypto: Crypto) -> None:
    blob = crypto.encrypt("Sam", b"case.name")
    assert crypto.reencrypt(blob, b"case.name") is blob


def test_reencrypt_with_the_wrong_context_fails_even_under_current_key(crypto: Crypto) -> None:
    blob = crypto.encrypt("Sam", b"case.name")
    with pytest.raises(DecryptError):
        crypto.reencrypt(blob, ADDRESS)


# --- keyed hashes -----------------------------------------------------------------------------


def test_lookup_hash_is_stable_for_the_same_key(keys: KeyMaterial) -> None:
    first = Crypto(keys).lookup_hash("sms", "+447700900123")
    assert Crypto(keys).lookup_hash("sms", "+447700900123") == first
    assert len(first) == 32


def test_lookup_hash_separates_kinds(crypto: Crypto) -> None:
    assert crypto.lookup_hash("sms", "12345") != crypto.lookup_hash("telegram", "12345")
    assert crypto.lookup_hash("sms", "12345") != crypto.lookup_hash("simulator", "12345")


def test_lookup_hash_differs_under_a_different_key() -> None:
    assert Crypto(generate()).lookup_hash("sms", "+447700900123") != Crypto(generate()).lookup_hash(
        "sms", "+447700900123"
    )


def test_lookup_kind_with_nul_is_refused(crypto: Crypto) -> None:
    with pytest.raises(ValueError):
        crypto.lookup_hash("sms\x00x", "1")


def test_same_codeword_in_two_cases_gives_different_digests(crypto: Crypto) -> None:
    first, second = crypto.secret_hasher(new_case_salt()), crypto.secret_hasher(new_case_salt())
    assert first("bluebell") != second("bluebell")


def test_secret_hasher_is_stable_within_a_case_and_distinguishes_phrases(crypto: Crypto) -> None:
    salt = new_case_salt()
    assert crypto.secret_hasher(salt)("bluebell") == crypto.secret_hasher(salt)("bluebell")
    assert crypto.secret_hasher(salt)("bluebell") != crypto.secret_hasher(salt)("bluebells")


def test_secret_digests_do_not_use_the_lookup_key(crypto: Crypto) -> None:
    salt = new_case_salt()
    phrase = "1234"
    assert crypto.secret_hasher(salt)(phrase) != crypto.lookup_hash(salt.hex(), phrase)


def test_short_case_salt_is_refused(crypto: Crypto) -> None:
    with pytest.raises(ValueError, match="salt"):
        crypto.secret_hasher(b"short")


def test_activation_code_is_two_groups_of_four_unambiguous_characters() -> None:
    pattern = re.compile(f"[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}")
    codes = {new_activation_code() for _ in range(200)}
    assert all(pattern.fullmatch(code) for code in codes)
    assert len(codes) == 200


def test_code_alphabet_has_no_easily_confused_characters() -> None:
    assert not set("0O1IL") & set(CODE_ALPHABET)


def test_case_ref_is_c_and_five_unambiguous_characters() -> None:
    pattern = re.compile(f"C-[{CODE_ALPHABET}]{{5}}")
    assert all(pattern.fullmatch(new_case_ref()) for _ in range(200))


# --- key material -----------------------------------------------------------------------------


def test_dumps_round_trips_exactly(keys: KeyMaterial) -> None:
    rotated = rotate(keys)
    assert loads(dumps(rotated), "test") == rotated


def test_key_material_repr_shows_ids_but_no_key_bytes(keys: KeyMaterial) -> None:
    text = repr(keys) + str(keys)
    assert "k1" in text
    for key in (*keys.encryption.values(), keys.lookup, keys.secrets):
        assert _b64(key) not in text
        assert repr(key) not in text


def test_generated_keys_are_32_bytes_and_all_different(keys: KeyMaterial) -> None:
    every_key = [*keys.encryption.values(), keys.lookup, keys.secrets]
    assert all(len(key) == 32 for key in every_key)
    assert len(set(every_key)) == 3


def test_encryption_keys_cannot_be_changed_after_construction() -> None:
    source = {"k1": os.urandom(32)}
    km = KeyMaterial(current="k1", encryption=source, lookup=os.urandom(32), secrets=os.urandom(32))
    source["k1"] = os.urandom(32)
    assert km.encryption["k1"] != source["k1"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "is not a JSON object"),
        (_serialised(lookup=_b64(os.urandom(24))), "lookup key of 24 bytes, expected 32"),
        (_serialised(encryption={"k1": _b64(os.urandom(16))}), "'k1' of 16 bytes, expected 32"),
        (_serialised(current="k9"), "current key 'k9', which is not among its encryption keys"),
        (_serialised(lookup="not base64!"), "lookup key that is not valid base64"),
        (_serialised(version=2), "version 2"),
        (_serialised(version=True), "version True"),
        (_serialised(encryption={"bad id!": _b64(os.urandom(32))}, current="bad id!"), "key id 'bad id!'"),
        (_serialised(encryption={}), "has no encryption keys"),
        (json.dumps({"version": 1}), "has no current, encryption, lookup, secrets"),
        (_serialised(extra=1), "unexpected field extra"),
    ],
)
def test_loads_error_is_one_line_naming_source_and_problem(text: str, problem: str) -> None:
    with pytest.raises(KeyConfigError) as caught:
        loads(text, "SAFECHECK_KEY")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("SAFECHECK_KEY ")
    assert problem in message


def test_loads_refuses_the_same_key_used_twice() -> None:
    same = _b64(os.urandom(32))
    with pytest.raises(KeyConfigError, match="same key for two purposes"):
        loads(_serialised(lookup=same, secrets=same), "key file k.json")


def test_bad_json_error_does_not_echo_the_text() -> None:
    secret = _b64(os.urandom(32))
    with pytest.raises(KeyConfigError) as caught:
        loads('{"lookup": "' + secret + '" oops', "SAFECHECK_KEY")
    assert secret not in str(caught.value)


# --- key file ---------------------------------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    # Shows the file is private from creation, not thanks to a cautious umask.
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("permissive_umask")
def test_key_file_is_created_readable_by_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "safecheck.key"
    km = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert loads(path.read_text(), "test") == km


def test_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "safecheck.key"
    create_key_file(path)
    original = path.read_bytes()
    with pytest.raises(KeyConfigError, match="already exists") as caught:
        create_key_file(path)
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == original


def test_key_file_in_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="does not exist"):
        create_key_file(tmp_path / "missing" / "safecheck.key")


def test_load_keys_prefers_the_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "safecheck.key"
    create_key_file(path)
    from_env = generate()
    assert load_keys({"SAFECHECK_KEY": dumps(from_env)}, path) == from_env


def test_load_keys_uses_env_var_even_without_a_key_file(tmp_path: Path) -> None:
    from_env = generate()
    assert load_keys({"SAFECHECK_KEY": dumps(from_env)}, tmp_path / "absent.key") == from_env


def test_load_keys_reads_the_key_file_when_no_env_var(tmp_path: Path) -> None:
    path = tmp_path / "safecheck.key"
    km = create_key_file(path)
    assert load_keys({}, path) == km


def test_missing_key_file_tells_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="safecheck init") as caught:
        load_keys({}, tmp_path / "absent.key")
    assert "\n" not in str(caught.value)


def test_key_file_readable_by_others_is_rejected_with_chmod_hint(tmp_path: Path) -> None:
    path = tmp_path / "safecheck.key"
    create_key_file(path)
    path.chmod(0o644)
    with pytest.raises(KeyConfigError, match=r"mode 0644.*chmod 600") as caught:
        load_keys({}, path)
    assert "\n" not in str(caught.value)


def test_bad_env_var_error_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match=r"^SAFECHECK_KEY is not valid JSON"):
        load_keys({"SAFECHECK_KEY": "not json"}, tmp_path / "absent.key")


def test_corrupt_key_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "safecheck.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("{}")
    with pytest.raises(KeyConfigError, match=f"^key file {re.escape(str(path))} has no"):
        load_keys({}, path)
