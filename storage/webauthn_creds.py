"""A practitioner's WebAuthn passkeys (a second factor): public keys, sign counters and their own names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Row, Tx, parse_ts, ts

NAME_LIMIT = 60


@dataclass(frozen=True)
class Passkey:
    """What the account page shows: no key material."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class StoredKey:
    """What an assertion is checked against."""

    id: int
    public_key: bytes
    sign_count: int


def _passkey(row: Row) -> Passkey:
    used = row["last_used_at"]
    return Passkey(row["id"], row["name"], parse_ts(row["created_at"]), parse_ts(used) if used else None)


async def add(
    tx: Tx, practitioner_id: int, credential_id: bytes, public_key: bytes, sign_count: int, name: str, now: datetime
) -> int | None:
    """Keep a newly registered passkey; None if that credential is already registered to anyone."""
    if await tx.scalar("SELECT 1 FROM webauthn_credentials WHERE credential_id = ?", (credential_id,)):
        return None
    return await tx.insert(
        "INSERT INTO webauthn_credentials (practitioner_id, credential_id, public_key, sign_count, name, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (practitioner_id, credential_id, public_key, sign_count, name[:NAME_LIMIT], ts(now)),
    )


async def list_for(tx: Tx, practitioner_id: int) -> list[Passkey]:
    rows = await tx.all(
        "SELECT id, name, created_at, last_used_at FROM webauthn_credentials WHERE practitioner_id = ? ORDER BY id",
        (practitioner_id,),
    )
    return [_passkey(r) for r in rows]


async def credential_ids(tx: Tx, practitioner_id: int) -> list[bytes]:
    """The credential ids a browser may offer for this person (and must not register again)."""
    rows = await tx.all(
        "SELECT credential_id FROM webauthn_credentials WHERE practitioner_id = ? ORDER BY id", (practitioner_id,)
    )
    return [bytes(r["credential_id"]) for r in rows]


async def find(tx: Tx, practitioner_id: int, credential_id: bytes) -> StoredKey | None:
    """The key of this person's credential: another person's credential is never found."""
    row = await tx.one(
        "SELECT id, public_key, sign_count FROM webauthn_credentials WHERE practitioner_id = ? AND credential_id = ?",
        (practitioner_id, credential_id),
    )
    return StoredKey(row["id"], bytes(row["public_key"]), row["sign_count"]) if row else None


async def record_use(tx: Tx, key_id: int, seen_count: int, new_count: int, now: datetime) -> bool:
    """Store the new sign count, only if nobody used the passkey since it was read (a cloned key races)."""
    changed = await tx.changes(
        "UPDATE webauthn_credentials SET sign_count = ?, last_used_at = ? WHERE id = ? AND sign_count = ?",
        (new_count, ts(now), key_id, seen_count),
    )
    return changed == 1


async def rename(tx: Tx, practitioner_id: int, key_id: int, name: str) -> bool:
    changed = await tx.changes(
        "UPDATE webauthn_credentials SET name = ? WHERE id = ? AND practitioner_id = ?",
        (name[:NAME_LIMIT], key_id, practitioner_id),
    )
    return changed == 1


async def remove(tx: Tx, practitioner_id: int, key_id: int) -> bool:
    changed = await tx.changes(
        "DELETE FROM webauthn_credentials WHERE id = ? AND practitioner_id = ?", (key_id, practitioner_id)
    )
    return changed == 1
