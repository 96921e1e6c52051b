"""Workspace accounts: logins, roles, sessions, invitations, recovery codes and login throttling.

Secrets are never stored as given: passwords as argon2id hashes (made by the caller), tokens and
recovery codes as SHA-256 of 128+ random bits, TOTP secrets and login names encrypted.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import practitioners
from storage.crypto import Crypto, Field
from storage.db import Row, Tx, parse_ts, ts

LOGIN = Field("accounts", "login_enc", ("practitioner_id",))
TOTP_SECRET = Field("accounts", "totp_secret_enc", ("practitioner_id",))
INVITEE_NAME = Field("invitations", "name_enc")
ACCESS_REASON = Field("access_reasons", "reason_enc")
ROLES = ("idva", "duty", "manager", "admin")
RECOVERY_CODES = 10


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def normalise_login(login: str) -> str:
    return login.strip().lower()


def login_lookup(crypto: Crypto, login: str) -> bytes:
    return crypto.lookup_hash("login", normalise_login(login))


def second_factor_key(crypto: Crypto, practitioner_id: int) -> bytes:
    """The second step's throttle key: one per person, whichever factor they try."""
    return crypto.lookup_hash("second-factor", str(practitioner_id))


# --- roles ---------------------------------------------------------------------------------------


async def roles_of(tx: Tx, practitioner_id: int) -> frozenset[str]:
    rows = await tx.all("SELECT role FROM practitioner_roles WHERE practitioner_id = ?", (practitioner_id,))
    return frozenset(row["role"] for row in rows)


async def set_roles(tx: Tx, practitioner_id: int, roles: frozenset[str]) -> None:
    if not roles or not roles <= set(ROLES):
        raise ValueError(f"roles must be a non-empty subset of {', '.join(ROLES)}")
    await tx.execute("DELETE FROM practitioner_roles WHERE practitioner_id = ?", (practitioner_id,))
    await tx.executemany(
        "INSERT INTO practitioner_roles (practitioner_id, role) VALUES (?, ?)", [(practitioner_id, r) for r in roles]
    )


# --- accounts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    practitioner_id: int
    service_id: int
    active: bool
    password_hash: str
    totp_secret: str
    totp_last_step: int
    password_changed_at: str  # as stored: a new password or a reset changes it, a re-hash does not


async def create_account(
    tx: Tx, crypto: Crypto, practitioner_id: int, login: str, password_hash: str, totp_secret: str, now: datetime
) -> None:
    await tx.execute(
        "INSERT INTO accounts (practitioner_id, login_hash, login_enc, password_hash, totp_secret_enc,"
        " created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            practitioner_id,
            login_lookup(crypto, login),
            crypto.encrypt(normalise_login(login), LOGIN.at(practitioner_id)),
            password_hash,
            crypto.encrypt(totp_secret, TOTP_SECRET.at(practitioner_id)),
            ts(now),
            ts(now),
        ),
    )


def _account(crypto: Crypto, row: Row) -> Account:
    pid = row["practitioner_id"]
    return Account(
        practitioner_id=pid,
        service_id=row["service_id"],
        active=bool(row["active"]),
        password_hash=row["password_hash"],
        totp_secret=crypto.decrypt(row["totp_secret_enc"], TOTP_SECRET.at(pid)),
        totp_last_step=row["totp_last_step"],
        password_changed_at=row["password_changed_at"],
    )


# Whether a person may work in the workspace now: active, and for a partner's person, their agency's
# agreement not ended (what it allowed them to see ends with it).
_MAY_WORK = "p.active = 1 AND NOT EXISTS (SELECT 1 FROM partners x WHERE x.id = p.partner_id AND x.active = 0)"
_ACCOUNT = (
    f"SELECT a.*, p.service_id, {_MAY_WORK} AS active FROM accounts a JOIN practitioners p ON p.id = a.practitioner_id"
)


async def workspace_service(tx: Tx, practitioner_id: int) -> int | None:
    """The service a person may work in now; None once deactivated, or their agency's agreement ended."""
    found = await tx.scalar(
        f"SELECT p.service_id FROM practitioners p WHERE p.id = ? AND {_MAY_WORK}", (practitioner_id,)
    )
    return int(found) if found is not None else None


