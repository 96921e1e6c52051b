"""Shared pieces of the manager commands: the user-error type, and finding a service or a case."""

from __future__ import annotations

import getpass
import os
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows.discretion import first_line_problems
from safety.lexicon import AUTONYMS
from storage import cases, services
from storage.cases import Case
from storage.db import Tx


class UserError(Exception):
    """Bad input from a person: one line saying what is wrong and how to fix it."""


class EnrolError(UserError):
    """A bad enrolment field: the CLI prints the line; the workspace shows `plain` next to `field`."""

    def __init__(self, field: str, message: str, plain: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.plain = plain or message


async def service_id(tx: Tx, slug: str | None) -> int:
    found = await services.all_services(tx)
    if not found:
        raise UserError("no service yet: run `safecheck init --service-name NAME` first")
    if slug is None:
        return found[0].id
    for s in found:
        if s.slug == slug:
            return s.id
    raise UserError(f"no service {slug!r}: known services are {', '.join(s.slug for s in found)}")


def check_sender_name(name: str) -> str:
    """The name opens every survivor message, so it must pass the over-the-shoulder test too."""
    name = name.strip()
    if not 0 < len(name) <= 20:
        raise UserError("the sender name must be 1-20 characters: a neutral first name works best")
    # In every language a service may offer: "Heddlu" is Welsh for police.
    problems = [p for language in AUTONYMS for p in first_line_problems(f"Hi, it's {name}.", language)]
    if problems:
        raise UserError(f"the sender name {name!r} would reveal the service ({problems[0]}): use a neutral first name")
    return name


SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


def check_slug(slug: str) -> str:
    """A service's short id: typed after --service, so plain lowercase letters, digits and hyphens."""
    if not SLUG.fullmatch(slug):
        raise UserError(
            f"--slug must be 1-32 lowercase letters, digits or hyphens, starting with a letter or digit, not {slug!r}"
        )
    return slug


def check_service_name(name: str) -> str:
    """The name managers see: 1-80 printable characters, not blank."""
    name = name.strip()
    if not 0 < len(name) <= 80 or not name.isprintable():
        raise UserError("--service-name must be 1-80 printable characters on one line, not blank")
    return name


def operator() -> str:
    """Who ran this command, for the audit log: the operating-system user."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name and no passwd entry, e.g. in a container
        return f"os:uid{os.getuid()}"


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"unknown time zone {name!r}: use an IANA name like Europe/London") from None
    return name


async def case_by_ref(tx: Tx, ref: str, svc: int) -> Case:
    case = await cases.by_ref(tx, ref)
    if case is None or case.service_id != svc:
        raise UserError(f"no case {ref!r} in this service: `safecheck case list` shows the references")
    return case
