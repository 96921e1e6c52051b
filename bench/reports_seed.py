"""A year of one IDVA service, written in bulk through the real schema: the data `bench.reports` measures.

Per service: `idvas` IDVAs with `per_idva` cases each (a quarter of them closed during the year, with an
outcome), twice-weekly check-ins with their answers and assessments, alerts on about 5% of check-ins with
their ladder (rung 1 the IDVA, some escalated to the duty IDVA and the manager), acknowledgements and
resolutions, notes, two partners (Drive, Marac) with links, consents and shares, the messages both ways
(the last `sent_content_days` still in the outbox, older ones as compact delivery records, as pruning leaves
them; inbound bodies and free text only for the last `retention_days`, as the daily purge leaves them),
and an audit log, hash-chained with storage.audit.chain_hash. Rows go in with executemany (a benchmark's
set-up, not product code); everything that reads them is the product's own code.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from bot.app import App
from safety.sharing import Agreement, Basis, Kind
from storage import alert_work, audit, checkins, inbound, notes, partners, practitioners, services
from storage import cases as cases_store
from storage.crypto import Crypto
from storage.db import Tx, ts
from storage.practitioners import ChannelAddress

QUESTIONS = ("talk_now", "safe_now", "fear", "contact", "happened", "callback", "anything_else")
# How a check-in ended, with its weight (a fair picture of a service: most answered, some missed).
STATUSES = (("completed", 75), ("partial", 5), ("missed", 11), ("deferred", 3), ("missed_system", 2),
            ("exited", 2), ("ended", 2))
LEVELS = ("standard", "standard", "standard", "raised", "raised", "high")
ALERT_REASONS = (("risk_raised", 40), ("fear_rising", 15), ("codeword", 10), ("missed_twice", 15),
                 ("callback_today", 15), ("quick_exit", 5))
SEVERITY = {"risk_raised": "high", "fear_rising": "raised", "codeword": "urgent", "missed_twice": "raised",
            "callback_today": "raised", "quick_exit": "high"}
CLOSE_REASONS = ("support_ended", "risk_reduced", "transferred")
CHANGE = ("improved", "improved", "improved", "no_change", "worse", "not_known")
CESSATION = ("ceased", "ceased", "reduced", "continued", "not_present", "not_known")
ACTIONS = ("perpetrator_visited", "marac_action_raised", "safeguarding_referral", "no_action_needed", None)


Event = tuple[datetime, str, str, int | None, str, int]  # at, actor, action, case id, detail, service


@dataclass
class Seeded:
    """What was written, for the bench's printed row counts and its later steps."""

    service_ids: list[int] = field(default_factory=list)
    managers: list[int] = field(default_factory=list)
    busy_ref: str = ""  # service 1's busiest case: the subject access export and the erasure
    other_refs: list[str] = field(default_factory=list)  # two ordinary active cases of service 1, to erase too
    rows: dict[str, int] = field(default_factory=dict)


def _weighted(rnd: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rnd.choices([k for k, _ in table], [w for _, w in table])[0]


class _Ids:
    """Row ids handed out here, so related rows can point at each other before they are inserted."""

    def __init__(self, start: dict[str, int]) -> None:
        self.next = dict(start)

    def __call__(self, table: str) -> int:
        self.next[table] = self.next.get(table, 0) + 1
        return self.next[table]


async def seed(app: App, *, idvas: int, per_idva: int, now: datetime, services_n: int = 2) -> Seeded:
    start = now - timedelta(days=365)
    out = Seeded()
    rnd = random.Random(14)
    events: list[Event] = []  # every service's audit rows, chained in one time order at the end, as in use
    for s in range(services_n):
        svc, people = await _people(app, s, start - timedelta(days=90))  # before any case: the log starts here
        out.service_ids.append(svc)
        out.managers.append(people["manager"][0])
        async with app.db.transaction() as tx:
            first = await _next_ids(tx)
            ids = _Ids(first)
            refs = await _service_year(tx, app, rnd, ids, svc, s, people, idvas * per_idva, start, now, events)
            await tx.commit()
        if s == 0:
            out.busy_ref, out.other_refs = refs[0], refs[1:3]
    async with app.db.transaction() as tx:
        await _audit(tx, events)
        await tx.commit()
    async with app.db.reading() as tx:
        for table in ("cases", "checkins", "answers", "assessments", "alerts", "alert_notifications",
                      "inbound_messages", "outbox", "deliveries", "case_notes", "shares", "audit_log", "inbox"):
            out.rows[table] = int(await tx.scalar(f"SELECT COUNT(*) FROM {table}"))
    return out


async def _next_ids(tx: Tx) -> dict[str, int]:
    found = {}
    for table in ("cases", "checkins", "answers", "assessments", "alerts", "alert_notifications", "inbound_messages",
                  "outbox", "deliveries", "case_notes", "shares", "partner_consents", "case_partner_links"):
        found[table] = int(await tx.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))
    # Outbox ids are never reused and become delivery ids when archived: one sequence for both.
    found["outbox"] = found["deliveries"] = max(found["outbox"], found["deliveries"],
                                                int(await tx.scalar("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence "
                                                                    "WHERE name = 'outbox'") or 0))
    return found


