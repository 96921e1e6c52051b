"""Service settings: sender name, time zone, digest, retention, cover line, question set and policies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import App
from bot.commands.common import UserError, check_sender_name, check_timezone, operator
from flows import cover
from flows.discretion import thread_problems
from flows.loader import check_languages, parse_questionset
from flows.questionset import QuestionSet
from safety.lexicon import AUTONYMS, RTL
from safety.policy import alert_policy_to_json, missed_policy_to_json, parse_alert_policy, parse_missed_policy
from storage import audit, case_mode, services
from storage.db import Tx
from storage.services import Service


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"the {what} file {path} is not UTF-8 text") from None


def policy_json(text: str, source: str, what: str, parse: Callable[[Mapping[str, object]], object]) -> str:
    """Validate a policy given as JSON text (a file's, or a form's); the JSON to store. One-line errors."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{source}: the {what} must be a JSON object")
    parse(raw)  # raises PolicyError, one line
    return json.dumps(raw)


def _policy_json(path: str, what: str, parse: Callable[[Mapping[str, object]], object]) -> str | None:
    if path == "default":
        return None
    return policy_json(_read(path, what), path, what, parse)


def check_digest_hour(hour: str, name: str = "--digest-hour") -> int | None:
    if hour != "off" and not (hour.isdigit() and 0 <= int(hour) <= 23):
        raise UserError(f"{name} must be an hour 0-23, or off")
    return None if hour == "off" else int(hour)


def check_retention_days(days: int, name: str = "--retention-days") -> int:
    if not 7 <= days <= 3650:
        raise UserError(f"{name} must be between 7 and 3650")
    return days


def check_retention_period(days: int, name: str) -> int:
    """Closed cases' personal data and delivery records: kept 30 days at least (a month's report), 10 years at most."""
    low, high = services.RETENTION_RANGE
    if not low <= days <= high:
        raise UserError(f"{name} must be between {low} and {high} days")
    return days


MARAC_INCIDENTS_RANGE = (1, 20)


def check_marac_incidents(count: int, name: str = "--marac-incidents") -> int:
    """Local Marac thresholds vary (SafeLives suggests 3 incidents in 12 months): a whole number 1-20."""
    low, high = MARAC_INCIDENTS_RANGE
    if not low <= count <= high:
        raise UserError(f"{name} must be between {low} and {high}")
    return count


def check_audit_retention_days(days: int, name: str = "--audit-retention-days") -> int:
    low, high = services.AUDIT_RETENTION_DAYS_RANGE
    if not low <= days <= high:
        raise UserError(f"{name} must be between {low} and {high} (days audit entries are kept)")
    return days


def check_sent_content_days(days: int, name: str = "--sent-content-days") -> int:
    low, high = services.SENT_CONTENT_DAYS_RANGE
    if not low <= days <= high:
        raise UserError(f"{name} must be between {low} and {high} (days a sent message keeps its text)")
    return days


def check_questionset(
    app: App, text: str | None, source: str, languages: Iterable[str], themes: Iterable[str] = ()
) -> QuestionSet:
    """Parse a question set (None: the default) and check it has every text in every offered language,
    and that every cover theme her service's cases use still rewords it (`themes`)."""
    qs = parse_questionset(text, source) if text is not None else app.questionset(None)  # one line on error
    # Every language the service offers must have every question: names the question and language.
    check_languages(qs, languages, app.catalogs.lookup, source)
    for theme in themes:
        try:
            cover.theme_for("cover", theme, qs)
        except cover.CoverThemeError as error:
            # Her questions would otherwise fall back to nothing: refuse, and say how to go on.
            raise UserError(f"cases in cover mode use {error}; move them to another mode first") from None
    return qs


async def configure_service(app: App, svc: int, actor: str | None = None, **opts: Any) -> str:
    """Change a service's settings; every file is validated before anything is saved."""
    fields: dict[str, object] = {}
    if opts.get("sender_name") is not None:
        fields["sender_name"] = check_sender_name(opts["sender_name"])
    if opts.get("timezone") is not None:
        fields["timezone"] = check_timezone(opts["timezone"])
    if opts.get("digest_hour") is not None:
        fields["digest_hour"] = check_digest_hour(opts["digest_hour"])
    if opts.get("retention_days") is not None:
        fields["retention_days"] = check_retention_days(opts["retention_days"])
    if opts.get("sent_content_days") is not None:
        fields["sent_content_days"] = check_sent_content_days(opts["sent_content_days"])
    if opts.get("audit_retention_days") is not None:
        fields["audit_retention_days"] = check_audit_retention_days(opts["audit_retention_days"])
    if opts.get("closed_case_days") is not None:
        fields["closed_case_days"] = check_retention_period(opts["closed_case_days"], "--closed-case-days")
    if opts.get("delivery_record_days") is not None:
        fields["delivery_record_days"] = check_retention_period(opts["delivery_record_days"], "--delivery-record-days")
    if opts.get("marac_incidents") is not None:
        fields["marac_escalation_incidents"] = check_marac_incidents(opts["marac_incidents"])
    if opts.get("cover_line") is not None:
        fields["cover_line"] = int(opts["cover_line"] == "on")
    if opts.get("questionset") is not None:
        path = opts["questionset"]
        text = None if path == "default" else _read(path, "question set")
        async with app.db.reading() as tx:
            enabled = (await services.get(tx, svc)).languages
            themes = await case_mode.themes_in_use(tx, svc)
        check_questionset(app, text, path, enabled, themes)
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
        await audit.log(tx, now, actor or operator(), "service_configured", None, ",".join(sorted(fields)), svc)
        await tx.commit()
    return f"updated {', '.join(sorted(fields))}"


