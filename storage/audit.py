"""The audit log: who did what to which case, and when. Holds no personal data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from storage.db import Row, Tx, parse_ts, ts


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


@dataclass(frozen=True)
class ChainCheck:
    rows: int  # rows checked (those written before the chain began are not counted)
    broken_at: int | None  # the first row whose hash does not follow from its fields and the row before


async def verify_chain(tx: Tx) -> ChainCheck:
    """Recompute the chain from its first hashed row; a changed, removed or inserted row breaks it."""
    previous: bytes | None = None
    started, checked = False, 0
    expected_id: int | None = None
    for row in await tx.all("SELECT * FROM audit_log ORDER BY id"):
        if row["row_hash"] is None and not started:
            continue  # written before the chain began
        started = True
        fields = (row["id"], row["at"], row["actor"], row["action"], row["case_id"], row["detail"], row["service_id"])
        gap = expected_id is not None and row["id"] != expected_id
        if gap or row["row_hash"] != chain_hash(previous, fields):
            return ChainCheck(checked, row["id"])
        previous, expected_id, checked = row["row_hash"], row["id"] + 1, checked + 1
    return ChainCheck(checked, None)


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
