"""Key material for encryption at rest and keyed hashes: generate, serialise, rotate, load."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import secrets as random_tokens
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

ENV_VAR = "SAFECHECK_KEY"
FORMAT_VERSION = 1
KEY_BYTES = 32

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
_FIELDS = frozenset({"version", "current", "encryption", "lookup", "secrets"})
# A damaged key makes every stored value unreadable, so the fix is the backup, not a new key.
_FIX = "restore it from your key backup (for a new installation, run `safecheck init`)"


class KeyConfigError(Exception):
    """Keys are missing, unreadable or malformed; the message is one line saying how to fix it."""


def _problem(current: str, encryption: Mapping[str, bytes], lookup: bytes, secrets: bytes) -> str | None:
    """Say what is wrong with a set of keys, phrased to follow the name of its source."""
    if not encryption:
        return "has no encryption keys"
    for key_id, key in encryption.items():
        if not _KEY_ID.fullmatch(key_id):
            return f"has an encryption key id {key_id!r} that is not 1-16 of A-Z a-z 0-9 _ -"
        if len(key) != KEY_BYTES:
            return f"has encryption key {key_id!r} of {len(key)} bytes, expected {KEY_BYTES}"
    if current not in encryption:
        return f"names current key {current!r}, which is not among its encryption keys"
    for name, key in (("lookup", lookup), ("secrets", secrets)):
        if len(key) != KEY_BYTES:
            return f"has a {name} key of {len(key)} bytes, expected {KEY_BYTES}"
    # Separate keys only help if they really differ: a copy-paste slip would quietly merge them.
    every_key = [*encryption.values(), lookup, secrets]
    if len(set(every_key)) != len(every_key):
        return "reuses the same key for two purposes"
    return None


@dataclass(frozen=True)
class KeyMaterial:
    """Keys by purpose: AES keys by id (new values use `current`) and two separate HMAC keys."""

    current: str
    encryption: Mapping[str, bytes]
    lookup: bytes
    secrets: bytes

    def __post_init__(self) -> None:
        problem = _problem(self.current, self.encryption, self.lookup, self.secrets)
        if problem is not None:
            raise ValueError(f"key material {problem}")
        # A read-only copy, so a caller's dict changing later cannot swap keys under a live Crypto.
        object.__setattr__(self, "encryption", MappingProxyType(dict(self.encryption)))

    def __repr__(self) -> str:
        # Key material ends up in tracebacks and debug logs; show ids only, never key bytes.
        return f"KeyMaterial(current={self.current!r}, key_ids={sorted(self.encryption)!r})"


def new_key_id(number: int) -> str:
    """ "k2-9f3a0c2e": the rotation's number for people, and a random part so that no two installations
    share a key id (a key file from another installation is then told apart by its ids too)."""
    return f"k{number}-{random_tokens.token_hex(4)}"


def check_value(key: bytes) -> bytes:
    """What a database records to recognise a key: an HMAC under it, which reveals nothing of the key."""
    return hmac.digest(key, b"safecheck key check v1", "sha256")[:16]


def generate() -> KeyMaterial:
    """Create fresh random keys for a new installation."""
    first = new_key_id(1)
    return KeyMaterial(
        current=first,
        encryption={first: os.urandom(KEY_BYTES)},
        lookup=os.urandom(KEY_BYTES),
        secrets=os.urandom(KEY_BYTES),
    )


def rotate(km: KeyMaterial, *, new_lookup: bool = False) -> KeyMaterial:
    """Add a new encryption key and make it current; old keys stay so old values still decrypt.

    The lookup key changes only with `new_lookup`: every blind index must then be recomputed from the
    decrypted addresses (storage.rekey.rehash_lookups). The secrets key never rotates: digests of
    codewords and PINs cannot be recomputed without them (README, "Keys").
    """
    new_id = new_key_id(len(km.encryption) + 1)
    return KeyMaterial(
        current=new_id,
        encryption={**km.encryption, new_id: os.urandom(KEY_BYTES)},
        lookup=os.urandom(KEY_BYTES) if new_lookup else km.lookup,
        secrets=km.secrets,
    )


def without_old_keys(km: KeyMaterial) -> KeyMaterial:
    """Only the current encryption key: for once every value has been re-encrypted under it."""
    return KeyMaterial(km.current, {km.current: km.encryption[km.current]}, km.lookup, km.secrets)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def dumps(km: KeyMaterial) -> str:
    """Serialise keys as one line of JSON, usable both as a key file and as SAFECHECK_KEY."""
    return json.dumps(
        {
            "version": FORMAT_VERSION,
            "current": km.current,
            "encryption": {key_id: _b64(key) for key_id, key in km.encryption.items()},
            "lookup": _b64(km.lookup),
            "secrets": _b64(km.secrets),
        }
    )


def _decode_key(value: Any, name: str, source: str) -> bytes:
    if not isinstance(value, str):
        raise KeyConfigError(f"{source} has a {name} key that is not a base64 string: {_FIX}")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise KeyConfigError(f"{source} has a {name} key that is not valid base64: {_FIX}") from None


def loads(text: str, source: str) -> KeyMaterial:
    """Parse and check serialised keys; `source` names where they came from in error messages."""
    try:
        data = json.loads(text)
    except ValueError as err:
        # Only the position: the message of a JSON error could quote key bytes.
        where = f" (line {err.lineno}, column {err.colno})" if isinstance(err, json.JSONDecodeError) else ""
        raise KeyConfigError(f"{source} is not valid JSON{where}: {_FIX}") from None
    if not isinstance(data, dict):
        raise KeyConfigError(f"{source} is not a JSON object: {_FIX}")
    missing = sorted(_FIELDS - data.keys())
    if missing:
        raise KeyConfigError(f"{source} has no {', '.join(missing)}: {_FIX}")
    unexpected = sorted(data.keys() - _FIELDS)
    if unexpected:
        raise KeyConfigError(f"{source} has unexpected field {', '.join(unexpected)}: {_FIX}")
    version = data["version"]
    # bool is an int in Python; `true` is not a version.
    if type(version) is not int or version != FORMAT_VERSION:
        raise KeyConfigError(
            f"{source} has version {version!r}, this Safecheck reads version {FORMAT_VERSION}: "
            "upgrade Safecheck or use a key file it wrote"
        )
    current = data["current"]
    if not isinstance(current, str):
        raise KeyConfigError(f"{source} has a current key id that is not a string: {_FIX}")
    encryption = data["encryption"]
    if not isinstance(encryption, dict):
        raise KeyConfigError(f"{source} has encryption keys that are not a JSON object: {_FIX}")
    keys = {key_id: _decode_key(value, f"encryption {key_id!r}", source) for key_id, value in encryption.items()}
    lookup = _decode_key(data["lookup"], "lookup", source)
    secrets = _decode_key(data["secrets"], "secrets", source)
    problem = _problem(current, keys, lookup, secrets)
    if problem is not None:
        raise KeyConfigError(f"{source} {problem}: {_FIX}")
    return KeyMaterial(current=current, encryption=keys, lookup=lookup, secrets=secrets)


def create_key_file(path: Path) -> KeyMaterial:
    """Write fresh keys to a new file readable only by its owner; never overwrite one."""
    km = generate()
    _write_new(
        path,
        km,
        exists_hint=(
            "refusing to overwrite it, as values encrypted under it would become unreadable; "
            "move it away first if you really mean to"
        ),
    )
    return km


def staging_path(path: Path) -> Path:
    """Where a rotation writes the new key file before the database moves to it."""
    return path.with_name(path.name + ".new")


def stage_key_file(path: Path, km: KeyMaterial) -> Path:
    """Write the keys of a rotation beside the key file (0600, on disk), leaving the key file as it is."""
    staging = staging_path(path)
    staging.unlink(missing_ok=True)  # left by a rotation that failed before the database changed
    _write_new(staging, km, exists_hint="a rotation is already under way")
    return staging


def install_staged_key_file(path: Path) -> None:
    """Make the staged keys the key file, atomically (once the database uses them)."""
    os.replace(staging_path(path), path)
    _fsync_dir(path.parent)


def _write_new(path: Path, km: KeyMaterial, exists_hint: str) -> None:
    if not path.parent.is_dir():
        raise KeyConfigError(f"directory {path.parent} does not exist: create it first, then retry")
    # O_EXCL makes "does it exist?" and "create it" one step, and the mode is set at creation,
    # so there is no moment at which another user could open the file.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyConfigError(f"key file {path} already exists: {exists_hint}") from None
    except OSError as err:
        raise KeyConfigError(f"cannot create key file {path}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(dumps(km) + "\n")
            f.flush()
            # The key is the only way to read the database: make sure it is on disk, not cached.
            os.fsync(f.fileno())
    except OSError as err:
        # A half-written key file would later look like a corrupt backup; leave nothing behind.
        path.unlink(missing_ok=True)
        raise KeyConfigError(f"cannot write key file {path}: {err.strerror}") from None
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Persists the new directory entry too; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def key_source(env: Mapping[str, str], key_file: Path) -> str:
    """Where `load_keys` takes the keys from, as error messages name it."""
    return ENV_VAR if ENV_VAR in env else f"key file {key_file}"


def load_keys(env: Mapping[str, str], key_file: Path) -> KeyMaterial:
    """Load keys from SAFECHECK_KEY if set, else from the key file, which must be private."""
    source = key_source(env, key_file)
    if ENV_VAR in env:
        return loads(env[ENV_VAR], source)
    try:
        fd = os.open(key_file, os.O_RDONLY)
    except FileNotFoundError:
        raise KeyConfigError(f"{source} not found: run `safecheck init` to create it, or set {ENV_VAR}") from None
    except OSError as err:
        raise KeyConfigError(f"cannot open {source}: {err.strerror}") from None
    # fstat on the open file, not stat on the path, so the file checked is the file read.
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise KeyConfigError(f"{source} is not a regular file: point Safecheck at the key file")
    with os.fdopen(fd, "rb") as f:
        if info.st_mode & 0o077:
            raise KeyConfigError(
                f"{source} can be read by other users (mode {stat.S_IMODE(info.st_mode):04o}): "
                f"run `chmod 600 {key_file}`"
            )
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyConfigError(f"{source} is not UTF-8 text: {_FIX}") from None
    return loads(text, source)
