"""Button presses on Telegram: a survivor's answer or exit, a practitioner's Acknowledge.

Callback data comes from the user's client, so it is decoded strictly (bot.channels.telegram_ui)
and trusted for nothing: an answer goes through the pipeline like a typed one, and an Acknowledge
button's token is looked up and its presser checked (bot.practitioner_inbound).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import CallbackQuery, Message
from telegram.error import TelegramError

from bot import practitioner_inbound
from bot.channels import telegram_ui as ui
from bot.channels.telegram_channel import NAME
from bot.pipeline import InboundMessage, Outcome, handle_inbound, handle_input
from flows.model import ExitPressed
from storage import telegram as store

if TYPE_CHECKING:
    from bot.channels.telegram_updates import Router

log = logging.getLogger("safecheck.telegram")


class Taps:
    def __init__(self, router: Router) -> None:
        self.router = router

    async def handle(self, query: CallbackQuery, uid: str) -> None:
        """A press: an answer or the exit (through the pipeline), or Acknowledge; always answered."""
        tap = ui.decode(query.data)
        chat = str(query.from_user.id)
        shown = query.message if isinstance(query.message, Message) else None
        note: str | None = None
        if tap.kind == "ack":
            note = await self._ack(chat, tap.token, uid, shown)
        elif tap.kind == "old_ack":
            note = practitioner_inbound.OLD_BUTTON
        elif tap.kind == "exit":
            handled = await handle_input(self.router.app, NAME, chat, ExitPressed(), uid)
            await self._answer(query, None)
            await self.router.after_survivor(handled, chat, None)
            return
        elif tap.kind == "option":
            tapped = query.message.message_id if query.message is not None else None  # maybe too old to read
            if tapped is None or await self._stale(chat, tapped):
                # An old question's button must not answer today's question: it just goes away.
                if shown is not None:
                    await self._drop_buttons(shown)
                await self._answer(query, None)
                return
            handled = await handle_inbound(self.router.app, InboundMessage(NAME, chat, str(tap.option), uid))
            if handled.outcome is Outcome.PROCESSED and shown is not None:
                await self._show_answer(shown, tap.option)
            await self._answer(query, None)
            await self.router.after_survivor(handled, chat, None)
            return
        await self._answer(query, note)

    async def _stale(self, chat: str, message_id: int) -> bool:
        case_id = await self.router.case_id(chat)
        if case_id is None:
            return False
        async with self.router.app.db.reading() as tx:
            latest = await store.latest_question(tx, case_id)
        return latest is not None and message_id != latest

    async def _ack(self, chat: str, token: str, uid: str, shown: Message | None) -> str | None:
        app = self.router.app
        pressed = await practitioner_inbound.acknowledge_by_button(app, NAME, chat, token, uid)
        if pressed is None:
            return None  # a redelivered press: handled, and answered, the first time
        if pressed.acknowledged and shown is not None:
            at = app.clock.now().strftime("%H:%M UTC %d %b")
            await self._edit(shown, ui.acknowledged_text(shown.text or "", f"Acknowledged by {pressed.by} at {at}"))
        return pressed.note

    async def _show_answer(self, shown: Message, option: int) -> None:
        labels = ui.option_labels(shown.reply_markup)
        await self._edit(shown, ui.answered_text(shown.text or "", labels, option))

    async def _edit(self, shown: Message, text: str) -> None:
        """Replace the message's text and drop its buttons. Cosmetic: a failure changes nothing else."""
        try:
            await self.router.core.application.bot.edit_message_text(
                text, chat_id=shown.chat.id, message_id=shown.message_id, reply_markup=None
            )
        except TelegramError as exc:
            log.info("telegram edit skipped error=%s", type(exc).__name__)

    async def _drop_buttons(self, shown: Message) -> None:
        try:
            await self.router.core.application.bot.edit_message_reply_markup(
                chat_id=shown.chat.id, message_id=shown.message_id, reply_markup=None
            )
        except TelegramError as exc:
            log.info("telegram edit skipped error=%s", type(exc).__name__)

    async def _answer(self, query: CallbackQuery, text: str | None) -> None:
        try:
            await self.router.core.application.bot.answer_callback_query(query.id, text=text)
        except TelegramError as exc:  # e.g. too old: the tap was still handled
            log.info("telegram callback answer skipped error=%s", type(exc).__name__)
