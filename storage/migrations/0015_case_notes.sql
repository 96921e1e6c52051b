-- Version 15: practitioners' notes on a case, shown in its timeline. The text is free text about a
-- survivor: encrypted and bound to its row like every other.
CREATE TABLE case_notes (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    author_id INTEGER NOT NULL REFERENCES practitioners(id),
    body_enc BLOB NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes(case_id, id);
