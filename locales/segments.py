"""The SMS cost of the default check-in in every language: `python -m locales.catalog segments`.

Each message is rendered exactly as the dispatcher renders it (catalog text, the sender name,
numbered options) and counted by bot/channels/segments.py. Most of these languages need UCS-2
(70 characters a segment, 67 when concatenated), so short texts matter more than in English.
"""

from __future__ import annotations

from bot.channels.segments import segments
from bot.i18n import Catalogs, to_message
from flows import replies as R
from flows import rotation
from flows.loader import load_default
from flows.model import Reply
from safety.lexicon import AUTONYMS

SENDER = "Alex"


def checkin_messages() -> list[tuple[str, Reply]]:
    """(name, reply) for each message a survivor gets in a complete default check-in."""
    qs = load_default()
    out = [(q.id, Reply(q.text, {"sender": SENDER}, tuple(o.label for o in q.options))) for q in qs.questions]
    return [*out, ("done", Reply(R.CHECKIN_DONE))]


def segment_rows(catalogs: Catalogs | None = None) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """Per language: (encoding, segments, characters) of each check-in message."""
    catalogs = catalogs or Catalogs()
    rows = []
    for language in AUTONYMS:
        cells = []
        for _, reply in checkin_messages():
            text = catalogs.render(to_message(reply), language, "Europe/London").text
            counted = segments(text)
            cells.append((counted.encoding, counted.count, counted.chars))
        rows.append((language, cells))
    return rows


def longest_checkin(names: list[str], counts: list[int]) -> int:
    """The segments of the dearest check-in: every message but the rotating questions, plus the
    `per_checkin` dearest of those (a check-in asks only a few of them)."""
    qs = load_default()
    rotating = {q.id for q in qs.rotating}
    core = sum(c for n, c in zip(names, counts, strict=True) if n not in rotating)
    turn = sorted((c for n, c in zip(names, counts, strict=True) if n in rotating), reverse=True)
    return core + sum(turn[: rotation.per_checkin(qs)])


def segment_table(catalogs: Catalogs | None = None) -> str:
    """A Markdown table: language x default check-in message -> encoding and segments."""
    names = [name for name, _ in checkin_messages()]
    lines = [
        "| language | encoding | " + " | ".join(f"`{n}`" for n in names) + " | dearest check-in |",
        "|---|---|" + "---|" * len(names) + "---|",
    ]
    for language, cells in segment_rows(catalogs):
        encodings = sorted({encoding for encoding, _, _ in cells})
        parts = [f"{count} ({chars})" for _, count, chars in cells]
        total = longest_checkin(names, [count for _, count, _ in cells])
        lines.append(
            f"| {language} {AUTONYMS[language]} | {'/'.join(encodings)} | " + " | ".join(parts) + f" | {total} |"
        )
    return "\n".join(lines)
