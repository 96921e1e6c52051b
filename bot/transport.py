"""Transports (Telegram, SMS, e-mail): a provider's channels plus the web routes and tasks it needs.

Each transport is configured from the environment by its factory, which returns None when its
settings are absent and raises ConfigError (one line) when they are wrong. bot.bootstrap builds
the configured ones for every command, so one-shot commands can deliver too; `safecheck serve`
also mounts their webhooks and starts their background work. A transport with a loop of its own
(Telegram's long polling) also reports, through `health`, whether that loop is stuck (/healthz).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.channels import email, telegram
from bot.channels.base import Channel
from bot.channels.sms import sms_transport
from bot.config import Settings
from bot.health import Stuck
from bot.inbound import Host

if TYPE_CHECKING:
    from aiohttp import web


class Transport(Protocol):
    name: str
    survivor_channel: Channel | None
    practitioner_channel: Channel | None

    def add_routes(self, web_app: web.Application) -> None:
        """Mount webhooks on our one aiohttp server (serve only, before it listens)."""
        ...

    async def start(self, host: Host) -> None:
        """Begin background work such as long polling or webhook registration (serve only); inbound
        input goes to `host.receive`."""
        ...

    async def close(self) -> None:
        """Stop background work and close HTTP sessions; always called on exit."""
        ...


@runtime_checkable
class ReportsHealth(Protocol):
    """Optional for a transport: one that runs a loop of its own says whether it is stuck."""

    def health(self, now: datetime) -> list[Stuck]:
        """The parts stuck at `now`; empty when all is well (a webhook with no traffic is well)."""
        ...


TransportFactory = Callable[[Settings], "Transport | None"]

FACTORIES: list[TransportFactory] = [email.factory, telegram.factory, sms_transport]


def configured(settings: Settings) -> list[Transport]:
    """The transports whose settings are present; a wrong setting raises ConfigError."""
    return [t for factory in FACTORIES if (t := factory(settings)) is not None]
