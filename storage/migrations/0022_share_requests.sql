-- Version 22: a share without her consent waits here until a second manager approves or refuses it
-- (docs/sharing.md). What would go is fixed when it is asked for, so the approver approves exactly
-- that; nothing is sent before approval. On approval the share itself goes into `shares` (basis the
-- override's, approved_by set, so reports flag it) and share_id points at it.

CREATE TABLE share_requests (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    contact_id INTEGER NOT NULL REFERENCES practitioners(id),
    kind TEXT NOT NULL CHECK (kind IN ('risk_changes', 'urgent_alerts', 'checkin_summaries')),
    basis TEXT NOT NULL CHECK (basis IN ('vital_interests', 'public_task', 'safeguarding')),
    alert_id INTEGER REFERENCES alerts(id),  -- the urgent alert it would share, if that is the kind
    content TEXT NOT NULL,  -- JSON of what would go: level, reason and fact codes; never her words
    reason_enc BLOB,  -- why it must go without her consent (encrypted; written right after the row)
    requested_by INTEGER NOT NULL REFERENCES practitioners(id),
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by INTEGER REFERENCES practitioners(id),  -- a manager who is not the requester
    decided_at TEXT,
    refusal_enc BLOB,  -- why a manager refused it (encrypted)
    share_id INTEGER REFERENCES shares(id),
    CHECK ((status = 'pending') = (decided_by IS NULL)),
    CHECK (decided_by IS NULL OR decided_by != requested_by)
);
CREATE INDEX share_requests_pending ON share_requests(service_id) WHERE status = 'pending';
CREATE INDEX share_requests_case ON share_requests(case_id, id);
