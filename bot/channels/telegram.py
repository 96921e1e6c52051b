"""Telegram: survivors and practitioners on one bot, through python-telegram-bot (docs/telegram.md).

This module is only the factory bot.transport registers; the transport itself (which imports the
pipeline, and so the app) is loaded only when a token is configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.telegram_settings import load_telegram
from bot.config import Settings

if TYPE_CHECKING:
    from bot.channels.telegram_transport import TelegramTransport


def factory(settings: Settings) -> TelegramTransport | None:
    """None when TELEGRAM_BOT_TOKEN is unset; ConfigError (one line) when a setting is wrong."""
    loaded = load_telegram(settings.env, settings.public_url)
    if loaded is None:
        return None
    from bot.channels.telegram_transport import TelegramTransport

    return TelegramTransport(loaded)
