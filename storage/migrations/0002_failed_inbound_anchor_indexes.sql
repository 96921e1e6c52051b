-- Version 2: inbound messages that could not be processed are kept and flagged for a person;
-- interval schedules ("every 3 days") count from the day they were set.
ALTER TABLE inbound_messages ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schedules ADD COLUMN anchor TEXT;

-- Indexes for the queries every message and every timer makes, so they stay fast as data grows.
CREATE INDEX timers_case_pending ON timers(case_id, kind) WHERE done_at IS NULL;
CREATE INDEX timers_alert_pending ON timers(alert_id) WHERE done_at IS NULL AND alert_id IS NOT NULL;
CREATE INDEX assessments_case ON assessments(case_id, complete, id);
CREATE INDEX checkins_case ON checkins(case_id, id);
CREATE INDEX answers_checkin ON answers(checkin_id);
CREATE INDEX alerts_case ON alerts(case_id, reason) WHERE acknowledged_at IS NULL;
CREATE INDEX outbox_case_pending ON outbox(case_id) WHERE status = 'pending';
