"""The application's parts, built once by bot.bootstrap and passed explicitly to the shell.

`App` is the composition root: the `Core` the domain side works with, the channels the dispatcher
sends on, and the transports `serve` runs. Code that decides takes the `Core` (or less), never this.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from bot.channels.base import Channel
from bot.clock import Clock
from bot.core import Core
from bot.i18n import Catalogs
from bot.inbound import Inbound, Received
from bot.pipeline import receive
from bot.transport import Transport
from flows.questionset import QuestionSet
from storage.crypto import Crypto
from storage.db import Database


@dataclass
class App:
    core: Core
    survivor_channels: dict[str, Channel]
    practitioner_channels: dict[str, Channel]
    transports: list[Transport] = field(default_factory=list)
    # The workspace's base URL (SAFECHECK_WORKSPACE_URL, else SAFECHECK_PUBLIC_URL): alerts link to their
    # page there, messages to partners to their shares. None: no link, the CLI's commands instead.
    workspace_url: str | None = None

    # The core's parts, for the commands and the tests that reach them through the app.
    @property
    def db(self) -> Database:
        return self.core.db

    @property
    def crypto(self) -> Crypto:
        return self.core.crypto

    @property
    def clock(self) -> Clock:
        return self.core.clock

    @property
    def catalogs(self) -> Catalogs:
        return self.core.catalogs

    @property
    def rand(self) -> random.Random:
        return self.core.rand

    @property
    def outbox_ready(self) -> asyncio.Event:
        return self.core.outbox_ready

    def questionset(self, toml_text: str | None) -> QuestionSet:
        return self.core.questionset(toml_text)

    def wake_dispatcher(self) -> None:
        self.core.wake_dispatcher()

    async def receive(self, msg: Inbound) -> Received:
        """The inbound pipeline: what transports hand every provider input to (bot.inbound.Host)."""
        return await receive(self.core, msg)
