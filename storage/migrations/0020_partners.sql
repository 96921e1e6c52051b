-- rebuilds tables
-- Version 20: partner agencies, their information-sharing agreements, per-case links and consents,
-- and every share on record (docs/sharing.md).
--
-- A partner's people (a Drive case manager, a Marac coordinator...) are practitioners with the role
-- 'partner' and the partner they work for: they reuse alert channels, the outbox with its retries and
-- fallback, ACK replies from a registered number, and workspace accounts with the same second factor.
-- SQLite cannot widen a CHECK in place, so practitioners and practitioner_roles are rebuilt (foreign
-- keys off; the runner commits only if every reference still holds).

CREATE TABLE partners (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    name TEXT NOT NULL,  -- the organisation ("Drive West Mercia"): not personal data
    kind TEXT NOT NULL CHECK (kind IN ('drive', 'marac', 'police', 'childrens_social_care', 'probation', 'other')),
    agreement_ref TEXT NOT NULL,  -- the information-sharing agreement's reference
    lawful_basis TEXT NOT NULL CHECK (lawful_basis IN ('consent', 'vital_interests', 'public_task', 'safeguarding')),
    kinds TEXT NOT NULL DEFAULT '',  -- what the agreement lets go to them, comma-separated (safety/sharing.Kind)
    personal_details INTEGER NOT NULL DEFAULT 0,  -- the agreement allows her name and number (with her consent too)
    ack_minutes INTEGER NOT NULL DEFAULT 30,  -- an unacknowledged share escalates after this
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    UNIQUE (service_id, name)
);

CREATE TABLE practitioners_new (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    role TEXT NOT NULL CHECK (role IN ('idva', 'duty', 'manager', 'partner')),
    name_enc BLOB NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    partner_id INTEGER REFERENCES partners(id),  -- set for a partner's people, and only for them
    partner_duty INTEGER NOT NULL DEFAULT 0,  -- the partner's duty contact: shares escalate to them
    CHECK ((role = 'partner') = (partner_id IS NOT NULL))
);
INSERT INTO practitioners_new (id, service_id, role, name_enc, active, created_at)
    SELECT id, service_id, role, name_enc, active, created_at FROM practitioners;
DROP TABLE practitioners;
ALTER TABLE practitioners_new RENAME TO practitioners;

CREATE TABLE practitioner_roles_new (
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    role TEXT NOT NULL CHECK (role IN ('idva', 'duty', 'manager', 'admin', 'partner')),
    PRIMARY KEY (practitioner_id, role)
);
INSERT INTO practitioner_roles_new SELECT practitioner_id, role FROM practitioner_roles;
DROP TABLE practitioner_roles;
ALTER TABLE practitioner_roles_new RENAME TO practitioner_roles;

-- A case's link to one of a partner's people, under the partner's own reference (e.g. the Drive case
-- of the linked perpetrator). Nothing about the perpetrator is stored beyond that reference.
CREATE TABLE case_partner_links (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    contact_id INTEGER NOT NULL REFERENCES practitioners(id),
    partner_ref_enc BLOB,  -- encrypted: it points at another person's case
    linked_at TEXT NOT NULL,
    linked_by TEXT NOT NULL,  -- an audit actor
    unlinked_at TEXT,
    UNIQUE (case_id, contact_id)
);

-- Her consent per partner and kind of information, append-only: the latest row decides.
CREATE TABLE partner_consents (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    kind TEXT NOT NULL CHECK (kind IN ('risk_changes', 'urgent_alerts', 'checkin_summaries', 'personal_details')),
    agreed INTEGER NOT NULL,
    text_version TEXT NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('in_person', 'through_idva')),
    at TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX partner_consents_case ON partner_consents(case_id, partner_id, kind, id);

-- Every share: what, to whom, when, why, on which basis and consent, acknowledged when, and what was done.
CREATE TABLE shares (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    contact_id INTEGER NOT NULL REFERENCES practitioners(id),
    kind TEXT NOT NULL,  -- a safety/sharing.Kind, or 'manual'
    alert_id INTEGER REFERENCES alerts(id),
    basis TEXT NOT NULL CHECK (basis IN ('consent', 'vital_interests', 'public_task', 'safeguarding')),
    consent_id INTEGER REFERENCES partner_consents(id),
    content TEXT NOT NULL,  -- JSON of what went: level, reason and fact codes, time; never her words
    justification_enc BLOB,  -- why, for a share from the workspace or without consent
    requested_by TEXT,
    approved_by INTEGER REFERENCES practitioners(id),  -- a second manager, for a share without consent
    created_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by INTEGER REFERENCES practitioners(id),
    action TEXT,  -- what the partner did: a code from a fixed list
    action_note_enc BLOB,
    action_at TEXT
);
CREATE INDEX shares_case ON shares(case_id, id);
CREATE INDEX shares_open ON shares(partner_id) WHERE acknowledged_at IS NULL;
