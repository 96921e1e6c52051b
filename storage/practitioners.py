"""Practitioners (IDVAs, duty IDVAs, managers) and their ordered alert channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.crypto import Crypto
from storage.db import Row, Tx, ts

NAME = b"practitioner.name"
ADDRESS = b"practitioner.address"
ROLES = ("idva", "duty", "manager")


@dataclass(frozen=True)
class ChannelAddress:
    channel: str
    address: str | None


@dataclass(frozen=True)
class Practitioner:
    id: int
    service_id: int
    role: str
    name: str
    active: bool


async def add(
    tx: Tx, crypto: Crypto, service_id: int, role: str, name: str, channels: list[ChannelAddress], now: datetime
) -> int:
    pid = await tx.execute(
        "INSERT INTO practitioners (service_id, role, name_enc, created_at) VALUES (?, ?, ?, ?)",
        (service_id, role, crypto.encrypt(name, NAME), ts(now)),
    )
    await tx.executemany(
        "INSERT INTO practitioner_channels (practitioner_id, position, channel, address_enc) VALUES (?, ?, ?, ?)",
        [(pid, i, c.channel, crypto.encrypt_optional(c.address, ADDRESS)) for i, c in enumerate(channels)],
    )
    return pid


def _practitioner(crypto: Crypto, row: Row) -> Practitioner:
    return Practitioner(
        row["id"], row["service_id"], row["role"], crypto.decrypt(row["name_enc"], NAME), bool(row["active"])
    )


async def get(tx: Tx, crypto: Crypto, practitioner_id: int) -> Practitioner | None:
    row = await tx.one("SELECT * FROM practitioners WHERE id = ?", (practitioner_id,))
    return _practitioner(crypto, row) if row else None


async def list_for_service(tx: Tx, crypto: Crypto, service_id: int) -> list[Practitioner]:
    rows = await tx.all("SELECT * FROM practitioners WHERE service_id = ? ORDER BY id", (service_id,))
    return [_practitioner(crypto, r) for r in rows]


async def ids_with_role(tx: Tx, service_id: int, role: str) -> list[int]:
    rows = await tx.all(
        "SELECT id FROM practitioners WHERE service_id = ? AND role = ? AND active = 1 ORDER BY id", (service_id, role)
    )
    return [r["id"] for r in rows]


async def channels(tx: Tx, crypto: Crypto, practitioner_id: int) -> list[ChannelAddress]:
    rows = await tx.all(
        "SELECT channel, address_enc FROM practitioner_channels WHERE practitioner_id = ? ORDER BY position",
        (practitioner_id,),
    )
    return [ChannelAddress(r["channel"], crypto.decrypt_optional(r["address_enc"], ADDRESS)) for r in rows]


async def channel_names(tx: Tx, practitioner_id: int) -> list[str]:
    rows = await tx.all(
        "SELECT channel FROM practitioner_channels WHERE practitioner_id = ? ORDER BY position", (practitioner_id,)
    )
    return [r["channel"] for r in rows]


async def active_service(tx: Tx, practitioner_id: int) -> int | None:
    """The service of an active practitioner; None if unknown or inactive."""
    value = await tx.scalar("SELECT service_id FROM practitioners WHERE id = ? AND active = 1", (practitioner_id,))
    return None if value is None else int(value)