async def end_partner_sessions(tx: Tx, partner_id: int, now: datetime) -> int:
    """The agreement with a partner ended: every live session of their people ends with it."""
    return await tx.changes(
        "UPDATE sessions SET ended_at = ?, end_reason = 'agreement_ended' WHERE ended_at IS NULL"
        " AND practitioner_id IN (SELECT id FROM practitioners WHERE partner_id = ?)",
        (ts(now), partner_id),
    )


async def by_login(tx: Tx, crypto: Crypto, login: str) -> Account | None:
    row = await tx.one(f"{_ACCOUNT} WHERE a.login_hash = ?", (login_lookup(crypto, login),))
    return _account(crypto, row) if row else None


async def get_account(tx: Tx, crypto: Crypto, practitioner_id: int) -> Account | None:
    row = await tx.one(f"{_ACCOUNT} WHERE a.practitioner_id = ?", (practitioner_id,))
    return _account(crypto, row) if row else None


async def login_taken(tx: Tx, crypto: Crypto, login: str) -> bool:
    return await tx.scalar("SELECT 1 FROM accounts WHERE login_hash = ?", (login_lookup(crypto, login),)) is not None


async def set_password(tx: Tx, practitioner_id: int, password_hash: str, now: datetime) -> None:
    await tx.execute(
        "UPDATE accounts SET password_hash = ?, password_changed_at = ? WHERE practitioner_id = ?",
        (password_hash, ts(now), practitioner_id),
    )


async def rehash_password(tx: Tx, practitioner_id: int, old_hash: str, new_hash: str) -> bool:
    """The same password under a stronger hash; not a password change (password_changed_at stays). False if
    the hash changed meanwhile (a new password set at the same moment is not overwritten)."""
    changed = await tx.changes(
        "UPDATE accounts SET password_hash = ? WHERE practitioner_id = ? AND password_hash = ?",
        (new_hash, practitioner_id, old_hash),
    )
    return changed == 1


async def login_of(tx: Tx, crypto: Crypto, practitioner_id: int) -> str:
    """The person's login name (normalised), for checking that a new password does not contain it."""
    row = await tx.one("SELECT login_enc FROM accounts WHERE practitioner_id = ?", (practitioner_id,))
    return crypto.decrypt(row["login_enc"], LOGIN.at(practitioner_id)) if row else ""


async def use_totp_step(tx: Tx, practitioner_id: int, step: int) -> bool:
    """Record that the code of TOTP time step `step` was used; False if it (or a later one) already was."""
    changed = await tx.changes(
        "UPDATE accounts SET totp_last_step = ? WHERE practitioner_id = ? AND totp_last_step < ?",
        (step, practitioner_id, step),
    )
    return changed == 1


async def rehash_logins(tx: Tx, crypto: Crypto) -> None:
    """After a new lookup key: recompute every login's blind index; forget throttling (its keys moved)."""
    for row in await tx.all("SELECT practitioner_id, login_enc FROM accounts"):
        login = crypto.decrypt(row["login_enc"], LOGIN.at(row["practitioner_id"]))
        await tx.execute(
            "UPDATE accounts SET login_hash = ? WHERE practitioner_id = ?",
            (login_lookup(crypto, login), row["practitioner_id"]),
        )
    await tx.execute("DELETE FROM login_failures")


# --- recovery codes ------------------------------------------------------------------------------


def _new_recovery_code() -> str:
    raw = secrets.token_hex(8)  # 64 bits
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}-{raw[12:]}"


def _recovery_hash(code: str) -> bytes:
    return token_hash("".join(code.split()).replace("-", "").lower())


async def new_recovery_codes(tx: Tx, practitioner_id: int) -> list[str]:
    """Replace the person's recovery codes; return the new ones (shown once)."""
    await tx.execute("DELETE FROM recovery_codes WHERE practitioner_id = ?", (practitioner_id,))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    await tx.executemany(
        "INSERT INTO recovery_codes (practitioner_id, code_hash) VALUES (?, ?)",
        [(practitioner_id, _recovery_hash(c)) for c in codes],
    )
    return codes


