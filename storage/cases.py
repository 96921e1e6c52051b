"""Cases: one survivor each, with contact details encrypted and secrets stored as keyed hashes."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from flows.events import SafeWindow
from safety.model import History, IntakeLevel, Level
from storage import outbox, timers
from storage.crypto import Crypto, Field, new_case_ref
from storage.db import Row, Tx, parse_ts, ts

ADDRESS = Field("cases", "address_enc", legacy=b"case.address")
NAME = Field("cases", "name_enc", legacy=b"case.name")


def normalise_address(address: str) -> str:
    """One spelling per address, so the keyed hash finds it: no spaces, no punctuation but a leading +."""
    cleaned = "".join(ch for ch in address.strip() if ch.isalnum() or ch in "+@._-")
    return cleaned.lower() if "@" in cleaned else cleaned


def address_lookup(crypto: Crypto, channel: str, address: str) -> bytes:
    """The blind index a survivor's address is found by on its channel."""
    return crypto.lookup_hash(channel, normalise_address(address))


@dataclass(frozen=True)
class Case:
    id: int
    service_id: int
    ref: str
    idva_id: int
    channel: str
    address_enc: bytes | None
    name_enc: bytes | None
    salt: bytes
    language: str
    timezone: str
    safe_windows: tuple[SafeWindow, ...]
    intake_level: IntakeLevel
    no_contact_order: bool
    status: str
    activation_hash: bytes | None
    activation_expires_at: datetime | None
    exit_word_hash: bytes | None
    codeword_hash: bytes | None
    pin_hash: bytes | None
    duress_pin_hash: bytes | None
    exit_pause_minutes: int
    missed_alerts_agreed: bool
    paused_until: datetime | None
    onboarded_at: datetime | None = None  # when set-up was finished
    secrets_set_in_person_at: datetime | None = None  # she chose her secrets on the IDVA's device
    checkin_mode: str = "direct"  # direct, or cover: the same questions dressed as an ordinary exchange
    cover_theme: str | None = None  # the cover theme's name, in cover mode
    secrets_on_channel: bool = False  # she may set her secrets over Telegram with auto-delete on
    erased_at: datetime | None = None  # her personal data was erased (storage/erasure.py), and why (a code)
    erase_reason: str | None = None


def _case(row: Row) -> Case:
    return Case(
        id=row["id"],
        service_id=row["service_id"],
        ref=row["ref"],
        idva_id=row["idva_id"],
        channel=row["channel"],
        address_enc=row["address_enc"],
        name_enc=row["name_enc"],
        salt=row["salt"],
        language=row["language"],
        timezone=row["timezone"],
        safe_windows=windows_from_json(row["safe_windows"]),
        intake_level=IntakeLevel(row["intake_level"]),
        no_contact_order=bool(row["no_contact_order"]),
        status=row["status"],
        activation_hash=row["activation_hash"],
        activation_expires_at=parse_ts(row["activation_expires_at"]) if row["activation_expires_at"] else None,
        exit_word_hash=row["exit_word_hash"],
        codeword_hash=row["codeword_hash"],
        pin_hash=row["pin_hash"],
        duress_pin_hash=row["duress_pin_hash"],
        exit_pause_minutes=row["exit_pause_minutes"],
        missed_alerts_agreed=bool(row["missed_alerts_agreed"]),
        paused_until=parse_ts(row["paused_until"]) if row["paused_until"] else None,
        onboarded_at=parse_ts(row["onboarded_at"]) if row["onboarded_at"] else None,
        secrets_set_in_person_at=parse_ts(row["secrets_set_in_person_at"]) if row["secrets_set_in_person_at"] else None,
        checkin_mode=row["checkin_mode"],
        cover_theme=row["cover_theme"],
        secrets_on_channel=bool(row["secrets_on_channel"]),
        erased_at=parse_ts(row["erased_at"]) if row["erased_at"] else None,
        erase_reason=row["erase_reason"],
    )


def windows_to_json(windows: tuple[SafeWindow, ...]) -> str:
    return json.dumps([[w.start, w.end] for w in windows])


def windows_from_json(text: str) -> tuple[SafeWindow, ...]:
    return tuple(SafeWindow(int(a), int(b)) for a, b in json.loads(text))


@dataclass(frozen=True)
class Enrolment:
    service_id: int
    idva_id: int
    channel: str
    address: str | None  # None: Telegram, bound when the survivor opens the deep link
    address_hash: bytes | None
    name: str | None
    intake_level: IntakeLevel
    no_contact_order: bool = False
    language: str = "en_GB"
    timezone: str = "Europe/London"
    safe_windows: tuple[SafeWindow, ...] = ()


class AddressInUse(Exception):
    """Another live case already uses this contact address."""


