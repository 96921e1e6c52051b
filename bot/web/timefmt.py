"""Times on workspace pages: in the service's time zone, in a <time> element with the exact instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.web.words import _


def shower(timezone: str) -> Callable[[datetime | None], Markup]:
    """A function that shows a time as the service's staff read it ("none" for no time)."""
    zone = ZoneInfo(timezone)

    def show(value: datetime | None) -> Markup:
        if value is None:
            return Markup('<span class="hint">{}</span>').format(_("none"))
        local = value.astimezone(zone)
        return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), local.strftime("%a %d %b %Y %H:%M"))

    return show
