"""Key rotation: re-encrypt every encrypted column under the current key, in one transaction."""

from __future__ import annotations

from storage import cases, checkins, inbound, outbox, practitioners, sms
from storage.crypto import Crypto
from storage.db import Tx

# (table, column, the associated data it was encrypted with)
ENCRYPTED_COLUMNS: tuple[tuple[str, str, bytes], ...] = (
    ("cases", "address_enc", cases.ADDRESS),
    ("cases", "name_enc", cases.NAME),
    ("practitioners", "name_enc", practitioners.NAME),
    ("practitioner_channels", "address_enc", practitioners.ADDRESS),
    ("answers", "text_enc", checkins.ANSWER_TEXT),
    ("inbound_messages", "body_enc", inbound.BODY),
    ("outbox", "address_enc", outbox.ADDRESS),
    ("sms_resubscribe_requests", "address_enc", sms.RESUBSCRIBE_ADDRESS),
)


async def reencrypt_all(tx: Tx, crypto: Crypto) -> int:
    """Move every value to the current key; return how many values were rewritten."""
    rewritten = 0
    for table, column, context in ENCRYPTED_COLUMNS:
        rows = await tx.all(f"SELECT rowid AS rid, {column} FROM {table} WHERE {column} IS NOT NULL")
        for row in rows:
            blob = row[column]
            fresh = crypto.reencrypt(blob, context)
            if fresh is not blob:
                await tx.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (fresh, row["rid"]))
                rewritten += 1
    return rewritten
