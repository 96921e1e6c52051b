"""The `safecheck` command line: parse, run one command, print; user errors are one line and exit 2."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn

from bot import commands
from bot.bootstrap import configure_logging, make_clock, open_app
from bot.cli import demo, serve, simulate
from bot.commands import UserError
from bot.config import ConfigError, Settings, load
from bot.dispatcher import Dispatcher
from bot.i18n import CatalogError
from bot.scheduler import TimerRunner
from flows.loader import QuestionSetError
from flows.schedule import ScheduleError
from safety.policy import PolicyError
from storage import audit, services
from storage.crypto import DecryptError
from storage.db import Database, StorageError
from storage.keys import KeyConfigError, create_key_file

USER_ERRORS = (
    UserError,
    ConfigError,
    KeyConfigError,
    StorageError,
    QuestionSetError,
    ScheduleError,
    PolicyError,
    CatalogError,
    DecryptError,
)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"safecheck: error: {message} (see `safecheck --help`)\n")


def build_parser() -> Parser:
    p = Parser(prog="safecheck", description="Discreet scheduled safety check-ins with fast alerts to IDVAs.")
    p.add_argument("--db", help="database file (default: $SAFECHECK_DB or ./safecheck.db)")
    p.add_argument("--key-file", help="key file (default: $SAFECHECK_KEY_FILE or the database path with .key)")
    p.add_argument("--now", help="pin the clock (ISO date-time) for rehearsals and tests; default: $SAFECHECK_NOW")
    p.add_argument("--service", help="service slug (default: the first service)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    init = sub.add_parser("init", help="create the key file, the database and a service")
    init.add_argument("--service-name", default="Safecheck service", help="the service's name (managers see it)")
    init.add_argument("--slug", default="default", help="short id of the service")
    init.add_argument("--sender-name", default="Alex", help="the neutral name survivors see in messages")

    sub.add_parser("serve", help="run the scheduler, the dispatcher and the web server")
    d = sub.add_parser("demo", help="play a survivor in the terminal and watch the IDVA's alerts")
    d.add_argument("--auto", action="store_true", help="play a scripted survivor instead of reading the terminal")
    d.add_argument("--fast", type=float, default=12.0, help="escalation ladder speed-up for the demo")
    d.add_argument("--pace", type=float, default=0.6, help="seconds between scripted survivor lines")
    s = sub.add_parser("simulate", help="play a survivor of a case through the real pipeline (stdin lines)")
    s.add_argument("--case", required=True, help="case reference")
    s.add_argument("--json", action="store_true", help="one JSON object per reply and event")
    sub.add_parser("tick", help="fire due timers and deliver the outbox once, then exit")

    pr = sub.add_parser("practitioner", help="practitioners").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    add = pr.add_parser("add")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["idva", "duty", "manager"])
    add.add_argument("--channels", default="inbox,log", help="alert channels in order of preference")
    pr.add_parser("list").add_argument("--json", action="store_true")
    ib = pr.add_parser("inbox")
    ib.add_argument("id", type=int)
    ib.add_argument("--unread", action="store_true")
    ib.add_argument("--json", action="store_true")

    cs = sub.add_parser("case", help="survivors' cases").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    en = cs.add_parser("enrol")
    en.add_argument("--idva", type=int, required=True, help="assigned IDVA's practitioner id")
    en.add_argument("--address", required=True, help="the survivor's number or chat id")
    en.add_argument("--channel", default="simulator")
    en.add_argument("--name", help="the survivor's name (encrypted; never in alerts)")
    en.add_argument("--intake", required=True, help="DASH level at intake: standard, medium or high")
    en.add_argument("--no-contact-order", action="store_true", help="a no-contact order or bail condition exists")
    en.add_argument("--timezone", default="Europe/London")
    en.add_argument("--language", default="en_GB")
    en.add_argument("--windows", help="safe contact times, e.g. 09:00-12:00,17:00-20:00 (else asked at onboarding)")
    cs.add_parser("list").add_argument("--json", action="store_true")
    sh = cs.add_parser("show")
    sh.add_argument("ref")
    sh.add_argument("--as", dest="viewer", type=int, required=True, help="your practitioner id (audited)")
    sh.add_argument("--json", action="store_true")
    pa = cs.add_parser("pause")
    pa.add_argument("ref")
    pa.add_argument("--days", type=int, default=7)
    cs.add_parser("resume").add_argument("ref")
    cs.add_parser("close").add_argument("ref")

    sc = sub.add_parser("schedule", help="check-in schedules").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    ss = sc.add_parser("set")
    ss.add_argument("ref")
    ss.add_argument("spec", help='e.g. "mon,thu@10:00", "daily@18:30", "every 3 days@10:00"')
    ss.add_argument("--jitter", type=int, default=0, help="minutes of random spread around each time")
    sw = sc.add_parser("show")
    sw.add_argument("ref")
    sw.add_argument("--json", action="store_true")

    al = sub.add_parser("alerts", help="alerts").add_subparsers(dest="action", required=True, parser_class=Parser)
    ls = al.add_parser("list")
    ls.add_argument("--open", action="store_true", help="only unacknowledged alerts")
    ls.add_argument("--json", action="store_true")
    ak = al.add_parser("ack")
    ak.add_argument("id", type=int)
    ak.add_argument("--as", dest="practitioner", type=int, required=True, help="your practitioner id")

    sv = sub.add_parser("service", help="the service's settings").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    sv.add_parser("show").add_argument("--json", action="store_true")
    st = sv.add_parser("set")
    st.add_argument("--sender-name", help="the neutral name survivors see")
    st.add_argument("--timezone", help="the service's time zone (digests)")
    st.add_argument("--digest-hour", help="local hour (0-23) of the IDVAs' daily digest, or off")
    st.add_argument("--retention-days", type=int, help="days free text is kept before it is purged")
    st.add_argument("--cover-line", choices=["on", "off"], help="send an innocuous line after a quick exit")
    st.add_argument("--questionset", help="a question-set TOML file, or 'default'")
    st.add_argument("--alert-policy", help="a JSON file with the escalation ladders, or 'default'")
    st.add_argument("--missed-policy", help="a JSON file with the missed check-in policy, or 'default'")

    db = sub.add_parser("db", help="database").add_subparsers(dest="action", required=True, parser_class=Parser)
    db.add_parser("upgrade")
    return p


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
    # Check everything before writing anything: a new key for an existing database would lock its data away.
    sender = commands.check_sender_name(args.sender_name)
    if settings.db_path.exists():
        raise UserError(f"{settings.db_path} already exists: it is initialised (or choose another --db)")
    make_key = "SAFECHECK_KEY" not in os.environ and not settings.key_file.exists()
    db = await Database.open(settings.db_path)
    try:
        async with db.transaction() as tx:
            now = make_clock(settings, moving=False).now()
            await services.create(tx, args.slug, args.service_name, now, sender)
            await audit.log(tx, now, "manager", "service_created")
            await tx.commit()
    finally:
        await db.close()
    if make_key:
        create_key_file(settings.key_file)
        print(f"created key file {settings.key_file} (mode 600) - back it up: without it the data cannot be read")
    print(f"initialised {settings.db_path} with service {args.slug!r}")


async def cmd_db(settings: Settings, args: argparse.Namespace) -> None:
    if not settings.db_path.exists():
        raise UserError(f"no database at {settings.db_path}: run `safecheck init` first (or set SAFECHECK_DB)")
    db = await Database.open(settings.db_path, migrate=False)
    try:
        applied = await db.upgrade()
        print(f"schema at version {await db.version()}" + (f" (applied {applied})" if applied else " (up to date)"))
    finally:
        await db.close()


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "init":
        await cmd_init(settings, args)
        return 0
    if args.command == "db":
        await cmd_db(settings, args)
        return 0
    if args.command == "demo":
        return await demo.run(settings, args)
    if args.command == "serve":
        return await serve.run(settings)
    if args.command == "simulate":
        return await simulate.run(settings, args)
    async with open_app(settings) as app:
        async with app.db.transaction() as tx:
            svc = await commands.service_id(tx, args.service)
        handler = _HANDLERS.get((args.command, getattr(args, "action", None)))
        if handler is None:
            raise UserError(f"unknown command {args.command}")
        await handler(app, svc, args)
    return 0


async def _tick(app: Any, svc: int, args: argparse.Namespace) -> None:
    runner = TimerRunner(app)
    await runner.prepare()
    fired = await runner.run_due()
    await Dispatcher(app).drain()
    # cron mails what a command prints: the simulator's messages are counted, never shown with their number
    delivered = app.survivor_channels["simulator"].take()
    if delivered:
        print(f"delivered {len(delivered)} message(s) on the simulator channel")
    print(f"fired {fired} timer(s)")


async def _practitioner_add(app: Any, svc: int, a: argparse.Namespace) -> None:
    pid = await commands.add_practitioner(app, svc, a.name, a.role, [c.strip() for c in a.channels.split(",") if c])
    print(pid)


async def _practitioner_list(app: Any, svc: int, a: argparse.Namespace) -> None:
    emit(
        await commands.list_practitioners(app, svc),
        a.json,
        lambda rows: [f"{r['id']:>4}  {r['role']:<8} {r['name']}  ({','.join(r['channels'])})" for r in rows],
    )


async def _inbox(app: Any, svc: int, a: argparse.Namespace) -> None:
    emit(
        await commands.read_inbox(app, a.id, a.unread),
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
    )
    print(f"case {ref}")
    print(f"activation code {code}  (give it in person; the survivor texts it from their own phone)")


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
    emit(await commands.show_case(app, svc, a.ref, a.viewer), a.json, _case_lines)


def _case_lines(c: dict[str, Any]) -> list[str]:
    out = [
        f"case {c['ref']}  {c['status']}  intake={c['intake']}  channel={c['channel']}",
        f"name: {c['name'] or '-'}   contact: {c['address'] or '(erased)'}",
        f"safe times: {', '.join(c['safe_windows']) or '-'}  ({c['timezone']})",
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
    print(await commands.ack(app, a.id, a.practitioner))


async def _service_show(app: Any, svc: int, a: argparse.Namespace) -> None:
    emit(await commands.show_service(app, svc), a.json, lambda s: [f"{k}: {v}" for k, v in s.items()])


async def _service_set(app: Any, svc: int, a: argparse.Namespace) -> None:
    print(await commands.configure_service(
        app, svc, sender_name=a.sender_name, timezone=a.timezone, digest_hour=a.digest_hour,
        retention_days=a.retention_days, cover_line=a.cover_line, questionset=a.questionset,
        alert_policy=a.alert_policy, missed_policy=a.missed_policy,
    ))


Handler = Callable[[Any, int, argparse.Namespace], Awaitable[None]]
_HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("tick", None): _tick,
    ("practitioner", "add"): _practitioner_add,
    ("practitioner", "list"): _practitioner_list,
    ("practitioner", "inbox"): _inbox,
    ("case", "enrol"): _enrol,
    ("case", "list"): _case_list,
    ("case", "show"): _case_show,
    ("case", "pause"): _case_status,
    ("case", "resume"): _case_status,
    ("case", "close"): _case_status,
    ("schedule", "set"): _schedule_set,
    ("schedule", "show"): _schedule_show,
    ("alerts", "list"): _alerts_list,
    ("alerts", "ack"): _alerts_ack,
    ("service", "show"): _service_show,
    ("service", "set"): _service_set,
}


GLOBAL_OPTIONS = ("--db", "--key-file", "--now", "--service")


def hoist_global_options(argv: Sequence[str]) -> list[str]:
    """Accept global options after the subcommand too (`safecheck tick --now ...`)."""
    front: list[str] = []
    rest: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        arg = items[i]
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS and i > 0:
            takes_value = "=" not in arg and i + 1 < len(items)
            front += [arg, items[i + 1]] if takes_value else [arg]
            i += 2 if takes_value else 1
            continue
        rest.append(arg)
        i += 1
    return front + rest


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(hoist_global_options(sys.argv[1:] if argv is None else argv))
    try:
        settings = load(db=args.db, key_file=args.key_file, now=args.now)
        configure_logging(settings.log_level if args.command == "serve" else "WARNING")
        return asyncio.run(run(settings, args))
    except USER_ERRORS as exc:
        print(f"safecheck: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
