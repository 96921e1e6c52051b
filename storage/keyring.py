"""The keys that belong to this database: recorded at first use, compared at every start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage import rekey
from storage.crypto import Crypto
from storage.db import Database, Tx, ts
from storage.keys import KeyConfigError, KeyMaterial, check_value

BOUND = "values_bound_to_rows"


class KeyMismatch(Exception):
    """These keys are not this database's (one line; the caller names where the keys came from)."""


@dataclass(frozen=True)
class Check:
    purpose: str
    key_id: str
    value: bytes
    retired: bool


def checks_of(km: KeyMaterial) -> dict[tuple[str, str], bytes]:
    found = {("encryption", key_id): check_value(key) for key_id, key in km.encryption.items()}
    found[("lookup", "")] = check_value(km.lookup)
    found[("secrets", "")] = check_value(km.secrets)
    return found


async def recorded(tx: Tx) -> dict[tuple[str, str], Check]:
    rows = await tx.all("SELECT purpose, key_id, check_value, retired_at FROM key_checks")
    return {
        (r["purpose"], r["key_id"]): Check(r["purpose"], r["key_id"], r["check_value"], r["retired_at"] is not None)
        for r in rows
    }


async def verify(tx: Tx, km: KeyMaterial, now: datetime) -> None:
    """Refuse keys that are not this database's; on a database that has none recorded, record these.

    A database from before key checks is first read with the keys: if it holds a value they cannot
    decrypt, they are refused rather than recorded.
    """
    known = await recorded(tx)
    mine = checks_of(km)
    if not known:
        if await rekey.sample_readable(tx, Crypto(km)) is False:
            raise KeyMismatch("cannot decrypt this database's values: the keys belong to another installation")
        await record(tx, mine, now)
        return
    for purpose in ("lookup", "secrets"):
        if known[(purpose, "")].value != mine[(purpose, "")]:
            raise KeyMismatch(f"its {purpose} key is not this database's: the keys belong to another installation")
    for (purpose, key_id), value in mine.items():
        if purpose == "encryption" and (purpose, key_id) in known and known[(purpose, key_id)].value != value:
            raise KeyMismatch(f"its key {key_id} is not this database's key of that id")
    if ("encryption", km.current) not in known:
        raise KeyMismatch(
            f"its current key {km.current} is unknown to this database: the keys belong to another installation"
        )
    missing = sorted(
        key_id
        for (purpose, key_id), c in known.items()
        if purpose == "encryption" and not c.retired and key_id not in km.encryption
    )
    if missing:
        raise KeyMismatch(f"it lacks key(s) {', '.join(missing)} that values in this database are encrypted under")


async def record(tx: Tx, checks: dict[tuple[str, str], bytes], now: datetime) -> None:
    await tx.executemany(
        "INSERT INTO key_checks (purpose, key_id, check_value, added_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (purpose, key_id) DO UPDATE SET check_value = excluded.check_value, retired_at = NULL",
        [(purpose, key_id, value, ts(now)) for (purpose, key_id), value in checks.items()],
    )


async def record_rotation(tx: Tx, old: KeyMaterial, new: KeyMaterial, now: datetime) -> None:
    """After every value moved to `new`: its keys are this database's; keys it dropped are retired."""
    await record(tx, checks_of(new), now)
    dropped = [key_id for key_id in old.encryption if key_id not in new.encryption]
    await tx.executemany(
        "UPDATE key_checks SET retired_at = ? WHERE purpose = 'encryption' AND key_id = ?",
        [(ts(now), key_id) for key_id in dropped],
    )


async def bind_values_to_rows(tx: Tx, crypto: Crypto) -> int:
    """Once per database: bind the values written before schema version 7 to their rows."""
    if await tx.scalar("SELECT value FROM meta WHERE name = ?", (BOUND,)) == "1":
        return 0
    rewritten = await rekey.bind_to_rows(tx, crypto)
    await tx.execute("UPDATE meta SET value = '1' WHERE name = ?", (BOUND,))
    return rewritten


async def adopt(db: Database, km: KeyMaterial, source: str, now: datetime) -> None:
    """Check that the keys are this database's (raising KeyConfigError in one line) and finish schema 7."""
    async with db.transaction() as tx:
        try:
            await verify(tx, km, now)
        except KeyMismatch as exc:
            raise KeyConfigError(
                f"{source} does not belong to the database {db.path}: {exc}; use that database's own key file "
                "(or its backup)"
            ) from None
        await bind_values_to_rows(tx, Crypto(km))
        await tx.commit()
