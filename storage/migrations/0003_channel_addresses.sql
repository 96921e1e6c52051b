-- Version 3: practitioners on real channels (Telegram, SMS, e-mail).
-- A practitioner's address gets a keyed lookup hash, so that an acknowledgement arriving from a
-- chat or a number finds its practitioner without decrypting every address.
ALTER TABLE practitioner_channels ADD COLUMN address_hash BLOB;
CREATE INDEX practitioner_channels_address ON practitioner_channels(channel, address_hash)
    WHERE address_hash IS NOT NULL;

-- One-time codes that link a practitioner's chat (e.g. Telegram) to their record.
CREATE TABLE practitioner_links (
    id INTEGER PRIMARY KEY,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    channel TEXT NOT NULL,
    code_hash BLOB NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
