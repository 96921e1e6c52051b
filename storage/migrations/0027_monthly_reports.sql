-- Version 27: managers who get the service's report e-mailed as a PDF each month, and which months have
-- gone out. The report itself is built when the e-mail is sent (figures only, small counts suppressed),
-- so nothing of it is stored here.
CREATE TABLE report_subscriptions (
    practitioner_id INTEGER PRIMARY KEY REFERENCES practitioners(id),  -- a manager with an e-mail channel
    service_id INTEGER NOT NULL REFERENCES services(id),
    since TEXT NOT NULL
);

CREATE TABLE report_mailings (
    service_id INTEGER NOT NULL REFERENCES services(id),
    period TEXT NOT NULL,  -- the month reported, 'YYYY-MM' in the service's time zone
    queued_at TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    PRIMARY KEY (service_id, period)
);
