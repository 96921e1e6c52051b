-- Version 5: SMS (Twilio).
-- One row per message Twilio accepted from us, keyed by its MessageSid: the segments it cost and
-- the latest delivery status from Twilio's status callbacks. No number and no text: the outbox row
-- (whose address is dropped once sent) says who it was for.
CREATE TABLE sms_deliveries (
    provider_id TEXT PRIMARY KEY,
    outbox_id INTEGER REFERENCES outbox(id),
    case_id INTEGER REFERENCES cases(id),
    recipient TEXT NOT NULL CHECK (recipient IN ('survivor', 'practitioner', 'unknown')),
    encoding TEXT NOT NULL DEFAULT '',
    segments INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    error_code INTEGER,
    handled INTEGER NOT NULL DEFAULT 0,  -- a failure acted upon (re-sent, fallen back, given up): once only
    sent_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX sms_deliveries_case ON sms_deliveries(case_id, sent_at) WHERE case_id IS NOT NULL;
-- A status callback that arrives before the delivery row finds the outbox row by Twilio's id.
CREATE INDEX outbox_provider ON outbox(provider_id) WHERE provider_id IS NOT NULL;

-- A withdrawn survivor who texted START (or UNSTOP, YES) from their number: nothing is sent until
-- their IDVA confirms with them and runs `safecheck case resubscribe`. The number comes back
-- encrypted, since withdrawal erased it; the row goes once confirmed.
CREATE TABLE sms_resubscribe_requests (
    case_id INTEGER PRIMARY KEY REFERENCES cases(id),
    address_enc BLOB NOT NULL,
    requested_at TEXT NOT NULL
);

-- A re-send after an undelivered report checks that no quick exit or withdrawal came since.
CREATE INDEX audit_log_exits ON audit_log(case_id, at) WHERE action IN ('quick_exit', 'consent_withdrawn');
