"""The one inbound pipeline, for every channel and every sender.

dedupe by provider id -> identify once (practitioner or case) -> the pure decision in flows/ and
safety/ -> everything it caused, as one unit of work: one call on the database's writer thread.

Channels only verify and parse (bot.inbound); what they must do afterwards comes back as data.
If acting on a message fails, its unit rolls back and the message is kept on its own instead,
flagged for a person; a codeword in it still alerts. Only if even that fails does the error reach
the channel, whose webhook then answers 5xx so that the provider delivers it again.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import alerting, codeword_only, delivery_reports, identify, practitioner_inbound
from bot.core import Core
from bot.handlers import Effects
from bot.i18n import to_message
from bot.inbound import (
    MAX_STORED_TEXT,
    AckTapped,
    Blocked,
    DeliveryReport,
    Edited,
    ExitTapped,
    Inbound,
    NotText,
    OptionTapped,
    Outcome,
    Received,
    Start,
    Text,
    Unreadable,
)
from bot.survivor_step import CARRIER_OPT_OUT_CHANNELS, advance, keeps_words, neutral_line
from flows import replies as R
from flows.events import QuickExitUsed
from flows.model import CaseStatus, ExitPressed, Flow, Input, Message, Reply
from safety.model import AlertReason, Severity
from safety.screening import OPT_OUT_WORDS, screen
from storage import alerts, audit, checkins, inbound, outbox, services
from storage import telegram as telegram_store
from storage.cases import Case
from storage.db import Tx

log = logging.getLogger("safecheck.pipeline")
LIVE = ("pending", "onboarding", "active", "paused")
TELEGRAM = "telegram"  # the one channel whose chats we can empty, and whose message ids we keep


async def receive(core: Core, msg: Inbound) -> Received:
    """Handle one inbound message exactly once. Raises only if it could not even be kept."""
    if isinstance(msg.payload, DeliveryReport):
        # Several reports come for one message (queued, sent, delivered...): each is recorded, and a
        # failure is acted on once (storage.sms.claim_failure), not deduplicated by provider id.
        report = msg.payload
        await delivery_reports.on_status(core, msg.provider_id, report.status, report.error_code)
        return Received(Outcome.PROCESSED)
    if isinstance(msg.payload, Unreadable):
        return await keep_failed(core, msg)
    now = core.clock.now()
    urgent = isinstance(msg.payload, (ExitTapped, AckTapped, Blocked)) or await identify.looks_urgent(
        core, msg.channel, msg.address, _words(msg)
    )
    try:
        received = await core.db.run(lambda tx: _unit(tx, core, msg, now), urgent=urgent)
    except _StaffFailed as failed:
        # A practitioner's message is not set aside: the provider offers it again (5xx, unconfirmed).
        log.error("practitioner message failed channel=%s error=%s", msg.channel, type(failed.cause).__name__)
        raise failed.cause from None
    except Exception as exc:
        log.error("inbound processing failed channel=%s error=%s", msg.channel, type(exc).__name__)
        return await keep_failed(core, msg)
    if received.outcome is Outcome.DUPLICATE:
        log.info("duplicate inbound channel=%s", msg.channel)
    core.wake_dispatcher()
    return received


def _words(msg: Inbound) -> str:
    """The words in a message that screening reads: an answer, a caption, an edit."""
    payload = msg.payload
    if isinstance(payload, Text):
        return payload.text
    if isinstance(payload, Start):
        return payload.argument
    if isinstance(payload, NotText):
        return payload.caption
    if isinstance(payload, Edited):
        return payload.words
    return ""


async def _unit(tx: Tx, core: Core, msg: Inbound, now: datetime) -> Received:
    """The whole of one message, on the writer's thread. It awaits nothing but `tx`."""
    arrived = msg.received_at or now
    message_id = await inbound.record(tx, msg.channel, msg.provider_id, arrived)
    if message_id is None:
        return Received(Outcome.DUPLICATE)
    payload = msg.payload
    if isinstance(payload, Start):
        link = payload.argument.lower().startswith("link-")
        said = f"LINK {payload.argument[5:]}" if link else None
        payload = await _start(tx, core, msg, payload, now)
    else:
        said = payload.text if isinstance(payload, Text) else None
    try:
        if said is not None:  # words that may be a practitioner's ACK or LINK
            answer = await practitioner_inbound.handle_text(tx, core, msg.channel, msg.address, said, arrived, now)
            if answer is not None:
                await tx.commit()
                return Received(Outcome.PROCESSED, reply=answer.reply)
        if isinstance(payload, AckTapped):
            tapped = await practitioner_inbound.acknowledge_tap(tx, core, msg.channel, msg.address, payload.token, now)
            await tx.commit()
            return tapped
    except Exception as exc:
        raise _StaffFailed(exc) from exc
    case = await identify.case(tx, core, msg.channel, msg.address)
    if isinstance(payload, Blocked):
        return await _blocked(tx, core, message_id, case, now)
    if isinstance(payload, (NotText, Edited)):
        return await _words_only(tx, core, msg, payload, message_id, case, now)
    if isinstance(payload, OptionTapped):
        if payload.question is None or (case is not None and await _stale(tx, case, payload.question)):
            await tx.commit()  # recorded: a redelivered tap is a duplicate, not a second look
            return Received(Outcome.PROCESSED, drop_buttons=True)
        payload = Text(str(payload.option))
    if not isinstance(payload, (Text, ExitTapped)):
        raise TypeError(f"no survivor input for {type(payload).__name__}")
    inp: Input = ExitPressed() if isinstance(payload, ExitTapped) else Message(payload.text)
    received = await _survivor(tx, core, msg, inp, message_id, case, now)
    if isinstance(msg.payload, OptionTapped):
        received = Received(received.outcome, received.events, show_option=received.outcome is Outcome.PROCESSED)
    await tx.commit()
    return received


