"""The `safecheck` command line: parse, run one command, print; user errors are one line and exit 2."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import commands, instance_lock, pruning
from bot.bootstrap import adopt_keys, configure_logging, make_clock, open_app
from bot.cli import keys, simulate
from bot.cli.parser import build_parser, hoist_global_options
from bot.commands import UserError, case_mode, signposting
from bot.commands import erasure as erasure_commands
from bot.commands.cases import telegram_link
from bot.config import ConfigError, Settings, load
from bot.dispatcher import Dispatcher
from bot.i18n import CatalogError
from bot.scheduler import TimerRunner
from flows.loader import QuestionSetError
from flows.schedule import ScheduleError
from safety.policy import PolicyError
from safety.secret_rules import FIELDS
from storage import audit, audit_retention, services
from storage.crypto import DecryptError
from storage.db import Database, StorageError, Tx
from storage.keys import ENV_VAR, KeyConfigError, create_key_file, load_keys

USER_ERRORS = (
    UserError,
    instance_lock.AlreadyRunning,
    ConfigError,
    KeyConfigError,
    StorageError,
    QuestionSetError,
    ScheduleError,
    PolicyError,
    CatalogError,
    DecryptError,
)


def emit(value: Any, as_json: bool, lines: Callable[[Any], list[str]]) -> None:
    if as_json:
        if isinstance(value, list):
            for item in value:
                print(json.dumps(item, ensure_ascii=False))
        else:
            print(json.dumps(value, ensure_ascii=False))
    else:
        for line in lines(value):
            print(line)


async def cmd_init(settings: Settings, args: argparse.Namespace) -> None:
    args.slug, args.service_name = commands.check_slug(args.slug), commands.check_service_name(args.service_name)
    # Check everything before writing anything: a new key for an existing database would lock its data away.
    sender = commands.check_sender_name(args.sender_name)
    if settings.db_path.exists():
        raise UserError(f"{settings.db_path} already exists: init creates a new database, so choose another --db")
    make_key = ENV_VAR not in os.environ and not settings.key_file.exists()
    # An existing key file (or SAFECHECK_KEY) must be sound before the database is made for it.
    keys = create_key_file(settings.key_file) if make_key else load_keys(os.environ, settings.key_file)
    try:
        db = await Database.open(settings.db_path, create=True)
        try:
            clock = make_clock(settings, moving=False)
            await adopt_keys(db, keys, settings, clock)  # from now on only these keys open this database
            async with db.transaction() as tx:
                svc = await services.create(tx, args.slug, args.service_name, clock.now(), sender)
                await audit.log(tx, clock.now(), commands.operator(), "service_created", None, "", svc)
                await tx.commit()
        finally:
            await db.close()
    except BaseException:  # leave nothing half-made behind: init can simply be run again
        for made in (settings.db_path, *(Path(f"{settings.db_path}{end}") for end in ("-wal", "-shm"))):
            made.unlink(missing_ok=True)
        if make_key:
            settings.key_file.unlink(missing_ok=True)
        raise
    if make_key:
        print(f"created key file {settings.key_file} (mode 600) - back it up: without it the data cannot be read")
    print(f"initialised {settings.db_path} with service {args.slug!r}")


async def cmd_db(settings: Settings, args: argparse.Namespace) -> None:
    if not settings.db_path.exists():
        raise UserError(f"no database at {settings.db_path}: run `safecheck init` first (or set SAFECHECK_DB)")
    db = await Database.open(settings.db_path, migrate=False)
    try:
        before = await db.version()
        applied = await db.upgrade()
        after = await db.version()
        await _record_upgrade(db, make_clock(settings, moving=False).now(), before, after)
        print(f"schema at version {after}" + (f" (applied {applied})" if applied else " (up to date)"))
    finally:
        await db.close()


async def _record_upgrade(db: Database, now: datetime, before: int, after: int) -> None:
    """`db upgrade` opens no keys, but it changes the install: each service's log says who ran it and what
    it did to the schema (versions only)."""
    detail = "db upgrade" + (f": schema {before} to {after}" if after != before else "")
    async with db.transaction() as tx:
        for service in await services.all_services(tx):
            await audit.log(tx, now, commands.operator(), "cli_command", None, detail, service.id)
        await tx.commit()


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "init":
        await cmd_init(settings, args)
        return 0
    if args.command == "keys":
        await keys.run(settings, args)
        return 0
    if args.command == "db":
        await cmd_db(settings, args)
        return 0
    # Imported here: they bring the web server, which no other command needs (each command starts faster).
    if args.command == "demo":
        from bot.cli import demo

        return await demo.run(settings, args)
    if args.command == "serve":
        from bot.cli import serve

        return await serve.run(settings)
    if args.command == "simulate":
        return await simulate.run(settings, args)
    if args.command in ("invite", "reset-account"):
        return await _invite(settings, args)
    # tick delivers like serve: two deliverers at once would send the same messages twice.
    async with open_app(settings, lock="tick" if args.command == "tick" else None) as app:
        async with app.db.transaction() as tx:
            svc = await commands.service_id(tx, args.service)
        handler = _HANDLERS.get((args.command, getattr(args, "action", None)))
        if handler is None:
            raise UserError(f"unknown command {args.command}")
        await handler(app, svc, args)
        await record_command(app, svc, args)
    return 0


async def record_command(app: Any, svc: int, args: argparse.Namespace) -> None:
    """Every command, reads too, is on record as the operating-system user who ran it (never its arguments:
    they may hold a name or a number); what it changed has rows of its own."""
    name = " ".join(part for part in (args.command, getattr(args, "action", None)) if part)
    async with app.db.transaction() as tx:
        await audit.log(tx, app.clock.now(), commands.operator(), "cli_command", None, name, svc)
        await tx.commit()


async def _invite(settings: Settings, args: argparse.Namespace) -> int:
    async with open_app(settings) as app:
        async with app.db.transaction() as tx:
            svc = await commands.service_id(tx, args.service)
        if args.command == "invite":
            token, what = await commands.invite(app, svc, frozenset(args.role), args.name), "invitation (valid 3 days"
        else:
            token, what = await commands.reset_account(app, svc, args.id), "reset link (valid 24 hours"
    base = settings.workspace_base or f"http://{settings.host}:{settings.port}"
    print(f"{what}, once): {base}/invite/{token}")
    return 0


async def _tick(app: Any, svc: int, args: argparse.Namespace) -> None:
    runner = TimerRunner(app)
    await runner.prepare()
    fired = await runner.run_due()
    await Dispatcher(app).drain()
    await pruning.prune(app.db, app.clock)  # cron runs tick instead of serve: sent content goes here then

    async def audit_months(tx: Tx) -> None:  # and the audit log's expired months, as the daily round does
        await audit_retention.run(tx, app.clock.now(), svc)
        await tx.commit()

    await app.db.run(audit_months)
    # cron mails what a command prints: the simulator's messages are counted, never shown with their number
    delivered = app.survivor_channels["simulator"].take()
    if delivered:
        print(f"delivered {len(delivered)} message(s) on the simulator channel")
    print(f"fired {fired} timer(s)")


async def _practitioner_add(app: Any, svc: int, a: argparse.Namespace) -> None:
    channels = [c.strip() for c in a.channels.split(",") if c]
    pid = await commands.add_practitioner(app, svc, a.name, a.role, channels, configured=app.practitioner_channels)
    print(pid)


async def _practitioner_link(app: Any, svc: int, a: argparse.Namespace) -> None:
    code = await commands.link_code(app, a.id, a.channel, svc=svc)
    print(f"link code: {code} (valid 24 hours, once); the practitioner sends  LINK {code}  to the bot")
    link = telegram_link(app, f"link-{code}")
    if link:
        print(f"or opens {link}")


async def _practitioner_list(app: Any, svc: int, a: argparse.Namespace) -> None:
    emit(
        await commands.list_practitioners(app, svc),
        a.json,
        lambda rows: [f"{r['id']:>4}  {r['role']:<8} {r['name']}  ({','.join(r['channels'])})" for r in rows],
    )


async def _inbox(app: Any, svc: int, a: argparse.Namespace) -> None:
    emit(
        await commands.read_inbox(app, a.id, a.unread, svc=svc),
        a.json,
        lambda rows: [f"{r['at']}  {r['text']}" for r in rows] or ["(inbox empty)"],
    )


async def _enrol(app: Any, svc: int, a: argparse.Namespace) -> None:
    ref, code = await commands.enrol(
        app,
        svc,
        idva=a.idva,
        channel=a.channel,
        address=a.address,
        name=a.name,
        intake=a.intake,
        no_contact_order=a.no_contact_order,
        timezone=a.timezone,
        language=a.language,
        windows=a.windows,
        mode=a.mode,
        theme=a.theme,
    )
    print(f"case {ref}")
    print(f"activation code {code}  (give it in person; the survivor texts it from their own phone)")
    if a.channel == "telegram" and not a.address:
        no_link = "set TELEGRAM_BOT_USERNAME to print the link; or she sends /start <code> to the bot"
        hint = telegram_link(app, code) or no_link
        print(f"telegram link {hint}  (she opens it on her own phone; the code in it is one-time)")
    print(f"her words: choose them with her in person (workspace, or `safecheck case set-secrets {ref}`)")


async def _case_list(app: Any, svc: int, a: argparse.Namespace) -> None:
    emit(
        await commands.list_cases(app, svc),
        a.json,
        lambda rows: (
            [
                f"{r['ref']}  {r['status']:<10} idva={r['idva']} intake={r['intake']} next={r['next_checkin'] or '-'}"
                for r in rows
            ]
            or ["(no cases)"]
        ),
    )


async def _case_show(app: Any, svc: int, a: argparse.Namespace) -> None:
    emit(await commands.show_case(app, svc, a.ref, a.viewer, a.limit), a.json, _case_lines)


def _case_lines(c: dict[str, Any]) -> list[str]:
    out = [
        f"case {c['ref']}  {c['status']}  intake={c['intake']}  channel={c['channel']}",
        f"name: {c['name'] or '-'}   contact: {c['address'] or '(erased)'}",
        f"safe times: {', '.join(c['safe_windows']) or '-'}  ({c['timezone']})   language: {c['language']}",
    ]
    for ch in c["checkins"]:
        out.append(f"- check-in {ch['slot']}  {ch['status']}  level={ch['level'] or '-'}  change={ch['change'] or '-'}")
        for ans in ch["answers"]:
            value = ans["text"] if ans["text"] is not None else ",".join(ans["options"]) or "(no answer)"
            out.append(f"    {ans['question']}: {value}")
    for al in c["alerts"]:
        state = f"acknowledged by {al['acknowledged_by']}" if al["acknowledged_at"] else "OPEN"
        out.append(f"! alert {al['id']} {al['severity']} {al['reason']} {state}")
    return out


async def _case_status(app: Any, svc: int, a: argparse.Namespace) -> None:
    print(await commands.set_status(app, svc, a.ref, a.action, getattr(a, "days", None)))


async def _case_erase(app: Any, svc: int, a: argparse.Namespace) -> None:
    done = await erasure_commands.erase(app, svc, a.ref, a.reason)
    removed = ", ".join(f"{kind}={n}" for kind, n in sorted(done.counts.items()) if n)
    print(f"{done.ref} erased (purge {done.purge_id}): {removed}")


async def _case_set_mode(app: Any, svc: int, a: argparse.Namespace) -> None:
    print(await case_mode.set_mode(app, svc, a.ref, a.mode, a.theme))


async def _case_autodelete(app: Any, svc: int, a: argparse.Namespace) -> None:
    print(await commands.cases.set_autodelete(app, svc, a.ref, a.minutes))


async def _case_secrets(app: Any, svc: int, a: argparse.Namespace) -> None:
    # Read from stdin, never argv: arguments show in `ps` and shell history.
    lines = [sys.stdin.readline().rstrip("\n") for _ in FIELDS]
    print(await commands.set_secrets(app, svc, a.ref, dict(zip(FIELDS, lines, strict=True)), a.exit_pause))


async def _schedule_set(app: Any, svc: int, a: argparse.Namespace) -> None:
    print(await commands.set_schedule(app, svc, a.ref, a.spec, a.jitter))


async def _schedule_show(app: Any, svc: int, a: argparse.Namespace) -> None:
    emit(
        await commands.show_schedule(app, svc, a.ref),
        a.json,
        lambda s: [
            f"{s['ref']}: {s['spec'] or '(default)'} jitter={s['jitter_minutes']}m tz={s['timezone']} "
            f"next={s['next_checkin'] or '-'}"
        ],
    )


async def _alerts_list(app: Any, svc: int, a: argparse.Namespace) -> None:
    emit(
        await commands.list_alerts(app, svc, a.open),
        a.json,
        lambda rows: (
            [
                f"{r['id']:>4}  {r['severity']:<7} {r['case']}  {r['reason']:<18} "
                f"{'acknowledged' if r['acknowledged_at'] else 'OPEN'}  notified="
                f"{','.join(str(n['practitioner']) for n in r['notified'])}"
                for r in rows
            ]
            or ["(no alerts)"]
        ),
    )


async def _alerts_ack(app: Any, svc: int, a: argparse.Namespace) -> None:
    # An alert id names its service: the command printed in the alert works without --service.
    print(await commands.ack(app, a.id, a.practitioner, svc=svc if a.service else None))


async def _audit_verify(app: Any, svc: int, a: argparse.Namespace) -> None:
    check = await audit.verify(app.db)
    if check.broken_at is not None:
        raise UserError(
            f"the audit log's chain breaks at row {check.broken_at}: {check.problem} (a row or the anchor was "
            "changed, removed or added after it was written); keep this file as evidence and restore from a backup"
        )
    print(f"audit log intact: {check.rows} rows chained from {audit.describe_start(check.anchor)}")


async def _service_show(app: Any, svc: int, a: argparse.Namespace) -> None:
    emit(await commands.show_service(app, svc), a.json, lambda s: [f"{k}: {v}" for k, v in s.items()])


async def _service_languages(app: Any, svc: int, a: argparse.Namespace) -> None:
    if a.enable or a.disable or a.default:
        print(await commands.set_languages(app, svc, a.enable, a.disable, a.default, a.force))
    emit(
        await commands.show_languages(app, svc),
        a.json,
        lambda s: [
            f"{'*' if r['code'] == s['default'] else ' '} {r['code']:<6} {'on ' if r['enabled'] else 'off'} "
            f"{r['name']}  ({r['open_cases']} open case(s))"
            for r in s["languages"]
        ],
    )


async def _service_set(app: Any, svc: int, a: argparse.Namespace) -> None:
    if a.help_line is not None:
        others = (
            "sender_name",
            "timezone",
            "digest_hour",
            "retention_days",
            "sent_content_days",
            "audit_retention_days",
            "closed_case_days",
            "delivery_record_days",
            "cover_line",
            "marac_incidents",
        )
        if any(getattr(a, name) is not None for name in (*others, "questionset", "alert_policy", "missed_policy")):
            raise UserError("give --help-line on its own: it is checked and saved by itself")
        print(await signposting.set_help_line(app, svc, a.help_line))
        return
    print(
        await commands.configure_service(
            app,
            svc,
            sender_name=a.sender_name,
            timezone=a.timezone,
            digest_hour=a.digest_hour,
            retention_days=a.retention_days,
            sent_content_days=a.sent_content_days,
            audit_retention_days=a.audit_retention_days,
            closed_case_days=a.closed_case_days,
            delivery_record_days=a.delivery_record_days,
            cover_line=a.cover_line,
            marac_incidents=a.marac_incidents,
            questionset=a.questionset,
            alert_policy=a.alert_policy,
            missed_policy=a.missed_policy,
        )
    )


Handler = Callable[[Any, int, argparse.Namespace], Awaitable[None]]
_HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("tick", None): _tick,
    ("practitioner", "add"): _practitioner_add,
    ("practitioner", "list"): _practitioner_list,
    ("practitioner", "link"): _practitioner_link,
    ("practitioner", "inbox"): _inbox,
    ("case", "enrol"): _enrol,
    ("case", "list"): _case_list,
    ("case", "show"): _case_show,
    ("case", "pause"): _case_status,
    ("case", "resume"): _case_status,
    ("case", "close"): _case_status,
    ("case", "erase"): _case_erase,
    ("case", "set-autodelete"): _case_autodelete,
    ("case", "set-mode"): _case_set_mode,
    ("case", "set-secrets"): _case_secrets,
    ("schedule", "set"): _schedule_set,
    ("schedule", "show"): _schedule_show,
    ("alerts", "list"): _alerts_list,
    ("alerts", "ack"): _alerts_ack,
    ("audit", "verify"): _audit_verify,
    ("service", "show"): _service_show,
    ("service", "set"): _service_set,
    ("service", "languages"): _service_languages,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(hoist_global_options(sys.argv[1:] if argv is None else argv))
    try:
        settings = load(db=args.db, key_file=args.key_file, now=args.now, clock_file=getattr(args, "clock_file", None))
        configure_logging(settings.log_level if args.command == "serve" else "WARNING")
        return asyncio.run(run(settings, args))
    except USER_ERRORS as exc:
        print(f"safecheck: error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.OperationalError as exc:  # e.g. locked by a long write elsewhere: nothing was changed
        print(f"safecheck: error: the database is unavailable ({exc}); try again", file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as exc:  # damage that the check at open did not see: the transaction rolled back
        print(
            f"safecheck: error: the database is damaged ({exc}); nothing was changed: restore it from a backup",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
