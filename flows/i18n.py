"""Marks survivor-facing text as gettext msgids; the shell translates them at send time."""

from __future__ import annotations


def N_(message: str) -> str:
    """Return `message` unchanged, marking it for extraction into the catalog."""
    # Translation happens in the shell, in the survivor's language, when the reply is sent:
    # the pure core only ever handles the English msgid.
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with plural forms; the shell picks the form for its `count` parameter.

    Languages differ in how many forms they have (Welsh 5, Arabic 6, Polish 3): the catalog of
    each language holds them all, and gettext's Plural-Forms rule picks one.
    """
    return singular, plural