class _StaffFailed(Exception):
    """A practitioner's message could not be handled: it is offered again, never kept as failed."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


async def _start(tx: Tx, core: Core, msg: Inbound, start: Start, now: datetime) -> Text:
    """Telegram's /start: an activation code first binds the chat to the pending case it was made
    for, then goes through activation like a typed code. (`link-…` is a practitioner's: see _unit.)"""
    argument = start.argument
    if argument and not argument.lower().startswith("link-"):
        lookup = telegram_store.activation_lookup(core.crypto, argument)
        chat_hash = identify.address_hash(core, msg.channel, msg.address)
        try:
            if await telegram_store.bind_chat(tx, core.crypto, lookup, msg.address, chat_hash, now) is not None:
                log.info("telegram chat bound to a pending case by deep link")
        except sqlite3.IntegrityError:
            pass  # this chat already belongs to a live case: the code is just a message
    return Text(argument or "/start", start.message_id)


async def _survivor(
    tx: Tx, core: Core, msg: Inbound, inp: Input, message_id: int, case: Case | None, now: datetime
) -> Received:
    folded = msg.payload.folded if isinstance(msg.payload, Text) else ""
    carrier_opt_out = msg.channel in CARRIER_OPT_OUT_CHANNELS and folded in OPT_OUT_WORDS
    if case is None:
        # Unknown senders learn nothing: one neutral line (none after a carrier's STOP), and no
        # case is read or touched.
        if not carrier_opt_out:
            await neutral_line(tx, core, msg.channel, msg.address, now)
        return Received(Outcome.UNKNOWN_SENDER)
    inactive = case.status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)
    service = await services.get(tx, case.service_id)
    step = await advance(tx, core, case, service, inp, now, Effects(how=msg.channel))
    if carrier_opt_out:
        await outbox.cancel_for_survivor(tx, case.id)
    elif inactive and isinstance(inp, Message):
        # A closed or withdrawn case answers exactly like an unknown number (a codeword in the
        # message still alerted, silently), so the phone cannot tell it was ever enrolled.
        await neutral_line(tx, core, msg.channel, msg.address, now)
    text = inp.text if isinstance(inp, Message) else ""
    await inbound.attach(tx, core.crypto, message_id, case.id, text if keeps_words(case, step) else None)
    purge = None
    if msg.channel == TELEGRAM:
        purge = case.id if any(isinstance(e, QuickExitUsed) for e in step.events) else None
        await _remember(tx, case.id, _message_id(msg), now)
    return Received(Outcome.PROCESSED, step.events, purge_case=purge)


def _message_id(msg: Inbound) -> int | None:
    payload = msg.payload
    return payload.message_id if isinstance(payload, (Text, Start, NotText)) else None


async def _remember(tx: Tx, case_id: int, message_id: int | None, now: datetime) -> None:
    """Keep a Telegram message's id while its case is live, for auto-delete and a quick exit."""
    if message_id is None:
        return
    status = await tx.scalar("SELECT status FROM cases WHERE id = ?", (case_id,))  # as this step left it
    if status not in LIVE:
        return
    minutes = await telegram_store.autodelete_minutes(tx, case_id)
    delete_at = now + timedelta(minutes=minutes) if minutes else None
    await telegram_store.record(tx, case_id, message_id, now, delete_at)


async def _stale(tx: Tx, case: Case, question: int) -> bool:
    """An old question's button must not answer today's question."""
    if case.status not in LIVE:
        return False
    latest = await telegram_store.latest_question(tx, case.id)
    return latest is not None and question != latest


