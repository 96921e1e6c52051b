"""One input to a survivor's conversation: run the engine and write everything the step says.

Shared by the inbound pipeline (her messages) and the timers (a check-in starts, a nudge, an end),
always inside the caller's unit of work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core import Core
from bot.handlers import HANDLERS, Effects, H
from bot.i18n import SOURCE_LANGUAGE, to_message
from bot.identify import secrets_of
from flows import cover, engine, rotation
from flows import replies as R
from flows.events import Activated, ConsentRecorded, ConsentWithdrawn, LanguageChosen
from flows.model import CaseStatus, Context, Flow, Input, Reply, StartCheckin, Step
from storage import cases, checkins, outbox
from storage import telegram as telegram_store
from storage.cases import Case
from storage.checkins import Conversation
from storage.db import Tx
from storage.services import Service

# Where the carrier itself answers its opt-out words (STOP...) and then blocks our sends: any reply
# would only fail (Twilio error 21610), so none is queued.
CARRIER_OPT_OUT_CHANNELS = frozenset({"sms"})


async def neutral_line(tx: Tx, core: Core, channel: str, address: str, now: datetime) -> None:
    """The one line a sender who is not an active survivor gets, tied to no case."""
    await outbox.to_survivor(
        tx,
        core.crypto,
        case_id=None,
        channel=channel,
        address=address,
        language=SOURCE_LANGUAGE,
        timezone="Europe/London",
        message=to_message(Reply(R.NEUTRAL)),
        now=now,
    )


def keeps_words(case: Case, step: Step) -> bool:
    """Whether the message's words may be kept: not a secret, and consent not withdrawn."""
    withdrawn = case.status in ("withdrawn", "closed") or any(
        isinstance(e, ConsentWithdrawn) or (isinstance(e, ConsentRecorded) and not e.agreed) for e in step.events
    )
    return not (step.sensitive or withdrawn)


async def context_for(
    tx: Tx, core: Core, case: Case, service: Service, now: datetime, starting: bool = False
) -> Context:
    """What the engine may read about her case. `starting`: a check-in starts, so it needs which
    questions her recent check-ins asked (a query no other input pays for)."""
    activation = case.activation_hash
    if case.activation_expires_at is not None and case.activation_expires_at < now:
        activation = None
    questionset = core.questionset(service.questionset)
    theme = cover.theme_for(case.checkin_mode, case.cover_theme, questionset)
    if theme is not None:
        questionset = cover.apply(questionset, theme)
    within = questionset.rotation.within if questionset.rotation else 0
    return Context(
        now=now,
        status=CaseStatus(case.status),
        questionset=questionset,
        secrets=secrets_of(case),
        hasher=core.crypto.secret_hasher(case.salt),
        history=await cases.history(tx, case),
        sender_name=service.sender_name,
        exit_pause=timedelta(minutes=case.exit_pause_minutes),
        activation_code=activation,
        cover_line=service.cover_line,
        carrier_opt_out=case.channel in CARRIER_OPT_OUT_CHANNELS,
        missed_alerts_agreed=case.missed_alerts_agreed,
        secrets_in_person=case.secrets_set_in_person_at is not None,
        secrets_on_channel=case.secrets_on_channel
        and case.channel == "telegram"
        and bool(await telegram_store.autodelete_minutes(tx, case.id)),
        recent_questions=await checkins.recent_questions(tx, case.id, within * rotation.HISTORY_FACTOR)
        if starting
        else (),
        help_line=service.help_line,
        pin_prompt=theme.pin_prompt.inline.get(case.language, theme.pin_prompt.en) if theme else None,
        ended_line=theme.ended_line.inline.get(case.language, theme.ended_line.en) if theme else None,
        missed_policy=service.missed_policy,
        language=case.language,
        languages=service.languages,
        translate=core.catalogs.gettext,
    )


async def advance(
    tx: Tx, core: Core, case: Case, service: Service, inp: Input, now: datetime, effects: Effects
) -> Step:
    """Run the engine on one input and persist everything the step says, in the caller's transaction."""
    convo = await checkins.conversation(tx, case.id)
    ctx = await context_for(tx, core, case, service, now, starting=isinstance(inp, StartCheckin))
    step = engine.handle(convo.state, inp, ctx)
    if effects.checkin_id is None:
        effects.checkin_id = convo.checkin_id
    if step.answers and effects.checkin_id is not None:
        await checkins.add_answers(tx, core.crypto, case.id, effects.checkin_id, step.answers, now)
    h = H(tx, core, case, service, effects, now)
    for event in step.events:
        await HANDLERS[type(event)](h, event)
    # A language chosen in this very step applies to its replies: the confirmation is in the new one.
    language = next((e.language for e in reversed(step.events) if isinstance(e, LanguageChosen)), case.language)
    if case.status == CaseStatus.PENDING.value and not any(isinstance(e, Activated) for e in step.events):
        # A wrong activation code gets exactly an unknown sender's line, in the same language:
        # a Welsh reply would tell whoever holds the phone that this number is enrolled.
        language = SOURCE_LANGUAGE
    address = cases.address_of(core.crypto, case) if step.replies else None
    if address is not None:
        expires = None  # any reply: a day
        if step.state.flow is Flow.CHECKIN and effects.checkin_id is not None:  # a question: its check-in's end
            started = await checkins.started_at(tx, effects.checkin_id) or now
            expires = started + service.missed_policy.grace
        for reply in step.replies:
            await outbox.to_survivor(
                tx,
                core.crypto,
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
