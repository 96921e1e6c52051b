-- The whole audit log joins the hash chain, and retention may remove whole old months of it.
-- The rows written before 0018 had no hash: the step checks the chain as it stands (refusing, with
-- nothing changed, if it is already broken) and then chains every row from the first.
-- Retention removes a prefix of the log and records an anchor first: the id and hash of the last row
-- removed. The rest verifies from it. Only rows at or below the anchor may be deleted, and the anchor only
-- moves forward, to a row that exists with that very hash.

-- How long each service keeps its audit entries: 6 years (2190 days) by default, the limitation period
-- for most civil claims in England and Wales (Limitation Act 1980, ss. 2 and 5).
ALTER TABLE services ADD COLUMN audit_retention_days INTEGER NOT NULL DEFAULT 2190;

CREATE TABLE audit_anchor (
    id INTEGER PRIMARY KEY,
    last_id INTEGER NOT NULL,  -- the last audit_log row removed
    last_hash BLOB NOT NULL,  -- its row_hash: the first remaining row chains from it
    at TEXT NOT NULL,  -- when (the same instant as the audit_retention row that witnesses it)
    removed INTEGER NOT NULL  -- how many rows this retention removed
);

CREATE TRIGGER audit_anchor_forward BEFORE INSERT ON audit_anchor
WHEN NEW.last_id <= COALESCE((SELECT MAX(last_id) FROM audit_anchor), 0)
    OR NEW.last_hash IS NOT (SELECT row_hash FROM audit_log WHERE id = NEW.last_id)
BEGIN
    SELECT RAISE(ABORT, 'the audit anchor only moves forward, to a row of the log with its hash');
END;

CREATE TRIGGER audit_anchor_no_update BEFORE UPDATE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'the audit anchor is append-only');
END;

CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'the audit anchor is append-only');
END;

DROP TRIGGER IF EXISTS audit_log_no_delete;  -- IF EXISTS: a tampered file must reach the check and be refused there
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.id > COALESCE((SELECT MAX(last_id) FROM audit_anchor), 0)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: only rows up to the retention anchor may go');
END;

DROP TRIGGER IF EXISTS audit_log_no_update;
-- step: storage.audit.join_chain
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