async def enrol(
    tx: Tx, crypto: Crypto, e: Enrolment, activation_digest: bytes, salt: bytes, expires: datetime, now: datetime
) -> tuple[int, str]:
    """Create a pending case; return its id and short reference."""
    for _ in range(10):  # references are short and random: retry the rare clash
        ref = new_case_ref()
        try:
            case_id = await tx.execute(
                "INSERT INTO cases (service_id, ref, idva_id, channel, address_hash, salt, "
                "language, timezone, safe_windows, intake_level, no_contact_order, status, activation_hash, "
                "activation_expires_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                (
                    e.service_id,
                    ref,
                    e.idva_id,
                    e.channel,
                    e.address_hash,
                    salt,
                    e.language,
                    e.timezone,
                    windows_to_json(e.safe_windows),
                    e.intake_level.value,
                    int(e.no_contact_order),
                    activation_digest,
                    ts(expires),
                    ts(now),
                ),
            )
        except sqlite3.IntegrityError as exc:
            if "cases.ref" in str(exc):
                continue
            raise AddressInUse("that contact address already belongs to an open case") from None
        # Encrypted once the row exists: each value is bound to its case's id.
        await tx.execute(
            "UPDATE cases SET address_enc = ?, name_enc = ? WHERE id = ?",
            (
                crypto.encrypt_optional(e.address, ADDRESS.at(case_id)),
                crypto.encrypt_optional(e.name, NAME.at(case_id)),
                case_id,
            ),
        )
        return case_id, ref
    raise RuntimeError("could not draw a unique case reference")


def address_of(crypto: Crypto, case: Case) -> str | None:
    """The survivor's contact address; None once erased."""
    return crypto.decrypt_optional(case.address_enc, ADDRESS.at(case.id))


def name_of(crypto: Crypto, case: Case) -> str | None:
    return crypto.decrypt_optional(case.name_enc, NAME.at(case.id))


async def set_address(tx: Tx, crypto: Crypto, case_id: int, address: str, lookup: bytes) -> None:
    """Give a case its contact address (e.g. the Telegram chat her deep link came from)."""
    await tx.execute(
        "UPDATE cases SET address_enc = ?, address_hash = ? WHERE id = ?",
        (crypto.encrypt(address, ADDRESS.at(case_id)), lookup, case_id),
    )


async def by_address(tx: Tx, channel: str, address_hash: bytes) -> Case | None:
    """The live case for an address, else the most recent ended one (so a codeword still alerts)."""
    row = await tx.one(
        "SELECT * FROM cases WHERE channel = ? AND address_hash = ? "
        "ORDER BY status IN ('closed', 'withdrawn'), id DESC LIMIT 1",
        (channel, address_hash),
    )
    return _case(row) if row else None


async def get(tx: Tx, case_id: int) -> Case:
    row = await tx.one("SELECT * FROM cases WHERE id = ?", (case_id,))
    if row is None:
        raise LookupError(f"no case {case_id}")
    return _case(row)


async def by_ref(tx: Tx, ref: str) -> Case | None:
    row = await tx.one("SELECT * FROM cases WHERE ref = ?", (ref.strip().upper(),))
    return _case(row) if row else None


async def list_for_service(tx: Tx, service_id: int) -> list[Case]:
    return [_case(r) for r in await tx.all("SELECT * FROM cases WHERE service_id = ? ORDER BY id", (service_id,))]


SETTABLE = frozenset(
    {
        "status",
        "address_enc",
        "name_enc",
        "language",
        "timezone",
        "safe_windows",
        "intake_level",
        "no_contact_order",
        "activation_hash",
        "activation_expires_at",
        "exit_word_hash",
        "codeword_hash",
        "pin_hash",
        "duress_pin_hash",
        "exit_pause_minutes",
        "missed_alerts_agreed",
        "paused_until",
        "onboarded_at",
        "closed_at",
        "idva_id",
    }
)


async def update(tx: Tx, case_id: int, **fields: object) -> None:
    unknown = set(fields) - SETTABLE
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)} on a case")
    values = [ts(v) if isinstance(v, datetime) else v for v in fields.values()]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await tx.execute(f"UPDATE cases SET {assignments} WHERE id = ?", (*values, case_id))


async def set_secrets_in_person(
    tx: Tx,
    case_id: int,
    *,
    exit_word: bytes,
    codeword: bytes,
    pin: bytes | None,
    duress_pin: bytes | None,
    exit_pause_minutes: int,
    now: datetime,
) -> None:
    """Store the digests of all four secrets chosen in person at once (a PIN left out clears the old one)."""
    await tx.execute(
        "UPDATE cases SET exit_word_hash = ?, codeword_hash = ?, pin_hash = ?, duress_pin_hash = ?, "
        "exit_pause_minutes = ?, secrets_set_in_person_at = ? WHERE id = ?",
        (exit_word, codeword, pin, duress_pin, exit_pause_minutes, ts(now), case_id),
    )


