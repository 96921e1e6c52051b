"""Manager and practitioner commands, shared by the CLI, the demo and (later) the dashboard."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import alerting, case_state
from bot.app import App
from bot.pipeline import address_hash, normalise_address
from bot.planning import plan_next
from flows.discretion import first_line_problems
from flows.events import SafeWindow
from flows.loader import parse_questionset
from flows.schedule import in_window, parse_schedule, parse_windows, schedule_problems
from safety.model import IntakeLevel
from safety.policy import alert_policy_to_json, missed_policy_to_json, parse_alert_policy, parse_missed_policy
from storage import alerts, audit, cases, checkins, inbox, outbox, practitioners, schedules, services, timers
from storage.cases import Case, Enrolment
from storage.crypto import new_activation_code, new_case_salt
from storage.db import Tx
from storage.practitioners import ROLES, ChannelAddress

ACTIVATION_VALID = timedelta(days=14)
PRACTITIONER_CHANNELS = ("inbox", "log")


class UserError(Exception):
    """Bad input from a person: one line saying what is wrong and how to fix it."""


async def service_id(tx: Tx, slug: str | None) -> int:
    found = await services.all_services(tx)
    if not found:
        raise UserError("no service yet: run `safecheck init --service-name NAME` first")
    if slug is None:
        return found[0].id
    for s in found:
        if s.slug == slug:
            return s.id
    raise UserError(f"no service {slug!r}: known services are {', '.join(s.slug for s in found)}")


async def add_practitioner(app: App, svc: int, name: str, role: str, channels: list[str]) -> int:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name.strip():
        raise UserError("a practitioner needs a name (--name)")
    if not channels:
        raise UserError("a practitioner needs at least one alert channel (--channels inbox,log)")
    for channel in channels:
        if channel not in PRACTITIONER_CHANNELS:
            raise UserError(f"unknown alert channel {channel!r}: use {', '.join(PRACTITIONER_CHANNELS)}")
    now = app.clock.now()
    async with app.db.transaction() as tx:
        pid = await practitioners.add(
            tx, app.crypto, svc, role, name.strip(), [ChannelAddress(c, None) for c in channels], now
        )
        await audit.log(tx, now, "manager", f"practitioner_added:{role}", None, f"practitioner={pid}")
        await tx.commit()
    return pid


def check_sender_name(name: str) -> str:
    """The name opens every survivor message, so it must pass the over-the-shoulder test too."""
    name = name.strip()
    if not 0 < len(name) <= 20:
        raise UserError("the sender name must be 1-20 characters: a neutral first name works best")
    problems = first_line_problems(f"Hi, it's {name}.")
    if problems:
        raise UserError(f"the sender name {name!r} would reveal the service ({problems[0]}): use a neutral first name")
    return name


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"unknown time zone {name!r}: use an IANA name like Europe/London") from None
    return name


async def enrol(
    app: App,
    svc: int,
    *,
    idva: int,
    channel: str,
    address: str,
    name: str | None,
    intake: str,
    no_contact_order: bool = False,
    timezone: str = "Europe/London",
    language: str = "en_GB",
    windows: str | None = None,
) -> tuple[str, str]:
    """Enrol a survivor; return the case reference and the one-time activation code to hand over in person."""
    if channel not in app.survivor_channels:
        raise UserError(f"unknown survivor channel {channel!r}: available here: {', '.join(app.survivor_channels)}")
    if not normalise_address(channel, address):
        raise UserError("--address is empty: give the survivor's number or chat id")
    try:
        intake_level = IntakeLevel(intake)
    except ValueError:
        raise UserError(f"--intake must be standard, medium or high (the DASH level), not {intake!r}") from None
    if language not in app.catalogs.languages:
        raise UserError(f"no catalog for language {language!r}: available: {', '.join(app.catalogs.languages)}")
    safe: tuple[SafeWindow, ...] = parse_windows(windows) if windows else ()
    now = app.clock.now()
    code = new_activation_code()
    salt = new_case_salt()
    digest = app.crypto.secret_hasher(salt)("".join(ch for ch in code.lower() if ch.isalnum()))
    async with app.db.transaction() as tx:
        if await practitioners.active_service(tx, idva) != svc:
            raise UserError(f"--idva {idva} is not an active practitioner of this service")
        enrolment = Enrolment(
            service_id=svc,
            idva_id=idva,
            channel=channel,
            address=address.strip(),
            address_hash=address_hash(app, channel, address),
            name=name,
            intake_level=intake_level,
            no_contact_order=no_contact_order,
            language=language,
            timezone=check_timezone(timezone),
            safe_windows=safe,
        )
        try:
            case_id, ref = await cases.enrol(tx, app.crypto, enrolment, digest, salt, now + ACTIVATION_VALID, now)
        except cases.AddressInUse as exc:
            raise UserError(str(exc)) from None
        await audit.log(tx, now, "manager", "case_enrolled", case_id, f"intake={intake}")
        await tx.commit()
    return ref, code


async def case_by_ref(tx: Tx, ref: str, svc: int) -> Case:
    case = await cases.by_ref(tx, ref)
    if case is None or case.service_id != svc:
        raise UserError(f"no case {ref!r} in this service: `safecheck case list` shows the references")
    return case


async def list_cases(app: App, svc: int) -> list[dict[str, Any]]:
    async with app.db.transaction() as tx:
        found = await cases.list_for_service(tx, svc)
        out = []
        for c in found:
            nxt = await timers.pending_for_case(tx, c.id, "checkin")
            out.append(
                {
                    "ref": c.ref,
                    "status": c.status,
                    "idva": c.idva_id,
                    "channel": c.channel,
                    "intake": c.intake_level.value,
                    "language": c.language,
                    "next_checkin": nxt[0].due_at.isoformat() if nxt else None,
                }
            )
    return out


async def show_case(app: App, svc: int, ref: str, viewer: int) -> dict[str, Any]:
    """Everything about a case, decrypted for a practitioner of its service; the view is audited."""
    now = app.clock.now()
    async with app.db.transaction() as tx:
        if await practitioners.active_service(tx, viewer) != svc:
            raise UserError(f"practitioner {viewer} may not view cases of this service")
        case = await case_by_ref(tx, ref, svc)
        rows = await checkins.for_case(tx, case.id)
        history = []
        for row in rows:
            answers = [
                {
                    "question": a["question"],
                    "options": json.loads(a["options"]),
                    "text": app.crypto.decrypt_optional(a["text_enc"], checkins.ANSWER_TEXT),
                    "unanswered": bool(a["unanswered"]),
                }
                for a in await checkins.answers_for(tx, row["id"])
            ]
            history.append(
                {
                    "checkin": row["id"],
                    "slot": row["slot"],
                    "status": row["status"],
                    "level": row["level"],
                    "score": row["score"],
                    "change": row["change"],
                    "answers": answers,
                }
            )
        case_alerts = [
            {
                "id": a.id,
                "severity": a.severity,
                "reason": a.reason,
                "created_at": a.created_at.isoformat(),
                "acknowledged_at": a.acknowledged_at.isoformat() if a.acknowledged_at else None,
                "acknowledged_by": a.acknowledged_by,
            }
            for a in await alerts.for_case(tx, case.id)
        ]
        result = {
            "ref": case.ref,
            "status": case.status,
            "name": app.crypto.decrypt_optional(case.name_enc, cases.NAME),
            "address": app.crypto.decrypt_optional(case.address_enc, cases.ADDRESS),
            "channel": case.channel,
            "intake": case.intake_level.value,
            "no_contact_order": case.no_contact_order,
            "timezone": case.timezone,
            "safe_windows": [str(w) for w in case.safe_windows],
            "paused_until": case.paused_until.isoformat() if case.paused_until else None,
            "consents": [dict(r) for r in await cases.consents(tx, case.id)],
            "checkins": history,
            "alerts": case_alerts,
        }
        await audit.log(tx, now, f"practitioner:{viewer}", "case_viewed", case.id)
        await tx.commit()
    return result


async def set_status(app: App, svc: int, ref: str, action: str, days: int | None = None) -> str:
    """Pause, resume or close a case on the practitioner's side."""
    now = app.clock.now()
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, svc)
        if case.status in ("closed", "withdrawn"):
            raise UserError(f"case {case.ref} is {case.status}: nothing to {action}")
        if action == "pause":
            if days is None or not 1 <= days <= 90:
                raise UserError("--days must be between 1 and 90")
            until = now + timedelta(days=days)
            await case_state.pause(tx, case.id, until, now)
            result = f"paused until {until.isoformat()}"
        elif action == "resume":
            if case.status != "paused":
                raise UserError(f"case {case.ref} is {case.status}, not paused: nothing to resume")
            nxt = await case_state.resume(tx, app, case, now)
            result = f"resumed; next check-in {nxt.isoformat() if nxt else 'not scheduled'}"
        elif action == "close":
            await outbox.cancel_for_survivor(tx, case.id)
            await timers.cancel_all(tx, now, case.id)
            await cases.update(tx, case.id, status="closed", closed_at=now)
            result = "closed"
        else:
            raise UserError(f"unknown action {action!r}")
        await audit.log(tx, now, "manager", f"case_{action}", case.id)
        await tx.commit()
    return f"{case.ref} {result}"


