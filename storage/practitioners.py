"""Practitioners (IDVAs, duty IDVAs, managers) and their ordered alert channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.crypto import Crypto, Field, new_activation_code
from storage.db import Row, Tx, ts

NAME = Field("practitioners", "name_enc", legacy=b"practitioner.name")
ADDRESS = Field("practitioner_channels", "address_enc", ("practitioner_id", "position"), legacy=b"practitioner.address")
ROLES = ("idva", "duty", "manager")
LINK_VALID_FOR = timedelta(hours=24)


def address_key(channel: str, address: str) -> tuple[str, str]:
    """The (kind, value) a practitioner's address is blind-indexed under: apart from survivors' ones."""
    value = "".join(address.split()).lower()
    if "@" not in value:  # a number: "+44 (7700) 900-001" and "+447700900001" are the same phone
        value = "".join(ch for ch in value if ch not in "-().")
    return f"practitioner:{channel}", value


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
    tx: Tx,
    crypto: Crypto,
    service_id: int,
    role: str,
    name: str,
    channels: list[ChannelAddress],
    now: datetime,
    partner_id: int | None = None,
    partner_duty: bool = False,
) -> int:
    """A practitioner, or with `partner_id` one of a partner agency's people (role 'partner')."""
    pid = await tx.next_id("practitioners")  # the name is bound to the row's id
    await tx.execute(
        "INSERT INTO practitioners (id, service_id, role, name_enc, created_at, partner_id, partner_duty) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (pid, service_id, role, crypto.encrypt(name, NAME.at(pid)), ts(now), partner_id, int(partner_duty)),
    )
    await tx.execute("INSERT INTO practitioner_roles (practitioner_id, role) VALUES (?, ?)", (pid, role))
    await tx.executemany(
        "INSERT INTO practitioner_channels (practitioner_id, position, channel, address_enc, address_hash)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (
                pid,
                i,
                c.channel,
                crypto.encrypt_optional(c.address, ADDRESS.at(pid, i)),
                _hash(crypto, c.channel, c.address),
            )
            for i, c in enumerate(channels)
        ],
    )
    return pid


def _hash(crypto: Crypto, channel: str, address: str | None) -> bytes | None:
    return None if address is None else crypto.lookup_hash(*address_key(channel, address))


async def by_address(tx: Tx, crypto: Crypto, channel: str, address: str) -> Practitioner | None:
    """The active practitioner who uses this address on this channel, if any."""
    row = await tx.one(
        "SELECT p.* FROM practitioners p JOIN practitioner_channels c ON c.practitioner_id = p.id"
        " WHERE c.channel = ? AND c.address_hash = ? AND p.active = 1 ORDER BY p.id LIMIT 1",
        (channel, _hash(crypto, channel, address)),
    )
    return _practitioner(crypto, row) if row else None


async def set_address(tx: Tx, crypto: Crypto, practitioner_id: int, channel: str, address: str) -> None:
    """Give the practitioner's entry for `channel` this address (added last if they had no such entry)."""
    position = await tx.scalar(
        "SELECT position FROM practitioner_channels WHERE practitioner_id = ? AND channel = ?",
        (practitioner_id, channel),
    )
    if position is None:
        position = await tx.scalar(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM practitioner_channels WHERE practitioner_id = ?",
            (practitioner_id,),
        )
    await tx.execute(
        "INSERT INTO practitioner_channels (practitioner_id, position, channel, address_enc, address_hash)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (practitioner_id, position) DO UPDATE SET"
        " address_enc = excluded.address_enc, address_hash = excluded.address_hash",
        (
            practitioner_id,
            position,
            channel,
            crypto.encrypt(address, ADDRESS.at(practitioner_id, position)),
            _hash(crypto, channel, address),
        ),
    )


def _code_hash(crypto: Crypto, channel: str, code: str) -> bytes:
    return crypto.lookup_hash(f"link:{channel}", "".join(code.upper().replace("-", "").split()))


async def new_link(tx: Tx, crypto: Crypto, practitioner_id: int, channel: str, now: datetime) -> str:
    """A one-time code (valid 24 h) the practitioner sends from the chat to be linked to it."""
    code = new_activation_code()
    await tx.execute(
        "INSERT INTO practitioner_links (practitioner_id, channel, code_hash, expires_at) VALUES (?, ?, ?, ?)",
        (practitioner_id, channel, _code_hash(crypto, channel, code), ts(now + LINK_VALID_FOR)),
    )
    return code


