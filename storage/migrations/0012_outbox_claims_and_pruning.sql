-- Version 12: the dispatcher keeps pace with any backlog, and sent messages do not stay for ever.
-- Due rows are claimed a page at a time in this index's order: alerts and survivors' messages each
-- in their own lane, oldest due first (the rowid breaks ties in written order), so no round reads
-- or sorts the whole backlog. It replaces outbox_pending, whose order was not the claim's.
DROP INDEX outbox_pending;
CREATE INDEX outbox_due ON outbox(recipient, next_attempt_at) WHERE status = 'pending';

-- "Did anything reach her since this check-in began?" (a missed check-in on a dead channel) is
-- asked inside a write transaction: it must not scan the outbox.
CREATE INDEX outbox_sent_to_case ON outbox(case_id, created_at) WHERE status = 'sent' AND recipient = 'survivor';

-- How long a finished outbox row keeps its content (the message and its parameters). After that
-- the row is replaced by its compact delivery record below. Two days at least: a quick exit on
-- Telegram deletes the bot's messages of the last 48 hours by the ids kept in those rows.
ALTER TABLE services ADD COLUMN sent_content_days INTEGER NOT NULL DEFAULT 7;

-- What stays of a finished outbox row once its content has gone: who it was for, on which channel,
-- how it ended and when, for the case timeline and the reports. The id is the outbox row's. Times
-- are Unix seconds (UTC), not ISO text: these rows are kept for the life of the case, one for every
-- message, so a few bytes each matter. delivered_at / failed_at come from the provider's reports
-- where there are any (SMS); failed_at is the last attempt for a row that failed to send at all.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL CHECK (recipient IN ('survivor', 'practitioner')),
    case_id INTEGER REFERENCES cases(id),
    practitioner_id INTEGER REFERENCES practitioners(id),
    alert_id INTEGER REFERENCES alerts(id),
    channel TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL,
    queued_at INTEGER NOT NULL,
    sent_at INTEGER,
    delivered_at INTEGER,
    failed_at INTEGER
);
CREATE INDEX deliveries_case ON deliveries(case_id) WHERE case_id IS NOT NULL;
CREATE INDEX deliveries_alert ON deliveries(alert_id) WHERE alert_id IS NOT NULL;
-- Deleting an outbox row looks for SMS delivery rows that point at it (a foreign key): by index,
-- not by a scan of every SMS ever sent for each row.
CREATE INDEX sms_deliveries_outbox ON sms_deliveries(outbox_id) WHERE outbox_id IS NOT NULL;
