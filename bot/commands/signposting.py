"""A service's signposting, checked: the default check-in mode, the discreet HELP line, local helplines and the
safety-planning card. Shared by `safecheck service set` and Manage → Service; changes audited with codes only."""

from __future__ import annotations

from bot.app import App
from bot.commands.case_mode import offered_themes
from bot.commands.common import EnrolError, UserError, operator
from flows import cover
from flows.discretion import thread_problems
from storage import audit, services, signposting
from storage.case_mode import MODES, CaseMode
from storage.services import Helpline, Service

HELP_LINE_MAX = 160  # one SMS segment's worth: it rides on HELP's own reply
HELPLINES_MAX = 12
CARD_MAX = 4000


def check_help_line(service: Service, text: str) -> str | None:
    """The HELP line, or None for none: one line that passes the over-the-shoulder lint in every language the
    service offers (whole text, the service's own name banned too). EnrolError("help_line", ...) otherwise."""
    line = " ".join(text.split())
    if not line:
        return None
    if len(line) > HELP_LINE_MAX:
        raise EnrolError("help_line", f"the HELP line must be at most {HELP_LINE_MAX} characters")
    for language in service.languages:
        problems = thread_problems(line, language, extra=(service.name,))
        if problems:
            raise EnrolError(
                "help_line",
                f"the HELP line would reveal the service ({problems[0]}, checked in {language}): "
                "write something an onlooker would find ordinary",
            )
    return line


def check_default_mode(app: App, service: Service, mode: str, theme: str | None) -> CaseMode:
    """The mode the enrolment screen pre-selects: a cover theme must exist in the service's default language."""
    mode = mode.strip().lower()
    theme = (theme or "").strip().lower() or None
    if mode not in MODES:
        raise EnrolError("default_mode", f"the default mode must be direct or cover, not {mode!r}")
    if mode == "direct":
        return CaseMode("direct")
    known = cover.themes()
    if not theme:
        raise EnrolError("default_theme", "cover mode needs a theme: choose one")
    if theme not in known:
        raise EnrolError("default_theme", f"unknown cover theme {theme!r}: the themes are {', '.join(known)}")
    if theme not in {t.name for t in offered_themes(app, service, service.default_language)}:
        raise EnrolError(
            "default_theme",
            f"cover theme {theme!r} is not available in the default language {service.default_language}",
        )
    return CaseMode("cover", theme)


def parse_helplines(text: str) -> tuple[Helpline, ...]:
    """One helpline a line: "name | number | hours" (hours optional); blank lines skipped."""
    found: list[Helpline] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [" ".join(p.split()) for p in raw.split("|")]
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise EnrolError("helplines", f"line {number}: write name | number | hours (the hours may be left out)")
        if any(len(p) > 80 for p in parts):
            raise EnrolError("helplines", f"line {number}: keep each part to 80 characters")
        found.append(Helpline(parts[0], parts[1], parts[2] if len(parts) == 3 else ""))
    if len(found) > HELPLINES_MAX:
        raise EnrolError("helplines", f"list at most {HELPLINES_MAX} helplines")
    return tuple(found)


def helplines_text(helplines: tuple[Helpline, ...]) -> str:
    """The helplines as the form shows them, one a line."""
    return "\n".join(" | ".join(p for p in (h.name, h.number, h.hours) if p) for h in helplines)


def check_card(text: str) -> str:
    card = text.replace("\r\n", "\n").strip()
    if len(card) > CARD_MAX:
        raise EnrolError("safety_card", f"the safety-planning text must be at most {CARD_MAX} characters")
    return card


async def set_help_line(app: App, svc: int, text: str, actor: str | None = None) -> str:
    """`safecheck service set --help-line`: checked, stored, audited (whether one is set, never its words)."""
    async with app.db.reading() as tx:
        service = await services.get(tx, svc)
    try:
        line = check_help_line(service, text)
    except EnrolError as exc:
        raise UserError(str(exc)) from None
    now = app.clock.now()
    async with app.db.transaction() as tx:
        await signposting.set_help_line(tx, svc, line)
        detail = audit.changed({"help_line": service.help_line is not None}, {"help_line": line is not None})
        await audit.log(tx, now, actor or operator(), "service_help_line_set", None, detail, svc)
        await tx.commit()
    return "HELP line set" if line else "HELP line removed"
