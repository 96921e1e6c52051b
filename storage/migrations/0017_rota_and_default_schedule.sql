-- The duty rota: who is on duty when. Times are stored in UTC; the pages show the service's time zone.
CREATE TABLE duty_shifts (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    created_by TEXT NOT NULL,             -- audit actor
    created_at TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX duty_shifts_service ON duty_shifts(service_id, ends_at);

-- A service's default check-in schedule (DAYS@TIMES, as `safecheck schedule set` takes), for cases
-- whose IDVA set none; NULL keeps the built-in default (Mondays and Thursdays in her first safe window).
ALTER TABLE services ADD COLUMN default_schedule TEXT;
ALTER TABLE services ADD COLUMN default_jitter INTEGER NOT NULL DEFAULT 0;
