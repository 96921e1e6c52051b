-- Version 8: when a case finished its set-up. A quick exit during set-up pauses the case like any
-- other; when the pause ends it goes back to set-up, not to check-ins, unless set-up was finished.
ALTER TABLE cases ADD COLUMN onboarded_at TEXT;
UPDATE cases SET onboarded_at = created_at WHERE status IN ('active', 'paused', 'closed', 'withdrawn');
