"""What the channels hand to the pipeline, and what it hands back: typed values, no behaviour.

A channel verifies and parses a provider's input into one `Inbound` (who sent it, where, under which
provider id, and one of the payloads below) and gives it to its `Host`, which runs the one inbound
pipeline (bot.pipeline.receive). What the channel must then do on its own side (answer a practitioner, empty
a chat, edit a tapped message) comes back as data in `Received`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

from bot.core import Core
from flows.events import Event
from safety.normalise import normalise

MAX_STORED_TEXT = 10_000  # a huge message is cut, never refused: nothing is lost that a person could read


@dataclass(frozen=True)
class Text:
    """Typed words: a survivor's answer or command, or a practitioner's ACK / LINK."""

    text: str
    message_id: int | None = None  # the chat's id for it, where the channel can delete it later
    folded: str = field(init=False, repr=False)  # normalised once, here, for every check that reads it

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", self.text[:MAX_STORED_TEXT])
        object.__setattr__(self, "folded", normalise(self.text))


@dataclass(frozen=True)
class Start:
    """Telegram's /start, with the deep link's argument: an activation code, or `link-…` for a practitioner."""

    argument: str
    message_id: int | None = None


@dataclass(frozen=True)
class OptionTapped:
    """A survivor tapped an answer button under a question (`question` is that message's id, if known)."""

    option: int
    question: int | None


@dataclass(frozen=True)
class ExitTapped:
    """A survivor tapped the quick-exit button."""


@dataclass(frozen=True)
class AckTapped:
    """A practitioner tapped an alert's Acknowledge button; the token names the alert."""

    token: str


@dataclass(frozen=True)
class Blocked:
    """Whoever holds the phone blocked the bot."""


@dataclass(frozen=True)
class NotText:
    """A sticker, photo, voice note...: kept nowhere, but a caption is screened for the codeword."""

    caption: str
    kind: str
    message_id: int | None = None


@dataclass(frozen=True)
class Edited:
    """An edited message: not an answer again, but screened for the codeword."""

    words: str


@dataclass(frozen=True)
class Unreadable:
    """Provider input we could not parse: kept, flagged, for a person to read."""

    text: str


@dataclass(frozen=True)
class DeliveryReport:
    """A provider's delivery status for a message we sent (`provider_id` is its id)."""

    status: str
    error_code: int | None


Payload = (
    Text | Start | OptionTapped | ExitTapped | AckTapped | Blocked | NotText | Edited | Unreadable | DeliveryReport
)


@dataclass(frozen=True)
class Inbound:
    channel: str
    address: str  # the sender: a phone number, a chat id
    provider_id: str  # unique per channel: the dedupe key, across restarts
    payload: Payload
    received_at: datetime | None = None  # when the provider says it arrived; our clock if not given


class Outcome(str, Enum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    UNKNOWN_SENDER = "unknown_sender"
    FAILED = "failed"  # kept and flagged for a person; nothing lost


@dataclass(frozen=True)
class Received:
    """What happened, and what the channel still has to do on its side."""

    outcome: Outcome
    events: tuple[Event, ...] = ()
    reply: str | None = None  # for a practitioner: sent straight back on the same channel
    purge_case: int | None = None  # after a quick exit: empty this case's chat where the channel can
    note: str | None = None  # a tapped button's pop-up line
    acknowledged_by: str | None = None  # an Acknowledge tap that worked: who, for the edited alert
    show_option: bool = False  # an answer tap taken: mark the answer on the question
    drop_buttons: bool = False  # a tap on an old question: take its buttons away, nothing else


class Host(Protocol):
    """What a transport is given when `serve` starts it: the core, and the pipeline to hand input to."""

    @property
    def core(self) -> Core: ...

    async def receive(self, msg: Inbound) -> Received: ...

