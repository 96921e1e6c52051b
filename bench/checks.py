"""After a benchmark run: read the database file back, independently, and compare it with what was sent."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Expected:
    """What the driver sent and observed, to be matched against the file."""

    survivors: int
    rounds: int
    inbound: int  # every message handed to handle_inbound, setup included
    codeword_answers: int
    bad_outcomes: int  # handle_inbound results other than "processed"
    delivered: int  # messages the simulator phone received


def verify(db_path: Path, want: Expected) -> list[tuple[str, int, int]]:
    """Each check as (name, got, expected), read through a separate read-only connection."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        def one(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        return [
            ("inbound rows == messages sent", one("SELECT count(*) FROM inbound_messages"), want.inbound),
            ("inbound rows without a case", one("SELECT count(*) FROM inbound_messages WHERE case_id IS NULL"), 0),
            ("duplicate or unknown-sender outcomes", want.bad_outcomes, 0),
            ("duplicate provider ids", one("SELECT count(*) FROM (SELECT 1 FROM inbound_messages "
                                           "GROUP BY channel, provider_id HAVING count(*) > 1)"), 0),
            ("codeword alerts == codeword answers", one("SELECT count(*) FROM alerts WHERE reason = 'codeword'"),
             want.codeword_answers),
            ("cases with two codeword alerts at once", one(
                "SELECT count(*) FROM (SELECT 1 FROM alerts WHERE reason = 'codeword' "
                "GROUP BY case_id, created_at HAVING count(*) > 1)"), 0),
            ("codeword alerts in the IDVA's inbox", one(
                "SELECT count(DISTINCT i.alert_id) FROM inbox i JOIN alerts a ON a.id = i.alert_id "
                "JOIN cases c ON c.id = a.case_id WHERE a.reason = 'codeword' AND i.practitioner_id = c.idva_id"),
             want.codeword_answers),
            ("other alerts (every answer was calm)", one("SELECT count(*) FROM alerts WHERE reason != 'codeword'"), 0),
            ("completed check-ins == survivors x rounds",
             one("SELECT count(*) FROM checkins WHERE status = 'completed'"), want.survivors * want.rounds),
            ("check-ins not completed", one("SELECT count(*) FROM checkins WHERE status != 'completed'"), 0),
            ("outbox rows left pending or failed", one("SELECT count(*) FROM outbox WHERE status != 'sent'"), 0),
            ("survivor messages sent == received by the phone",
             one("SELECT count(*) FROM outbox WHERE recipient = 'survivor' AND status = 'sent'"), want.delivered),
        ]
    finally:
        conn.close()