async def redeem_link(tx: Tx, crypto: Crypto, channel: str, code: str, address: str, now: datetime) -> int | None:
    """Link `address` to the practitioner whose unused, unexpired code this is; None otherwise."""
    row = await tx.one(
        "SELECT l.id, l.practitioner_id FROM practitioner_links l JOIN practitioners p ON p.id = l.practitioner_id"
        " WHERE l.channel = ? AND l.code_hash = ? AND l.used_at IS NULL AND l.expires_at > ? AND p.active = 1",
        (channel, _code_hash(crypto, channel, code), ts(now)),
    )
    if row is None:
        return None
    await tx.execute("UPDATE practitioner_links SET used_at = ? WHERE id = ?", (ts(now), row["id"]))
    await set_address(tx, crypto, row["practitioner_id"], channel, address)
    return int(row["practitioner_id"])


def _practitioner(crypto: Crypto, row: Row) -> Practitioner:
    return Practitioner(
        row["id"],
        row["service_id"],
        row["role"],
        crypto.decrypt(row["name_enc"], NAME.at(row["id"])),
        bool(row["active"]),
    )


async def get(tx: Tx, crypto: Crypto, practitioner_id: int) -> Practitioner | None:
    row = await tx.one("SELECT * FROM practitioners WHERE id = ?", (practitioner_id,))
    return _practitioner(crypto, row) if row else None


async def list_for_service(tx: Tx, crypto: Crypto, service_id: int) -> list[Practitioner]:
    rows = await tx.all("SELECT * FROM practitioners WHERE service_id = ? ORDER BY id", (service_id,))
    return [_practitioner(crypto, r) for r in rows]


async def ids_with_role(tx: Tx, service_id: int, role: str) -> list[int]:
    rows = await tx.all(
        "SELECT p.id FROM practitioners p JOIN practitioner_roles r ON r.practitioner_id = p.id"
        " WHERE p.service_id = ? AND r.role = ? AND p.active = 1 ORDER BY p.id",
        (service_id, role),
    )
    return [r["id"] for r in rows]


async def channels(tx: Tx, crypto: Crypto, practitioner_id: int) -> list[ChannelAddress]:
    rows = await tx.all(
        "SELECT channel, position, address_enc FROM practitioner_channels WHERE practitioner_id = ? ORDER BY position",
        (practitioner_id,),
    )
    return [
        ChannelAddress(
            r["channel"], crypto.decrypt_optional(r["address_enc"], ADDRESS.at(practitioner_id, r["position"]))
        )
        for r in rows
    ]


async def rehash_addresses(tx: Tx, crypto: Crypto) -> None:
    """A new lookup key: recompute the blind index of every address (decrypted with the same keys)."""
    rows = await tx.all(
        "SELECT practitioner_id, position, channel, address_enc FROM practitioner_channels"
        " WHERE address_enc IS NOT NULL"
    )
    for r in rows:
        address = crypto.decrypt(r["address_enc"], ADDRESS.at(r["practitioner_id"], r["position"]))
        await tx.execute(
            "UPDATE practitioner_channels SET address_hash = ? WHERE practitioner_id = ? AND position = ?",
            (_hash(crypto, r["channel"], address), r["practitioner_id"], r["position"]),
        )


async def channel_names(tx: Tx, practitioner_id: int) -> list[str]:
    rows = await tx.all(
        "SELECT channel FROM practitioner_channels WHERE practitioner_id = ? ORDER BY position", (practitioner_id,)
    )
    return [r["channel"] for r in rows]


async def active_service(tx: Tx, practitioner_id: int) -> int | None:
    """The service of an active practitioner; None if unknown or inactive."""
    value = await tx.scalar("SELECT service_id FROM practitioners WHERE id = ? AND active = 1", (practitioner_id,))
    return None if value is None else int(value)


async def deactivate(tx: Tx, practitioner_id: int) -> bool:
    """Mark a practitioner inactive (alerts, the rota and logins pass them by); False if already so."""
    return await tx.changes("UPDATE practitioners SET active = 0 WHERE id = ? AND active = 1", (practitioner_id,)) == 1


async def open_case_count(tx: Tx, practitioner_id: int) -> int:
    """How many cases still open (not closed or withdrawn) this practitioner is the assigned IDVA of."""
    return int(
        await tx.scalar(
            "SELECT COUNT(*) FROM cases WHERE idva_id = ? AND status NOT IN ('closed', 'withdrawn')",
            (practitioner_id,),
        )
    )