async def set_schedule(app: App, svc: int, ref: str, spec: str, jitter: int = 0) -> str:
    if not 0 <= jitter <= 120:
        raise UserError("--jitter must be between 0 and 120 minutes")
    schedule = replace(parse_schedule(spec), jitter_minutes=jitter)
    now = app.clock.now()
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, svc)
        if case.safe_windows:
            problems = schedule_problems(schedule, case.safe_windows)
            if problems:
                raise UserError(f"schedule does not fit the survivor's safe times: {problems[0]}")
        anchor = now.astimezone(ZoneInfo(case.timezone)).date() if schedule.kind == "interval" else None
        await schedules.put(tx, case.id, schedules.StoredSchedule(spec, jitter, anchor), now)
        nxt = await plan_next(tx, app, case, now) if case.status == "active" else None
        await audit.log(tx, now, "manager", "schedule_set", case.id, spec)
        await tx.commit()
    return f"{case.ref} schedule {spec!r}; next check-in {nxt.isoformat() if nxt else 'after onboarding'}"


async def show_schedule(app: App, svc: int, ref: str) -> dict[str, Any]:
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, svc)
        stored = await schedules.get(tx, case.id)
        nxt = await timers.pending_for_case(tx, case.id, "checkin")
    return {
        "ref": case.ref,
        "spec": stored.spec if stored else None,
        "jitter_minutes": stored.jitter_minutes if stored else 0,
        "timezone": case.timezone,
        "safe_windows": [str(w) for w in case.safe_windows],
        "next_checkin": nxt[0].due_at.isoformat() if nxt else None,
    }


