"""Gettext catalogs, compiled from the .po files in memory at start-up, and message rendering."""

from __future__ import annotations

import gettext
import io
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.channels.base import Outgoing
from flows.i18n_extract import optional
from flows.model import Reply

DOMAIN = "safecheck"
SOURCE_LANGUAGE = "en_GB"
DATE_FORMAT = "EEEE d MMMM HH:mm"  # "Tuesday 24 November 10:00", "Dydd Mawrth 24 Tachwedd 10:00"


class CatalogError(Exception):
    """A catalog is missing or broken (one line)."""


def locales_dir() -> Path:
    return Path(str(resources.files("locales")))


def _compile(catalog: Catalog) -> gettext.GNUTranslations:
    # An empty msgstr means "as written" (the source catalog's way): leave it out, so gettext
    # falls back to the msgid. Babel would keep an empty plural entry and print nothing.
    for message in list(catalog):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and not all(strings):
            catalog.delete(message.id, message.context)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as pybabel compile would
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


Read = tuple[gettext.GNUTranslations, frozenset[str], int]  # compiled, msgids translated, required missing
# Parsed once per process and file version: every open_app (each CLI command, each test's world) builds
# Catalogs, and parsing the .po files was a fifth of a command's start-up. An edited file is read again.
_READ: dict[tuple[str, str, int, int], Read] = {}


def _read(po: Path, language: str) -> Read:
    stat = po.stat()
    key = (str(po), language, stat.st_mtime_ns, stat.st_size)
    if key not in _READ:
        try:
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        except Exception as exc:  # a broken file is named, in one line
            raise CatalogError(f"cannot read {po}: {exc}") from None
        messages = [m for m in catalog if m.id]
        done = {
            _msgid(m) for m in messages if not m.fuzzy and all(m.string if isinstance(m.string, tuple) else (m.string,))
        }
        # A cover theme's texts are optional: without them the language simply offers no cover mode.
        required = [m for m in messages if not optional(m.locations)]
        untranslated = sum(1 for m in required if str(_msgid(m)) not in done)
        _READ[key] = (_compile(catalog), frozenset(done), untranslated)
    return _READ[key]


def _msgid(message: Message) -> str:
    return str(message.id[0] if isinstance(message.id, (tuple, list)) else message.id)


class Catalogs:
    """Every available language's translations, compiled at start-up so that a fresh clone works.

    A language without a catalog is an error, never a silent fallback: Babel's own loader would
    give NullTranslations and the survivor would get English without anyone noticing.
    """

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or locales_dir()
        self._translations: dict[str, gettext.GNUTranslations] = {}
        self._untranslated: dict[str, int] = {}
        self._known: dict[str, frozenset[str]] = {}  # msgids each catalog really translates
        for po in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            language = po.parent.parent.name
            translations, known, untranslated = _read(po, language)
            self._translations[language] = translations
            self._known[language] = known
            self._untranslated[language] = untranslated
        if SOURCE_LANGUAGE not in self._translations:
            raise CatalogError(f"no {SOURCE_LANGUAGE} catalog under {directory}: the install is incomplete")
        self._untranslated[SOURCE_LANGUAGE] = 0  # msgids are the source text

    @property
    def languages(self) -> list[str]:
        return sorted(self._translations)

    def untranslated(self, language: str) -> int:
        """How many messages `language`'s catalog lacks (missing, empty or fuzzy)."""
        self._get(language)
        return self._untranslated[language]

    def _get(self, language: str) -> gettext.GNUTranslations:
        translations = self._translations.get(language)
        if translations is None:
            raise CatalogError(f"no catalog for language {language!r}: available: {', '.join(self.languages)}")
        return translations

    def gettext(self, language: str, msgid: str) -> str:
        return self._get(language).gettext(msgid)

    def lookup(self, language: str, msgid: str) -> str | None:
        """The translation of `msgid`, or None when `language`'s catalog has none (for checks)."""
        translations = self._get(language)
        if language == SOURCE_LANGUAGE or msgid in self._known[language]:
            return translations.gettext(msgid)
        return None

    def render(self, message: dict[str, Any], language: str, timezone: str) -> Outgoing:
        """Render a stored survivor message in the survivor's language and time zone."""
        translations = self._get(language)
        params = {name: self._param(value, language, timezone) for name, value in message.get("params", {}).items()}
        if message.get("plural"):
            count = int(message.get("params", {}).get("count", 0))
            template = translations.ngettext(message["key"], message["plural"], count)
        else:
            template = translations.gettext(message["key"])
        text = template.format(**params)
        options = tuple(translations.gettext(label) for label in message.get("options", ()))
        if options:
            text += "\n" + "\n".join(f"{i} {label}" for i, label in enumerate(options, start=1))
        return Outgoing(text, options)

    @staticmethod
    def _param(value: Any, language: str, timezone: str) -> str:
        if isinstance(value, dict) and "$dt" in value:
            return format_when(datetime.fromisoformat(value["$dt"]), language, timezone)
        return str(value)


def format_when(when: datetime, language: str, timezone: str) -> str:
    """A date and time as the survivor reads them: their language, their time zone (Babel/CLDR)."""
    return str(format_datetime(when, DATE_FORMAT, tzinfo=ZoneInfo(timezone), locale=language))


def to_message(reply: Reply) -> dict[str, Any]:
    """A reply as JSON-able data for the outbox; rendering waits until send time."""
    params = {k: ({"$dt": v.isoformat()} if isinstance(v, datetime) else v) for k, v in reply.params.items()}
    message: dict[str, Any] = {"key": reply.key, "params": params, "options": list(reply.options)}
    if reply.plural is not None:
        message["plural"] = reply.plural
    return message