def _codes(value: str | None, app: App) -> list[str]:
    return check_codes([code.strip() for code in (value or "").split(",") if code.strip()], app)


def check_codes(codes: list[str], app: App) -> list[str]:
    for code in codes:
        if code not in app.catalogs.languages:
            raise UserError(f"no catalog for language {code!r}: available: {', '.join(app.catalogs.languages)}")
    return codes


@dataclass(frozen=True)
class LanguagePlan:
    """The languages a service will offer, its default, and the open cases keeping a disabled one."""

    ordered: tuple[str, ...]
    default: str
    kept: dict[str, int]


def plan_languages(
    app: App,
    s: Service,
    in_use: Mapping[str, int],
    to_enable: list[str],
    to_disable: list[str],
    chosen_default: list[str],
    force: bool,
) -> LanguagePlan:
    """Check a change of languages: complete catalogs, a question set with every text in each, the
    default kept enabled; disabling a language that open cases use needs `force` (they keep it)."""
    if len(chosen_default) > 1:
        raise UserError("--default takes one language")
    if not (to_enable or to_disable or chosen_default):
        raise UserError("nothing to change: give --enable, --disable or --default")
    used = {code: in_use[code] for code in to_disable if in_use.get(code) and code in s.languages}
    if used and not force:
        counts = ", ".join(f"{code} by {n} open case(s)" for code, n in used.items())
        raise UserError(
            f"{counts}: they keep their language, but it would no longer be offered; add --force to disable it anyway"
        )
    new_default = chosen_default[0] if chosen_default else s.default_language
    languages = [code for code in (*s.languages, *to_enable) if code not in to_disable]
    if chosen_default and new_default not in languages and new_default not in to_disable:
        languages.insert(0, new_default)  # `--default cy` enables Welsh too
    if new_default not in languages:
        raise UserError(f"{new_default} is the default language: choose another --default before disabling it")
    languages = list(dict.fromkeys(languages))
    for code in languages:
        missing = app.catalogs.untranslated(code)
        if missing:
            raise UserError(f"the {code} catalog lacks {missing} translation(s): run `python -m locales.catalog check`")
    qs = app.questionset(s.questionset)
    check_languages(qs, languages, app.catalogs.lookup, f"question set {qs.id!r}")
    for code in languages:
        # Her HELP line must stay discreet in every language on offer, not only those it was checked in.
        problems = thread_problems(s.help_line, code, extra=(s.name,)) if s.help_line else []
        if problems:
            raise UserError(f"the service's HELP line would reveal it in {code} ({problems[0]}): change it first")
    ordered = (new_default, *(code for code in languages if code != new_default))
    return LanguagePlan(ordered, new_default, used)


async def set_languages(
    app: App,
    svc: int,
    enable: str | None = None,
    disable: str | None = None,
    default: str | None = None,
    force: bool = False,
    actor: str | None = None,
) -> str:
    """Enable and disable survivor languages and set the default (checked by plan_languages)."""
    to_enable, to_disable = _codes(enable, app), _codes(disable, app)
    chosen_default = _codes(default, app)
    async with app.db.reading() as tx:
        s = await services.get(tx, svc)
        in_use = await open_cases_by_language(tx, svc)
    plan = plan_languages(app, s, in_use, to_enable, to_disable, chosen_default, force)
    now = app.clock.now()
    async with app.db.transaction() as tx:
        await services.set_languages(tx, svc, plan.ordered, plan.default)
        await audit.log(
            tx,
            now,
            actor or operator(),
            "service_languages",
            None,
            f"{','.join(plan.ordered)} default={plan.default}",
            svc,
        )
        await tx.commit()
    kept = "".join(f"; {n} open case(s) keep {code}" for code, n in plan.kept.items())
    return f"languages: {', '.join(plan.ordered)} (default {plan.default}){kept}"


async def open_cases_by_language(tx: Tx, svc: int) -> dict[str, int]:
    rows = await tx.all(
        "SELECT language, COUNT(*) AS n FROM cases WHERE service_id = ? AND status NOT IN ('closed', 'withdrawn') "
        "GROUP BY language",
        (svc,),
    )
    return {row["language"]: int(row["n"]) for row in rows}


async def show_languages(app: App, svc: int) -> dict[str, Any]:
    async with app.db.reading() as tx:
        s = await services.get(tx, svc)
        in_use = await open_cases_by_language(tx, svc)
    return {
        "default": s.default_language,
        "languages": [
            {
                "code": code,
                "name": AUTONYMS.get(code, code),
                "enabled": code in s.languages,
                "right_to_left": code in RTL,
                "open_cases": in_use.get(code, 0),
            }
            for code in app.catalogs.languages
        ],
    }


async def show_service(app: App, svc: int) -> dict[str, Any]:
    async with app.db.transaction() as tx:
        s = await services.get(tx, svc)
    return {
        "slug": s.slug,
        "name": s.name,
        "sender_name": s.sender_name,
        "timezone": s.timezone,
        "questionset": app.questionset(s.questionset).id,
        "digest_hour": s.digest_hour,
        "retention_days": s.retention_days,
        "sent_content_days": s.sent_content_days,
        "audit_retention_days": s.audit_retention_days,
        "closed_case_days": s.closed_case_days,
        "delivery_record_days": s.delivery_record_days,
        "marac_escalation_incidents": s.marac_escalation_incidents,
        "cover_line": s.cover_line,
        "alert_policy": alert_policy_to_json(s.alert_policy),
        "missed_policy": missed_policy_to_json(s.missed_policy),
        "languages": list(s.languages),
        "default_language": s.default_language,
    }
