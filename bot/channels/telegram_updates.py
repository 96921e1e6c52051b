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

from telegram import ChatMemberUpdated, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.channels import telegram_raw
from bot.channels.telegram_channel import NAME, TelegramCore
from bot.channels.telegram_cleanup import purge_case
from bot.channels.telegram_taps import Taps
from bot.inbound import Blocked, Edited, Host, Inbound, NotText, Outcome, Payload, Received, Start, Text, Unreadable
from storage.db import StorageError

log = logging.getLogger("safecheck.telegram")


class Router:
    """Parses each update into one typed inbound value for the pipeline, then does what it says back."""

    def __init__(self, core: TelegramCore) -> None:
        self.core = core
        self.taps = Taps(self)

    @property
    def host(self) -> Host:
        if self.core.host is None:
            raise RuntimeError("the Telegram transport was not started")
        return self.core.host

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
        handled = await self.receive(found.chat or "", found.provider_id, Unreadable(found.text))
        log.warning("telegram update kept for a person outcome=%s", handled.outcome.value)

    async def receive(self, chat: str, uid: str, payload: Payload) -> Received:
        """Hand one parsed input to the pipeline (our clock: Telegram's dates are whole seconds)."""
        host = self.host
        return await host.receive(Inbound(NAME, chat, uid, payload, host.core.clock.now()))

    async def _route(self, update: Update) -> None:
        uid = f"u{update.update_id}"
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

    async def _text(self, message: Message, uid: str) -> None:
        chat, text = str(message.chat.id), message.text or ""
        words = text.split()
        payload: Payload
        if words and words[0].lower() in ("/start", f"/start@{(self.core.settings.bot_username or '').lower()}"):
            payload = Start(words[1] if len(words) > 1 else "", message.message_id)
        else:
            payload = Text(text, message.message_id)
        await self.after(await self.receive(chat, uid, payload), chat)

    async def after(self, handled: Received, chat: str) -> None:
        """What the pipeline left to the channel: answer a practitioner, empty the chat after a quick exit."""
        if handled.outcome is not Outcome.PROCESSED:
            return
        if handled.reply is not None:
            try:
                await self.core.send_text(int(chat), handled.reply, None)
            except Exception as exc:
                log.warning("telegram practitioner reply failed error=%s", type(exc).__name__)
        if handled.purge_case is not None:
            await purge_case(self.core, handled.purge_case, int(chat))

    async def _not_text(self, message: Message, uid: str) -> None:
        """Stickers, photos, voice notes, files, places, contacts: kept nowhere. A survivor is asked,
        in her language, to type instead (so she does not think it was read); anyone else gets the
        neutral line, as for text. A caption is not read as an answer, but is screened for the codeword."""
        payload = NotText(message.caption or "", _content_kind(message), message.message_id)
        await self.receive(str(message.chat.id), uid, payload)

    async def _edited(self, message: Message, uid: str) -> None:
        """An edit is not read as a new answer (her words were taken as first sent), but a codeword
        written into it raises the alert, silently: nothing is said in the chat."""
        words = message.text or message.caption
        if message.chat.type != ChatType.PRIVATE or not words:
            log.info("telegram edit ignored")
            return
        await self.receive(str(message.chat.id), uid, Edited(words))
        log.info("telegram edited message screened")

    async def _membership(self, change: ChatMemberUpdated, uid: str) -> None:
        status = change.new_chat_member.status
        if change.chat.type != ChatType.PRIVATE:
            if status in ("member", "administrator"):
                await self._leave(change.chat.id)
            return
        if status == "kicked":  # the survivor (or whoever holds the phone) blocked the bot
            await self.receive(str(change.chat.id), uid, Blocked())

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
