"""Manage → Reports: a manager asks for the service's report by e-mail each month, as a PDF, or stops it.

Only to their own e-mail alert channel, an address the service already holds for them: the report is
figures with small counts suppressed, but it still goes only to staff, who forward it to the commissioner.
"""

from __future__ import annotations

from aiohttp import web

from bot.web.access import require_role
from bot.web.keys import APP_KEY
from bot.web.viewer import Viewer, viewer
from bot.web.words import N_
from storage import audit, monthly_reports, practitioners
from storage.db import Tx

routes = web.RouteTableDef()
PATH = "/manage/reports/monthly"
NO_EMAIL = N_("Add an e-mail address to your alert channels (Account) first: the report goes there.")


async def subscribed(request: web.Request, who: Viewer) -> bool:
    async with request.app[APP_KEY].db.reading() as tx:
        return await monthly_reports.is_subscribed(tx, who.practitioner_id)


@routes.post(PATH)
async def choose(request: web.Request) -> web.Response:
    who = viewer(request)
    require_role(who, "manager")
    app = request.app[APP_KEY]
    wanted = (await request.post()).get("monthly") == "on"
    now = app.clock.now()

    async def unit(tx: Tx) -> str:
        if not wanted:
            if await monthly_reports.unsubscribe(tx, who.practitioner_id):
                await audit.log(tx, now, who.actor, "report_mailing_stopped", None, "", who.service_id)
            await tx.commit()
            return "off"
        if "email" not in await practitioners.channel_names(tx, who.practitioner_id):
            return "no_email"
        if await monthly_reports.subscribe(tx, who.service_id, who.practitioner_id, now):
            await audit.log(tx, now, who.actor, "report_mailing_started", None, "", who.service_id)
        await tx.commit()
        return "on"

    raise web.HTTPSeeOther(f"/manage/reports?mailing={await app.db.run(unit)}")
