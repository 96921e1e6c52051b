"""The workspace's page modules: each has `routes`, and each route gets sessions, CSRF and the headers."""

from __future__ import annotations

import importlib

from aiohttp import web

MODULES = ("bot.web.auth", "bot.web.account", "bot.web.passkeys", "bot.web.enrol")


def route_tables() -> list[web.RouteTableDef]:
    return [importlib.import_module(name).routes for name in MODULES]