async def _blocked(tx: Tx, core: Core, message_id: int, case: Case | None, now: datetime) -> Received:
    """The survivor (or whoever holds the phone) blocked the bot: the IDVA must know now."""
    await inbound.attach(tx, core.crypto, message_id, case.id if case else None, None)
    if case is None or case.status not in LIVE:
        await tx.commit()
        return Received(Outcome.UNKNOWN_SENDER)
    await audit.log(tx, now, "system", "telegram_blocked", case.id)
    if not await alerts.open_exists(tx, case.id, AlertReason.CHANNEL_DEAD.value):
        service = await services.get(tx, case.service_id)
        await alerting.raise_alert(tx, service, case, Severity.RAISED, AlertReason.CHANNEL_DEAD, now)
    await tx.commit()
    log.warning("survivor chat blocked the bot case=%s", case.ref)
    return Received(Outcome.PROCESSED)


async def _words_only(
    tx: Tx, core: Core, msg: Inbound, payload: NotText | Edited, message_id: int, case: Case | None, now: datetime
) -> Received:
    """A caption or an edit: screened for the codeword, never read as an answer, never kept.

    A non-text message gets a line asking her to type (or the neutral line for anyone else), so
    she does not think it was read; an edit gets nothing, so nothing shows in the chat.
    """
    words = payload.caption if isinstance(payload, NotText) else payload.words
    codeword = await codeword_only.screen_in_unit(tx, core, message_id, case, words, now)
    if isinstance(payload, NotText):
        if case is None or case.status not in LIVE:
            await neutral_line(tx, core, msg.channel, msg.address, now)
        else:
            await outbox.to_survivor(
                tx,
                core.crypto,
                case_id=case.id,
                channel=msg.channel,
                address=msg.address,
                language=case.language,
                timezone=case.timezone,
                message=to_message(Reply(R.TEXT_ONLY)),
                now=now,
            )
            await _remember(tx, case.id, payload.message_id, now)
        log.info("non-text message kind=%s known=%s", payload.kind, case is not None)
    elif codeword:
        log.info("codeword found outside an answer channel=%s", msg.channel)
    await tx.commit()
    return Received(Outcome.PROCESSED if case is not None else Outcome.UNKNOWN_SENDER)


async def keep_failed(core: Core, msg: Inbound) -> Received:
    """Keep a message we could not act on, flagged for a person; the IDVA is told, a codeword alerts."""
    now = core.clock.now()
    words = _words(msg)[:MAX_STORED_TEXT] if not isinstance(msg.payload, Unreadable) else msg.payload.text
    received = await core.db.run(lambda tx: _keep_failed(tx, core, msg, words, now), urgent=True)
    core.wake_dispatcher()
    return received


async def _keep_failed(tx: Tx, core: Core, msg: Inbound, words: str, now: datetime) -> Received:
    message_id = await inbound.record(tx, msg.channel, msg.provider_id, msg.received_at or now)
    if message_id is None:
        return Received(Outcome.DUPLICATE)
    case = await identify.case(tx, core, msg.channel, msg.address) if msg.address else None
    codeword = secret = False
    if case is not None:
        found = screen(words, identify.secrets_of(case), core.crypto.secret_hasher(case.salt))
        codeword = found.codeword
        onboarding = (await checkins.conversation(tx, case.id)).state.flow is Flow.ONBOARDING
        secret = found.codeword or found.quick_exit or found.pin or onboarding
    # The words are kept for a person to read, unless they may hold a secret (a codeword, a PIN, or
    # a word being chosen during onboarding): secrets are only ever stored as hashes.
    await inbound.attach(tx, core.crypto, message_id, case.id if case else None, None if secret else words)
    await inbound.mark_failed(tx, message_id)
    if case is not None:
        service = await services.get(tx, case.service_id)
        if codeword:
            urgent, codeword_reason = Severity.URGENT, AlertReason.CODEWORD
            await alerting.raise_alert(tx, service, case, urgent, codeword_reason, now, crypto=core.crypto)
        await alerting.raise_alert(tx, service, case, Severity.HIGH, AlertReason.PROCESSING_FAILED, now)
    await tx.commit()
    return Received(Outcome.FAILED)


# ----- the entry points the tests, the bench and older callers use ------------------------------


@dataclass(frozen=True)
class InboundMessage:
    """A typed message from any transport (kept for callers that predate bot.inbound)."""

    channel: str
    address: str
    text: str
    provider_id: str
    received_at: datetime | None = None


Handled = Received


async def handle_inbound(core: Core, msg: InboundMessage) -> Received:
    return await receive(core, Inbound(msg.channel, msg.address, msg.provider_id, Text(msg.text), msg.received_at))


async def handle_input(
    core: Core, channel: str, address: str, inp: Input, provider_id: str, received_at: datetime | None = None
) -> Received:
    """A non-text input from the survivor's phone (a tapped Exit button), handled like a message."""
    if not isinstance(inp, ExitPressed):
        raise TypeError(f"no inbound payload for {type(inp).__name__}")
    return await receive(core, Inbound(channel, address, provider_id, ExitTapped(), received_at))
