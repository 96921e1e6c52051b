"""Reading form fields: text only, cut to a sane length (a file or an absent field reads as "")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from bot.web.words import _


def text(form: Mapping[str, object], name: str, limit: int = 512) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def period(since_text: str, until_text: str, errors: dict[str, str]) -> tuple[date | None, date | None]:
    """A report's "from" and "to" days (either may be empty); a bad one is a one-line error on its field."""
    since, until = _day(since_text, "from", errors), _day(until_text, "to", errors)
    if since and until and until < since:
        errors["to"] = _("The end date is before the start date.")
    return since, until


def _day(text: str, field: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = _("Give the date as YYYY-MM-DD.")
        return None


def is_number(value: str) -> bool:
    """Plain ASCII digits: str.isdigit() also says yes to "²" and "①", which int() refuses (a 500)."""
    return value.isascii() and value.isdigit()
