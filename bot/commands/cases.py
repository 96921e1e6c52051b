"""Case commands: enrol, list, show (audited), pause, resume, close, and an on-demand check-in."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import case_state
from bot.alert_text import reason_words
from bot.app import App
from bot.channels.sms_settings import E164
from bot.commands.case_mode import check_mode
from bot.commands.common import EnrolError, UserError, case_by_ref, check_timezone, operator
from bot.identify import address_hash
from flows.engine import activation_digest
from flows.events import SafeWindow
from flows.schedule import ScheduleError, in_window, parse_windows
from safety.model import IntakeLevel
from storage import alerts, audit, case_mode, cases, checkins, practitioners, services, timers
from storage import telegram as telegram_store
from storage.cases import Enrolment
from storage.crypto import new_activation_code, new_case_salt
from storage.services import Service

ACTIVATION_VALID = timedelta(days=14)


def check_enrolment(
    app: App,
    service: Service,
    *,
    channel: str,
    address: str | None,
    intake: str,
    timezone: str,
    language: str | None,
    windows: str | None,
) -> tuple[IntakeLevel, str | None, str, str, tuple[SafeWindow, ...]]:
    """Check an enrolment's fields; return the intake level, the address (None: a Telegram deep link),
    language, time zone and safe windows, or raise EnrolError naming the field."""
    try:
        intake_level = IntakeLevel(intake)
    except ValueError:
        raise EnrolError(
            "intake",
            f"--intake must be standard, medium or high (the DASH level), not {intake!r}",
            "Choose the DASH level at intake: standard, medium or high.",
        ) from None
    if channel not in app.survivor_channels:
        raise EnrolError(
            "channel",
            f"unknown survivor channel {channel!r}: available here: {', '.join(app.survivor_channels)}",
            "Choose how she will get her messages.",
        )
    # On Telegram the survivor's chat is bound later, by the deep link with her activation code.
    deep_link = channel == "telegram" and not (address or "").strip()
    if not deep_link and not cases.normalise_address(address or ""):
        raise EnrolError(
            "address", "--address is empty: give the survivor's number or chat id", "Give her mobile number."
        )
    if channel == "sms":  # Twilio reports the sender in E.164: the same spelling must find the case
        address = "".join((address or "").split())
        if not E164.fullmatch(address):
            raise EnrolError(
                "address",
                "an SMS address must be a mobile number in international form, e.g. +447700900123",
                "Give her mobile number in international form, e.g. +447700900123.",
            )
    language = language or service.default_language
    if language not in service.languages:
        raise EnrolError(
            "language",
            f"language {language!r} is not enabled here: enabled: {', '.join(service.languages)} "
            "(`safecheck service languages --enable ...`)",
            "Choose one of the service's languages.",
        )
    try:
        safe: tuple[SafeWindow, ...] = parse_windows(windows) if windows else ()
    except ScheduleError as exc:
        raise EnrolError("windows", str(exc)) from None
    try:
        zone = check_timezone(timezone)
    except UserError as exc:
        raise EnrolError("timezone", str(exc), "Unknown time zone: use a name like Europe/London.") from None
    return intake_level, None if deep_link else (address or "").strip(), language, zone, safe


async def enrol(
    app: App,
    svc: int,
    *,
    idva: int,
    channel: str,
    address: str | None,
    name: str | None,
    intake: str,
    no_contact_order: bool = False,
    timezone: str = "Europe/London",
    language: str | None = None,
    windows: str | None = None,
    actor: str | None = None,
    mode: str | None = None,
    theme: str | None = None,
    secrets_autodelete: int | None = None,
) -> tuple[str, str]:
    """Enrol a survivor; return the case reference and the one-time activation code to hand over in person.

    `mode` and `theme`: how her check-ins read (default: the service's). `secrets_autodelete`: she sets her
    secrets on Telegram, where each message is deleted this many minutes after it was sent (None: in person).
    """
    async with app.db.reading() as tx:
        service = await services.get(tx, svc)
    intake_level, address, language, zone, safe = check_enrolment(
        app,
        service,
        channel=channel,
        address=address,
        intake=intake,
        timezone=timezone,
        language=language,
        windows=windows,
    )
    chosen = check_mode(app, service, language, mode, theme)
    check_secrets_on_channel(channel, secrets_autodelete)
    now = app.clock.now()
    code = new_activation_code()
    salt = new_case_salt()
    digest = activation_digest(code, app.crypto.secret_hasher(salt))
    async with app.db.transaction() as tx:
        if await practitioners.active_service(tx, idva) != svc:
            raise EnrolError(
                "idva", f"--idva {idva} is not an active practitioner of this service", "Choose an active IDVA."
            )
        if idva not in await practitioners.ids_with_role(tx, svc, "idva"):
            # Duty and managers are rungs of every case's ladder: the first rung must be an IDVA of her own.
            raise EnrolError(
                "idva",
                f"--idva {idva} is not an IDVA: `safecheck practitioner list` shows the IDVAs' ids",
                "Choose an IDVA.",
            )
        enrolment = Enrolment(
            service_id=svc,
            idva_id=idva,
            channel=channel,
            address=address,
            address_hash=None if address is None else address_hash(app.core, channel, address),
            name=name,
            intake_level=intake_level,
            no_contact_order=no_contact_order,
            language=language,
            timezone=zone,
            safe_windows=safe,
        )
        try:
            case_id, ref = await cases.enrol(tx, app.crypto, enrolment, digest, salt, now + ACTIVATION_VALID, now)
        except cases.AddressInUse as exc:
            raise EnrolError("address", str(exc), "That number already belongs to an open case.") from None
        if address is None:
            await telegram_store.set_activation_lookup(tx, case_id, telegram_store.activation_lookup(app.crypto, code))
        await audit.log(tx, now, actor or operator(), "case_enrolled", case_id, f"intake={intake}")
        await case_mode.set_mode(tx, case_id, chosen)
        if secrets_autodelete is not None:
            await case_mode.set_secrets_on_channel(tx, case_id, True)
            await telegram_store.set_autodelete(tx, case_id, secrets_autodelete)
        on_channel = "no" if secrets_autodelete is None else f"autodelete={secrets_autodelete}"
        detail = f"{chosen.audit_detail()} secrets_on_channel={on_channel}"
        await audit.log(tx, now, actor or operator(), "checkin_mode_set", case_id, detail)
        await tx.commit()
    return ref, code


def check_secrets_on_channel(channel: str, autodelete: int | None) -> None:
    """Her secrets on her channel: only on Telegram, and only with auto-delete on (SMS keeps the thread)."""
    if autodelete is None:
        return
    if channel != "telegram":
        raise EnrolError(
            "secrets_on_channel",
            f"her words can be set on her channel only on Telegram (with auto-delete), not on {channel}",
            "Only on Telegram: on other channels she sets her words with you in person.",
        )
    if not 1 <= autodelete <= 2880:
        raise EnrolError(
            "autodelete",
            "the auto-delete time must be 1 to 2880 minutes (Telegram deletes nothing older than 48 hours)",
            "Choose how soon her messages are deleted: 1 to 2880 minutes.",
        )


def telegram_link(app: App, payload: str) -> str | None:
    """The t.me link that starts the bot with `payload`; None unless Telegram and its username are set."""
    for transport in app.transports:
        if transport.name == "telegram" and hasattr(transport, "deep_link"):
            return transport.deep_link(payload)  # type: ignore[no-any-return]
    return None


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


async def show_case(app: App, svc: int, ref: str, viewer: int, limit: int = 50) -> dict[str, Any]:
    """Everything about a case, decrypted for the operator on behalf of a practitioner of its service.

    The operator holds the database and its key: the view is audited as theirs, on behalf of `viewer`.
    """
    now = app.clock.now()
    async with app.db.transaction() as tx:
        if await practitioners.active_service(tx, viewer) != svc:
            raise UserError(f"practitioner {viewer} may not view cases of this service")
        case = await case_by_ref(tx, ref, svc)
        if not 1 <= limit <= 10_000:
            raise UserError("--limit must be between 1 and 10000")
        rows = await checkins.for_case(tx, case.id, limit)
        history = []
        for row in rows:
            answers = [
                {
                    "question": a["question"],
                    "options": json.loads(a["options"]),
                    "text": app.crypto.decrypt_optional(a["text_enc"], checkins.ANSWER_TEXT.at(a["id"])),
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
                "signals": list(a.signals),
                "said": reason_words(a.reason, a.signals),
                "created_at": a.created_at.isoformat(),
                "acknowledged_at": a.acknowledged_at.isoformat() if a.acknowledged_at else None,
                "acknowledged_by": a.acknowledged_by,
            }
            for a in await alerts.for_case(tx, case.id)
        ]
        result = {
            "ref": case.ref,
            "status": case.status,
            "name": cases.name_of(app.crypto, case),
            "address": cases.address_of(app.crypto, case),
            "channel": case.channel,
            "intake": case.intake_level.value,
            "no_contact_order": case.no_contact_order,
            "timezone": case.timezone,
            "language": case.language,  # e.g. to book an interpreter for a call back
            "safe_windows": [str(w) for w in case.safe_windows],
            "paused_until": case.paused_until.isoformat() if case.paused_until else None,
            "consents": [dict(r) for r in await cases.consents(tx, case.id)],
            "checkins": history,
            "alerts": case_alerts,
        }
        await audit.log(tx, now, operator(), "case_viewed", case.id, f"on_behalf_of=practitioner:{viewer}")
        await tx.commit()
    return result


async def set_autodelete(app: App, svc: int, ref: str, minutes: int, actor: str | None = None) -> str:
    """Telegram: delete each message of the survivor's chat this many minutes after it was sent (0: never)."""
    if not 0 <= minutes <= 2880:
        raise UserError("--minutes must be between 0 (off) and 2880 (Telegram deletes nothing older than 48 h)")
    now = app.clock.now()
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, svc)
        if case.channel != "telegram":
            raise UserError(f"case {case.ref} is on {case.channel}: only Telegram messages can be deleted")
        await telegram_store.set_autodelete(tx, case.id, minutes or None)
        await audit.log(tx, now, actor or operator(), "telegram_autodelete_set", case.id, f"minutes={minutes}")
        await tx.commit()
    return (
        f"case {case.ref}: messages deleted {minutes} minutes after sending"
        if minutes
        else f"case {case.ref}: auto-delete off"
    )


