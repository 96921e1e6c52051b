"""The workspace's page modules: each has `routes`, and each route gets sessions, CSRF and the headers."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from aiohttp import web

MODULES = (
    "bot.web.auth",
    "bot.web.account",
    "bot.web.passkeys",
    "bot.web.alerts",
    "bot.web.alert_stream",
    "bot.web.manage",
    "bot.web.manage_rota",
    "bot.web.manage_service",
    "bot.web.manage_questions",
    "bot.web.audit_page",
    "bot.web.caseload",
    "bot.web.enrol",  # before the case page: /cases/new is a page, not a case reference
    "bot.web.case_page",
    "bot.web.case_actions",
    "bot.web.case_mode",
    "bot.web.dash_page",
    "bot.web.marac_page",
    "bot.web.subject_access",
    "bot.web.card",
    "bot.web.manage_signposting",
    "bot.web.manage_partners",
    "bot.web.share_report",
    "bot.web.reports",
    "bot.web.report_mailing",
    "bot.web.case_partners",
    "bot.web.case_share",
    "bot.web.manage_overrides",
    "bot.web.shares",
    "bot.web.case_erase",
    "bot.web.manage_purges",
)


def route_tables() -> list[web.RouteTableDef]:
    return [importlib.import_module(name).routes for name in MODULES]


def setups() -> list[Callable[[web.Application], None]]:
    """The `setup(app)` of each module that has one (app keys and hooks it needs, e.g. on shutdown)."""
    found = (getattr(importlib.import_module(name), "setup", None) for name in MODULES)
    return [setup for setup in found if setup is not None]
