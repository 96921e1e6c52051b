-- The practitioner workspace: accounts with a second factor, server-side sessions, invitations.

-- A person holds one or more roles in their service. practitioners.role stays their first role.
CREATE TABLE practitioner_roles (
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    role TEXT NOT NULL CHECK (role IN ('idva', 'duty', 'manager', 'admin')),
    PRIMARY KEY (practitioner_id, role)
);
INSERT INTO practitioner_roles (practitioner_id, role) SELECT id, role FROM practitioners;

-- A login for a practitioner. The login name is personal data: kept encrypted, found by a blind index.
CREATE TABLE accounts (
    practitioner_id INTEGER PRIMARY KEY REFERENCES practitioners(id),
    login_hash BLOB NOT NULL UNIQUE,
    login_enc BLOB NOT NULL,
    password_hash TEXT NOT NULL,          -- argon2id, with its parameters
    totp_secret_enc BLOB NOT NULL,
    totp_last_step INTEGER NOT NULL DEFAULT 0,  -- a TOTP code works once
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    code_hash BLOB NOT NULL UNIQUE,
    used_at TEXT
);

CREATE TABLE webauthn_credentials (
    id INTEGER PRIMARY KEY,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    credential_id BLOB NOT NULL UNIQUE,
    public_key BLOB NOT NULL,
    sign_count INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL DEFAULT 'passkey',
    created_at TEXT NOT NULL,
    last_used_at TEXT
);

-- A session: only the token's hash is kept. stage 'password' has passed the password only.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    stage TEXT NOT NULL CHECK (stage IN ('password', 'full')),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT,
    challenge TEXT                        -- a pending WebAuthn challenge, single use
);
CREATE INDEX sessions_live ON sessions(practitioner_id) WHERE ended_at IS NULL;

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    token_hash BLOB NOT NULL UNIQUE,
    roles TEXT NOT NULL,                  -- JSON list
    name_enc BLOB NOT NULL,
    created_by TEXT NOT NULL,             -- audit actor
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    practitioner_id INTEGER REFERENCES practitioners(id),
    reset_of INTEGER REFERENCES practitioners(id)  -- a reset: a new password and second factor for them
);

-- Failed logins per login name (blind index, whether or not the account exists): growing delays.
CREATE TABLE login_failures (
    key_hash BLOB PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at TEXT NOT NULL
);

-- Duty staff viewing a case without an open alert give a reason first; it lasts the session.
CREATE TABLE access_reasons (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    reason_enc BLOB NOT NULL,
    at TEXT NOT NULL
);

-- Which service an audit row belongs to, so a manager's view of the log shows theirs only.
ALTER TABLE audit_log ADD COLUMN service_id INTEGER REFERENCES services(id);
UPDATE audit_log SET service_id = (SELECT service_id FROM cases WHERE cases.id = audit_log.case_id)
    WHERE case_id IS NOT NULL;
CREATE INDEX audit_service ON audit_log(service_id, id);
