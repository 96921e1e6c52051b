-- rebuilds tables
-- Version 28: outbox ids are never reused. A delivery record keeps its outbox row's id, and without
-- AUTOINCREMENT SQLite gave a new row the largest id + 1: once pruning had moved the newest row, the next
-- message took an id its delivery record already held, and every later pruning pass failed on it.
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient TEXT NOT NULL CHECK (recipient IN ('survivor', 'practitioner')),
    case_id INTEGER REFERENCES cases(id),
    practitioner_id INTEGER REFERENCES practitioners(id),
    alert_id INTEGER REFERENCES alerts(id),
    channel TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    address_enc BLOB,
    language TEXT NOT NULL DEFAULT 'en_GB',
    timezone TEXT NOT NULL DEFAULT 'Europe/London',
    message TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    provider_id TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    expires_at TEXT
);
INSERT INTO outbox_new SELECT id, recipient, case_id, practitioner_id, alert_id, channel, position, address_enc,
    language, timezone, message, status, attempts, next_attempt_at, last_error, provider_id, created_at, sent_at,
    expires_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_case_pending ON outbox(case_id) WHERE status = 'pending';
CREATE INDEX outbox_provider ON outbox(provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX outbox_due ON outbox(recipient, next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_sent_to_case ON outbox(case_id, created_at) WHERE status = 'sent' AND recipient = 'survivor';
-- The next id is above every id an outbox row or a delivery record has had.
DELETE FROM sqlite_sequence WHERE name = 'outbox';
INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', max(
    (SELECT COALESCE(max(id), 0) FROM outbox), (SELECT COALESCE(max(id), 0) FROM deliveries)));
