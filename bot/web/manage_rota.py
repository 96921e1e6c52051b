"""The duty rota page: who is on duty now, the coming shifts, and adding or removing one.

Shifts are entered and shown on the service's wall clock; storage keeps UTC. An end time at or
before the start time ends the next day (night shifts; the same time is a 24-hour shift).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.web import forms
from bot.web.keys import APP_KEY
from bot.web.manage import configurer
from bot.web.render import render
from bot.web.viewer import Viewer
from bot.web.words import _
from storage import audit, practitioners, rota, services
from storage.db import Tx

routes = web.RouteTableDef()
PAGE = "/manage/rota"
MAX_WEEKS = 12


class RotaInputError(ValueError):
    """One line about one field of the shift form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _local(day: date, at: time, tz: ZoneInfo, field: str) -> datetime:
    wall = datetime.combine(day, at, tzinfo=tz)
    back = wall.astimezone(UTC).astimezone(tz)
    if (back.date(), back.time()) != (day, at):  # a time skipped when the clocks go forward
        raise RotaInputError(field, _("That time does not exist on that day (the clocks change): choose another."))
    return wall


def parse_shift(day_text: str, start_text: str, end_text: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A shift from the form's date and times on the service's clock, as aware datetimes."""
    try:
        day = date.fromisoformat(day_text.strip())
    except ValueError:
        raise RotaInputError("day", _("Give the date as YYYY-MM-DD.")) from None
    try:
        start = time.fromisoformat(start_text.strip())
    except ValueError:
        raise RotaInputError("start", _("Give the start time as HH:MM.")) from None
    try:
        end = time.fromisoformat(end_text.strip())
    except ValueError:
        raise RotaInputError("end", _("Give the end time as HH:MM.")) from None
    starts = _local(day, start, tz, "start")
    ends = _local(day + timedelta(days=1) if end <= start else day, end, tz, "end")
    return starts, ends


def parse_weeks(text: str) -> int:
    value = text.strip() or "1"
    if not forms.is_number(value) or not 1 <= int(value) <= MAX_WEEKS:
        raise RotaInputError("weeks", _("Repeat for 1 to {max_weeks} weeks.").format(max_weeks=MAX_WEEKS))
    return int(value)


@dataclass(frozen=True)
class ShownShift:
    id: int
    name: str
    starts: str
    ends: str
    now: bool


def _wall(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%a %d %b %Y %H:%M")


async def _page(request: web.Request, who: Viewer, status: int = 200, **extra: object) -> web.Response:
    app = request.app[APP_KEY]
    now = app.clock.now()
    async with app.db.reading() as tx:
        service = await services.get(tx, who.service_id)
        people = {p.id: p for p in await practitioners.list_for_service(tx, app.crypto, who.service_id)}
        duty_ids = set(await practitioners.ids_with_role(tx, who.service_id, "duty"))
        coming = await rota.shifts(tx, who.service_id, now)
        on_shift = await rota.on_shift(tx, who.service_id, now)
        on_duty = await rota.on_duty(tx, who.service_id, now)
    tz = ZoneInfo(service.timezone)
    shifts = [
        ShownShift(
            s.id, people[s.practitioner_id].name, _wall(s.starts_at, tz), _wall(s.ends_at, tz), s.starts_at <= now
        )
        for s in coming
    ]
    context: dict[str, object] = {
        "timezone": service.timezone,
        "shifts": shifts,
        "duty_people": [(pid, people[pid].name) for pid in sorted(duty_ids)],
        "on_duty": [people[pid].name for pid in on_duty],
        "from_rota": bool(on_shift),
        "errors": {},
        "values": {
            "practitioner": "",
            "day": now.astimezone(tz).date().isoformat(),
            "start": "",
            "end": "",
            "weeks": "1",
        },
        "notice": {"added": "Shift added.", "removed": "Shift removed."}.get(request.query.get("done", "")),
    }
    context.update(extra)
    return render("manage_rota.html", request, context, status)


@routes.get(PAGE)
async def rota_page(request: web.Request) -> web.Response:
    return await _page(request, configurer(request))


@routes.post(PAGE)
async def add_shift(request: web.Request) -> web.Response:
    who = configurer(request)
    app = request.app[APP_KEY]
    form = await request.post()
    values = {name: forms.text(form, name, 40) for name in ("practitioner", "day", "start", "end", "weeks")}
    now = app.clock.now()
    async with app.db.reading() as tx:
        tz = ZoneInfo((await services.get(tx, who.service_id)).timezone)
    try:
        pid = int(values["practitioner"]) if forms.is_number(values["practitioner"]) else 0
        starts, ends = parse_shift(values["day"], values["start"], values["end"], tz)
        weeks = parse_weeks(values["weeks"])
        if ends <= now:
            raise RotaInputError("day", _("That shift has already ended."))
    except RotaInputError as exc:
        return await _page(request, who, 400, errors={exc.field: str(exc)}, values=values)

    async def unit(tx: Tx) -> str | None:
        # Only the service's active duty-role holders go on its rota.
        if pid not in await practitioners.ids_with_role(tx, who.service_id, "duty"):
            return _("Choose someone who holds the duty role.")
        for week in range(weeks):
            # Aware arithmetic keeps the wall clock: across a clock change the UTC times move, not the shift.
            start, end = starts + timedelta(weeks=week), ends + timedelta(weeks=week)
            shift_id = await rota.add_shift(tx, who.service_id, pid, start, end, who.actor, now)
            after = {"practitioner": pid, "starts_at": start.isoformat(), "ends_at": end.isoformat()}
            await audit.log(
                tx, now, who.actor, "duty_shift_added", None, audit.changed({}, after, shift=shift_id), who.service_id
            )
        await tx.commit()
        return None

    problem = await app.db.run(unit)
    if problem:
        return await _page(request, who, 400, errors={"practitioner": problem}, values=values)
    raise web.HTTPSeeOther(f"{PAGE}?done=added")


@routes.post(PAGE + "/{shift_id:[0-9]{1,12}}/remove")
async def remove_shift(request: web.Request) -> web.Response:
    who = configurer(request)
    app = request.app[APP_KEY]
    shift_id = int(request.match_info["shift_id"]) if forms.is_number(request.match_info["shift_id"]) else 0
    now = app.clock.now()

    async def unit(tx: Tx) -> bool:
        shift = await rota.get_shift(tx, who.service_id, shift_id)
        if shift is None:
            return False
        await rota.remove_shift(tx, who.service_id, shift_id)
        before = {
            "practitioner": shift.practitioner_id,
            "starts_at": shift.starts_at.isoformat(),
            "ends_at": shift.ends_at.isoformat(),
        }
        detail = audit.changed(before, {}, shift=shift_id)
        await audit.log(tx, now, who.actor, "duty_shift_removed", None, detail, who.service_id)
        await tx.commit()
        return True

    if not await app.db.run(unit):
        raise web.HTTPNotFound(text=_("No such shift."))
    raise web.HTTPSeeOther(f"{PAGE}?done=removed")
