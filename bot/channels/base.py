"""The one channel protocol every transport implements, and send errors that carry their retry policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol


class SendError(Exception):
    """A failed send. `retryable` says whether trying again later may succeed."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class Silenced(Exception):
    """The message is no longer wanted (she used her exit word or withdrew meanwhile): it was not sent."""


@dataclass(frozen=True)
class Capabilities:
    buttons: bool = False
    delete: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail (the monthly report's PDF); other channels never get one."""

    filename: str
    content_type: str  # "application/pdf"
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Outgoing:
    """A rendered message: text plus option labels a channel may show as buttons."""

    text: str
    options: tuple[str, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)
    # Asked from durable state at the last moment before the provider call: False once a quick exit
    # or a withdrawal has cancelled the message, however long it waited for its turn.
    still_wanted: Callable[[], Awaitable[bool]] | None = field(default=None, compare=False, repr=False)
    attachments: tuple[Attachment, ...] = ()

    async def confirm(self) -> None:
        """Raise Silenced if the message must no longer go out. Channels call it right before sending."""
        if self.still_wanted is not None and not await self.still_wanted():
            raise Silenced()


class Channel(Protocol):
    name: str
    capabilities: Capabilities

    async def send(self, address: str, message: Outgoing) -> str:
        """Deliver; return the provider's message id. Raise SendError on failure."""
        ...

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        """Delete messages where the transport allows it."""
        ...
