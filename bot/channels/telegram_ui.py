"""What survivors and practitioners see on Telegram: inline keyboards, callback data, edited texts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.alert_text import render

# A cross is understood in every language and says nothing about what the chat is for (the
# over-the-shoulder test), so the one-tap exit needs no translation.
EXIT_LABEL = "✕"
EXIT_DATA = "x"
# An Acknowledge button carries a random token (storage.alerts.new_button), never the alert's id:
# a guessed or edited callback acknowledges nothing. Buttons sent before that carried "ack:<id>";
# they still decode, as "old_ack", and are answered with how to acknowledge instead.
ACK_PREFIX = "ak:"
OLD_ACK_PREFIX = "ack:"
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,43}")
ANSWERED_MARK = "✓"
SHORT_LABEL = 14  # options up to this long share a row; longer ones get a row each


@dataclass(frozen=True)
class Tap:
    """A decoded button press."""

    kind: str  # "option", "exit", "ack", "old_ack" or "unknown"
    option: int = 0  # 1-based, for "option"
    token: str = ""  # for "ack"


def survivor_keyboard(options: Sequence[str]) -> InlineKeyboardMarkup:
    """One button per option (data = its number, as if typed), and the Exit button last."""
    buttons = [InlineKeyboardButton(label, callback_data=str(i)) for i, label in enumerate(options, start=1)]
    rows: list[list[InlineKeyboardButton]] = []
    if buttons and all(len(label) <= SHORT_LABEL for label in options) and len(options) <= 3:
        rows.append(buttons)
    else:
        rows.extend([b] for b in buttons)
    rows.append([InlineKeyboardButton(EXIT_LABEL, callback_data=EXIT_DATA)])
    return InlineKeyboardMarkup(rows)


def alert_keyboard(token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Acknowledge", callback_data=f"{ACK_PREFIX}{token}")]])


def decode(data: str | None) -> Tap:
    """Callback data comes from the user's client: anything unexpected is simply unknown."""
    text = (data or "").strip()
    if text == EXIT_DATA:
        return Tap("exit")
    if text.isdigit() and 0 < len(text) <= 2 and int(text) > 0:
        return Tap("option", option=int(text))
    if text.startswith(ACK_PREFIX) and TOKEN.fullmatch(text[len(ACK_PREFIX) :]):
        return Tap("ack", token=text[len(ACK_PREFIX) :])
    if text.startswith(OLD_ACK_PREFIX) and text[len(OLD_ACK_PREFIX) :].isdigit() and len(text) < 30:
        return Tap("old_ack")
    return Tap("unknown")


def option_labels(markup: InlineKeyboardMarkup | None) -> dict[int, str]:
    """The option labels shown under a question, by number (read back from the tapped message)."""
    labels: dict[int, str] = {}
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            tap = decode(button.callback_data if isinstance(button.callback_data, str) else None)
            if tap.kind == "option":
                labels[tap.option] = button.text
    return labels


def answered_text(question: str, labels: Mapping[int, str], chosen: int) -> str:
    """The question as it reads once answered: without its numbered options, with the answer."""
    listed = {f"{i} {label}" for i, label in labels.items()}
    kept = [line for line in question.split("\n") if line not in listed]
    return "\n".join(kept).rstrip() + f"\n\n{ANSWERED_MARK} {labels.get(chosen, str(chosen))}"


def alert_text(meta: Mapping[str, str], fallback: str) -> str:
    """Case reference and reason, nothing identifying; where to read more."""
    alert = render(meta)
    if alert is None:
        return fallback  # a digest: counts only
    return f"{alert.title}.\nDetails: {alert.link}"


def acknowledged_text(text: str, outcome: str) -> str:
    return f"{text}\n\n{ANSWERED_MARK} {outcome}"
