-- Version 14: the workspace's alert queue. An alert is acknowledged (someone has it: the ladder stops)
-- and later resolved, with an outcome from a fixed list and an optional note, encrypted and bound to
-- its alert like every other free text. Time to acknowledge and to resolve are read from the stamps.
ALTER TABLE alerts ADD COLUMN resolved_at TEXT;
ALTER TABLE alerts ADD COLUMN resolved_by INTEGER REFERENCES practitioners(id);
ALTER TABLE alerts ADD COLUMN outcome TEXT
    CHECK (outcome IN ('safe', 'action', 'not_reached', 'false_alarm', 'marac', 'unrecorded'));
-- What was done when the outcome is 'action' (spoke to her, action taken).
ALTER TABLE alerts ADD COLUMN outcome_action TEXT
    CHECK (outcome_action IN ('police', 'refuge', 'safety_plan', 'other'));
ALTER TABLE alerts ADD COLUMN note_enc BLOB;

-- Alerts acknowledged before resolving existed were dealt with outside Safecheck: close them, saying
-- the outcome was not recorded, rather than fill every queue with years of history.
UPDATE alerts SET resolved_at = acknowledged_at, resolved_by = acknowledged_by, outcome = 'unrecorded'
    WHERE acknowledged_at IS NOT NULL;

CREATE INDEX alerts_unresolved ON alerts(service_id) WHERE resolved_at IS NULL;

-- A counter per service that moves whenever any service's alert queue may look different: a new
-- alert, an acknowledgement, a resolution, a rung reached, a case given to another IDVA. Triggers keep
-- it, so every writer (serve, the CLI, another process) moves it; a live queue polls one row.
CREATE TABLE alert_queue_versions (
    service_id INTEGER PRIMARY KEY REFERENCES services(id),
    version INTEGER NOT NULL
);

CREATE TRIGGER alert_queue_new AFTER INSERT ON alerts BEGIN
    INSERT INTO alert_queue_versions (service_id, version) VALUES (NEW.service_id, 1)
        ON CONFLICT (service_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER alert_queue_handled AFTER UPDATE OF acknowledged_at, resolved_at ON alerts BEGIN
    INSERT INTO alert_queue_versions (service_id, version) VALUES (NEW.service_id, 1)
        ON CONFLICT (service_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER alert_queue_rung AFTER INSERT ON alert_notifications BEGIN
    INSERT INTO alert_queue_versions (service_id, version)
        SELECT service_id, 1 FROM alerts WHERE id = NEW.alert_id
        ON CONFLICT (service_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER alert_queue_reassigned AFTER UPDATE OF idva_id ON cases BEGIN
    INSERT INTO alert_queue_versions (service_id, version) VALUES (NEW.service_id, 1)
        ON CONFLICT (service_id) DO UPDATE SET version = version + 1;
END;
