"""Encryption at rest (AES-256-GCM), keyed hashes for lookups and secrets, and random codes."""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.keys import KeyMaterial

FORMAT_VERSION = b"\x01"
NONCE_BYTES = 12
TAG_BYTES = 16
MIN_SALT_BYTES = 16

# No 0/O, 1/I/L: codes are read aloud over the phone and typed on small screens.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Domain prefix so a code digest can never equal a per-case secret digest under the same key.
# Lone surrogates survive JSON decoding of provider payloads; a survivor's words must
# round-trip exactly rather than be lost to an encoding error.
_TEXT_ERRORS = "surrogatepass"


@dataclass(frozen=True)
class Field:
    """An encrypted column. Each value is bound to its row: the associated data names the table, the
    column and the row's key, so a value copied into another row or column does not decrypt there."""

    table: str
    column: str
    key: tuple[str, ...] = ("id",)  # the columns that identify a row (never the rowid: VACUUM may renumber it)
    legacy: bytes = b""  # the associated data of values written before schema version 7 bound them to rows

    def at(self, *row: int | str) -> bytes:
        """The associated data for this column's value in one row."""
        if len(row) != len(self.key) or any(value is None for value in row):
            raise ValueError(f"{self.table}.{self.column} needs its row's {', '.join(self.key)}")
        return f"{self.table}.{self.column}:{':'.join(str(value) for value in row)}".encode()


class DecryptError(Exception):
    """A stored value cannot be decrypted: unknown key, altered bytes, or the wrong column."""


def _text_bytes(text: str) -> bytes:
    return text.encode("utf-8", _TEXT_ERRORS)


class Crypto:
    """Encrypts values with the current key, decrypts with any known key, and computes HMACs."""

    def __init__(self, keys: KeyMaterial) -> None:
        self._current = keys.current
        self._aeads = {key_id: AESGCM(key) for key_id, key in keys.encryption.items()}
        self._lookup_key = keys.lookup
        self._secrets_key = keys.secrets

    def __repr__(self) -> str:
        return f"Crypto(current={self._current!r})"

    def encrypt(self, plaintext: str, context: bytes) -> bytes:
        """Encrypt under the current key; `context` (e.g. b"case.address") must match on decrypt."""
        if not context:
            # Without a context a value could be copied into any other column and still decrypt.
            raise ValueError("encrypt needs a non-empty context, e.g. b'case.address'")
        key_id = self._current.encode("ascii")
        # A fresh random nonce per value: GCM loses both secrecy and integrity if one repeats.
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[self._current].encrypt(nonce, _text_bytes(plaintext), context)
        return FORMAT_VERSION + bytes([len(key_id)]) + key_id + nonce + sealed

    def decrypt(self, blob: bytes, context: bytes) -> str:
        """Decrypt a value written by `encrypt` with the same context."""
        key_id, nonce, sealed = self._split(blob)
        try:
            plain = self._aeads[key_id].decrypt(nonce, sealed, context)
        except InvalidTag:
            # Name the column, never the value or key: this message may reach a log.
            raise DecryptError(
                f"cannot decrypt value for {context.decode('ascii', 'replace')!r}: "
                "it was altered, or belongs to another column"
            ) from None
        return plain.decode("utf-8", _TEXT_ERRORS)

    def encrypt_optional(self, plaintext: str | None, context: bytes) -> bytes | None:
        """Encrypt, passing None through for empty optional columns."""
        return None if plaintext is None else self.encrypt(plaintext, context)

    def decrypt_optional(self, blob: bytes | None, context: bytes) -> str | None:
        """Decrypt, passing None through for empty optional columns."""
        return None if blob is None else self.decrypt(blob, context)

    def reencrypt(self, blob: bytes, context: bytes) -> bytes:
        """Return the value under the current key; the same blob if it already uses that key."""
        # Decrypt even when no rewrite is needed, so a rotation run also finds damaged values
        # and a wrong context, instead of reporting success over them.
        plaintext = self.decrypt(blob, context)
        if self._split(blob)[0] == self._current:
            return blob
        return self.encrypt(plaintext, context)

    def _split(self, blob: bytes) -> tuple[str, bytes, bytes]:
        if blob[:1] != FORMAT_VERSION:
            raise DecryptError("cannot decrypt value: unknown storage format (not written by Safecheck?)")
        id_len = blob[1] if len(blob) > 1 else 0
        body = 2 + id_len
        if id_len == 0 or len(blob) < body + NONCE_BYTES + TAG_BYTES:
            raise DecryptError("cannot decrypt value: it is truncated or malformed")
        try:
            key_id = blob[2:body].decode("ascii")
        except UnicodeDecodeError:
            raise DecryptError("cannot decrypt value: its key id is malformed") from None
        if key_id not in self._aeads:
            raise DecryptError(f"cannot decrypt value: unknown key id {key_id!r}; was it removed from the key file?")
        return key_id, blob[body : body + NONCE_BYTES], blob[body + NONCE_BYTES :]

    def lookup_hash(self, kind: str, value: str) -> bytes:
        """Blind index of a normalised address, e.g. lookup_hash("sms", "+447700900123")."""
        if "\x00" in kind:
            # The separator must be unambiguous, or ("a\0b", "c") and ("a", "b\0c") would collide.
            raise ValueError("lookup kind must not contain NUL")
        return hmac.digest(self._lookup_key, _text_bytes(kind) + b"\x00" + _text_bytes(value), "sha256")

    def secret_hasher(self, case_salt: bytes) -> Callable[[str], bytes]:
        """Digest function for one case's exit words, codewords and PINs (already normalised)."""
        if len(case_salt) < MIN_SALT_BYTES:
            # A short or shared salt would let equal codewords in two cases be spotted.
            raise ValueError(f"case salt must be at least {MIN_SALT_BYTES} random bytes; use new_case_salt()")
        key = self._secrets_key
        prefix = bytes(case_salt) + b"\x00"

        def digest(phrase: str) -> bytes:
            return hmac.digest(key, prefix + _text_bytes(phrase), "sha256")

        return digest


def _random_chars(count: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(count))


def new_activation_code() -> str:
    """A random one-time code such as "K7QH-3XPM" (about 40 bits)."""
    # 40 bits is far below a session token's 128: the shell must expire codes and limit attempts.
    chars = _random_chars(8)
    return f"{chars[:4]}-{chars[4:]}"


def new_case_ref() -> str:
    """A short random case reference such as "C-4F7Q2"; not derived from any personal data."""
    # About 25 bits, so collisions happen: the store must enforce uniqueness and draw again.
    return f"C-{_random_chars(5)}"


def new_case_salt() -> bytes:
    """A fresh random salt for `secret_hasher`, stored with the case."""
    return os.urandom(MIN_SALT_BYTES)
