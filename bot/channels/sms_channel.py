"""The SMS channel: sends through Twilio's REST API with the real twilio client, paced and bounded.

Errors become SendErrors that carry their retry policy, with reasons that hold Twilio's status and
error code only: Twilio's own messages quote the number, which must never reach a log.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioException  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from bot import delivery_reports
from bot.alert_text import render
from bot.channels.base import Capabilities, Outgoing, SendError
from bot.channels.segments import Segments, segments
from bot.channels.sms_http import RETRY_AFTER, TwilioHttp
from bot.channels.sms_pacing import Pacer
from bot.channels.sms_settings import SmsSettings
from bot.core import Core
from storage import sms
from storage.db import Tx

log = logging.getLogger("safecheck.sms")

# The number can never receive from us: the person opted out (21610), the number is not valid
# (21211) or not a mobile (21614), or the carrier says it cannot be reached (21612). Trying again
# cannot help; the dispatcher tells the IDVA the channel is dead.
DEAD_NUMBER = frozenset({21610, 21211, 21614, 21612})
TOO_MANY_REQUESTS = 20429
AUTH_FAILED = frozenset({20003, 20005})
AUTH_RETRY_AFTER = 60.0  # wrong credentials: a person must fix them, so do not hammer Twilio
MAX_PART = 1500  # Twilio's limit is 1,600 characters; it may count an emoji as two


def practitioner_text(message: Outgoing) -> str:
    """An SMS alert is short: severity, case reference and reason, and how to acknowledge by reply."""
    alert = render(message.meta)
    if alert is None or not message.meta.get("case_ref"):
        return message.text  # a digest: counts only
    return f"{alert.headline}. Reply ACK {alert.case_ref}"


def split_text(text: str, limit: int = MAX_PART) -> list[str]:
    """Cut a text Twilio would refuse into parts it accepts: at line ends where possible."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:  # one line longer than a whole part: cut it
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return [p.rstrip("\n") or p for p in parts]


def send_error(exc: Exception) -> SendError:
    """Map a failed create call to a SendError with its retry policy."""
    if isinstance(exc, TimeoutError):
        return SendError("twilio timeout", retryable=True)
    if isinstance(exc, aiohttp.ClientError):
        return SendError(f"twilio unreachable {type(exc).__name__}", retryable=True)
    status = int(getattr(exc, "status", 0) or 0)
    code = int(getattr(exc, "code", 0) or 0)
    reason = f"twilio http {status} error {code}"
    if status == 429 or code == TOO_MANY_REQUESTS:
        return SendError(reason, retryable=True, retry_after=_seconds(RETRY_AFTER.get()))
    if code in DEAD_NUMBER:
        return SendError(reason, retryable=False)
    if status in (401, 403) or code in AUTH_FAILED:
        log.error("twilio refused our credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        return SendError(reason, retryable=True, retry_after=AUTH_RETRY_AFTER)
    if status >= 500 or status == 0:
        return SendError(reason, retryable=True, retry_after=_seconds(RETRY_AFTER.get()))
    return SendError(reason, retryable=False)  # any other 4xx: this message will never be accepted


def _seconds(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None  # an HTTP date: the dispatcher's own backoff will do


@dataclass(frozen=True)
class Unrecorded:
    """A message Twilio accepted whose delivery row is not written yet (the dispatcher writes it)."""

    outbox_id: int | None
    case_id: int | None
    recipient: str
    cost: Segments
    status: str


MAX_UNRECORDED = 10_000  # a dispatcher that died mid-round leaves entries behind: keep the newest


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


class SmsChannel:
    """One Twilio sender, shared by survivors and practitioners (one pace for both)."""

    name = "sms"
    capabilities = Capabilities()  # no buttons; a text cannot be taken back from a phone

    def __init__(self, settings: SmsSettings) -> None:
        self.settings = settings
        self.pacer = Pacer(settings.rate)
        # Serving: the core, so that each send is on record the moment Twilio accepts it, and a status
        # callback racing ahead of the dispatcher's round finds it in the database, not in memory.
        self.core: Core | None = None
        # Sent, not yet in the dispatcher's round: what it writes with the round (a one-shot command has
        # no core, and no status callback can reach it).
        self.unrecorded: dict[str, Unrecorded] = {}
        self._http: TwilioHttp | None = None
        self._client: Any = None

    def client(self) -> Any:
        """The twilio client, made on first use: its aiohttp session must belong to the running loop."""
        if self._client is None:
            self._http = TwilioHttp()
            self._client = Client(self.settings.account_sid, self.settings.auth_token, http_client=self._http)
            self._client.api.base_url = self.settings.api_base_url
        return self._client

    async def send(self, address: str, message: Outgoing) -> str:
        survivor = "key" in message.meta
        text = message.text if survivor else practitioner_text(message)
        # Twilio refuses a body over 1,600 characters (21617): a longer one goes as several texts,
        # in order; the last one's id stands for the message.
        for part in split_text(text):
            sid, status, cost = await self._create(address, part, message, urgent=not survivor)
        meta = message.meta
        if len(self.unrecorded) >= MAX_UNRECORDED:
            self.unrecorded.pop(next(iter(self.unrecorded)))
        sent = self.unrecorded[sid] = Unrecorded(
            _int(meta.get("outbox_id")),
            _int(meta.get("case_id")),
            "survivor" if survivor else "practitioner",
            cost,
            status,
        )
        if self.core is not None:
            await self._record(self.core, sid, sent)
        return sid

    async def _record(self, core: Core, sid: str, sent: Unrecorded) -> None:
        """Put the send on record now. It went out: a failure here must not make it go again."""

        async def unit(tx: Tx) -> bool:
            now = core.clock.now()
            await _record_sent(tx, sid, sent, now)
            acted = await delivery_reports.on_send_recorded(tx, core, sid, now)
            await tx.commit()
            return acted

        try:
            if await core.db.run(unit, urgent=sent.recipient == "practitioner"):
                core.wake_dispatcher()  # a failure reported before this: its re-send or fallback is queued
        except Exception as exc:
            log.error("sms send not put on record error=%s", type(exc).__name__)

    async def _create(self, address: str, text: str, message: Outgoing, *, urgent: bool) -> tuple[str, str, Segments]:
        cost = segments(text)
        await self.pacer.slot(cost.count, urgent=urgent)
        await message.confirm()  # after the wait for a turn, which may be long: an exit may have come meanwhile
        try:
            async with asyncio.timeout(self.settings.timeout):
                created = await self.client().messages.create_async(
                    to=address,
                    body=text,
                    status_callback=self.settings.status_callback,
                    **self.settings.sender_params(),
                )
        except (TimeoutError, aiohttp.ClientError, TwilioException) as exc:
            error = send_error(exc)
            log.warning("sms send failed reason=%s retryable=%s", error.reason, error.retryable)
            raise error from None
        return str(created.sid), str(created.status or "queued"), cost

    async def note_sent(self, tx: Tx, sid: str, now: datetime) -> None:
        """The dispatcher marks the item sent: write its delivery row in that same transaction."""
        sent = self.unrecorded.pop(sid, None)
        if sent is not None:
            await _record_sent(tx, sid, sent, now)

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        return None  # SMS cannot be unsent

    async def close(self) -> None:
        await self.pacer.close()
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None


async def _record_sent(tx: Tx, sid: str, sent: Unrecorded, now: datetime) -> None:
    await sms.record_sent(
        tx,
        sid,
        outbox_id=sent.outbox_id,
        case_id=sent.case_id,
        recipient=sent.recipient,
        encoding=sent.cost.encoding,
        segments=sent.cost.count,
        status=sent.status,
        now=now,
    )
