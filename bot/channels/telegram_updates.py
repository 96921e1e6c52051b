"""Incoming Telegram updates, turned into pipeline inputs. PTB only parses; the database decides.

One router serves both long polling and the webhook, so both behave the same, and a storage failure
reaches the webhook (which answers 5xx so that Telegram delivers the update again). Every update is
deduplicated by its update_id (`u<update_id>` in inbound_messages, unique per channel), which holds
across restarts, before anything acts on it. Nothing from an update is stored that is not needed:
no media, no names. An update the library cannot parse, or that we fail to act on, is kept as a
failed message for a person (its words screened for the codeword), never lost and never a stall.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import ChatMemberUpdated, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot import alerting, practitioner_inbound
from bot.channels import telegram_raw
from bot.channels.telegram_channel import NAME, TelegramCore
from bot.channels.telegram_cleanup import purge_case
from bot.channels.telegram_taps import Taps
from bot.codeword_only import record_and_screen, screen_only
from bot.i18n import to_message
from bot.pipeline import (
    Handled,
    InboundMessage,
    Outcome,
    address_hash,
    handle_inbound,
    keep_failed,
    looks_urgent,
    neutral_line,
)
from flows import replies as R
from flows.events import QuickExitUsed
from flows.model import Reply
from safety.model import AlertReason, Severity
from storage import alerts, audit, cases, inbound, outbox, services
from storage import telegram as store
from storage.db import StorageError

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("safecheck.telegram")
LIVE = ("pending", "onboarding", "active", "paused")


class Router:
    def __init__(self, core: TelegramCore) -> None:
        self.core = core
        self.taps = Taps(self)

    @property
    def app(self) -> App:
        if self.core.app is None:
            raise RuntimeError("the Telegram transport was not started")
        return self.core.app

    async def route_raw(self, raw: object) -> None:
        """Act on one update as Telegram sent it (decoded JSON): parsed on its own, so an update of a
        shape the library cannot read is kept for a person instead of failing the others."""
        try:
            if not isinstance(raw, dict):
                raise TypeError("an update is a JSON object")
            update = Update.de_json(raw, self.core.application.bot)
        except Exception as exc:
            # Only the exception's type: its text may quote the update.
            log.error("telegram update could not be parsed error=%s", type(exc).__name__)
            await self._keep(telegram_raw.read(raw))
            return
        await self.route(update, raw)

    async def route(self, update: Update, raw: object = None) -> None:
        """Act on one update. Raises only if it could not be stored (the webhook then answers 5xx)."""
        try:
            await self._route(update)
        except (sqlite3.Error, StorageError):
            raise  # not stored: Telegram offers it again (polling: not confirmed; webhook: 5xx)
        except Exception as exc:
            # A shape we did not expect (a bug, a newer Bot API): keep it for a person rather than
            # stall on it. Were storage down after all, this raises in turn and it comes again.
            log.error("telegram update not handled error=%s", type(exc).__name__)
            await self._keep(telegram_raw.read(raw if raw is not None else update.to_dict()))

    async def _keep(self, found: telegram_raw.RawUpdate) -> None:
        """Keep the update as a failed message (words encrypted, flagged, codeword screened, IDVA told)."""
        msg = InboundMessage(NAME, found.chat or "", found.text, found.provider_id, self.app.clock.now())
        handled = await keep_failed(self.app, msg)
        log.warning("telegram update kept for a person outcome=%s", handled.outcome.value)

    async def _route(self, update: Update) -> None:
        uid = f"u{update.update_id}"
        if await self._handled_before(uid):
            return  # a redelivery: even its side effects (replies, edits) happened already
        if update.callback_query is not None:
            await self.taps.handle(update.callback_query, uid)
        elif update.my_chat_member is not None:
            await self._membership(update.my_chat_member, uid)
        elif update.message is not None:
            message = update.message
            if message.chat.type != ChatType.PRIVATE:
                await self._leave(message.chat.id)  # a group or channel: we are a one-to-one service
            elif message.text is not None:
                await self._text(message, uid)
            else:
                await self._not_text(message, uid)
        elif update.channel_post is not None:
            await self._leave(update.channel_post.chat.id)
        elif update.edited_message is not None:
            await self._edited(update.edited_message, uid)
        else:
            log.info("telegram update ignored kind=%s", _kind(update))

    async def _handled_before(self, uid: str) -> bool:
        """A quick look; the pipeline's own insert is what makes handling exactly-once."""
        async with self.app.db.reading() as tx:
            seen = await tx.scalar("SELECT 1 FROM inbound_messages WHERE channel = ? AND provider_id = ?", (NAME, uid))
        return seen is not None

    # ----- text ----------------------------------------------------------------------------------

    async def _text(self, message: Message, uid: str) -> None:
        app, chat = self.app, str(message.chat.id)
        text = message.text or ""
        words = text.split()
        if words and words[0].lower() in ("/start", f"/start@{(self.core.settings.bot_username or '').lower()}"):
            argument = words[1] if len(words) > 1 else ""
            if argument.lower().startswith("link-"):
                if await self._practitioner(chat, f"LINK {argument[5:]}", uid):
                    return
            elif argument and await self._bind(chat, argument):
                log.info("telegram chat bound to a pending case by deep link")
            text = argument or text  # the code goes through activation like a typed code
        elif await self._practitioner(chat, text, uid):
            return
        handled = await handle_inbound(app, InboundMessage(NAME, chat, text, uid))  # our clock, as for taps
        await self.after_survivor(handled, chat, message.message_id)

    async def _practitioner(self, chat: str, text: str, uid: str) -> bool:
        """A practitioner's message (ACK, LINK) is handled once and answered; False if the sender is not one."""
        answer = await practitioner_inbound.handle_practitioner_text(self.app, NAME, chat, text, uid)
        if answer is None:
            return False
        if answer.reply is not None:
            try:
                await self.core.send_text(int(chat), answer.reply, None)
            except Exception as exc:
                log.warning("telegram practitioner reply failed error=%s", type(exc).__name__)
        return True

    async def _bind(self, chat: str, code: str) -> bool:
        app = self.app
        lookup = store.activation_lookup(app.crypto, code)
        try:
            async with app.db.transaction() as tx:
                bound = await store.bind_chat(
                    tx, app.crypto, lookup, chat, address_hash(app, NAME, chat), app.clock.now()
                )
                await tx.commit()
        except sqlite3.IntegrityError:
            return False  # this chat already belongs to a live case: the code is just a message
        return bound is not None

    async def after_survivor(self, handled: Handled, chat: str, message_id: int | None) -> None:
        """Keep the message's id for a later deletion; empty the chat after a quick exit."""
        if handled.outcome in (Outcome.DUPLICATE, Outcome.UNKNOWN_SENDER):
            return
        case_id = await self.case_id(chat)
        if case_id is None:
            return
        if message_id is not None:
            await self._remember(case_id, message_id)
        if any(isinstance(e, QuickExitUsed) for e in handled.events):
            await purge_case(self.core, case_id, int(chat))

    async def case_id(self, chat: str) -> int | None:
        """The live case this chat belongs to, if any."""
        async with self.app.db.reading() as tx:
            case = await cases.by_address(tx, NAME, address_hash(self.app, NAME, chat))
        return case.id if case is not None and case.status in LIVE else None

    async def _remember(self, case_id: int, message_id: int) -> None:
        app = self.app
        now = app.clock.now()
        async with app.db.transaction() as tx:
            minutes = await store.autodelete_minutes(tx, case_id)
            delete_at = now + timedelta(minutes=minutes) if minutes else None
            await store.record(tx, case_id, message_id, now, delete_at)
            await tx.commit()

    # ----- everything that is not text ---------------------------------------------------------

    async def _not_text(self, message: Message, uid: str) -> None:
        """Stickers, photos, voice notes, files, places, contacts: kept nowhere. A survivor is asked,
        in her language, to type instead (so she does not think it was read); anyone else gets the
        neutral line, as for text. A caption is not read as an answer, but is screened for the codeword."""
        app, chat = self.app, str(message.chat.id)
        now = app.clock.now()
        inbound_msg = InboundMessage(NAME, chat, message.caption or "", uid, now)
        urgent = bool(message.caption) and await looks_urgent(app, inbound_msg)
        async with app.db.transaction(urgent=urgent) as tx:
            screened = await record_and_screen(tx, app, inbound_msg, now)
            if screened is None:
                return
            case = screened.case
            if case is None or case.status not in LIVE:
                await neutral_line(tx, app, inbound_msg, now)
            else:
                await outbox.to_survivor(
                    tx,
                    app.crypto,
                    case_id=case.id,
                    channel=NAME,
                    address=chat,
                    language=case.language,
                    timezone=case.timezone,
                    message=to_message(Reply(R.TEXT_ONLY)),
                    now=now,
                )
            await tx.commit()
        log.info("telegram non-text message kind=%s known=%s", _content_kind(message), case is not None)
        app.wake_dispatcher()
        if case is not None and case.status in LIVE:
            await self._remember(case.id, message.message_id)

    async def _edited(self, message: Message, uid: str) -> None:
        """An edit is not read as a new answer (her words were taken as first sent), but a codeword
        written into it raises the alert, silently: nothing is said in the chat."""
        words = message.text or message.caption
        if message.chat.type != ChatType.PRIVATE or not words:
            log.info("telegram edit ignored")
            return
        await screen_only(self.app, InboundMessage(NAME, str(message.chat.id), words, uid, self.app.clock.now()))
        log.info("telegram edited message screened")

    async def _membership(self, change: ChatMemberUpdated, uid: str) -> None:
        status = change.new_chat_member.status
        if change.chat.type != ChatType.PRIVATE:
            if status in ("member", "administrator"):
                await self._leave(change.chat.id)
            return
        if status == "kicked":
            await self._blocked(str(change.chat.id), uid)

    async def _blocked(self, chat: str, uid: str) -> None:
        """The survivor (or whoever holds the phone) blocked the bot: the IDVA must know now."""
        app = self.app
        now = app.clock.now()
        async with app.db.transaction(urgent=True) as tx:
            row_id = await inbound.record(tx, NAME, uid, now)
            if row_id is None:
                return
            case = await cases.by_address(tx, NAME, address_hash(app, NAME, chat))
            await inbound.attach(tx, app.crypto, row_id, case.id if case else None, None)
            if case is None or case.status not in LIVE:
                await tx.commit()
                return
            await audit.log(tx, now, "system", "telegram_blocked", case.id)
            if not await alerts.open_exists(tx, case.id, AlertReason.CHANNEL_DEAD.value):
                service = await services.get(tx, case.service_id)
                await alerting.raise_alert(tx, service, case, Severity.RAISED, AlertReason.CHANNEL_DEAD, now)
            await tx.commit()
        log.warning("telegram survivor chat blocked the bot case=%s", case.ref)
        app.wake_dispatcher()

    async def _leave(self, chat_id: int) -> None:
        await self.core.ready()
        try:
            await self.core.application.bot.leave_chat(chat_id)
        except TelegramError as exc:
            log.warning("telegram leaveChat failed error=%s", type(exc).__name__)
        log.info("telegram left a group or channel")

def _kind(update: Update) -> str:
    for name in ("edited_channel_post", "message_reaction", "poll", "chat_member", "inline_query"):
        if getattr(update, name, None) is not None:
            return name
    return "other"


def _content_kind(message: Message) -> str:
    for name in ("sticker", "photo", "voice", "video", "video_note", "audio", "document", "location", "contact"):
        if getattr(message, name, None):
            return name
    return "other"
