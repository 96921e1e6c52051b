"""Check-ins, the conversation state between inputs, answers and assessments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flows.model import Answer, ConversationState
from safety.model import Assessment, RiskChange
from safety.signals import fear_score
from storage.crypto import Crypto, Field
from storage.db import Row, Tx, parse_ts, ts

ANSWER_TEXT = Field("answers", "text_enc", legacy=b"answer.text")


@dataclass(frozen=True)
class Conversation:
    state: ConversationState
    checkin_id: int | None


async def conversation(tx: Tx, case_id: int) -> Conversation:
    row = await tx.one("SELECT state, checkin_id FROM conversations WHERE case_id = ?", (case_id,))
    if row is None:
        return Conversation(ConversationState(), None)
    return Conversation(ConversationState.from_json(row["state"]), row["checkin_id"])


async def save_conversation(tx: Tx, case_id: int, convo: Conversation, now: datetime) -> None:
    await tx.execute(
        "INSERT INTO conversations (case_id, state, checkin_id, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (case_id) DO UPDATE SET state = excluded.state, checkin_id = excluded.checkin_id, "
        "updated_at = excluded.updated_at",
        (case_id, convo.state.to_json(), convo.checkin_id, ts(now)),
    )


async def open_checkin(
    tx: Tx, case_id: int, slot: str, due_at: datetime, now: datetime, status: str = "open"
) -> int | None:
    """Create the check-in for a slot; None if that slot already has one (the DST double-fire guard)."""
    return await tx.insert(
        "INSERT INTO checkins (case_id, slot, due_at, started_at, status) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (case_id, slot) DO NOTHING",
        (case_id, slot, ts(due_at), ts(now) if status == "open" else None, status),
    )


async def close_checkin(tx: Tx, checkin_id: int, status: str, now: datetime) -> None:
    await tx.execute(
        "UPDATE checkins SET status = ?, ended_at = ? WHERE id = ? AND status = 'open'", (status, ts(now), checkin_id)
    )


async def started_at(tx: Tx, checkin_id: int) -> datetime | None:
    value = await tx.scalar("SELECT started_at FROM checkins WHERE id = ?", (checkin_id,))
    return parse_ts(value) if value else None


async def slot_of(tx: Tx, checkin_id: int) -> str:
    return str(await tx.scalar("SELECT slot FROM checkins WHERE id = ?", (checkin_id,)))


async def add_answers(
    tx: Tx, crypto: Crypto, case_id: int, checkin_id: int, answers: tuple[Answer, ...], now: datetime
) -> None:
    first = await tx.next_id("answers")  # each free text is bound to its answer's id
    await tx.executemany(
        "INSERT INTO answers (id, checkin_id, case_id, question, options, signals, text_enc, unanswered, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                answer_id,
                checkin_id,
                case_id,
                a.question,
                json.dumps(list(a.options)),
                json.dumps(list(a.signals)),
                crypto.encrypt_optional(a.text, ANSWER_TEXT.at(answer_id)),
                int(a.unanswered),
                ts(now),
            )
            for answer_id, a in enumerate(answers, start=first)
        ],
    )


async def add_assessment(
    tx: Tx, case_id: int, checkin_id: int | None, a: Assessment, change: RiskChange, complete: bool, now: datetime
) -> None:
    await tx.execute(
        "INSERT INTO assessments (case_id, checkin_id, score, level, fear, signals, change, baseline, complete, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            checkin_id,
            a.score,
            a.level.label,
            fear_score(a.signals),
            json.dumps(list(a.signals)),
            change.change.value,
            change.baseline.label,
            int(complete),
            ts(now),
        ),
    )


async def for_case(tx: Tx, case_id: int, limit: int = 20) -> list[Row]:
    return await tx.all(
        "SELECT c.*, a.level, a.score, a.change, a.signals AS assessed_signals FROM checkins c "
        "LEFT JOIN assessments a ON a.checkin_id = c.id WHERE c.case_id = ? ORDER BY c.id DESC LIMIT ?",
        (case_id, limit),
    )


async def answers_for(tx: Tx, checkin_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM answers WHERE checkin_id = ? ORDER BY id", (checkin_id,))


async def purge_free_text(tx: Tx, service_id: int, older_than: datetime) -> int:
    """Retention: drop one service's free text and inbound bodies older than the cut-off."""
    cut = ts(older_than)
    n = await tx.changes(
        "UPDATE answers SET text_enc = NULL WHERE text_enc IS NOT NULL AND at < ? "
        "AND case_id IN (SELECT id FROM cases WHERE service_id = ?)",
        (cut, service_id),
    )
    n += await tx.changes(
        "UPDATE inbound_messages SET body_enc = NULL WHERE body_enc IS NOT NULL AND received_at < ? "
        "AND (case_id IS NULL OR case_id IN (SELECT id FROM cases WHERE service_id = ?))",
        (cut, service_id),
    )
    return n


async def recent_questions(tx: Tx, case_id: int, checkins: int) -> tuple[frozenset[str], ...]:
    """The question ids answered at each of her last `checkins` answered check-ins, oldest first: what
    the rotation of questions reads. Missed check-ins are left out: they change nothing about which
    question is most overdue, and counting them would let a long absence hide when one was asked."""
    rows = await tx.all(
        "SELECT checkin_id, question FROM answers WHERE checkin_id IN "
        "(SELECT DISTINCT checkin_id FROM answers WHERE case_id = ? ORDER BY checkin_id DESC LIMIT ?)",
        (case_id, checkins),
    )
    asked: dict[int, set[str]] = {}
    for row in rows:
        asked.setdefault(row["checkin_id"], set()).add(row["question"])
    return tuple(frozenset(asked[i]) for i in sorted(asked))
