"""Service settings pages: sender name and the other settings, the alert ladders, missed check-ins
and languages. Each form is checked by the same functions as `safecheck service` (bot.commands);
an error is one line next to its field and nothing is saved. Every change is audited with the
values before and after (settings only: no personal data lives here).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from bot.commands import schedules as schedule_commands
from bot.commands import service as service_commands
from bot.commands.common import UserError, check_sender_name, check_timezone
from bot.web import forms
from bot.web.keys import APP_KEY
from bot.web.manage import configurer
from bot.web.render import render
from bot.web.viewer import Viewer
from bot.web.words import N_, _, maybe
from flows.schedule import ScheduleError
from safety.lexicon import AUTONYMS
from safety.model import Severity
from safety.policy import (
    PolicyError,
    alert_policy_to_json,
    missed_policy_to_json,
    parse_alert_policy,
    parse_missed_policy,
)
from storage import audit, services
from storage.db import Tx
from storage.services import Service

routes = web.RouteTableDef()
PAGE = "/manage/service"
LADDER_ROWS = 5
SEVERITIES = (Severity.URGENT, Severity.HIGH, Severity.RAISED)
ROLE_CHOICES = (("idva", N_("Assigned IDVA")), ("duty", N_("Duty (the rota)")), ("manager", "Managers"))
RETENTION_FIELDS = {"closed_case_days": N_("Closed cases' data"), "delivery_record_days": N_("Delivery records")}
NOTICES = {
    "settings": N_("Settings saved."),
    "ladder": N_("Alert ladders saved: new alerts follow them."),
    "missed": N_("Missed check-in rules saved."),
    "languages": N_("Languages saved."),
    "schedule": N_("Default schedule saved: it applies to cases without a schedule of their own."),
}


def _settings_of(s: Service) -> dict[str, str]:
    """The settings form's values, as the form shows them."""
    return {
        "sender_name": s.sender_name,
        "timezone": s.timezone,
        "cover_line": "on" if s.cover_line else "",
        "retention_days": str(s.retention_days),
        "sent_content_days": str(s.sent_content_days),
        "audit_retention_days": str(s.audit_retention_days),
        "closed_case_days": str(s.closed_case_days),
        "delivery_record_days": str(s.delivery_record_days),
        "digest_hour": "off" if s.digest_hour is None else str(s.digest_hour),
        "marac_escalation_incidents": str(s.marac_escalation_incidents),
    }


