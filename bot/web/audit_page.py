"""GET /audit: the audit log of the manager's own service, newest first, filtered, 50 to a page.

Rows carry their service (storage.audit), so another service's rows never show. Dates are days on
the service's clock. Reading the log is itself recorded: who looked at who looked at what. The top of the
page says whether the hash chain holds, loudly if not: checked in full from its anchor at the first view of
the day (a year's log takes seconds), and for the entries written since at each view.
`safecheck audit verify` checks it in full at any time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.web import forms
from bot.web.access import require_role
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.viewer import viewer
from bot.web.words import N_, _
from storage import audit, cases, practitioners, services
from storage.db import Tx

routes = web.RouteTableDef()
PER_PAGE = 50
FIELDS = ("actor", "action", "case", "from", "to")


@dataclass(frozen=True)
class Shown:
    at: str
    actor: str
    action: str
    case_ref: str | None
    detail: str


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _detail(text: str) -> str:
    """JSON details compact and readable; older free-form details as they are."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, sort_keys=True)
    except ValueError:
        return text


FULL_CHECK_EVERY = timedelta(days=1)


@dataclass
class _LastCheck:
    at: datetime | None = None  # the last full check
    check: audit.ChainCheck | None = None


LAST_CHECK = web.AppKey("safecheck.audit_last_check", _LastCheck)


def setup(app: web.Application) -> None:
    app[LAST_CHECK] = _LastCheck()


async def _chain(request: web.Request) -> tuple[audit.ChainCheck, datetime]:
    """The chain's state: every service's rows, as it is one chain."""
    app = request.app[APP_KEY]
    last = request.app[LAST_CHECK]
    now = app.clock.now()
    if last.check is None or last.at is None or now - last.at >= FULL_CHECK_EVERY or last.check.broken_at:
        last.check, last.at = await audit.verify(app.db), now
    else:
        last.check = await audit.verify_since(app.db, last.check)
    return last.check, last.at


@routes.get("/audit")
async def audit_page(request: web.Request) -> web.Response:
    who = viewer(request)
    require_role(who, "manager")
    app = request.app[APP_KEY]
    query = {name: request.query.get(name, "").strip()[:64] for name in FIELDS}
    before_text = request.query.get("before", "")
    before = int(before_text) if forms.is_number(before_text) and len(before_text) < 16 else None
    errors: dict[str, str] = {}
    chain, checked_at = await _chain(request)
    async with app.db.reading() as tx:
        service = await services.get(tx, who.service_id)
        tz = ZoneInfo(service.timezone)
        since, until = forms.period(query["from"], query["to"], errors)
        case_id = None
        if query["case"]:
            case = await cases.by_ref(tx, query["case"].upper())
            case_id = case.id if case is not None and case.service_id == who.service_id else -1  # -1: no rows
        filters = audit.Filters(
            actor=query["actor"] or None,
            action=query["action"] or None,
            case_id=case_id,
            since=_start_of(since, tz) if since else None,
            until=_start_of(until + timedelta(days=1), tz) if until else None,
            before_id=before,
        )
        found = [] if errors else await audit.search(tx, who.service_id, filters, PER_PAGE + 1)
        names = {p.id: p.name for p in await practitioners.list_for_service(tx, app.crypto, who.service_id)}
        actors = await audit.actors(tx, who.service_id)
        actions = await audit.action_families(tx, who.service_id)
    label = _labeller(names)
    entries = [
        Shown(
            e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), label(e.actor), e.action, e.case_ref, _detail(e.detail)
        )
        for e in found[:PER_PAGE]
    ]
    now = app.clock.now()
    shown_filters = {k: v for k, v in query.items() if v}

    async def viewed(tx: Tx) -> None:
        detail = json.dumps({"filters": shown_filters, "before": before}, sort_keys=True)
        await audit.log(tx, now, who.actor, "audit_viewed", None, detail, who.service_id)
        await tx.commit()

    await app.db.run(viewed)
    base = {k: v for k, v in query.items() if v}
    context = {
        "chain": chain,
        "checked_at": checked_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "chain_start": chain.anchor.at.astimezone(tz).strftime("%Y-%m-%d") if chain.anchor else None,
        "entries": entries,
        "query": query,
        "errors": errors,
        "actors": [(a, label(a)) for a in actors],
        "actions": actions,
        "timezone": service.timezone,
        "later_page": before is not None,
        "newest": f"/audit?{urlencode(base)}" if before is not None else None,
        "older": f"/audit?{urlencode({**base, 'before': found[PER_PAGE - 1].id})}" if len(found) > PER_PAGE else None,
    }
    return render("audit.html", request, context, 400 if errors else 200)


# Actors that are not a person in the workspace.
PLAIN_ACTORS = {"survivor": N_("survivor"), "system": N_("system")}


def _labeller(names: dict[int, str]) -> Callable[[str], str]:
    """How an actor reads on the page: a colleague by name, the command line as its operator."""

    def label(actor: str) -> str:
        kind, _sep, rest = actor.partition(":")
        if kind == "practitioner" and forms.is_number(rest) and int(rest) in names:
            return _("{name} (practitioner {id})").format(name=names[int(rest)], id=rest)
        if kind == "os":
            return _("operator {user} (command line)").format(user=rest)
        return _(PLAIN_ACTORS[actor]) if actor in PLAIN_ACTORS else actor

    return label