async def list_alerts(app: App, svc: int, open_only: bool) -> list[dict[str, Any]]:
    async with app.db.transaction() as tx:
        found = await alerts.list_for_service(tx, svc, open_only)
        out = []
        for a in found:
            told = await alerts.notifications(tx, a.id)
            out.append(
                {
                    "id": a.id,
                    "case": a.case_ref,
                    "severity": a.severity,
                    "reason": a.reason,
                    "created_at": a.created_at.isoformat(),
                    "acknowledged_at": a.acknowledged_at.isoformat() if a.acknowledged_at else None,
                    "acknowledged_by": a.acknowledged_by,
                    "notified": [
                        {"step": t["step"], "role": t["role"], "practitioner": t["practitioner_id"]} for t in told
                    ],
                }
            )
    return out


async def ack(app: App, alert_id: int, practitioner_id: int) -> str:
    now = app.clock.now()
    async with app.db.transaction() as tx:
        try:
            first = await alerting.acknowledge(tx, alert_id, practitioner_id, now)
        except alerting.AckRefused as exc:
            raise UserError(str(exc)) from None
        await tx.commit()
    return f"alert {alert_id} acknowledged" if first else f"alert {alert_id} was already acknowledged"


async def read_inbox(app: App, practitioner_id: int, unread_only: bool = False) -> list[dict[str, Any]]:
    now = app.clock.now()
    async with app.db.transaction() as tx:
        if await practitioners.active_service(tx, practitioner_id) is None:
            raise UserError(f"no active practitioner {practitioner_id}")
        rows = await inbox.for_practitioner(tx, practitioner_id, unread_only)
        await inbox.mark_read(tx, practitioner_id, now)
        await tx.commit()
    return [{"id": r["id"], "alert": r["alert_id"], "at": r["created_at"], "text": r["body"]} for r in rows]


