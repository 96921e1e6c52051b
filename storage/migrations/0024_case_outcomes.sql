-- Version 24: outcomes at case closure, Insights-style (SafeLives Insights; Drive's four measures).
-- One row per case closed from the workspace, written in the same unit as the close. Codes only, never
-- free text (safety/closure_outcomes.py holds the lists; a note can say more). A case closed from the
-- CLI has no row: the report counts it as closed with no outcome recorded.
CREATE TABLE case_outcomes (
    case_id INTEGER PRIMARY KEY REFERENCES cases(id),
    recorded_at TEXT NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES practitioners(id),
    close_reason TEXT NOT NULL,  -- a CLOSE_REASONS code (checked in code: the list may grow)
    safety TEXT NOT NULL CHECK (safety IN ('improved', 'no_change', 'worse', 'not_known')),
    physical TEXT NOT NULL CHECK (physical IN ('ceased', 'reduced', 'continued', 'not_present', 'not_known')),
    sexual TEXT NOT NULL CHECK (sexual IN ('ceased', 'reduced', 'continued', 'not_present', 'not_known')),
    harassment_stalking TEXT NOT NULL
        CHECK (harassment_stalking IN ('ceased', 'reduced', 'continued', 'not_present', 'not_known')),
    jealous_controlling TEXT NOT NULL
        CHECK (jealous_controlling IN ('ceased', 'reduced', 'continued', 'not_present', 'not_known')),
    quality_of_life TEXT NOT NULL CHECK (quality_of_life IN ('improved', 'no_change', 'worse', 'not_known'))
);
