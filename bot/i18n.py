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
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.channels.base import Outgoing
from flows.model import Reply

DOMAIN = "safecheck"
SOURCE_LANGUAGE = "en_GB"


class CatalogError(Exception):
    """A catalog is missing or broken (one line)."""


def locales_dir() -> Path:
    return Path(str(resources.files("locales")))


class Catalogs:
    """Every available language's translations; an unknown language falls back to en_GB."""

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or locales_dir()
        self._translations: dict[str, gettext.GNUTranslations] = {}
        for po in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            language = po.parent.parent.name
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)  # fuzzy entries are left out, as pybabel compile would
            buffer.seek(0)
            self._translations[language] = gettext.GNUTranslations(buffer)
        if SOURCE_LANGUAGE not in self._translations:
            # Babel would silently give NullTranslations; a missing source catalog must be loud.
            raise CatalogError(f"no {SOURCE_LANGUAGE} catalog under {directory}: the install is incomplete")

    @property
    def languages(self) -> list[str]:
        return sorted(self._translations)

    def gettext(self, language: str, msgid: str) -> str:
        translations = self._translations.get(language) or self._translations[SOURCE_LANGUAGE]
        return translations.gettext(msgid)

    def render(self, message: dict[str, Any], language: str, timezone: str) -> Outgoing:
        """Render a stored survivor message in the survivor's language and time zone."""
        params = {name: self._param(value, language, timezone) for name, value in message.get("params", {}).items()}
        text = self.gettext(language, message["key"]).format(**params)
        options = tuple(self.gettext(language, label) for label in message.get("options", ()))
        if options:
            text += "\n" + "\n".join(f"{i} {label}" for i, label in enumerate(options, start=1))
        return Outgoing(text, options)

    @staticmethod
    def _param(value: Any, language: str, timezone: str) -> str:
        if isinstance(value, dict) and "$dt" in value:
            when = datetime.fromisoformat(value["$dt"])
            return str(format_datetime(when, "EEEE d MMMM HH:mm", tzinfo=ZoneInfo(timezone), locale=language))
        return str(value)


def to_message(reply: Reply) -> dict[str, Any]:
    """A reply as JSON-able data for the outbox; rendering waits until send time."""
    params = {k: ({"$dt": v.isoformat()} if isinstance(v, datetime) else v) for k, v in reply.params.items()}
    return {"key": reply.key, "params": params, "options": list(reply.options)}