async def list_practitioners(app: App, svc: int) -> list[dict[str, Any]]:
    async with app.db.transaction() as tx:
        found = await practitioners.list_for_service(tx, app.crypto, svc)
        return [
            {
                "id": p.id,
                "name": p.name,
                "role": p.role,
                "active": p.active,
                "channels": await practitioners.channel_names(tx, p.id),
            }
            for p in found
        ]


async def checkin_now(app: App, svc: int, ref: str, delay: timedelta = timedelta(0)) -> str:
    """Start a check-in now (or after a delay) instead of waiting for the schedule."""
    now = app.clock.now()
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, svc)
        if case.status != "active":
            raise UserError(f"case {case.ref} is {case.status}: only active cases get check-ins")
        if not in_window(now + delay, ZoneInfo(case.timezone), case.safe_windows):
            raise UserError(f"it is outside {case.ref}'s safe times ({', '.join(map(str, case.safe_windows))})")
        slot = f"manual-{int(now.timestamp())}"
        await timers.add(
            tx, "checkin", f"{case.id}:{slot}", now + delay, case_id=case.id, payload={"slot": slot, "retry": True}
        )
        await audit.log(tx, now, "manager", "checkin_requested", case.id)
        await tx.commit()
    app.wake_dispatcher()
    return f"{case.ref} check-in queued"


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"the {what} file {path} is not UTF-8 text") from None


def _policy_json(path: str, what: str, parse: Callable[[Mapping[str, object]], object]) -> str | None:
    if path == "default":
        return None
    try:
        raw = json.loads(_read(path, what))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: the {what} must be a JSON object")
    parse(raw)  # raises PolicyError, one line
    return json.dumps(raw)


async def configure_service(app: App, svc: int, **opts: Any) -> str:
    """Change a service's settings; every file is validated before anything is saved."""
    fields: dict[str, object] = {}
    if opts.get("sender_name") is not None:
        fields["sender_name"] = check_sender_name(opts["sender_name"])
    if opts.get("timezone") is not None:
        fields["timezone"] = check_timezone(opts["timezone"])
    if opts.get("digest_hour") is not None:
        hour = opts["digest_hour"]
        if hour != "off" and not (hour.isdigit() and 0 <= int(hour) <= 23):
            raise UserError("--digest-hour must be an hour 0-23, or off")
        fields["digest_hour"] = None if hour == "off" else int(hour)
    if opts.get("retention_days") is not None:
        if not 7 <= opts["retention_days"] <= 3650:
            raise UserError("--retention-days must be between 7 and 3650")
        fields["retention_days"] = opts["retention_days"]
    if opts.get("cover_line") is not None:
        fields["cover_line"] = int(opts["cover_line"] == "on")
    if opts.get("questionset") is not None:
        path = opts["questionset"]
        text = None if path == "default" else _read(path, "question set")
        if text is not None:
            parse_questionset(text, path)  # raises QuestionSetError, one line naming the question
        fields["questionset"] = text
    if opts.get("alert_policy") is not None:
        fields["alert_policy"] = _policy_json(opts["alert_policy"], "alert policy", parse_alert_policy)
    if opts.get("missed_policy") is not None:
        fields["missed_policy"] = _policy_json(opts["missed_policy"], "missed check-in policy", parse_missed_policy)
    if not fields:
        raise UserError("nothing to change: give at least one option (see `safecheck service set --help`)")
    now = app.clock.now()
    async with app.db.transaction() as tx:
        await services.update(tx, svc, **fields)
        await audit.log(tx, now, "manager", "service_configured", None, ",".join(sorted(fields)))
        await tx.commit()
    return f"updated {', '.join(sorted(fields))}"


async def show_service(app: App, svc: int) -> dict[str, Any]:
    async with app.db.transaction() as tx:
        s = await services.get(tx, svc)
    return {
        "slug": s.slug, "name": s.name, "sender_name": s.sender_name, "timezone": s.timezone,
        "questionset": app.questionset(s.questionset).id, "digest_hour": s.digest_hour,
        "retention_days": s.retention_days, "cover_line": s.cover_line,
        "alert_policy": alert_policy_to_json(s.alert_policy), "missed_policy": missed_policy_to_json(s.missed_policy),
    }