async def _people(app: App, s: int, at: datetime) -> tuple[int, dict[str, list[int]]]:
    """A service with its staff and two partner agencies, each with one contact."""
    async with app.db.transaction() as tx:
        svc = await services.create(tx, f"bench{s}", f"Bench service {s + 1}", at)
        people: dict[str, list[int]] = {"idva": [], "duty": [], "manager": [], "partner": [], "partner_org": []}
        for role, n in (("idva", 8), ("duty", 1), ("manager", 1)):
            for i in range(n):
                pid = await practitioners.add(tx, app.crypto, svc, role, f"{role.title()} {s}-{i}", [], at)
                await tx.execute("INSERT OR IGNORE INTO practitioner_roles (practitioner_id, role) VALUES (?, ?)",
                                 (pid, role))
                people[role].append(pid)
        for name, kind in (("Drive", "drive"), ("Marac", "marac")):
            agreement = Agreement(f"ISA-{name}", Basis.CONSENT, frozenset({Kind.RISK_CHANGES, Kind.URGENT_ALERTS}))
            org = await partners.create(tx, svc, name, kind, agreement, at)
            contact = await practitioners.add(tx, app.crypto, svc, "partner", f"{name} contact",
                                              [ChannelAddress("email", f"{kind}{s}@partner.example.org")], at,
                                              partner_id=org)
            people["partner_org"].append(org)
            people["partner"].append(contact)
        await audit.log(tx, at, "os:bench", "service_created", None, f"service={svc}", svc)
        await tx.commit()
    return svc, people


