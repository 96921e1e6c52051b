"""The inbound pipeline: dedupe -> identify -> engine -> one transaction of everything it caused."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot import alerting
from bot.app import App
from bot.handlers import HANDLERS, Effects, H
from bot.i18n import SOURCE_LANGUAGE, to_message
from flows import engine
from flows import replies as R
from flows.events import Activated, ConsentRecorded, ConsentWithdrawn, Event, LanguageChosen
from flows.model import CaseStatus, Context, ExitPressed, Flow, Input, Message, Reply, Step
from safety.model import AlertReason, Severity, SurvivorSecrets
from safety.normalise import normalise
from safety.screening import OPT_OUT_WORDS, screen
from storage import cases, checkins, inbound, outbox, services
from storage.cases import Case
from storage.checkins import Conversation
from storage.db import Tx
from storage.services import Service

log = logging.getLogger("safecheck.pipeline")
MAX_STORED_TEXT = 10_000  # a huge message is cut, never refused: nothing is lost that a person could read
# Where the carrier itself answers its opt-out words (STOP...) and then blocks our sends: any reply
# would only fail (Twilio error 21610), so none is queued.
CARRIER_OPT_OUT_CHANNELS = frozenset({"sms"})


@dataclass(frozen=True)
class InboundMessage:
    """A message from any transport, normalised by its channel adapter."""

    channel: str
    address: str
    text: str
    provider_id: str
    received_at: datetime | None = None


class Outcome(str, Enum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    UNKNOWN_SENDER = "unknown_sender"
    FAILED = "failed"  # kept and flagged for a person; nothing lost


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    events: tuple[Event, ...] = ()


def address_hash(app: App, channel: str, address: str) -> bytes:
    return cases.address_lookup(app.crypto, channel, address)


async def handle_inbound(app: App, msg: InboundMessage) -> Handled:
    """Store the message exactly once and act on it, all in one transaction.

    If acting on it fails, the transaction rolls back and the message is kept on its own instead,
    flagged for a person; a codeword in it still alerts. Only if even that fails does the error
    reach the caller, whose webhook then answers 5xx so that the provider delivers it again.
    """
    return await _safely(app, msg, Message(msg.text[:MAX_STORED_TEXT]))


async def handle_input(
    app: App, channel: str, address: str, inp: Input, provider_id: str, received_at: datetime | None = None
) -> Handled:
    """A non-text input from the survivor's phone (e.g. a tapped Exit button), handled like a message."""
    return await _safely(app, InboundMessage(channel, address, "", provider_id, received_at), inp)


async def _safely(app: App, msg: InboundMessage, inp: Input) -> Handled:
    try:
        return await _handle(app, msg, inp)
    except Exception as exc:
        log.error("inbound processing failed channel=%s error=%s", msg.channel, type(exc).__name__)
        return await keep_failed(app, msg)


async def keep_failed(app: App, msg: InboundMessage) -> Handled:
    now = app.clock.now()
    async with app.db.transaction(urgent=True) as tx:
        message_id = await inbound.record(tx, msg.channel, msg.provider_id, msg.received_at or now)
        if message_id is None:
            return Handled(Outcome.DUPLICATE)
        case = await cases.by_address(tx, msg.channel, address_hash(app, msg.channel, msg.address))
        codeword = secret = False
        if case is not None:
            found = screen(msg.text, secrets_of(case), app.crypto.secret_hasher(case.salt))
            codeword = found.codeword
            onboarding = (await checkins.conversation(tx, case.id)).state.flow is Flow.ONBOARDING
            secret = found.codeword or found.quick_exit or found.pin or onboarding
        # The words are kept for a person to read, unless they may hold a secret (a codeword, a PIN, or
        # a word being chosen during onboarding): secrets are only ever stored as hashes.
        keep = not secret
        body = msg.text[:MAX_STORED_TEXT] if keep else None
        await inbound.attach(tx, app.crypto, message_id, case.id if case else None, body)
        await inbound.mark_failed(tx, message_id)
        if case is not None:
            service = await services.get(tx, case.service_id)
            if codeword:
                await alerting.raise_alert(tx, service, case, Severity.URGENT, AlertReason.CODEWORD, now)
            await alerting.raise_alert(tx, service, case, Severity.HIGH, AlertReason.PROCESSING_FAILED, now)
        await tx.commit()
    app.wake_dispatcher()
    return Handled(Outcome.FAILED)


async def looks_urgent(app: App, msg: InboundMessage) -> bool:
    """A quick look on the read connection: a codeword or an exit word jumps the writer's queue.

    Screening is pure and cheap, so under a burst of ordinary answers the message that matters
    most is not stuck behind them. The real screening runs again inside the transaction.
    """
    try:
        async with app.db.reading() as tx:
            case = await cases.by_address(tx, msg.channel, address_hash(app, msg.channel, msg.address))
    except Exception as exc:  # only a priority hint: the message is still handled, in its turn
        log.warning("pre-screen read failed error=%s", type(exc).__name__)
        return False
    if case is None or not (case.codeword_hash or case.exit_word_hash):
        return False
    found = screen(msg.text[:MAX_STORED_TEXT], secrets_of(case), app.crypto.secret_hasher(case.salt))
    return found.codeword or found.quick_exit


