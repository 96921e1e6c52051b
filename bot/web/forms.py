"""Reading form fields: text only, cut to a sane length (a file or an absent field reads as "")."""

from __future__ import annotations

from collections.abc import Mapping


def text(form: Mapping[str, object], name: str, limit: int = 512) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""
