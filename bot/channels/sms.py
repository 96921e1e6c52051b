"""The SMS transport (Twilio): one sender for survivors and practitioners, and its two webhooks.

Configured by TWILIO_* variables (bot.channels.sms_settings; docs/sms.md). Inbound texts and
delivery reports arrive at /sms/inbound and /sms/status on `safecheck serve`'s web server.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.channels.base import Channel
from bot.channels.sms_settings import SmsSettings, load_sms
from bot.config import Settings
from bot.inbound import Host

if TYPE_CHECKING:
    from aiohttp import web  # only serve's web server calls add_routes: other commands start faster

log = logging.getLogger("safecheck.sms")


class SmsTransport:
    name = "sms"

    def __init__(self, settings: SmsSettings) -> None:
        from bot.channels.sms_channel import SmsChannel  # twilio is imported only where SMS is on

        self.settings = settings
        self.channel = SmsChannel(settings)
        self.practitioner_channel: Channel | None = self.channel
        # An alphanumeric sender cannot receive replies: check-ins need a number or a Messaging Service.
        self.survivor_channel: Channel | None = self.channel if settings.two_way else None

    def add_routes(self, web_app: web.Application) -> None:
        from bot.channels.sms_webhooks import SmsWebhooks  # twilio is imported only where SMS is on

        SmsWebhooks(self.settings, self.channel).add_routes(web_app)

    async def start(self, host: Host) -> None:
        self.channel.core = host.core
        # The kind of sender and the pace only: the number itself is left out of logs.
        log.info("sms ready sender=%s rate=%g/s", self.settings.sender_kind, self.settings.rate)
        if not self.settings.two_way:
            log.warning("sms sender is alphanumeric: alerts only, survivors cannot be reached by SMS")

    async def close(self) -> None:
        await self.channel.close()


def sms_transport(settings: Settings) -> SmsTransport | None:
    """The factory bot.transport calls: None when TWILIO_ACCOUNT_SID is unset."""
    sms = load_sms(settings.env, settings.public_url)
    return None if sms is None else SmsTransport(sms)