def _ladder_rows(policy_json: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = {}
    for severity in SEVERITIES:
        steps = [
            {"after": str(step["after_minutes"]), "role": str(step["role"])} for step in policy_json[severity.value]
        ]
        rows[severity.value] = steps + [{"after": "", "role": ""}] * (LADDER_ROWS - len(steps))
    return rows


async def _page(request: web.Request, who: Viewer, status: int = 200, **extra: object) -> web.Response:
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        s = await services.get(tx, who.service_id)
        in_use = await service_commands.open_cases_by_language(tx, who.service_id)
    missed = missed_policy_to_json(s.missed_policy)
    context: dict[str, object] = {
        "settings": _settings_of(s),
        "ladders": _ladder_rows(alert_policy_to_json(s.alert_policy)),
        "severities": [sev.value for sev in SEVERITIES],
        "role_choices": ROLE_CHOICES,
        "missed": {
            "reminder_after_minutes": str(missed["reminder_after_minutes"]),
            "grace_minutes": str(missed["grace_minutes"]),
            "alert_each_missed": "on" if missed["alert_each_missed"] else "",
        },
        "languages": [
            {
                "code": code,
                "name": AUTONYMS.get(code, code),
                "enabled": code in s.languages,
                "open": in_use.get(code, 0),
            }
            for code in app.catalogs.languages
        ],
        "default_language": s.default_language,
        "schedule": {"default_schedule": s.default_schedule or "", "default_jitter": str(s.default_jitter)},
        "errors": {},
        "notice": maybe(NOTICES.get(request.query.get("done", ""))),
    }
    context.update(extra)
    return render("manage_service.html", request, context, status)


@routes.get(PAGE)
async def service_page(request: web.Request) -> web.Response:
    return await _page(request, configurer(request))


async def _save(request: web.Request, who: Viewer, action: str, fields: dict[str, object]) -> None:
    """Store the changed fields and audit them with their values before and after, in one unit."""
    app = request.app[APP_KEY]
    now = app.clock.now()

    async def unit(tx: Tx) -> None:
        current = await services.get(tx, who.service_id)
        before = {name: _stored(current, name) for name in fields}
        after = {name: _shown(name, value) for name, value in fields.items()}
        changed = {name for name in fields if before[name] != after[name]}
        if not changed:
            return
        await services.update(tx, who.service_id, **{name: fields[name] for name in sorted(changed)})
        detail = audit.changed({n: before[n] for n in sorted(changed)}, {n: after[n] for n in sorted(changed)})
        await audit.log(tx, now, who.actor, action, None, detail, who.service_id)
        await tx.commit()

    await app.db.run(unit)


def _stored(s: Service, name: str) -> object:
    """A service's setting as the audit records it (policies as their JSON, flags as booleans)."""
    if name == "alert_policy":
        return alert_policy_to_json(s.alert_policy)
    if name == "missed_policy":
        return missed_policy_to_json(s.missed_policy)
    if name == "cover_line":
        return bool(s.cover_line)
    value: object = getattr(s, name)
    return value


def _shown(name: str, value: object) -> object:
    if name == "alert_policy" and isinstance(value, str):
        return alert_policy_to_json(parse_alert_policy(json.loads(value)))
    if name == "missed_policy" and isinstance(value, str):
        return missed_policy_to_json(parse_missed_policy(json.loads(value)))
    if name == "cover_line":
        return bool(value)
    return value


def _whole(text: str, name: str) -> int:
    if not forms.is_number(text.strip()):
        raise UserError(f"{name} must be a whole number of days")
    return int(text.strip())


def _count(text: str, name: str) -> int:
    if not forms.is_number(text.strip()):
        raise UserError(f"{name} must be a whole number")
    return int(text.strip())


@routes.post(PAGE + "/settings")
async def save_settings(request: web.Request) -> web.Response:
    who = configurer(request)
    form = await request.post()
    values = {name: forms.text(form, name, 64) for name in ("sender_name", "timezone", "retention_days")}
    values |= {name: forms.text(form, name, 64) for name in ("sent_content_days", "digest_hour", "cover_line")}
    values["marac_escalation_incidents"] = forms.text(form, "marac_escalation_incidents", 64)
    values["audit_retention_days"] = forms.text(form, "audit_retention_days", 64)
    values |= {name: forms.text(form, name, 64) for name in RETENTION_FIELDS}
    checks: dict[str, Callable[[str], object]] = {
        "sender_name": check_sender_name,
        "timezone": lambda v: check_timezone(v.strip()),
        "retention_days": lambda v: service_commands.check_retention_days(_whole(v, "Retention"), "Retention"),
        "sent_content_days": lambda v: service_commands.check_sent_content_days(
            _whole(v, _("Sent message text")), _("Sent message text")
        ),
        "audit_retention_days": lambda v: service_commands.check_audit_retention_days(
            _whole(v, _("Audit retention")), _("Audit retention")
        ),
        "digest_hour": lambda v: service_commands.check_digest_hour(v.strip().lower(), _("The digest hour")),
        "marac_escalation_incidents": lambda v: service_commands.check_marac_incidents(
            _count(v, _("The Marac incident threshold")), _("The Marac incident threshold")
        ),
    }
    for name, label in RETENTION_FIELDS.items():
        checks[name] = _retention_check(_(label))
    fields: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name, check in checks.items():
        try:
            fields[name] = check(values[name])
        except UserError as exc:
            errors[name] = _sentence(str(exc))
    fields["cover_line"] = int(values["cover_line"] == "on")
    if errors:
        return await _page(request, who, 400, errors=errors, settings=values)
    await _save(request, who, "service_configured", fields)
    raise web.HTTPSeeOther(f"{PAGE}?done=settings")


def _retention_check(label: str) -> Callable[[str], object]:
    return lambda v: service_commands.check_retention_period(_whole(v, label), label)


def _sentence(message: str) -> str:
    """The CLI's one-line message, as a sentence on a page."""
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _number(text: str) -> int | float:
    text = text.strip()
    return int(text) if forms.is_number(text) else float(text)


@routes.post(PAGE + "/ladder")
async def save_ladder(request: web.Request) -> web.Response:
    who = configurer(request)
    form = await request.post()
    raw: dict[str, list[dict[str, object]]] = {}
    shown: dict[str, list[dict[str, str]]] = {}
    errors: dict[str, str] = {}
    for severity in SEVERITIES:
        name = severity.value
        rows = [
            {
                "after": forms.text(form, f"{name}-{i}-after", 16).strip(),
                "role": forms.text(form, f"{name}-{i}-role", 16).strip(),
            }
            for i in range(LADDER_ROWS)
        ]
        shown[name] = rows
        steps: list[dict[str, object]] = []
        for number, row in enumerate(rows, start=1):
            if not row["after"] and not row["role"]:
                continue  # an unused row
            try:
                steps.append({"after_minutes": _number(row["after"]), "role": row["role"]})
            except ValueError:
                errors[name] = _("Step {number}: give the minutes as a number.").format(number=number)
                break
        if name in errors:
            continue
        try:
            parse_alert_policy({name: steps})  # the CLI's own check, one severity at a time
        except PolicyError as exc:
            errors[name] = _sentence(str(exc))
        raw[name] = steps
    if errors:
        return await _page(request, who, 400, errors=errors, ladders=shown)
    stored = service_commands.policy_json(json.dumps(raw), "alert policy", "alert policy", parse_alert_policy)
    await _save(request, who, "alert_policy_set", {"alert_policy": stored})
    raise web.HTTPSeeOther(f"{PAGE}?done=ladder")


@routes.post(PAGE + "/missed")
async def save_missed(request: web.Request) -> web.Response:
    who = configurer(request)
    form = await request.post()
    values = {
        "reminder_after_minutes": forms.text(form, "reminder_after_minutes", 16),
        "grace_minutes": forms.text(form, "grace_minutes", 16),
        "alert_each_missed": forms.text(form, "alert_each_missed", 8),
    }
    errors: dict[str, str] = {}
    raw: dict[str, object] = {"alert_each_missed": values["alert_each_missed"] == "on"}
    for name in ("reminder_after_minutes", "grace_minutes"):
        try:
            raw[name] = _number(values[name])
        except ValueError:
            errors[name] = _("Give a number of minutes.")
    if not errors:
        try:
            stored = service_commands.policy_json(
                json.dumps(raw), "missed check-in policy", "missed check-in policy", parse_missed_policy
            )
        except (UserError, PolicyError) as exc:
            field = "reminder_after_minutes" if str(exc).startswith("reminder") else "grace_minutes"
            errors[field] = _sentence(str(exc).removeprefix("missed check-in policy: "))
    if errors:
        return await _page(request, who, 400, errors=errors, missed=values)
    await _save(request, who, "missed_policy_set", {"missed_policy": stored})
    raise web.HTTPSeeOther(f"{PAGE}?done=missed")


@routes.post(PAGE + "/schedule")
async def save_schedule(request: web.Request) -> web.Response:
    who = configurer(request)
    form = await request.post()
    values = {name: forms.text(form, name, 120).strip() for name in ("default_schedule", "default_jitter")}
    spec = " ".join(values["default_schedule"].split())
    jitter_text = values["default_jitter"] or "0"
    if not forms.is_number(jitter_text):
        return await _page(
            request, who, 400, errors={"default_jitter": _("Give the jitter in whole minutes.")}, schedule=values
        )
    try:
        if spec:  # without one, cases keep the built-in default and the jitter does not apply
            schedule_commands.check_schedule(spec, int(jitter_text), "Jitter")
    except UserError as exc:
        return await _page(request, who, 400, errors={"default_jitter": _sentence(str(exc))}, schedule=values)
    except ScheduleError as exc:
        return await _page(request, who, 400, errors={"default_schedule": _sentence(str(exc))}, schedule=values)
    fields: dict[str, object] = {"default_schedule": spec or None, "default_jitter": int(jitter_text) if spec else 0}
    await _save(request, who, "default_schedule_set", fields)
    raise web.HTTPSeeOther(f"{PAGE}?done=schedule")


@routes.post(PAGE + "/languages")
async def save_languages(request: web.Request) -> web.Response:
    who = configurer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    chosen = [v for v in form.getall("language", []) if isinstance(v, str)]
    default = forms.text(form, "default", 16)
    force = forms.text(form, "force", 8) == "on"
    try:
        wanted = service_commands.check_codes(chosen, app)
        [new_default] = service_commands.check_codes([default], app) if default else [""]
        if not new_default:
            raise UserError("choose the default language")
        async with app.db.reading() as tx:
            s = await services.get(tx, who.service_id)
            in_use = await service_commands.open_cases_by_language(tx, who.service_id)
        to_enable = [c for c in wanted if c not in s.languages]
        to_disable = [c for c in s.languages if c not in wanted]
        if new_default not in wanted:
            raise UserError("the default language must be one of those offered")
        plan = service_commands.plan_languages(app, s, in_use, to_enable, to_disable, [new_default], force)
    except UserError as exc:
        message = str(exc).replace("add --force", "tick 'disable anyway'").replace("--default", "the default")
        return await _page(request, who, 400, errors={"languages": _sentence(message)})
    now = app.clock.now()
    before = {"languages": list(s.languages), "default": s.default_language}
    after = {"languages": list(plan.ordered), "default": plan.default}

    async def unit(tx: Tx) -> None:
        await services.set_languages(tx, who.service_id, plan.ordered, plan.default)
        detail = audit.changed(before, after, kept_by_open_cases=plan.kept)
        await audit.log(tx, now, who.actor, "service_languages", None, detail, who.service_id)
        await tx.commit()

    if before != after:
        await app.db.run(unit)
    raise web.HTTPSeeOther(f"{PAGE}?done=languages")
