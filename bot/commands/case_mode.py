"""A case's check-in mode, chosen with her in person: checks shared by `case enrol`, `case set-mode` and the
workspace (enrolment and the case page), and the change itself, audited with codes only."""

from __future__ import annotations

from bot.app import App
from bot.commands.common import EnrolError, UserError, case_by_ref, operator
from flows import cover
from flows.cover import CoverTheme
from storage import audit, case_mode, cases, services
from storage.case_mode import MODES, CaseMode
from storage.services import Service

ENDED = ("closed", "withdrawn")


def offered_themes(app: App, service: Service, language: str) -> tuple[CoverTheme, ...]:
    """The cover themes her language has (with the service's question set): cover needs one of them."""
    return cover.offered(app.questionset(service.questionset), language, app.catalogs.lookup)


def check_mode(app: App, service: Service, language: str, mode: str | None, theme: str | None) -> CaseMode:
    """Her mode (default: the service's), checked; EnrolError names the field ("mode" or "theme")."""
    mode = (mode or service.default_checkin_mode).strip().lower()
    theme = (theme or "").strip().lower() or None
    if mode not in MODES:
        raise EnrolError("mode", f"the mode must be direct or cover, not {mode!r}", "Choose direct or cover.")
    if mode == "direct":
        if theme:
            raise EnrolError("theme", "--theme is only for --mode cover", "A cover theme is only for cover mode.")
        return CaseMode("direct")
    theme = theme or service.default_cover_theme
    here = offered_themes(app, service, language)
    names = ", ".join(t.name for t in here) or "none yet"
    if not theme:
        raise EnrolError(
            "theme",
            f"cover mode needs a theme: add --theme NAME (in {language}: {names})",
            "Choose a cover theme.",
        )
    known = cover.themes()
    if theme not in known:
        raise EnrolError(
            "theme",
            f"unknown cover theme {theme!r}: the themes are {', '.join(known)}",
            "Choose one of the cover themes.",
        )
    if theme not in {t.name for t in here}:
        raise EnrolError(
            "theme",
            f"cover theme {theme!r} is not available in {language} (available: {names}): "
            "choose --mode direct or another theme",
            f"“{known[theme].title}” is not available in her language yet: choose direct, or another theme.",
        )
    return CaseMode("cover", theme)


async def set_mode(
    app: App, svc: int, ref: str, mode: str, theme: str | None = None, actor: str | None = None
) -> str:
    """Change a case's check-in mode (after choosing it with her in person); audited before and after."""
    async with app.db.reading() as tx:
        case = await case_by_ref(tx, ref, svc)
        service = await services.get(tx, svc)
    if case.status in ENDED:
        raise UserError(f"case {case.ref} is {case.status}: its mode cannot change")
    chosen = check_mode(app, service, case.language, mode, theme)
    await store_mode(app, case.id, chosen, actor or operator())
    return f"case {case.ref}: {chosen.mode}" + (f" (theme {chosen.theme})" if chosen.theme else "")


async def store_mode(app: App, case_id: int, chosen: CaseMode, actor: str) -> bool:
    """Record the mode as chosen, audited with the mode before and after; False if nothing changed."""
    now = app.clock.now()
    async with app.db.transaction() as tx:
        fresh = await cases.get(tx, case_id)
        before = CaseMode(fresh.checkin_mode, fresh.cover_theme if fresh.checkin_mode == "cover" else None)
        if before == chosen:
            return False
        await case_mode.set_mode(tx, case_id, chosen)
        detail = audit.changed(
            {"mode": before.mode, "theme": before.theme}, {"mode": chosen.mode, "theme": chosen.theme}
        )
        await audit.log(tx, now, actor, "checkin_mode_changed", case_id, detail)
        await tx.commit()
    return True
