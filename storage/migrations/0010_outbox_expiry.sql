-- Version 10: until when a survivor's message is worth sending. A provider failure is retried until
-- then (a check-in question until its check-in expires, any other reply for a day); after it, the
-- message expires instead of reaching her out of context. NULL (older rows): a day after it was written.
ALTER TABLE outbox ADD COLUMN expires_at TEXT;
