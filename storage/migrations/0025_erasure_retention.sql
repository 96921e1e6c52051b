-- Version 25: erasure on request, retention of closed cases and delivery records, and the purge report.
-- An erased case keeps its row (reference, service, IDVA, dates, statuses, levels) for the reports; these
-- say when its personal data went and why (a code: her_request, not_needed, other, retention).
ALTER TABLE cases ADD COLUMN erased_at TEXT;
ALTER TABLE cases ADD COLUMN erase_reason TEXT
    CHECK (erase_reason IN ('her_request', 'not_needed', 'other', 'retention'));

-- Days after closing (or withdrawal) that a case's personal data is erased, and days a delivery record
-- (deliveries, sms_deliveries, finished outbox rows) is kept: storage/services.py says why these defaults.
ALTER TABLE services ADD COLUMN closed_case_days INTEGER NOT NULL DEFAULT 365
    CHECK (closed_case_days BETWEEN 30 AND 3650);
ALTER TABLE services ADD COLUMN delivery_record_days INTEGER NOT NULL DEFAULT 400
    CHECK (delivery_record_days BETWEEN 30 AND 3650);

-- What each erasure and each retention pass removed: counts per kind and the references of the cases
-- erased. Never personal data: a reference is our pseudonym, the counts are numbers.
CREATE TABLE purges (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('request', 'retention')),
    actor TEXT NOT NULL,             -- an audit actor (a practitioner, the operator, or system)
    reason TEXT,                     -- the erasure's reason code, for a request
    counts TEXT NOT NULL,            -- JSON object: kind of record -> how many went
    case_refs TEXT NOT NULL          -- JSON list of the references of the cases erased
);
CREATE INDEX purges_by_service ON purges(service_id, id);
