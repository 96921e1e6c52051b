"""Button presses on Telegram: a survivor's answer or exit, a practitioner's Acknowledge.

Callback data comes from the user's client, so it is decoded strictly (bot.channels.telegram_ui)
and trusted for nothing: every press goes through the pipeline, where an answer is taken like a typed
one and an Acknowledge button's token is looked up and its presser checked (bot.practitioner_inbound).
"""

from __future__ import annotations

import logging
from typing import Protocol

from telegram import CallbackQuery, Message
from telegram.error import TelegramError

from bot import practitioner_inbound
from bot.channels import telegram_ui as ui
from bot.channels.telegram_channel import TelegramCore
from bot.inbound import AckTapped, ExitTapped, Host, OptionTapped, Outcome, Payload, Received


class Router(Protocol):
    """The part of the update router (bot.channels.telegram_updates) a press needs."""

    core: TelegramCore

    @property
    def host(self) -> Host: ...

    async def receive(self, chat: str, uid: str, payload: Payload) -> Received: ...

    async def after(self, handled: Received, chat: str) -> None: ...


log = logging.getLogger("safecheck.telegram")


class Taps:
    def __init__(self, router: Router) -> None:
        self.router = router

    async def handle(self, query: CallbackQuery, uid: str) -> None:
        """A press: an answer, the exit or Acknowledge, through the pipeline; answered unless redelivered."""
        tap = ui.decode(query.data)
        chat = str(query.from_user.id)
        shown = query.message if isinstance(query.message, Message) else None
        payload: Payload
        if tap.kind == "old_ack":
            await self._answer(query, practitioner_inbound.OLD_BUTTON)
            return
        if tap.kind == "ack":
            payload = AckTapped(tap.token)
        elif tap.kind == "exit":
            payload = ExitTapped()
        elif tap.kind == "option":
            # The question's id, if the message is not too old to read: an old question's button
            # must not answer today's question.
            payload = OptionTapped(tap.option, query.message.message_id if query.message is not None else None)
        else:
            await self._answer(query, None)
            return
        handled = await self.router.receive(chat, uid, payload)
        if handled.outcome is Outcome.DUPLICATE:
            return  # a redelivered press: handled, and answered, the first time
        if shown is not None:
            if handled.drop_buttons:
                await self._drop_buttons(shown)
            elif handled.show_option and isinstance(payload, OptionTapped):
                await self._show_answer(shown, payload.option)
            elif handled.acknowledged_by is not None:
                at = self.router.host.core.clock.now().strftime("%H:%M UTC %d %b")
                by = f"Acknowledged by {handled.acknowledged_by} at {at}"
                await self._edit(shown, ui.acknowledged_text(shown.text or "", by))
        await self._answer(query, handled.note)
        await self.router.after(handled, chat)

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