async def use_recovery_code(tx: Tx, practitioner_id: int, code: str, now: datetime) -> bool:
    changed = await tx.changes(
        "UPDATE recovery_codes SET used_at = ? WHERE practitioner_id = ? AND code_hash = ? AND used_at IS NULL",
        (ts(now), practitioner_id, _recovery_hash(code)),
    )
    return changed == 1


async def recovery_codes_left(tx: Tx, practitioner_id: int) -> int:
    return int(
        await tx.scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE practitioner_id = ? AND used_at IS NULL", (practitioner_id,)
        )
    )


# --- sessions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    id: int
    practitioner_id: int
    stage: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime


async def new_session(tx: Tx, practitioner_id: int, stage: str, now: datetime) -> tuple[str, Session]:
    """A fresh session (a login always gets a new token); returns the token for the cookie."""
    token = new_token()
    csrf = new_token()
    sid = await tx.insert(
        "INSERT INTO sessions (token_hash, practitioner_id, stage, csrf, created_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (token_hash(token), practitioner_id, stage, csrf, ts(now), ts(now)),
    )
    assert sid is not None
    return token, Session(sid, practitioner_id, stage, csrf, now, now)


async def session_by_token(tx: Tx, token: str) -> Session | None:
    row = await tx.one(
        "SELECT id, practitioner_id, stage, csrf, created_at, last_seen_at FROM sessions"
        " WHERE token_hash = ? AND ended_at IS NULL",
        (token_hash(token),),
    )
    if row is None:
        return None
    return Session(
        row["id"],
        row["practitioner_id"],
        row["stage"],
        row["csrf"],
        parse_ts(row["created_at"]),
        parse_ts(row["last_seen_at"]),
    )


async def end_reason(tx: Tx, token: str) -> str | None:
    """Why the session behind a token ended (e.g. 'idle'), if it did."""
    value = await tx.scalar(
        "SELECT end_reason FROM sessions WHERE token_hash = ? AND ended_at IS NOT NULL", (token_hash(token),)
    )
    return str(value) if value is not None else None


async def touch(tx: Tx, session_id: int, now: datetime) -> None:
    await tx.execute(
        "UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?", (ts(now), session_id, ts(now))
    )


async def end_session(tx: Tx, session_id: int, reason: str, now: datetime) -> None:
    await tx.execute(
        "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
        (ts(now), reason, session_id),
    )


async def end_sessions_of(tx: Tx, practitioner_id: int, reason: str, now: datetime, keep: int | None = None) -> int:
    """End every live session of a person (deactivation, password change); `keep` spares one."""
    return await tx.changes(
        "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE practitioner_id = ? AND ended_at IS NULL"
        " AND id IS NOT ?",
        (ts(now), reason, practitioner_id, keep),
    )


async def live_sessions(tx: Tx, practitioner_id: int) -> list[Row]:
    return await tx.all(
        "SELECT id, stage, created_at, last_seen_at FROM sessions WHERE practitioner_id = ? AND ended_at IS NULL"
        " ORDER BY id DESC",
        (practitioner_id,),
    )


async def set_challenge(tx: Tx, session_id: int, challenge: str | None) -> None:
    await tx.execute("UPDATE sessions SET challenge = ? WHERE id = ?", (challenge, session_id))


async def take_challenge(tx: Tx, session_id: int) -> str | None:
    """The session's pending WebAuthn challenge, cleared as it is read: each works once."""
    value = await tx.scalar("SELECT challenge FROM sessions WHERE id = ?", (session_id,))
    await tx.execute("UPDATE sessions SET challenge = NULL WHERE id = ?", (session_id,))
    return str(value) if value is not None else None


# --- invitations ---------------------------------------------------------------------------------

INVITATION_VALID_FOR = timedelta(days=3)
RESET_VALID_FOR = timedelta(hours=24)