async def _handle(app: App, msg: InboundMessage, inp: Input) -> Handled:
    urgent = isinstance(inp, ExitPressed) or await looks_urgent(app, msg)
    now = app.clock.now()
    text = msg.text[:MAX_STORED_TEXT]
    async with app.db.transaction(urgent=urgent) as tx:
        message_id = await inbound.record(tx, msg.channel, msg.provider_id, msg.received_at or now)
        if message_id is None:
            log.info("duplicate inbound channel=%s", msg.channel)
            return Handled(Outcome.DUPLICATE)
        case = await cases.by_address(tx, msg.channel, address_hash(app, msg.channel, msg.address))
        if case is None and carrier_opted_out(msg):
            await tx.commit()
            handled = Handled(Outcome.UNKNOWN_SENDER)
        elif case is None:
            # Unknown senders learn nothing: one neutral line, and no case is read or touched.
            await neutral_line(tx, app, msg, now)
            await tx.commit()
            handled = Handled(Outcome.UNKNOWN_SENDER)
        else:
            inactive = case.status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)
            step = await advance(tx, app, case, inp, now, Effects(how=msg.channel))
            if carrier_opted_out(msg):
                await outbox.cancel_for_survivor(tx, case.id)
            elif inactive and isinstance(inp, Message):
                # A closed or withdrawn case answers exactly like an unknown number (a codeword in the
                # message still alerted, silently), so the phone cannot tell it was ever enrolled.
                await neutral_line(tx, app, msg, now)
            await inbound.attach(tx, app.crypto, message_id, case.id, text if keeps_words(case, step) else None)
            await tx.commit()
            handled = Handled(Outcome.PROCESSED, step.events)
    app.wake_dispatcher()
    return handled


async def neutral_line(tx: Tx, app: App, msg: InboundMessage, now: datetime) -> None:
    """The one line a sender who is not an active survivor gets, tied to no case."""
    await outbox.to_survivor(
        tx,
        app.crypto,
        case_id=None,
        channel=msg.channel,
        address=msg.address,
        language=SOURCE_LANGUAGE,
        timezone="Europe/London",
        message=to_message(Reply(R.NEUTRAL)),
        now=now,
    )


def carrier_opted_out(msg: InboundMessage) -> bool:
    return msg.channel in CARRIER_OPT_OUT_CHANNELS and normalise(msg.text) in OPT_OUT_WORDS


def keeps_words(case: Case, step: Step) -> bool:
    """Whether the message's words may be kept: not a secret, and consent not withdrawn."""
    withdrawn = case.status in ("withdrawn", "closed") or any(
        isinstance(e, ConsentWithdrawn) or (isinstance(e, ConsentRecorded) and not e.agreed) for e in step.events
    )
    return not (step.sensitive or withdrawn)


def secrets_of(case: Case) -> SurvivorSecrets:
    return SurvivorSecrets(
        exit_word=case.exit_word_hash,
        codewords=frozenset({case.codeword_hash}) if case.codeword_hash else frozenset(),
        pin=case.pin_hash,
        duress_pin=case.duress_pin_hash,
    )


async def context_for(tx: Tx, app: App, case: Case, service: Service, now: datetime) -> Context:
    activation = case.activation_hash
    if case.activation_expires_at is not None and case.activation_expires_at < now:
        activation = None
    return Context(
        now=now,
        status=CaseStatus(case.status),
        questionset=app.questionset(service.questionset),
        secrets=secrets_of(case),
        hasher=app.crypto.secret_hasher(case.salt),
        history=await cases.history(tx, case),
        sender_name=service.sender_name,
        exit_pause=timedelta(minutes=case.exit_pause_minutes),
        activation_code=activation,
        cover_line=service.cover_line,
        carrier_opt_out=case.channel in CARRIER_OPT_OUT_CHANNELS,
        missed_alerts_agreed=case.missed_alerts_agreed,
        missed_policy=service.missed_policy,
        language=case.language,
        languages=service.languages,
        translate=app.catalogs.gettext,
    )


async def advance(tx: Tx, app: App, case: Case, inp: Input, now: datetime, effects: Effects) -> Step:
    """Run the engine on one input and persist everything the step says, in the caller's transaction."""
    convo = await checkins.conversation(tx, case.id)
    service = await services.get(tx, case.service_id)
    ctx = await context_for(tx, app, case, service, now)
    step = engine.handle(convo.state, inp, ctx)
    if effects.checkin_id is None:
        effects.checkin_id = convo.checkin_id
    if step.answers and effects.checkin_id is not None:
        await checkins.add_answers(tx, app.crypto, case.id, effects.checkin_id, step.answers, now)
    h = H(tx, app, case, service, effects, now)
    for event in step.events:
        await HANDLERS[type(event)](h, event)
    # A language chosen in this very step applies to its replies: the confirmation is in the new one.
    language = next((e.language for e in reversed(step.events) if isinstance(e, LanguageChosen)), case.language)
    if case.status == CaseStatus.PENDING.value and not any(isinstance(e, Activated) for e in step.events):
        # A wrong activation code gets exactly an unknown sender's line, in the same language:
        # a Welsh reply would tell whoever holds the phone that this number is enrolled.
        language = SOURCE_LANGUAGE
    address = cases.address_of(app.crypto, case) if step.replies else None
    if address is not None:
        expires = None  # any reply: a day
        if step.state.flow is Flow.CHECKIN and effects.checkin_id is not None:  # a question: its check-in's end
            started = await checkins.started_at(tx, effects.checkin_id) or now
            expires = started + service.missed_policy.grace
        for reply in step.replies:
            await outbox.to_survivor(
                tx,
                app.crypto,
                case_id=case.id,
                channel=case.channel,
                address=address,
                language=language,
                timezone=case.timezone,
                message=to_message(reply),
                now=now,
                expires_at=expires,
            )
    in_checkin = step.state.flow is Flow.CHECKIN
    await checkins.save_conversation(
        tx, case.id, Conversation(step.state, effects.checkin_id if in_checkin else None), now
    )
    return step

