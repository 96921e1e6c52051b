"""Look into a database's files as an attacker with the key would: every byte, not only live rows.

Encrypted values are found by their header (format byte, key id) and decrypted as AES-CTR, which is
what GCM's encryption is: so a value is read whatever row, column or length it had, deleted or not.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from storage.crypto import FORMAT_VERSION, NONCE_BYTES
from storage.keys import KeyMaterial

SPAN = 4096  # how much of what follows a header is decrypted and searched


def files_of(database: Path) -> list[Path]:
    """The database, its WAL and its shared-memory file, as far as they exist."""
    return [p for p in (database, Path(f"{database}-wal"), Path(f"{database}-shm")) if p.exists()]


def _decrypted_spans(raw: bytes, keys: KeyMaterial) -> Iterable[bytes]:
    for key_id, key in keys.encryption.items():
        header = FORMAT_VERSION + bytes([len(key_id)]) + key_id.encode("ascii")
        start = raw.find(header)
        while start != -1:
            nonce = raw[start + len(header) : start + len(header) + NONCE_BYTES]
            body = raw[start + len(header) + NONCE_BYTES : start + len(header) + NONCE_BYTES + SPAN]
            if len(nonce) == NONCE_BYTES:
                counter = nonce + (2).to_bytes(4, "big")  # GCM encrypts from counter block 2
                decryptor = Cipher(algorithms.AES(key), modes.CTR(counter)).decryptor()
                yield decryptor.update(body)
            start = raw.find(header, start + 1)


def recoverable(database: Path, keys: KeyMaterial, planted: Iterable[str | bytes]) -> list[str]:
    """The planted values that can still be read from the files, in plain text or under the keys."""
    raw = b"".join(p.read_bytes() for p in files_of(database))
    spans = list(_decrypted_spans(raw, keys))
    found = []
    for value in planted:
        needle = value.encode() if isinstance(value, str) else value
        if needle in raw or any(needle in span for span in spans):
            found.append(repr(value))
    return found
