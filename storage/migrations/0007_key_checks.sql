-- Version 7: the keys that belong to this database, and encrypted values bound to their rows.
-- A key file or SAFECHECK_KEY is compared with these check values at every start: keys from another
-- installation are refused before they can write values the right key could not read.
CREATE TABLE key_checks (
    purpose TEXT NOT NULL CHECK (purpose IN ('encryption', 'lookup', 'secrets')),
    key_id TEXT NOT NULL,             -- an encryption key's id; '' for the lookup and secrets keys
    check_value BLOB NOT NULL,        -- HMAC-SHA256(key, "safecheck key check v1")[:16]: names the key, reveals nothing
    added_at TEXT NOT NULL,
    retired_at TEXT,                  -- no value is encrypted under it any more; it may leave the key file
    PRIMARY KEY (purpose, key_id)
);

-- Facts about the database itself, e.g. whether its encrypted values are bound to their rows yet
-- (values written before this version are rewritten, with the key, at the first start after it).
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (name, value) VALUES ('values_bound_to_rows', '0');
