"""The `safecheck` argument parser: every command, option and help text in one place."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"safecheck: error: {message} (see `safecheck --help`)\n")


def package_version() -> str:
    try:
        return version("safecheck")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def build_parser() -> Parser:
    p = Parser(prog="safecheck", description="Discreet scheduled safety check-ins with fast alerts to IDVAs.")
    p.add_argument("--version", action="version", version=f"safecheck {package_version()}")
    p.add_argument("--db", help="database file (default: $SAFECHECK_DB or ./safecheck.db)")
    p.add_argument("--key-file", help="key file (default: $SAFECHECK_KEY_FILE or the database path with .key)")
    p.add_argument("--now", help="pin the clock (ISO date-time) for rehearsals and tests; default: $SAFECHECK_NOW")
    p.add_argument("--service", help="service slug (default: the first service)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    init = sub.add_parser("init", help="create the key file, the database and a service")
    init.add_argument("--service-name", default="Safecheck service", help="the service's name (managers see it)")
    init.add_argument("--slug", default="default", help="short id of the service")
    init.add_argument("--sender-name", default="Alex", help="the neutral name survivors see in messages")

    srv = sub.add_parser("serve", help="run the scheduler, the dispatcher and the web server")
    srv.add_argument(
        "--clock-file", help="rehearsals and tests: the clock is real time plus the seconds written in this file"
    )
    d = sub.add_parser("demo", help="play a survivor in the terminal and watch the IDVA's alerts")
    d.add_argument("--auto", action="store_true", help="play a scripted survivor instead of reading the terminal")
    d.add_argument("--fast", type=float, default=12.0, help="escalation ladder speed-up for the demo")
    d.add_argument("--pace", type=float, default=0.6, help="seconds between scripted survivor lines")
    s = sub.add_parser("simulate", help="play a survivor of a case through the real pipeline (stdin lines)")
    s.add_argument("--case", required=True, help="case reference")
    s.add_argument("--json", action="store_true", help="one JSON object per reply and event")
    s.add_argument(
        "--force",
        action="store_true",
        help="also on a live channel (sms, telegram): her queued messages are left alone, replies come here",
    )
    sub.add_parser("tick", help="fire due timers and deliver the outbox once, then exit")

    iv = sub.add_parser("invite", help="a one-time link with which a person sets up their workspace account")
    iv.add_argument("--name", required=True, help="the person's name (encrypted)")
    iv.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["idva", "duty", "manager", "admin"],
        help="a role they will hold (repeat for more)",
    )
    rs = sub.add_parser("reset-account", help="a one-time link with which a person sets a new password and 2nd factor")
    rs.add_argument("id", type=int, help="the practitioner id")
    pr = sub.add_parser("practitioner", help="practitioners").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    add = pr.add_parser("add")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["idva", "duty", "manager"])
    add.add_argument(
        "--channels",
        default="inbox,log",
        help="alert channels in order of preference: inbox, log, telegram, sms:+447700900001, email:ida@example.org",
    )
    ln = pr.add_parser("link", help="a one-time code that links a practitioner's Telegram chat")
    ln.add_argument("id", type=int)
    ln.add_argument("--channel", default="telegram")
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
    en.add_argument("--address", help="the survivor's number (not needed on Telegram: she opens a link)")
    en.add_argument("--channel", default="simulator")
    en.add_argument("--name", help="the survivor's name (encrypted; never in alerts)")
    en.add_argument("--intake", required=True, help="DASH level at intake: standard, medium or high")
    en.add_argument("--no-contact-order", action="store_true", help="a no-contact order or bail condition exists")
    en.add_argument("--timezone", default="Europe/London")
    en.add_argument("--language", help="the survivor's language (default: the service's default language)")
    en.add_argument("--windows", help="safe contact times, e.g. 09:00-12:00,17:00-20:00 (else asked at onboarding)")
    en.add_argument(
        "--mode",
        help="how her check-ins read, chosen with her in person: direct (plain questions; the thread stays "
        "readable on her phone) or cover (the same questions as an ordinary exchange); default: the service's",
    )
    en.add_argument("--theme", help="the cover theme in cover mode, e.g. salon (default: the service's)")
    cs.add_parser("list").add_argument("--json", action="store_true")
    sh = cs.add_parser("show")
    sh.add_argument("ref")
    sh.add_argument(
        "--as",
        dest="viewer",
        type=int,
        required=True,
        help="the practitioner on whose behalf you look (audited as you, the operator, on their behalf)",
    )
    sh.add_argument("--limit", type=int, default=50, help="how many of the latest check-ins to list (default 50)")
    sh.add_argument("--json", action="store_true")
    pa = cs.add_parser("pause")
    pa.add_argument("ref")
    pa.add_argument("--days", type=int, default=7)
    cs.add_parser("resume").add_argument("ref")
    cs.add_parser("close").add_argument("ref")
    er = cs.add_parser("erase", help="erase her personal data and everything written about her (closes the case)")
    er.add_argument("ref")
    er.add_argument("--reason", required=True, help="her_request (Article 17), not_needed or other")
    sm = cs.add_parser("set-mode", help="change how her check-ins read (chosen with her in person)")
    sm.add_argument("ref")
    sm.add_argument("mode", help="direct or cover")
    sm.add_argument("--theme", help="the cover theme, e.g. salon (default: the service's)")
    ad = cs.add_parser("set-autodelete", help="Telegram: delete each message N minutes after it was sent")
    ad.add_argument("ref")
    ad.add_argument("--minutes", type=int, required=True, help="minutes after sending (0 turns it off)")

    sk = cs.add_parser(
        "set-secrets", help="her exit word, codeword and PINs, set in person: four lines on stdin (PINs may be blank)"
    )
    sk.add_argument("ref")
    sk.add_argument("--exit-pause", default="1d", choices=("1d", "3d", "7d"), help="pause after her exit word")

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
    ak.add_argument(
        "--as",
        dest="practitioner",
        type=int,
        required=True,
        help="the practitioner on whose behalf you acknowledge (audited as you, the operator, on their behalf)",
    )

    au = sub.add_parser("audit", help="the audit log").add_subparsers(dest="action", required=True, parser_class=Parser)
    au.add_parser(
        "verify", help="recompute the audit log's hash chain from its anchor: a row changed, removed or added breaks it"
    )
    sv = sub.add_parser("service", help="the service's settings").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    sv.add_parser("show").add_argument("--json", action="store_true")
    st = sv.add_parser("set")
    st.add_argument("--sender-name", help="the neutral name survivors see")
    st.add_argument("--timezone", help="the service's time zone (digests)")
    st.add_argument("--digest-hour", help="local hour (0-23) of the IDVAs' daily digest, or off")
    st.add_argument("--retention-days", type=int, help="days free text is kept before it is purged")
    st.add_argument(
        "--sent-content-days", type=int, help="days a sent message keeps its text; then only its delivery record stays"
    )
    st.add_argument(
        "--audit-retention-days",
        type=int,
        help="days audit entries are kept (365-7300); whole old months then go, behind the chain's anchor",
    )
    st.add_argument(
        "--closed-case-days", type=int, help="days after closing that a case's personal data is erased (30-3650)"
    )
    st.add_argument(
        "--delivery-record-days", type=int, help="days delivery records are kept before they are removed (30-3650)"
    )
    st.add_argument("--cover-line", choices=["on", "off"], help="send an innocuous line after a quick exit")
    st.add_argument(
        "--marac-incidents", type=int, help="incidents in 12 months that meet Marac's potential escalation (1-20)"
    )
    st.add_argument("--questionset", help="a question-set TOML file, or 'default'")
    st.add_argument("--alert-policy", help="a JSON file with the escalation ladders, or 'default'")
    st.add_argument("--missed-policy", help="a JSON file with the missed check-in policy, or 'default'")
    st.add_argument(
        "--help-line",
        help="a discreet line HELP adds on the channel (checked against the over-the-shoulder words); '' removes it",
    )
    lg = sv.add_parser("languages", help="show or change the languages survivors may choose")
    lg.add_argument("--enable", help="languages to offer, e.g. cy,pl (catalog locales)")
    lg.add_argument("--disable", help="languages to stop offering (cases using them keep them)")
    lg.add_argument("--default", help="the language new cases start in (enabled with it)")
    lg.add_argument("--force", action="store_true", help="disable a language even though open cases use it")
    lg.add_argument("--json", action="store_true")

    keys = sub.add_parser("keys", help="encryption keys").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    rot = keys.add_parser("rotate", help="add a new encryption key and re-encrypt every value under it")
    rot.add_argument("--retire-old", action="store_true", help="drop the old encryption keys from the key file")
    rot.add_argument("--new-lookup-key", action="store_true", help="also replace the key of the address lookups")

    db = sub.add_parser("db", help="database").add_subparsers(dest="action", required=True, parser_class=Parser)
    db.add_parser("upgrade")
    return p


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
