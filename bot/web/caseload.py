"""GET /cases: the viewer's caseload, sorted and filtered with plain links; POST /cases searches it.

A search may be her name, so it is posted, never put in a URL (URLs land in browser history, proxy
logs and access logs); the sort and filter links carry everything else.

Who sees what: an IDVA their own cases, a manager every case of the service, duty staff on duty the
cases with an open alert (and an IDVA who is also on duty, both). Admin alone: none. Names are
encrypted, so a name search decrypts the names of this caseload only, never of anyone else's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.web import forms
from bot.web.charts import rank, sparkline
from bot.web.keys import APP_KEY
from bot.web.render import render
from bot.web.timefmt import shower
from bot.web.viewer import Viewer, viewer
from bot.web.words import N_
from storage import audit, cases, services
from storage.caseload import CaseSummary, Scope, caseload
from storage.db import Tx

routes = web.RouteTableDef()

OPEN_STATUSES = ("pending", "onboarding", "active", "paused")
STATUSES = ("open", "all", *OPEN_STATUSES, "closed", "withdrawn")
STATUS_LABELS = {"open": N_("Open (not closed)"), "all": N_("All, closed too")}
RISKS = ("any", "standard", "raised", "high", "urgent")
INTAKE_RANK = {"standard": 0, "medium": 1, "high": 2}
_NEVER = datetime.max.timestamp()

# Sort keys: (column label, key); None values sort last whichever the direction.
SORTS: dict[str, tuple[str, Callable[[CaseSummary], Any]]] = {
    "ref": ("Reference", lambda c: c.ref),
    "intake": (N_("Risk at intake"), lambda c: INTAKE_RANK.get(c.intake, -1)),
    "now": (N_("Risk now"), lambda c: rank(c.now)),
    "last": (N_("Last check-in"), lambda c: c.last_checkin.timestamp() if c.last_checkin else None),
    "missed": ("Missed", lambda c: c.missed),
    "alerts": (N_("Open alerts"), lambda c: c.open_alerts),
    "next": (N_("Next check-in"), lambda c: c.next_checkin.timestamp() if c.next_checkin else None),
    "status": ("Status", lambda c: c.status),
}
DEFAULT_SORT, DEFAULT_DIR = "alerts", "desc"


def scope_of(who: Viewer) -> Scope:
    """The cases this person may see, as a query scope."""
    return Scope(
        service_id=who.service_id,
        every_case="manager" in who.roles,
        idva_id=who.practitioner_id if "idva" in who.roles else None,
        open_alerts="duty" in who.roles and who.on_duty,
    )


@dataclass(frozen=True)
class Query:
    q: str
    status: str
    risk: str
    alerts: bool
    sort: str
    dir: str

    @classmethod
    def parse(cls, params: Mapping[str, object], *, search: bool = False) -> Query:
        """Read the query string or the search form; anything unknown falls back to the default (never an
        error page). The search text is read only from a posted form (`search`)."""

        def pick(name: str, allowed: tuple[str, ...] | dict[str, Any], default: str) -> str:
            value = params.get(name, default)
            return value if isinstance(value, str) and value in allowed else default

        return cls(
            q=forms.text(params, "q", 100).strip() if search else "",
            status=pick("status", STATUSES, "open"),
            risk=pick("risk", RISKS, "any"),
            alerts=params.get("alerts") == "1",
            sort=pick("sort", SORTS, DEFAULT_SORT),
            dir=pick("dir", ("asc", "desc"), DEFAULT_DIR),
        )

    def link(self, **change: object) -> str:
        """This view's URL with some parameters changed (the sort headers' links)."""
        values = {
            "status": self.status,
            "risk": self.risk,
            "alerts": "1" if self.alerts else "",
            "sort": self.sort,
            "dir": self.dir,
        }
        values.update({k: str(v) for k, v in change.items()})
        return "/cases?" + urlencode({k: v for k, v in values.items() if v})


def _matches(c: CaseSummary, query: Query, name: Callable[[CaseSummary], str | None]) -> bool:
    if query.status == "open" and c.status not in OPEN_STATUSES:
        return False
    if query.status not in ("open", "all") and c.status != query.status:
        return False
    if query.risk != "any" and c.now != query.risk:
        return False
    if query.alerts and not c.open_alerts:
        return False
    if query.q:
        wanted = query.q.casefold()
        if wanted not in c.ref.casefold() and wanted not in (name(c) or "").casefold():
            return False
    return True


def arrange(rows: list[CaseSummary], query: Query, name: Callable[[CaseSummary], str | None]) -> list[CaseSummary]:
    """Filter, search and sort a caseload (in memory: a caseload is a hundred cases, not a million)."""
    kept = [c for c in rows if _matches(c, query, name)]
    key = SORTS[query.sort][1]
    kept.sort(key=lambda c: c.ref)
    present = [c for c in kept if key(c) is not None]
    absent = [c for c in kept if key(c) is None]
    present.sort(key=key, reverse=query.dir == "desc")
    return present + absent


@routes.get("/cases")
async def caseload_page(request: web.Request) -> web.Response:
    return await _caseload(request, Query.parse(request.query))


@routes.post("/cases")
async def caseload_search(request: web.Request) -> web.Response:
    return await _caseload(request, Query.parse(await request.post(), search=True))


async def _caseload(request: web.Request, query: Query) -> web.Response:
    who = viewer(request)
    app = request.app[APP_KEY]
    async with app.db.reading() as tx:
        rows = await caseload(tx, scope_of(who))
        service = await services.get(tx, who.service_id)

    def name(c: CaseSummary) -> str | None:
        # Only the cases already in this person's caseload are ever decrypted.
        return app.crypto.decrypt_optional(c.name_enc, cases.NAME.at(c.id))

    shown = arrange(rows, query, name)
    now = app.clock.now()
    searched = "yes" if query.q else "no"

    async def viewed(tx: Tx) -> None:
        # What was looked at, never what was typed: a search may be a name.
        detail = f"shown={len(shown)} of={len(rows)} search={searched}"
        await audit.log(tx, now, who.actor, "caseload_viewed", None, detail, who.service_id)
        await tx.commit()

    await app.db.run(viewed)
    return render(
        "cases.html",
        request,
        {
            "rows": [(c, sparkline(c.trend)) for c in shown],
            "total": len(rows),
            "query": query,
            "sorts": {k: label for k, (label, _key) in SORTS.items()},
            "statuses": [(s, STATUS_LABELS.get(s, s)) for s in STATUSES],
            "risks": RISKS,
            "sees_cases": who.sees_cases,
            "when": shower(service.timezone),
        },
    )