@dataclass(frozen=True)
class Invitation:
    id: int
    service_id: int
    roles: frozenset[str]
    name: str
    reset_of: int | None = None  # set: this link resets an existing person's password and second factor
    account_for: int | None = None  # set: a first account for an existing person (a partner agency's)


async def invite(
    tx: Tx, crypto: Crypto, service_id: int, roles: frozenset[str], name: str, created_by: str, now: datetime
) -> str:
    """A one-time invitation; returns its token (for the link, shown once)."""
    if not roles or not roles <= set(ROLES):
        raise ValueError(f"roles must be a non-empty subset of {', '.join(ROLES)}")
    token = new_token()
    iid = await tx.next_id("invitations")
    await tx.execute(
        "INSERT INTO invitations (id, service_id, token_hash, roles, name_enc, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            iid,
            service_id,
            token_hash(token),
            json.dumps(sorted(roles)),
            crypto.encrypt(name, INVITEE_NAME.at(iid)),
            created_by,
            ts(now),
            ts(now + INVITATION_VALID_FOR),
        ),
    )
    return token


async def open_invitation(tx: Tx, crypto: Crypto, token: str, now: datetime) -> Invitation | None:
    row = await tx.one(
        "SELECT * FROM invitations WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        (token_hash(token), ts(now)),
    )
    if row is None:
        return None
    return Invitation(
        row["id"],
        row["service_id"],
        frozenset(json.loads(row["roles"])),
        crypto.decrypt(row["name_enc"], INVITEE_NAME.at(row["id"])),
        row["reset_of"],
        # An unused invitation names a practitioner only when made for an existing one (invite_existing).
        row["practitioner_id"],
    )


async def reset_link(tx: Tx, crypto: Crypto, practitioner_id: int, created_by: str, now: datetime) -> str | None:
    """A one-time link with which a person sets a new password and second factor (no lockout: an admin
    or the operator can always let a locked-out duty worker back in). None if they have no account."""
    row = await tx.one(
        "SELECT p.service_id, p.name_enc FROM practitioners p JOIN accounts a ON a.practitioner_id = p.id"
        " WHERE p.id = ? AND p.active = 1",
        (practitioner_id,),
    )
    if row is None:
        return None
    return await _link_for(tx, crypto, practitioner_id, row, created_by, now, "[]", "reset_of", RESET_VALID_FOR)


async def invite_existing(tx: Tx, crypto: Crypto, practitioner_id: int, created_by: str, now: datetime) -> str | None:
    """A one-time link with which an existing person without an account (a partner agency's person, made in
    Manage → Partners) makes theirs: login name, password, second factor, as any invitee. The invitation
    row names them from the start (practitioner_id), so accepting it adds no practitioner and no role.
    None if they are inactive or already have an account."""
    row = await tx.one(
        "SELECT p.service_id, p.name_enc, p.role FROM practitioners p LEFT JOIN accounts a ON a.practitioner_id = p.id"
        " WHERE p.id = ? AND p.active = 1 AND a.practitioner_id IS NULL",
        (practitioner_id,),
    )
    if row is None:
        return None
    roles = json.dumps([row["role"]])
    valid_for = INVITATION_VALID_FOR
    return await _link_for(tx, crypto, practitioner_id, row, created_by, now, roles, "practitioner_id", valid_for)


async def _link_for(
    tx: Tx,
    crypto: Crypto,
    practitioner_id: int,
    row: Row,
    created_by: str,
    now: datetime,
    roles: str,
    column: str,
    valid_for: timedelta,
) -> str:
    """An invitation naming an existing person in `column` (reset_of or practitioner_id); its token."""
    assert column in ("reset_of", "practitioner_id")  # a column name, never input
    name = crypto.decrypt(row["name_enc"], practitioners.NAME.at(practitioner_id))
    token = new_token()
    iid = await tx.next_id("invitations")
    await tx.execute(
        "INSERT INTO invitations (id, service_id, token_hash, roles, name_enc, created_by, created_at, expires_at,"
        f" {column}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            iid,
            row["service_id"],
            token_hash(token),
            roles,
            crypto.encrypt(name, INVITEE_NAME.at(iid)),
            created_by,
            ts(now),
            ts(now + valid_for),
            practitioner_id,
        ),
    )
    return token


