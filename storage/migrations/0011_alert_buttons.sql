-- Version 11: the Acknowledge button under a Telegram alert carries a random token instead of the
-- alert's sequential id, so that nobody can acknowledge an alert by guessing. Only the token's
-- SHA-256 is kept; a press finds its alert by it, and the presser is then checked as for any ACK.
CREATE TABLE alert_buttons (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    token_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
