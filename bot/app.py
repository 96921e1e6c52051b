"""The application's parts, built once by bot.bootstrap and passed explicitly to the shell."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from bot.channels.base import Channel
from bot.clock import Clock
from bot.i18n import Catalogs
from bot.transport import Transport
from flows.loader import load_default, parse_questionset
from flows.questionset import QuestionSet
from storage.crypto import Crypto
from storage.db import Database


@dataclass
class App:
    db: Database
    crypto: Crypto
    clock: Clock
    catalogs: Catalogs
    survivor_channels: dict[str, Channel]
    practitioner_channels: dict[str, Channel]
    transports: list[Transport] = field(default_factory=list)
    rand: random.Random = field(default_factory=random.Random)
    outbox_ready: asyncio.Event = field(default_factory=asyncio.Event)
    _questionsets: dict[str, QuestionSet] = field(default_factory=dict)

    def questionset(self, toml_text: str | None) -> QuestionSet:
        """The service's question set (parsed once per distinct text), or the default."""
        key = toml_text or ""
        if key not in self._questionsets:
            self._questionsets[key] = (
                parse_questionset(toml_text, "service question set") if toml_text else load_default()
            )
        return self._questionsets[key]

    def wake_dispatcher(self) -> None:
        self.outbox_ready.set()
