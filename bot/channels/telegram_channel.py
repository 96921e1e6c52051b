"""Sending on Telegram: the survivor and practitioner channels over one PTB Application.

Every send is paced (overall and per chat) before it leaves; Telegram's answers become SendErrors
that carry the retry policy the dispatcher applies: a 429 is retried after its retry_after (and
pauses every send), network trouble is retried through the outbox, and a chat that blocked the
bot or no longer exists is a permanent failure (the dispatcher then tells the IDVA).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder

from bot.channels import telegram_ui as ui
from bot.channels.base import Capabilities, Outgoing, SendError
from bot.channels.telegram_pacing import Pacer
from bot.channels.telegram_settings import TelegramSettings
from flows import replies as R
from flows.schedule import in_window
from storage import alerts, cases, practitioners
from storage import telegram as store

if TYPE_CHECKING:
    from bot.core import Core
    from bot.inbound import Host

log = logging.getLogger("safecheck.telegram")
NAME = "telegram"
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
DELETE_WINDOW = timedelta(hours=48)  # after this Telegram lets nobody delete a message
COVER_NOT_SENT = "cover-line-not-sent"

PtbApp = Application[Any, Any, Any, Any, Any, Any]


def build_application(settings: TelegramSettings) -> PtbApp:
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_file_url)
        .connection_pool_size(64)
        .connect_timeout(settings.timeout)
        .read_timeout(settings.timeout)
        .write_timeout(settings.timeout)
        .pool_timeout(settings.timeout)
        .get_updates_read_timeout(settings.poll_timeout + settings.timeout)
    )
    # No PTB Updater: webhook updates come through our aiohttp server, and our own long-polling loop
    # confirms an update only once it is stored (bot.channels.telegram_transport).
    return builder.updater(None).build()


def chat_of(address: str) -> int:
    try:
        return int(address.strip())
    except ValueError:
        raise SendError("not a Telegram chat id", retryable=False) from None


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def send_error(exc: Exception, pacer: Pacer | None = None) -> SendError:
    """Telegram's answer, as the dispatcher's retry policy. Reasons are fixed words: no chat ids, no text."""
    if isinstance(exc, RetryAfter):
        seconds = retry_seconds(exc)
        if pacer is not None:
            pacer.pause(seconds)
        return SendError("telegram: too many requests", retryable=True, retry_after=seconds)
    if isinstance(exc, Forbidden):
        return SendError("telegram: forbidden (the user blocked the bot or left)", retryable=False)
    if isinstance(exc, ChatMigrated | BadRequest):
        # e.g. chat not found, user deactivated, text refused: sending again cannot succeed.
        return SendError("telegram: request refused", retryable=False)
    if isinstance(exc, InvalidToken):
        log.error("telegram rejected the bot token: check TELEGRAM_BOT_TOKEN")
        return SendError("telegram: token rejected", retryable=True)
    if isinstance(exc, TimedOut):
        return SendError("telegram: timed out", retryable=True)
    return SendError(f"telegram: {type(exc).__name__}", retryable=True)


@dataclass
class TelegramCore:
    """What both channels share: the PTB application, the pacer, and (once serving) the host: its core
    for the channels' own bookkeeping, and its pipeline for what arrives."""

    settings: TelegramSettings
    application: PtbApp
    pacer: Pacer
    host: Host | None = None
    _ready: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def deps(self) -> Core | None:
        """The core, once serving; None in a one-shot command (no bookkeeping then)."""
        return None if self.host is None else self.host.core

    @classmethod
    def create(cls, settings: TelegramSettings) -> TelegramCore:
        return cls(settings, build_application(settings), Pacer(settings.global_rate, settings.chat_rate))

    async def ready(self) -> None:
        """Initialise the PTB application once (getMe), on first use."""
        if self._ready:
            return
        async with self._lock:
            if not self._ready:
                await self.application.initialize()
                self._ready = True

    def background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run follow-up work (e.g. a second deletion sweep) without holding up the update."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ready:
            await self.application.shutdown()
            self._ready = False

    async def send_text(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        *,
        silent: bool = False,
        confirm: Callable[[], Awaitable[None]] | None = None,
    ) -> int:
        """Send once the pacer gives a turn; `confirm` (raising Silenced) is asked right before the call."""
        await self.ready()
        try:
            async with self.pacer.slot(chat_id):
                if confirm is not None:
                    await confirm()
                sent = await self.application.bot.send_message(
                    chat_id, text, reply_markup=markup, protect_content=True, disable_notification=silent
                )
        except TelegramError as exc:
            raise send_error(exc, self.pacer) from None
        return int(sent.message_id)

    async def delete(self, chat_id: int, message_ids: list[int]) -> None:
        await self.ready()
        for start in range(0, len(message_ids), DELETE_BATCH):
            try:
                await self.application.bot.delete_messages(chat_id, message_ids[start : start + DELETE_BATCH])
            except TelegramError as exc:
                raise send_error(exc, self.pacer) from None


