"""Every encrypted column, and the jobs that rewrite them all: key rotation, new lookup keys, row binding."""

from __future__ import annotations

from storage import (
    accounts,
    alert_work,
    cases,
    checkins,
    dash,
    inbound,
    marac,
    notes,
    outbox,
    partners,
    practitioners,
    share_requests,
)
from storage.crypto import Crypto, DecryptError, Field
from storage.db import Tx

ENCRYPTED: tuple[Field, ...] = (
    cases.ADDRESS,
    cases.NAME,
    practitioners.NAME,
    practitioners.ADDRESS,
    checkins.ANSWER_TEXT,
    inbound.BODY,
    outbox.ADDRESS,
    accounts.LOGIN,
    accounts.TOTP_SECRET,
    accounts.INVITEE_NAME,
    accounts.ACCESS_REASON,
    alert_work.NOTE,
    notes.BODY,
    partners.PARTNER_REF,
    partners.JUSTIFICATION,
    partners.ACTION_NOTE,
    share_requests.REASON,
    share_requests.REFUSAL,
    dash.REASON,
    dash.ACTIONS,
    marac.REASON,
    marac.VIEWS,
)


async def _values(tx: Tx, field: Field) -> list[tuple[tuple[int | str, ...], bytes]]:
    keys = ", ".join(field.key)
    rows = await tx.all(f"SELECT {keys}, {field.column} FROM {field.table} WHERE {field.column} IS NOT NULL")
    return [(tuple(row[k] for k in field.key), row[field.column]) for row in rows]


async def _store(tx: Tx, field: Field, row: tuple[int | str, ...], blob: bytes) -> None:
    where = " AND ".join(f"{k} = ?" for k in field.key)
    await tx.execute(f"UPDATE {field.table} SET {field.column} = ? WHERE {where}", (blob, *row))


async def reencrypt_all(tx: Tx, crypto: Crypto) -> int:
    """Move every value to the current key; return how many values were rewritten."""
    rewritten = 0
    for field in ENCRYPTED:
        for row, blob in await _values(tx, field):
            fresh = crypto.reencrypt(blob, field.at(*row))
            if fresh is not blob:
                await _store(tx, field, row, fresh)
                rewritten += 1
    return rewritten


async def bind_to_rows(tx: Tx, crypto: Crypto) -> int:
    """Schema 7: bind each value written before it to its row; return how many were rewritten.

    A value that already decrypts as bound is left alone, so running this twice changes nothing.
    """
    rewritten = 0
    for field in ENCRYPTED:
        for row, blob in await _values(tx, field):
            try:
                plain = crypto.decrypt(blob, field.legacy)
            except DecryptError:
                crypto.decrypt(blob, field.at(*row))  # bound already, or damaged: then this says which column
                continue
            await _store(tx, field, row, crypto.encrypt(plain, field.at(*row)))
            rewritten += 1
    return rewritten


async def sample_readable(tx: Tx, crypto: Crypto) -> bool | None:
    """Whether one stored value decrypts with these keys (bound or not); None if nothing is stored."""
    for field in ENCRYPTED:
        found = await _values(tx, field)
        if found:
            row, blob = found[0]
            for context in (field.at(*row), field.legacy):
                try:
                    crypto.decrypt(blob, context)
                    return True
                except DecryptError:
                    pass
            return False
    return None


async def rehash_lookups(tx: Tx, crypto: Crypto) -> list[str]:
    """A new lookup key: recompute every blind index of an address we can still decrypt.

    Codes are not stored, so their indexes cannot be recomputed: unused practitioner link codes are
    dropped, and the references of cases whose Telegram activation link stopped working are returned.
    """
    for case_id, channel, blob in [
        (r["id"], r["channel"], r["address_enc"])
        for r in await tx.all("SELECT id, channel, address_enc FROM cases WHERE address_enc IS NOT NULL")
    ]:
        address = crypto.decrypt(blob, cases.ADDRESS.at(case_id))
        lookup = cases.address_lookup(crypto, channel, address)
        await tx.execute("UPDATE cases SET address_hash = ? WHERE id = ?", (lookup, case_id))
    await practitioners.rehash_addresses(tx, crypto)
    await accounts.rehash_logins(tx, crypto)
    lost = [r["ref"] for r in await tx.all("SELECT ref FROM cases WHERE activation_lookup IS NOT NULL ORDER BY id")]
    await tx.execute("UPDATE cases SET activation_lookup = NULL WHERE activation_lookup IS NOT NULL")
    await tx.execute("DELETE FROM practitioner_links WHERE used_at IS NULL")
    return lost
