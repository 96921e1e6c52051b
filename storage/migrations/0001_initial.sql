-- Safecheck schema, version 1. Personal data lives only in *_enc columns (AES-GCM) and
-- *_hash columns (keyed HMAC). Times are UTC ISO-8601 text, so text order is time order.

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    sender_name TEXT NOT NULL DEFAULT 'Alex',
    timezone TEXT NOT NULL DEFAULT 'Europe/London',
    questionset TEXT,              -- TOML of the service's own question set; NULL = the default
    alert_policy TEXT,             -- JSON; NULL = the default ladder
    missed_policy TEXT,            -- JSON; NULL = the default
    cover_line INTEGER NOT NULL DEFAULT 0,
    digest_hour INTEGER,           -- local hour of the IDVAs' daily digest; NULL = no digest
    retention_days INTEGER NOT NULL DEFAULT 90,
    created_at TEXT NOT NULL
);

CREATE TABLE practitioners (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    role TEXT NOT NULL CHECK (role IN ('idva', 'duty', 'manager')),
    name_enc BLOB NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

-- A practitioner's alert channels, tried in the order they chose.
CREATE TABLE practitioner_channels (
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    position INTEGER NOT NULL,
    channel TEXT NOT NULL,
    address_enc BLOB,
    PRIMARY KEY (practitioner_id, position)
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    ref TEXT NOT NULL UNIQUE,
    idva_id INTEGER NOT NULL REFERENCES practitioners(id),
    channel TEXT NOT NULL,
    address_enc BLOB,
    address_hash BLOB,
    name_enc BLOB,
    salt BLOB NOT NULL,
    language TEXT NOT NULL DEFAULT 'en_GB',
    timezone TEXT NOT NULL DEFAULT 'Europe/London',
    safe_windows TEXT NOT NULL DEFAULT '[]',
    intake_level TEXT NOT NULL CHECK (intake_level IN ('standard', 'medium', 'high')),
    no_contact_order INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('pending', 'onboarding', 'active', 'paused', 'closed', 'withdrawn')),
    activation_hash BLOB,
    activation_expires_at TEXT,
    exit_word_hash BLOB,
    codeword_hash BLOB,
    pin_hash BLOB,
    duress_pin_hash BLOB,
    exit_pause_minutes INTEGER NOT NULL DEFAULT 1440,
    missed_alerts_agreed INTEGER NOT NULL DEFAULT 0,
    paused_until TEXT,
    created_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE UNIQUE INDEX cases_live_address ON cases(channel, address_hash)
    WHERE status NOT IN ('closed', 'withdrawn');
CREATE INDEX cases_address ON cases(channel, address_hash);

CREATE TABLE consents (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    topic TEXT NOT NULL,
    agreed INTEGER NOT NULL,
    text_version TEXT NOT NULL,
    how TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE TABLE schedules (
    case_id INTEGER PRIMARY KEY REFERENCES cases(id),
    spec TEXT NOT NULL,
    jitter_minutes INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

CREATE TABLE conversations (
    case_id INTEGER PRIMARY KEY REFERENCES cases(id),
    state TEXT NOT NULL,
    checkin_id INTEGER REFERENCES checkins(id),
    updated_at TEXT NOT NULL
);

CREATE TABLE inbound_messages (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    case_id INTEGER REFERENCES cases(id),
    body_enc BLOB,
    received_at TEXT NOT NULL,
    UNIQUE (channel, provider_id)
);

CREATE TABLE checkins (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    slot TEXT NOT NULL,
    due_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'completed', 'partial', 'deferred', 'missed',
        'missed_system', 'exited', 'pin_failed', 'ended')),
    UNIQUE (case_id, slot)
);

CREATE TABLE answers (
    id INTEGER PRIMARY KEY,
    checkin_id INTEGER NOT NULL REFERENCES checkins(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    question TEXT NOT NULL,
    options TEXT NOT NULL,
    signals TEXT NOT NULL,
    text_enc BLOB,
    unanswered INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL
);

CREATE TABLE assessments (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    checkin_id INTEGER REFERENCES checkins(id),
    score INTEGER NOT NULL,
    level TEXT NOT NULL,
    fear INTEGER NOT NULL,
    signals TEXT NOT NULL,
    change TEXT NOT NULL,
    baseline TEXT NOT NULL,
    complete INTEGER NOT NULL,
    at TEXT NOT NULL
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    severity TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by INTEGER REFERENCES practitioners(id)
);
CREATE INDEX alerts_open ON alerts(service_id) WHERE acknowledged_at IS NULL;

-- Who was told of an alert, at which rung of the escalation ladder.
CREATE TABLE alert_notifications (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    step INTEGER NOT NULL,
    role TEXT NOT NULL,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    at TEXT NOT NULL,
    UNIQUE (alert_id, step, practitioner_id)
);

-- Every timed thing: check-ins due, reminders, expiries, escalations, resumes, digests.
CREATE TABLE timers (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    case_id INTEGER REFERENCES cases(id),
    alert_id INTEGER REFERENCES alerts(id),
    service_id INTEGER REFERENCES services(id),
    due_at TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    done_at TEXT,
    UNIQUE (kind, key)
);
CREATE INDEX timers_due ON timers(due_at) WHERE done_at IS NULL;

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
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
    sent_at TEXT
);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE status = 'pending';

-- The practitioner inbox channel: alert texts (case reference and reason only).
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    alert_id INTEGER REFERENCES alerts(id),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    case_id INTEGER REFERENCES cases(id),
    detail TEXT NOT NULL DEFAULT ''
);