async def history(tx: Tx, case: Case, depth: int = 3) -> History:
    """The recent levels and fear scores (oldest first) and the run of missed check-ins."""
    # One trip for both: the recent complete assessments (levels, fear) and the latest check-in statuses.
    rows = await tx.all(
        "SELECT * FROM (SELECT 'level' AS kind, level AS value, fear, id FROM assessments "
        "WHERE case_id = ? AND complete = 1 ORDER BY id DESC LIMIT ?) "
        "UNION ALL SELECT * FROM (SELECT 'status', status, 0, id FROM checkins WHERE case_id = ? "
        "AND status NOT IN ('open', 'deferred', 'missed_system') ORDER BY id DESC LIMIT 10)",
        (case.id, depth, case.id),
    )
    # Only complete check-ins make the baseline: a half-answered one would pull it down.
    assessed = [r for r in rows if r["kind"] == "level"][::-1]
    missed = 0
    for row in (r for r in rows if r["kind"] == "status"):
        if row["value"] != "missed":
            break
        missed += 1
    return History(
        intake=case.intake_level,
        no_contact_order=case.no_contact_order,
        recent_levels=tuple(Level.parse(r["value"]) for r in assessed),
        recent_fear=tuple(int(r["fear"]) for r in assessed),
        consecutive_missed=missed,
    )


async def close(tx: Tx, case_id: int, now: datetime) -> None:
    """Close a case: nothing queued for her goes out, nothing planned fires (bot/case_state.close, erasure)."""
    await outbox.cancel_for_survivor(tx, case_id)
    await timers.cancel_all(tx, now, case_id)
    await update(tx, case_id, status="closed", closed_at=now)


async def erase(tx: Tx, case_id: int) -> None:
    """Withdrawal: erase everything personal about the survivor, keeping only the service's record.

    Stays: the reference, the service and IDVA, dates, check-in statuses, risk levels and scores, alerts,
    consents and the audit log (README, "What withdrawal erases"). Goes: her name, number and its lookup
    hash (so she is no longer recognised), safe times, every secret's digest, her words, her answers, the
    signals behind each level, and the Telegram bookkeeping. The caller marks its unit as erasing.
    """
    await tx.execute(
        "UPDATE cases SET address_enc = NULL, address_hash = NULL, name_enc = NULL, safe_windows = '[]', "
        "exit_word_hash = NULL, codeword_hash = NULL, pin_hash = NULL, duress_pin_hash = NULL, "
        "activation_hash = NULL, activation_lookup = NULL, activation_expires_at = NULL WHERE id = ?",
        (case_id,),
    )
    for sql in (
        "DELETE FROM answers WHERE case_id = ?",
        "UPDATE assessments SET signals = '[]' WHERE case_id = ?",
        "UPDATE inbound_messages SET body_enc = NULL WHERE case_id = ?",
        "UPDATE outbox SET address_enc = NULL WHERE case_id = ?",
        "UPDATE conversations SET state = '{}' WHERE case_id = ?",
        "DELETE FROM schedules WHERE case_id = ?",
        "DELETE FROM telegram_messages WHERE case_id = ?",
        "DELETE FROM telegram_prefs WHERE case_id = ?",
        "UPDATE marac_referrals SET reason_enc = NULL, views_enc = NULL WHERE case_id = ?",
        "UPDATE dash_assessments SET answers = '{}', reason_enc = NULL WHERE case_id = ?",  # ticks and level stay
    ):
        await tx.execute(sql, (case_id,))


async def any_withdrawn(tx: Tx, case_ids: set[int]) -> bool:
    marks = ", ".join("?" * len(case_ids))
    found = await tx.scalar(
        f"SELECT 1 FROM cases WHERE id IN ({marks}) AND status = 'withdrawn' LIMIT 1", tuple(case_ids)
    )
    return found is not None


async def add_consent(tx: Tx, case_id: int, topic: str, agreed: bool, version: str, how: str, now: datetime) -> None:
    await tx.execute(
        "INSERT INTO consents (case_id, topic, agreed, text_version, how, at) VALUES (?, ?, ?, ?, ?, ?)",
        (case_id, topic, int(agreed), version, how, ts(now)),
    )


async def consents(tx: Tx, case_id: int) -> list[Row]:
    return await tx.all(
        "SELECT topic, agreed, text_version, how, at FROM consents WHERE case_id = ? ORDER BY id", (case_id,)
    )
