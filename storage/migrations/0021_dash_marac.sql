-- Version 21: the DASH risk checklist as the IDVA records it (at intake and when risk changes), and
-- the Marac meetings a case went to. The latest DASH's level is copied to cases.intake_level, which
-- the risk model reads as her intake baseline.
--
-- answers: JSON {"1": "yes" | "no" | "not_known", ..., "24": ...}: codes only, no personal data.
-- judgement_level: the level the IDVA raised it to by professional judgement, or NULL when the count
-- stands; reason_enc: why (free text, encrypted and bound to its row). level: the resulting level.
CREATE TABLE dash_assessments (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    recorded_at TEXT NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES practitioners(id),
    answers TEXT NOT NULL,
    ticks INTEGER NOT NULL CHECK (ticks BETWEEN 0 AND 24),
    judgement_level TEXT CHECK (judgement_level IN ('medium', 'high')),
    reason_enc BLOB,
    level TEXT NOT NULL CHECK (level IN ('standard', 'medium', 'high'))
);
CREATE INDEX dash_assessments_case ON dash_assessments(case_id, id);

-- actions_enc: what the Marac agreed (free text, encrypted and bound to its row).
CREATE TABLE marac_meetings (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    meeting_date TEXT NOT NULL,
    actions_enc BLOB,
    recorded_by INTEGER NOT NULL REFERENCES practitioners(id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX marac_meetings_case ON marac_meetings(case_id, meeting_date);

-- Marac "potential escalation": this many incidents (check-ins reporting one) in 12 months. Local
-- thresholds vary; 3 is the common one.
ALTER TABLE services ADD COLUMN marac_escalation_incidents INTEGER NOT NULL DEFAULT 3
    CHECK (marac_escalation_incidents >= 1);
