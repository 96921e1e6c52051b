"""The audit log: who did what to which case, and when. Holds no personal data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from storage.db import Database, Row, StorageError, Tx, parse_ts, ts


async def log(
    tx: Tx,
    now: datetime,
    actor: str,
    action: str,
    case_id: int | None = None,
    detail: str = "",
    service_id: int | None = None,
) -> None:
    """One row, chained to the one before; its service is the one given, else the case's, else the acting
    practitioner's (so each service's managers see their own)."""
    if service_id is None:
        person = int(actor.removeprefix("practitioner:")) if actor.startswith("practitioner:") else None
        service_id = await tx.scalar(
            "SELECT COALESCE((SELECT service_id FROM cases WHERE id = ?),"
            " (SELECT service_id FROM practitioners WHERE id = ?))",
            (case_id, person),
        )
    last = await tx.one("SELECT id, row_hash FROM audit_log ORDER BY id DESC LIMIT 1")
    if last is None:  # empty, or emptied by retention: the next row chains from the anchor
        last = await tx.one("SELECT last_id AS id, last_hash AS row_hash FROM audit_anchor ORDER BY id DESC LIMIT 1")
    row_id = (last["id"] if last else 0) + 1
    at = ts(now)
    digest = chain_hash(last["row_hash"] if last else None, (row_id, at, actor, action, case_id, detail, service_id))
    await tx.execute(
        "INSERT INTO audit_log (id, at, actor, action, case_id, detail, service_id, row_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (row_id, at, actor, action, case_id, detail, service_id, digest),
    )


def chain_hash(previous: bytes | None, fields: tuple[object, ...]) -> bytes:
    """SHA-256 of the previous row's hash and this row's fields, in an unambiguous encoding."""
    encoded = json.dumps([previous.hex() if previous else "", *fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).digest()


def _fields(row: Row) -> tuple[object, ...]:
    return (row["id"], row["at"], row["actor"], row["action"], row["case_id"], row["detail"], row["service_id"])


@dataclass(frozen=True)
class Anchor:
    """Where retention cut the log: the last row removed, its hash, when, and how many rows went."""

    id: int
    last_id: int
    last_hash: bytes
    at: datetime
    removed: int


async def anchor(tx: Tx) -> Anchor | None:
    row = await tx.one("SELECT * FROM audit_anchor ORDER BY id DESC LIMIT 1")
    if row is None:
        return None
    return Anchor(row["id"], row["last_id"], row["last_hash"], parse_ts(row["at"]), row["removed"])


def witness(a: Anchor) -> str:
    """The detail of the audit_retention row written with an anchor: the chain then vouches for the anchor."""
    return json.dumps({"anchor": a.id, "last_row": a.last_id, "removed": a.removed}, sort_keys=True)


@dataclass(frozen=True)
class ChainCheck:
    rows: int  # rows checked
    broken_at: int | None  # the first row whose hash does not follow from its fields and the row (or anchor) before
    anchor: Anchor | None = None  # where the chain starts, if retention has removed its beginning
    problem: str = ""  # what is wrong at broken_at, in a few words
    # The newest row found intact (id, hash): a later check may start there. Bookkeeping, not the result.
    last: tuple[int, bytes] | None = field(default=None, compare=False)


CHUNK = 2_000  # rows read at a time: memory stays flat, and other tasks get the event loop between chunks


async def verify_chain(tx: Tx, legacy: bool = False) -> ChainCheck:
    """Recompute the chain from the anchor (or the first row); a changed, removed or inserted row breaks it,
    and so does a changed anchor. `legacy`: rows before the first hashed one (before 0018) are skipped."""
    start = await anchor(tx) if not legacy else None
    if start is not None:
        below = await tx.scalar("SELECT MIN(id) FROM audit_log WHERE id <= ?", (start.last_id,))
        if below is not None:
            return ChainCheck(0, int(below), start, "it is at or below the retention anchor")
    previous = start.last_hash if start else None
    expected_id = start.last_id + 1 if start else None
    checked, after = 0, start.last_id if start else -1
    started, vouched = not legacy, start is None
    while rows := await tx.all("SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?", (after, CHUNK)):
        for row in rows:
            after = row["id"]
            if row["row_hash"] is None and not started:
                continue  # written before the chain began (only while migrating)
            started = True
            if expected_id is not None and row["id"] != expected_id:
                return ChainCheck(checked, row["id"], start, "a row is missing before it")
            if row["row_hash"] != chain_hash(previous, _fields(row)):
                what = "it does not chain from the retention anchor" if start and not checked else "its hash differs"
                return ChainCheck(checked, row["id"], start, what)
            if start and row["action"] == "audit_retention" and row["detail"] == witness(start):
                vouched = vouched or row["at"] == ts(start.at)
            previous, expected_id, checked = row["row_hash"], row["id"] + 1, checked + 1
    if start is not None and not vouched:
        return ChainCheck(checked, start.last_id, start, "the retention anchor differs from its audit_retention entry")
    # Creating a service is audited and retention always leaves an anchor: no rows and no anchor beside a
    # service means the rows were deleted, which no hash can show.
    if start is None and checked == 0 and not legacy and await tx.scalar("SELECT 1 FROM services LIMIT 1"):
        return ChainCheck(0, 1, None, "every row is missing, yet the database has a service")
    return ChainCheck(checked, None, start, last=(expected_id - 1, previous) if previous and expected_id else None)


async def verify(db: Database) -> ChainCheck:
    """`verify_chain` on one snapshot of the database, so a retention running meanwhile cannot look like tampering."""
    async with db.reading() as tx:
        await tx.execute("BEGIN")
        try:
            return await verify_chain(tx)
        finally:
            await tx.execute("COMMIT")


async def verify_since(db: Database, intact: ChainCheck) -> ChainCheck:
    """Only the rows written after an intact check's newest row, chained from it: cheap, for a page that
    checks the whole chain now and then and the new rows at each view. Rows before it are not re-read."""
    if intact.last is None:
        return await verify(db)
    after, previous = intact.last
    checked = intact.rows
    async with db.reading() as tx:
        while rows := await tx.all("SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?", (after, CHUNK)):
            for row in rows:
                if row["id"] != after + 1:
                    return replace(intact, rows=checked, broken_at=row["id"], problem="a row is missing before it")
                if row["row_hash"] != chain_hash(previous, _fields(row)):
                    return replace(intact, rows=checked, broken_at=row["id"], problem="its hash differs")
                after, previous, checked = row["id"], row["row_hash"], checked + 1
    return replace(intact, rows=checked, last=(after, previous))


async def join_chain(tx: Tx) -> None:
    """Migration 0026: check the chain as it stands, then chain every row from the first.

    Refuses (nothing changed) if the chain is already broken: re-hashing would launder the tampering."""
    check = await verify_chain(tx, legacy=True)
    if check.broken_at is not None:
        raise StorageError(
            f"the audit log's chain already breaks at row {check.broken_at} ({check.problem}): not upgrading, so "
            "the evidence stays as it is; keep this file and restore the database from a backup"
        )
    previous: bytes | None = None
    after = -1
    while rows := await tx.all("SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?", (after, CHUNK)):
        for row in rows:
            previous = chain_hash(previous, _fields(row))
            await tx.execute("UPDATE audit_log SET row_hash = ? WHERE id = ?", (previous, row["id"]))
            after = row["id"]


async def for_case(tx: Tx, case_id: int) -> list[Row]:
    return await tx.all("SELECT * FROM audit_log WHERE case_id = ? ORDER BY id", (case_id,))


async def paused_by_her_exit(tx: Tx, case_id: int) -> datetime | None:
    """When her exit word paused the case, if that is the latest pause or resume on record; else None."""
    row = await tx.one(
        "SELECT action, at FROM audit_log WHERE case_id = ? AND action IN"
        " ('quick_exit', 'case_pause', 'case_resume', 'resumed_after_pause') ORDER BY id DESC LIMIT 1",
        (case_id,),
    )
    return parse_ts(row["at"]) if row is not None and row["action"] == "quick_exit" else None


def changed(before: Mapping[str, object], after: Mapping[str, object], **about: object) -> str:
    """The detail of a change: the values before and after, and ids of what changed, as JSON.

    Callers pass no personal data (no names, addresses or free text): ids, settings and roles only."""
    return json.dumps({**about, "before": before, "after": after}, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Filters:
    """What a manager narrows the audit log to; every part optional."""

    actor: str | None = None  # exact: practitioner:<id>, system, os:<user>, ...
    action: str | None = None  # the action or its family: "alert_raised" matches "alert_raised:urgent:codeword"
    case_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    before_id: int | None = None  # the next page: rows older than the last one shown (new rows do not shift it)


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    action: str
    case_ref: str | None
    detail: str


def _where(service_id: int, f: Filters) -> tuple[str, list[object]]:
    clauses: list[str] = ["a.service_id = ?"]
    params: list[object] = [service_id]
    if f.actor is not None:
        clauses.append("a.actor = ?")
        params.append(f.actor)
    if f.action is not None:
        clauses.append("(a.action = ? OR a.action LIKE ? ESCAPE '\\')")
        params += [f.action, f.action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ":%"]
    if f.case_id is not None:
        clauses.append("a.case_id = ?")
        params.append(f.case_id)
    if f.since is not None:
        clauses.append("a.at >= ?")
        params.append(ts(f.since))
    if f.until is not None:
        clauses.append("a.at < ?")
        params.append(ts(f.until))
    if f.before_id is not None:
        clauses.append("a.id < ?")
        params.append(f.before_id)
    return " AND ".join(clauses), params


async def search(tx: Tx, service_id: int, filters: Filters, limit: int) -> list[Entry]:
    """One service's audit rows matching the filters, newest first (never another service's)."""
    where, params = _where(service_id, filters)
    rows = await tx.all(
        "SELECT a.id, a.at, a.actor, a.action, a.detail, c.ref FROM audit_log a LEFT JOIN cases c ON c.id = a.case_id"
        f" WHERE {where} ORDER BY a.id DESC LIMIT ?",
        (*params, limit),
    )
    return [Entry(r["id"], parse_ts(r["at"]), r["actor"], r["action"], r["ref"], r["detail"]) for r in rows]


async def action_families(tx: Tx, service_id: int) -> list[str]:
    """The distinct actions (up to their first ':') in a service's log, for the filter's choices."""
    rows = await tx.all(
        "SELECT DISTINCT CASE WHEN instr(action, ':') > 0 THEN substr(action, 1, instr(action, ':') - 1)"
        " ELSE action END AS family FROM audit_log WHERE service_id = ? ORDER BY family",
        (service_id,),
    )
    return [r["family"] for r in rows]


async def actors(tx: Tx, service_id: int) -> list[str]:
    """The distinct actors in a service's log."""
    rows = await tx.all("SELECT DISTINCT actor FROM audit_log WHERE service_id = ? ORDER BY actor", (service_id,))
    return [r["actor"] for r in rows]


def describe_start(start: Anchor | None) -> str:
    """Where the chain starts, in words: the first row, or the anchor retention left."""
    if start is None:
        return "the first row"
    day = start.at.date().isoformat()
    return f"the anchor after row {start.last_id} ({start.removed} removed by retention on {day})"