class _Rows:
    """Rows per table, flushed with executemany when they grow."""

    SQL: ClassVar[dict[str, str]] = {
        "cases": "INSERT INTO cases (id, service_id, ref, idva_id, channel, address_enc, address_hash, name_enc, "
        "salt, intake_level, status, created_at, onboarded_at, closed_at) VALUES (?, ?, ?, ?, 'sms', ?, ?, ?, ?, ?, "
        "?, ?, ?, ?)",
        "case_outcomes": "INSERT INTO case_outcomes (case_id, recorded_at, recorded_by, close_reason, safety, "
        "physical, sexual, harassment_stalking, jealous_controlling, quality_of_life) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "schedules": "INSERT INTO schedules (case_id, spec, updated_at) VALUES (?, ?, ?)",
        "consents": "INSERT INTO consents (case_id, topic, agreed, text_version, how, at) VALUES (?, ?, 1, 'v1', "
        "'in_person', ?)",
        "checkins": "INSERT INTO checkins (id, case_id, slot, due_at, started_at, ended_at, status) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        "answers": "INSERT INTO answers (id, checkin_id, case_id, question, options, signals, text_enc, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        "assessments": "INSERT INTO assessments (id, case_id, checkin_id, score, level, fear, signals, change, "
        "baseline, complete, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'standard', ?, ?)",
        "alerts": "INSERT INTO alerts (id, service_id, case_id, severity, reason, created_at, acknowledged_at, "
        "acknowledged_by, resolved_at, resolved_by, outcome, note_enc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "alert_notifications": "INSERT INTO alert_notifications (id, alert_id, step, role, practitioner_id, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        "inbox": "INSERT INTO inbox (practitioner_id, alert_id, body, created_at, read_at) VALUES (?, ?, ?, ?, ?)",
        "inbound_messages": "INSERT INTO inbound_messages (id, channel, provider_id, case_id, body_enc, received_at) "
        "VALUES (?, 'sms', ?, ?, ?, ?)",
        "outbox": "INSERT INTO outbox (id, recipient, case_id, practitioner_id, alert_id, channel, address_enc, "
        "message, status, attempts, next_attempt_at, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sent', 1, "
        "?, ?, ?)",
        "deliveries": "INSERT INTO deliveries (id, recipient, case_id, practitioner_id, alert_id, channel, status, "
        "attempts, queued_at, sent_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, 'sent', 1, ?, ?, ?)",
        "case_notes": "INSERT INTO case_notes (id, case_id, author_id, body_enc, at) VALUES (?, ?, ?, ?, ?)",
        "case_partner_links": "INSERT INTO case_partner_links (id, case_id, partner_id, contact_id, partner_ref_enc, "
        "linked_at, linked_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        "partner_consents": "INSERT INTO partner_consents (id, case_id, partner_id, kind, agreed, text_version, how, "
        "at, recorded_by) VALUES (?, ?, ?, ?, 1, 'v1', 'in_person', ?, ?)",
        "shares": "INSERT INTO shares (id, service_id, case_id, partner_id, contact_id, kind, alert_id, basis, "
        "consent_id, content, created_at, acknowledged_at, acknowledged_by, action, action_note_enc, action_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'consent', ?, ?, ?, ?, ?, ?, ?, ?)",
        "timers": "INSERT INTO timers (kind, key, case_id, due_at) VALUES ('checkin', ?, ?, ?)",
    }

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.rows: dict[str, list[tuple[object, ...]]] = {k: [] for k in self.SQL}

    def add(self, table: str, *row: object) -> None:
        self.rows[table].append(row)

    async def flush(self) -> None:
        for table, rows in self.rows.items():  # in SQL's order: parents before the rows that point at them
            if rows:
                await self.tx.executemany(self.SQL[table], rows)
                rows.clear()


async def _service_year(
    tx: Tx, app: App, rnd: random.Random, ids: _Ids, svc: int, s: int, people: dict[str, list[int]], n_cases: int,
    start: datetime, now: datetime, log: list[Event],
) -> list[str]:
    crypto = app.crypto
    service = await services.get(tx, svc)
    text_since = now - timedelta(days=service.retention_days)  # the daily purge blanks older free text
    content_since = now - timedelta(days=service.sent_content_days)  # older sent messages: compact records only
    idvas, duty, manager = people["idva"], people["duty"][0], people["manager"][0]
    rows = _Rows(tx)
    events: list[tuple[datetime, str, str, int | None, str]] = []
    refs: list[str] = []

    def message(recipient: str, case_id: int | None, pid: int | None, alert_id: int | None, channel: str,
                body: dict[str, object], at: datetime) -> None:
        """One message sent: an outbox row while its content is kept, else its compact record."""
        oid = ids("outbox")
        ids.next["deliveries"] = oid
        if at >= content_since:
            address = crypto.encrypt("+447700900000", cases_store.ADDRESS.at(oid)) if recipient == "survivor" else None
            rows.add("outbox", oid, recipient, case_id, pid, alert_id, channel, address, json.dumps(body), ts(at),
                     ts(at), ts(at + timedelta(seconds=1)))
        else:
            epoch = int(at.timestamp())
            rows.add("deliveries", oid, recipient, case_id, pid, alert_id, channel, epoch, epoch + 1, epoch + 3)

    for n in range(n_cases):
        case_id = ids("cases")
        busy = n == 0
        ref = f"C-{s}{n:04d}"
        refs.append(ref)
        idva = idvas[n % len(idvas)]
        # Most cases have been open all year; a quarter started during it. A quarter closed during it.
        created = start - timedelta(days=rnd.randint(5, 60)) if busy or rnd.random() < 0.75 else \
            start + timedelta(days=rnd.randint(0, 300))
        closed = None
        if not busy and n % 4 == 3:
            closed = min(now - timedelta(hours=2), created + timedelta(days=rnd.randint(60, 400)))
            closed = max(closed, start + timedelta(days=20))
        onboarded = created + timedelta(days=1)
        address = crypto.encrypt(f"+4477009{s}{n:04d}", cases_store.ADDRESS.at(case_id))
        name = crypto.encrypt(f"Survivor {s}-{n}", cases_store.NAME.at(case_id))
        rows.add("cases", case_id, svc, ref, idva, address, os.urandom(32), name, os.urandom(16),
                 rnd.choice(("standard", "medium", "high")), "closed" if closed else "active", ts(created),
                 ts(onboarded), ts(closed) if closed else None)
        rows.add("schedules", case_id, "mon@10:00,thu@18:00", ts(onboarded))
        for topic in ("checkins", "missed_alerts"):
            rows.add("consents", case_id, topic, ts(created))
        events.append((created, f"practitioner:{idva}", "case_enrolled", case_id, ""))
        if closed:
            rows.add("case_outcomes", case_id, ts(closed), idva, rnd.choice(CLOSE_REASONS), rnd.choice(CHANGE),
                     *(rnd.choice(CESSATION) for _ in range(4)), rnd.choice(CHANGE))
            events.append((closed, f"practitioner:{idva}", "case_closed", case_id, "outcome=recorded"))
        else:
            rows.add("timers", f"{case_id}:next", case_id, ts(now + timedelta(hours=rnd.randint(1, 72))))
        # Partners: 40% of cases linked to Drive, 15% to Marac; the busy case to both.
        linked: list[tuple[int, int, int]] = []  # (partner, contact, consent id)
        for k, share_of in ((0, 0.4), (1, 0.15)):
            if busy or rnd.random() < share_of:
                org, contact = people["partner_org"][k], people["partner"][k]
                link_id = ids("case_partner_links")
                rows.add("case_partner_links", link_id, case_id, org, contact,
                         crypto.encrypt(f"DRV-{s}-{n}", partners.PARTNER_REF.at(link_id)), ts(onboarded),
                         f"practitioner:{idva}")
                consent = 0
                for kind in ("risk_changes", "urgent_alerts"):
                    consent = ids("partner_consents")
                    rows.add("partner_consents", consent, case_id, org, kind, ts(onboarded), f"practitioner:{idva}")
                linked.append((org, contact, consent))
        # Twice a week (Monday morning, Thursday evening), from set-up to closure or now.
        day = onboarded.replace(hour=0, minute=0, second=0, microsecond=0)
        end = closed or now
        level = "standard"
        alert_rate = 0.15 if busy else 0.05
        while day < end:
            for weekday, hour in ((0, 10), (3, 18)):
                if day.weekday() != weekday:
                    continue
                due = day + timedelta(hours=hour)
                if due < max(onboarded, start) or due >= end:
                    continue
                checkin_id = ids("checkins")
                status = "completed" if busy else _weighted(rnd, STATUSES)
                ended = due + timedelta(minutes=rnd.randint(2, 40))
                rows.add("checkins", checkin_id, case_id, f"{due:%Y%m%d%H}", ts(due), ts(due), ts(ended), status)
                asked = {"completed": 7, "partial": 3, "exited": 2}.get(status, 1)
                if status != "missed_system":
                    for q in range(asked):
                        message("survivor", case_id, None, None, "sms",
                                {"key": f"Question {QUESTIONS[q]}", "params": {}, "options": ["Yes", "No"]},
                                due + timedelta(minutes=q))
                answered = asked if status in ("completed", "partial") else 0
                for q in range(answered):
                    at = due + timedelta(minutes=q, seconds=30)
                    answer_id = ids("answers")
                    words = QUESTIONS[q] == "anything_else" and rnd.random() < 0.3
                    text = crypto.encrypt(f"words {case_id}-{checkin_id}", checkins.ANSWER_TEXT.at(answer_id)) \
                        if words and at >= text_since else None
                    rows.add("answers", answer_id, checkin_id, case_id, QUESTIONS[q], '["1"]', "[]", text, ts(at))
                    inbound_id = ids("inbound_messages")
                    body = crypto.encrypt("1", inbound.BODY.at(inbound_id)) if at >= text_since else None
                    rows.add("inbound_messages", inbound_id, f"SM{s}x{inbound_id}", case_id, body, ts(at))
                if answered:
                    level = rnd.choice(LEVELS)
                    rows.add("assessments", ids("assessments"), case_id, checkin_id, LEVELS.index(level) * 3, level,
                             rnd.randint(0, 3), "[]", "same", int(status == "completed"), ts(ended))
                if rnd.random() < alert_rate:
                    _alert(rows, ids, rnd, crypto, message, events, svc, case_id, idva, duty, manager, linked,
                           ended, now)
            day += timedelta(days=1)
        # Notes: about one a fortnight (the busy case weekly).
        at = onboarded + timedelta(days=rnd.randint(1, 7))
        while at < end:
            note_id = ids("case_notes")
            rows.add("case_notes", note_id, case_id, idva,
                     crypto.encrypt(f"Called her; agreed a safety plan ({note_id})", notes.BODY.at(note_id)), ts(at))
            events.append((at, f"practitioner:{idva}", "note_added", case_id, ""))
            at += timedelta(days=7 if busy else rnd.randint(10, 18))
        # The IDVA opens the case about twice a week while it is open.
        at = onboarded
        while at < end:
            if at >= start:
                events.append((at, f"practitioner:{idva}", "case_viewed", case_id, ""))
            at += timedelta(hours=rnd.randint(48, 120))
        if n % 50 == 49:
            await rows.flush()
    await rows.flush()
    log.extend((*e, svc) for e in events)
    return refs


def _alert(
    rows: _Rows, ids: _Ids, rnd: random.Random, crypto: Crypto, send: Callable[..., None],
    events: list[tuple[datetime, str, str, int | None, str]], svc: int, case_id: int, idva: int, duty: int,
    manager: int, linked: list[tuple[int, int, int]], at: datetime, now: datetime,
) -> None:
    """One alert with its ladder, the messages to each rung, its acknowledgement and resolution, and shares."""
    alert_id = ids("alerts")
    reason = _weighted(rnd, ALERT_REASONS)
    severity = SEVERITY[reason]
    # Acknowledged within minutes mostly; some wait for the ladder; a few (recent) still open.
    wait = timedelta(seconds=rnd.choice((40, 90, 180, 300, 600, 900, 1500, 2400, 5400)))
    acked = at + wait if at + wait < now - timedelta(hours=1) or rnd.random() < 0.5 else None
    ladder = [(0, "idva", idva, at)]
    if acked is None or wait > timedelta(minutes=10):
        ladder.append((1, "duty", duty, at + timedelta(minutes=10)))
    if acked is None or wait > timedelta(minutes=30):
        ladder.append((2, "manager", manager, at + timedelta(minutes=30)))
    by = ladder[-1][2]
    resolved = acked + timedelta(minutes=rnd.randint(10, 600)) if acked and rnd.random() < 0.9 else None
    note = crypto.encrypt(f"Spoke to her after alert {alert_id}", alert_work.NOTE.at(alert_id)) \
        if resolved and rnd.random() < 0.4 else None
    rows.add("alerts", alert_id, svc, case_id, severity, reason, ts(at), ts(acked) if acked else None,
             by if acked else None, ts(resolved) if resolved else None, by if resolved else None,
             rnd.choice(("safe", "action", "not_reached")) if resolved else None, note)
    for step, role, pid, told in ladder:
        rows.add("alert_notifications", ids("alert_notifications"), alert_id, step, role, pid, ts(told))
        send("practitioner", None, pid, alert_id, "inbox", {"kind": "alert", "alert_id": alert_id}, told)
        rows.add("inbox", pid, alert_id, f"Alert A-{alert_id}: {reason}", ts(told), ts(acked) if acked else None)
    events.append((at, "system", f"alert_raised:{severity}:{reason}", case_id, f"alert={alert_id}"))
    if acked:
        events.append((acked, f"practitioner:{by}", "alert_acknowledged", case_id, f"alert={alert_id}"))
    if resolved:
        events.append((resolved, f"practitioner:{by}", "alert_resolved", case_id, f"alert={alert_id}"))
    if severity == "raised":
        return
    for org, contact, consent in linked:
        share_id = ids("shares")
        kind = "urgent_alerts" if severity == "urgent" else "risk_changes"
        seen = at + timedelta(minutes=rnd.choice((3, 8, 15, 25, 45, 90))) if rnd.random() < 0.9 else None
        action = rnd.choice(ACTIONS) if seen else None
        action_at = seen + timedelta(hours=2) if seen and action else None
        action_note = crypto.encrypt(f"Visited him ({share_id})", partners.ACTION_NOTE.at(share_id)) if action else None
        content = json.dumps({"level": "high", "reason": reason, "at": ts(at)})
        rows.add("shares", share_id, svc, case_id, org, contact, kind, alert_id, consent, content, ts(at),
                 ts(seen) if seen else None, contact if seen else None, action, action_note,
                 ts(action_at) if action_at else None)
        send("practitioner", None, contact, None, "email",
             {"kind": "share", "share_id": share_id, "partner_ref": "DRV", "severity": severity, "reason": reason},
             at)
        events.append((at, "system", "share_made", case_id, f"share={share_id} partner={org}"))
        if seen:
            events.append((seen, f"practitioner:{contact}", "share_acknowledged", case_id, f"share={share_id}"))


async def _audit(tx: Tx, events: list[Event]) -> None:
    """The audit rows, in time order, chained on from the log's last row as storage.audit.log does."""
    events.sort(key=lambda e: e[0])
    last = await tx.one("SELECT id, row_hash FROM audit_log ORDER BY id DESC LIMIT 1")
    row_id, previous = (int(last["id"]), last["row_hash"]) if last else (0, None)
    batch: list[tuple[object, ...]] = []
    for at, actor, action, case_id, detail, svc in events:
        row_id += 1
        fields = (row_id, ts(at), actor, action, case_id, detail, svc)
        previous = audit.chain_hash(previous, fields)
        batch.append((*fields, previous))
    await tx.executemany(
        "INSERT INTO audit_log (id, at, actor, action, case_id, detail, service_id, row_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )
