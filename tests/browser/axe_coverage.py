"""Which workspace pages the browser tests ran axe-core on, and which HTML pages none of them did.

`axe_check` (conftest.py) records each page's address and the viewport's width once axe-core finds it
clean; `no_sideways_scroll` records the pages it measured. The guard (test_zz_axe_coverage.py, run last)
resolves those addresses against the workspace app's own router, the way serve matches a request, and
fails on any HTML page no test checked. A page added later is a new GET route: it fails the guard until a
test checks it, or until it is listed below as not a page, with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from aiohttp.web_urldispatcher import MatchInfoError, StaticResource

DESK = 1024  # the narrowest viewport that counts as a desk (Playwright's default page is 1280 wide)
PHONE = 360

# GET routes that are not HTML pages a person reads, so axe-core has nothing to check: why, one line each.
NOT_PAGES = {
    "/healthz": "plain text for the operator's monitor",
    "/session": "JSON: the seconds left before each session limit, for session.js",
    "/alerts/events": "the server-sent event stream that tells the open queue to refresh",
    "/alerts/fragment": "the queue's list alone, swapped into /alerts (checked there, live, by test_alerts)",
    "/cases/{ref}/marac.{fmt}": "the Marac referral download: PDF, JSON or CSV",
    "/manage/shares.csv": "a CSV download",
    "/manage/reports.csv": "a CSV download",
    "/manage/reports.pdf": "a PDF download",
}

# The pages duty staff work from away from a desk: checked by axe-core and for sideways scrolling at 360 px.
PHONE_PAGES = ("/login", "/login/second", "/alerts", "/alerts/{id}", "/cases/{ref}")


@dataclass(frozen=True)
class Look:
    """One check of the page at `url` with a viewport `width` pixels wide."""

    url: str
    width: int


AXE_CHECKED: list[Look] = []  # every clean axe_check of this session
FITS_CHECKED: list[Look] = []  # every page found not to scroll sideways


def get_routes(web_app: web.Application) -> set[str]:
    """The canonical path of every GET route (static files aside: CSS and scripts, not pages)."""
    return {
        route.resource.canonical
        for route in web_app.router.routes()
        if route.method == "GET" and route.resource is not None and not isinstance(route.resource, StaticResource)
    }


def html_pages(web_app: web.Application) -> set[str]:
    return get_routes(web_app) - NOT_PAGES.keys()


def routes_of(web_app: web.Application, looks: Iterable[Look], min_width: int = 0, max_width: int = 10**6) -> set[str]:
    """The GET routes serve would match for the addresses looked at within those widths (others: none)."""
    paths = {urlsplit(look.url).path for look in looks if min_width <= look.width <= max_width}

    async def resolve() -> set[str]:
        found = set()
        for path in paths:
            if not path.startswith("/"):
                continue  # about:blank, set_content pages
            info = await web_app.router.resolve(make_mocked_request("GET", path, app=web_app))
            if not isinstance(info, MatchInfoError) and info.route.resource is not None:
                found.add(info.route.resource.canonical)
        return found

    # Playwright's sync API keeps an event loop running in the test thread: resolve on another thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, resolve()).result()


def gaps(web_app: web.Application, axe: Iterable[Look], fits: Iterable[Look]) -> list[str]:
    """One line per HTML page never axe-checked at desk width, and per phone page not checked at 360 px."""
    axe = list(axe)
    routes, pages = get_routes(web_app), html_pages(web_app)
    lines = [f"{p}: in NOT_PAGES but not a GET route any more" for p in sorted(NOT_PAGES.keys() - routes)]
    lines += [f"{p}: in PHONE_PAGES but not an HTML page" for p in PHONE_PAGES if p not in pages]
    lines += [f"{p}: no axe_check at desk width" for p in sorted(pages - routes_of(web_app, axe, min_width=DESK))]
    phone_axe = routes_of(web_app, axe, max_width=PHONE)
    phone_fits = routes_of(web_app, fits, max_width=PHONE)
    lines += [f"{p}: no axe_check at {PHONE} px" for p in PHONE_PAGES if p not in phone_axe]
    lines += [f"{p}: not checked for sideways scrolling at {PHONE} px" for p in PHONE_PAGES if p not in phone_fits]
    return lines