class TelegramSurvivorChannel:
    name = NAME
    capabilities = Capabilities(buttons=True, delete=True)

    def __init__(self, core: TelegramCore) -> None:
        self.core = core

    async def send(self, address: str, message: Outgoing) -> str:
        chat_id = chat_of(address)
        if message.meta.get("key") == R.COVER_LINE:
            # On Telegram a quick exit empties the chat; a cover line would be all that is left in it.
            return COVER_NOT_SENT
        case_id = int(message.meta["case_id"]) if message.meta.get("case_id") else None
        silent, delete_at = await self._case_choices(case_id)
        # A stranger gets the bare neutral line: even an exit button would say something about us.
        markup = ui.survivor_keyboard(message.options) if case_id is not None else None
        message_id = await self.core.send_text(chat_id, message.text, markup, silent=silent, confirm=message.confirm)
        await self._remember(case_id, message_id, delete_at, bool(message.options))
        return str(message_id)

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        await self.core.delete(chat_of(address), [int(p) for p in provider_ids if p.isdigit()])

    async def _case_choices(self, case_id: int | None) -> tuple[bool, datetime | None]:
        """Silent outside the survivor's safe times; when the message is to delete itself, if ever."""
        app = self.core.deps
        if app is None or case_id is None:
            return False, None
        now = app.clock.now()
        async with app.db.reading() as tx:
            case = await cases.get(tx, case_id)
            minutes = await store.autodelete_minutes(tx, case_id)
        quiet = bool(case.safe_windows) and not in_window(now, ZoneInfo(case.timezone), case.safe_windows)
        return quiet, now + timedelta(minutes=minutes) if minutes else None

    async def _remember(self, case_id: int | None, message_id: int, delete_at: datetime | None, question: bool) -> None:
        """Keep the id so a quick exit (or auto-delete) can remove the message; losing it only costs that."""
        app = self.core.deps
        if app is None or case_id is None:
            return
        try:
            async with app.db.transaction() as tx:
                await store.record(tx, case_id, message_id, app.clock.now(), delete_at, question=question)
                await tx.commit()
        except Exception as exc:  # the message is out: a failed bookkeeping write must not resend it
            log.warning("telegram message id not recorded error=%s", type(exc).__name__)


class TelegramPractitionerChannel:
    name = NAME
    capabilities = Capabilities(buttons=True)

    def __init__(self, core: TelegramCore) -> None:
        self.core = core

    async def send(self, address: str, message: Outgoing) -> str:
        practitioner_id = await self._check_linked(address)
        alert_id = message.meta.get("alert_id", "")
        markup = None
        if alert_id.isdigit() and practitioner_id is not None:
            markup = ui.alert_keyboard(await self._button(int(alert_id), practitioner_id))
        text = ui.alert_text(message.meta, message.text)
        return str(await self.core.send_text(chat_of(address), text, markup))

    async def delete(self, address: str, provider_ids: list[str]) -> None:
        return None  # alerts stay in the practitioner's chat

    async def _check_linked(self, address: str) -> int | None:
        """Only a chat linked to an active practitioner gets alerts. (A practitioner whose Telegram is
        not linked yet has no chat id: what arrives here then is not one, and must not be tried.)
        Returns the practitioner's id; None when no app is bound (a one-shot command)."""
        app = self.core.deps
        if app is None:
            return None
        async with app.db.reading() as tx:
            linked = await practitioners.by_address(tx, app.crypto, NAME, address)
        if linked is None:
            raise SendError("telegram: practitioner chat not linked", retryable=False)
        return linked.id

    async def _button(self, alert_id: int, practitioner_id: int) -> str:
        """A new unguessable token for this alert's Acknowledge button (a press is looked up by it)."""
        app = self.core.deps
        assert app is not None
        async with app.db.transaction(urgent=True) as tx:
            token = await alerts.new_button(tx, alert_id, practitioner_id, app.clock.now())
            await tx.commit()
        return token