async def reset_account(
    tx: Tx, crypto: Crypto, practitioner_id: int, password_hash: str, totp_secret: str, now: datetime
) -> None:
    """New password and TOTP secret; passkeys and recovery codes go, and every session ends."""
    await tx.execute(
        "UPDATE accounts SET password_hash = ?, totp_secret_enc = ?, totp_last_step = 0, password_changed_at = ?"
        " WHERE practitioner_id = ?",
        (password_hash, crypto.encrypt(totp_secret, TOTP_SECRET.at(practitioner_id)), ts(now), practitioner_id),
    )
    await tx.execute("DELETE FROM webauthn_credentials WHERE practitioner_id = ?", (practitioner_id,))
    await end_sessions_of(tx, practitioner_id, "reset", now)
    # A reset is how an admin lets someone back in: whoever kept failing at their login name is no reason
    # to keep them waiting now.
    await tx.execute(
        "DELETE FROM login_failures WHERE key_hash IN ((SELECT login_hash FROM accounts WHERE practitioner_id = ?), ?)",
        (practitioner_id, second_factor_key(crypto, practitioner_id)),
    )


async def mark_invitation_used(tx: Tx, invitation_id: int, practitioner_id: int, now: datetime) -> bool:
    return (
        await tx.changes(
            "UPDATE invitations SET used_at = ?, practitioner_id = ? WHERE id = ? AND used_at IS NULL",
            (ts(now), practitioner_id, invitation_id),
        )
        == 1
    )


# --- login throttling ----------------------------------------------------------------------------

FREE_FAILURES = 3
MAX_DELAY = timedelta(minutes=15)


def delay_after(failures: int) -> timedelta:
    """Growing delays, never a lockout: 3 free tries, then 2 s, 4 s, 8 s ... up to 15 minutes."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, timedelta(seconds=2 ** (failures - FREE_FAILURES + 1)))


async def wait_before_login(tx: Tx, key: bytes, now: datetime) -> timedelta:
    """How long until this login may be tried again (zero: now)."""
    row = await tx.one("SELECT failures, last_at FROM login_failures WHERE key_hash = ?", (key,))
    if row is None:
        return timedelta(0)
    ready = parse_ts(row["last_at"]) + delay_after(row["failures"])
    return max(timedelta(0), ready - now)


async def begin_attempt(tx: Tx, key: bytes, now: datetime) -> timedelta:
    """Check the delay and count this attempt as failed, in one unit on the writer: simultaneous attempts
    each see the ones before them, so a burst cannot slip past the delay. Success clears the count
    (login_succeeded). Returns the wait; zero when the attempt may go ahead."""
    wait = await wait_before_login(tx, key, now)
    if not wait:
        await login_failed(tx, key, now)
    return wait


async def login_failed(tx: Tx, key: bytes, now: datetime) -> None:
    await tx.execute(
        "INSERT INTO login_failures (key_hash, failures, last_at) VALUES (?, 1, ?)"
        " ON CONFLICT (key_hash) DO UPDATE SET failures = failures + 1, last_at = excluded.last_at",
        (key, ts(now)),
    )


async def login_succeeded(tx: Tx, key: bytes) -> None:
    await tx.execute("DELETE FROM login_failures WHERE key_hash = ?", (key,))


# --- recorded reasons for access -----------------------------------------------------------------


async def record_reason(tx: Tx, crypto: Crypto, session_id: int, case_id: int, reason: str, now: datetime) -> None:
    rid = await tx.next_id("access_reasons")
    await tx.execute(
        "INSERT INTO access_reasons (id, session_id, case_id, reason_enc, at) VALUES (?, ?, ?, ?, ?)",
        (rid, session_id, case_id, crypto.encrypt(reason, ACCESS_REASON.at(rid)), ts(now)),
    )


async def has_reason(tx: Tx, session_id: int, case_id: int) -> bool:
    return (
        await tx.scalar("SELECT 1 FROM access_reasons WHERE session_id = ? AND case_id = ?", (session_id, case_id))
        is not None
    )
