"""Transports (Telegram, SMS, e-mail): a provider's channels plus the web routes and tasks it needs.

Each transport is configured from the environment by its factory, which returns None when its
settings are absent and raises ConfigError (one line) when they are wrong. bot.bootstrap builds
the configured ones for every command, so one-shot commands can deliver too; `safecheck serve`
also mounts their webhooks and starts their background work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from bot.channels import email, telegram
from bot.channels.base import Channel
from bot.channels.sms import sms_transport
from bot.config import Settings

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App


class Transport(Protocol):
    name: str
    survivor_channel: Channel | None
    practitioner_channel: Channel | None

    def add_routes(self, web_app: web.Application) -> None:
        """Mount webhooks on our one aiohttp server (serve only, before it listens)."""
        ...

    async def start(self, app: App) -> None:
        """Begin background work such as long polling or webhook registration (serve only)."""
        ...

    async def close(self) -> None:
        """Stop background work and close HTTP sessions; always called on exit."""
        ...


TransportFactory = Callable[[Settings], "Transport | None"]

FACTORIES: list[TransportFactory] = [email.factory, telegram.factory, sms_transport]


def configured(settings: Settings) -> list[Transport]:
    """The transports whose settings are present; a wrong setting raises ConfigError."""
    return [t for factory in FACTORIES if (t := factory(settings)) is not None]
