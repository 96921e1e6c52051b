"""The simulator channel: a survivor's phone in memory, driving the very same pipeline."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from bot.channels.base import Capabilities, Outgoing


@dataclass(frozen=True)
class Delivered:
    address: str
    message: Outgoing
    provider_id: str


class SimulatorChannel:
    name = "simulator"
    capabilities = Capabilities()

    def __init__(self, listener: Callable[[Delivered], None] | None = None) -> None:
        self.delivered: list[Delivered] = []
        self.listener = listener
        self._ids = itertools.count(1)

    async def send(self, address: str, message: Outgoing) -> str:
        await message.confirm()
        item = Delivered(address, message, f"sim-out-{next(self._ids)}")
        self.delivered.append(item)
        if self.listener:
            self.listener(item)
        return item.provider_id

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        self.delivered = [d for d in self.delivered if d.provider_id not in provider_ids]

    def take(self, address: str | None = None) -> list[Delivered]:
        """Remove and return what was delivered (to one address, or all)."""
        taken = [d for d in self.delivered if address is None or d.address == address]
        self.delivered = [d for d in self.delivered if d not in taken]
        return taken
