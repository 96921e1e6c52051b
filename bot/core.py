"""What the domain side of the shell works with: the database, keys, clock, randomness and catalogs.

The inbound pipeline, the event handlers, the timers and the channels' own bookkeeping take a
`Core`. It knows no channel and no transport, so nothing that sends or receives has to import the
code that decides, and the other way round.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.i18n import Catalogs
from flows.loader import load_default, parse_questionset
from flows.questionset import QuestionSet
from storage.crypto import Crypto
from storage.db import Database


@dataclass
class Core:
    db: Database
    crypto: Crypto
    clock: Clock
    catalogs: Catalogs
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
        """There is something new in the outbox: the dispatcher looks now rather than at its next tick."""
        self.outbox_ready.set()
