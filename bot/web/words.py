"""The workspace's own words through gettext: English now, a catalogue per language later.

Not the survivor's messages (bot/i18n.py, per her language): this is the practitioners' interface. Templates
and Python share one translations object, so installing a catalogue here translates both.
"""

from __future__ import annotations

import gettext

DOMAIN = "workspace"
TRANSLATIONS: gettext.NullTranslations = gettext.NullTranslations()


def _(message: str) -> str:
    """A workspace message in the interface's language (English until a catalogue is installed)."""
    return TRANSLATIONS.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return TRANSLATIONS.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a module-level label for extraction; it is translated where it is shown (`_()` or a template)."""
    return message


def maybe(message: str | None) -> str | None:
    """`_(message)` for a label looked up in a table that may have none (e.g. a notice by query code)."""
    return None if message is None else TRANSLATIONS.gettext(message)
