"""The check-in mode choice on the enrolment screen and the case page: what is offered, and reading the form.

Cover is offered only with a theme her language has; her words on her channel only on Telegram.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.app import App
from bot.commands.case_mode import offered_themes
from bot.web import forms
from flows import cover
from safety.lexicon import AUTONYMS
from storage.cases import Case
from storage.services import Service

# How soon her Telegram messages are deleted when she sets her words there (Telegram deletes up to 48 h back).
AUTODELETE = (("60", "1 hour"), ("360", "6 hours"), ("1440", "1 day"), ("2880", "2 days"))


@dataclass(frozen=True)
class ThemeChoice:
    name: str
    title: str
    languages: tuple[str, ...]  # the names of the languages it is available in, of those the service offers


def theme_choices(app: App, service: Service, languages: tuple[str, ...]) -> list[ThemeChoice]:
    """Each cover theme available in at least one of `languages`, with the languages it reads in."""
    found: dict[str, tuple[str, list[str]]] = {}
    for code in languages:
        for theme in offered_themes(app, service, code):
            found.setdefault(theme.name, (theme.title, []))[1].append(AUTONYMS.get(code, code))
    return [ThemeChoice(name, title, tuple(langs)) for name, (title, langs) in found.items()]


@dataclass(frozen=True)
class Chosen:
    mode: str
    theme: str | None
    secrets_autodelete: int | None  # minutes; None: her words are set in person


def read(form: Mapping[str, object], *, channel_choice: bool) -> tuple[Chosen, dict[str, object]]:
    """The mode fields of a form (and, at enrolment, her words on her channel), with the values to show again.
    The command's checks judge them (a missing auto-delete time reads as 0, which they refuse)."""
    mode = forms.text(form, "mode", 8).strip()
    theme = forms.text(form, "theme", 40).strip()
    shown: dict[str, object] = {"mode": mode, "theme": theme}
    autodelete: int | None = None
    if channel_choice:
        wanted = forms.text(form, "secrets_on_channel", 4) == "yes"
        minutes = forms.text(form, "autodelete", 6).strip()
        shown |= {"secrets_on_channel": wanted, "autodelete": minutes}
        if wanted:
            autodelete = int(minutes) if forms.is_number(minutes) else 0
    # A theme picked before switching back to direct is not an error: the radio button decides.
    return Chosen(mode, theme if mode == "cover" else None, autodelete), shown


def case_context(app: App, service: Service, case: Case) -> dict[str, object]:
    """What the case page shows of her mode, and the choice of themes her language has."""
    titles = {name: theme.title for name, theme in cover.themes().items()}
    return {
        "mode": {"mode": case.checkin_mode, "theme": case.cover_theme or service.default_cover_theme or ""},
        "mode_themes": theme_choices(app, service, (case.language,)),
        "theme_title": titles.get(case.cover_theme or "", case.cover_theme or ""),
    }
