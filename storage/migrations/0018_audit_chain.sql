-- The audit log is append-only and hash-chained: each row carries the SHA-256 of its own fields and of
-- the row before it, so a row changed, removed or slipped in after the fact breaks the chain.
-- Rows written before this version have no hash; the chain starts at the first row after them.
ALTER TABLE audit_log ADD COLUMN row_hash BLOB;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
