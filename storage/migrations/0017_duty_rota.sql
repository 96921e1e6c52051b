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
