"""The one channel protocol every transport implements, and send errors that carry their retry policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class SendError(Exception):
    """A failed send. `retryable` says whether trying again later may succeed."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class Capabilities:
    buttons: bool = False
    delete: bool = False


@dataclass(frozen=True)
class Outgoing:
    """A rendered message: text plus option labels a channel may show as buttons."""

    text: str
    options: tuple[str, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)


class Channel(Protocol):
    name: str
    capabilities: Capabilities

    async def send(self, address: str, message: Outgoing) -> str:
        """Deliver; return the provider's message id. Raise SendError on failure."""
        ...

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        """Delete messages where the transport allows it."""
        ...
