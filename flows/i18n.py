"""Marks survivor-facing text as gettext msgids; the shell translates them at send time."""

from __future__ import annotations


def N_(message: str) -> str:
    """Return `message` unchanged, marking it for extraction into the catalog."""
    # Translation happens in the shell, in the survivor's language, when the reply is sent:
    # the pure core only ever handles the English msgid.
    return message