async def set_status(
    app: App, svc: int, ref: str, action: str, days: int | None = None, actor: str | None = None
) -> str:
    """Pause, resume or close a case on the practitioner's side."""
    now = app.clock.now()
    async with app.db.transaction() as tx:
        case = await case_by_ref(tx, ref, svc)
        try:
            if action == "pause":
                if case.status not in ("closed", "withdrawn") and (days is None or not 1 <= days <= 90):
                    raise UserError("--days must be between 1 and 90")
                until = now + timedelta(days=days or 0)
                detail = await case_state.pause_by_practitioner(tx, case, until, now)
                result = f"paused until {until.isoformat()}"
            elif action == "resume":
                nxt, detail = await case_state.resume_by_practitioner(tx, app.rand, case, now)
                result = f"resumed; next check-in {nxt.isoformat() if nxt else 'not scheduled'}"
            elif action == "close":
                detail = await case_state.close(tx, case, now)
                result = "closed"
            else:
                raise UserError(f"unknown action {action!r}")
        except case_state.CannotChange as exc:
            raise UserError(str(exc)) from None
        await audit.log(tx, now, actor or operator(), f"case_{action}", case.id, detail)
        await tx.commit()
    return f"{case.ref} {result}"


async def checkin_now(app: App, svc: int, ref: str, delay: timedelta = timedelta(0), actor: str | None = None) -> str:
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
        await audit.log(tx, now, actor or operator(), "checkin_requested", case.id)
        await tx.commit()
    app.wake_dispatcher()
    return f"{case.ref} check-in queued"
