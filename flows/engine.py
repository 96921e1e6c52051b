"""The conversation engine: (state, input, context) -> Step. Screening first, then commands, then flows."""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import datetime, timedelta

from flows import checkin, onboarding
from flows import replies as R
from flows.commands import ChooseLanguage, Help, Pause, Resume, Withdraw, parse_command
from flows.events import (
    Activated,
    AlertRaised,
    CodewordUsed,
    ConsentWithdrawn,
    Event,
    LanguageChosen,
    PauseRequested,
    QuickExitUsed,
    ResumeRequested,
)
from flows.model import (
    CaseStatus,
    Context,
    ConversationState,
    ExitPressed,
    Expiry,
    Flow,
    Input,
    Message,
    Reply,
    StartCheckin,
    Step,
    Timeout,
    ask,
)
from safety.model import AlertReason, Hasher, Severity
from safety.normalise import normalise
from safety.screening import screen

MAX_TEXT = 4_000  # longer input is cut before screening so one message cannot cost unbounded work
MAX_ACTIVATION_ATTEMPTS = 5


def handle(state: ConversationState, inp: Input, ctx: Context) -> Step:
    """Advance a survivor's conversation by one input. Pure: the caller persists the result."""
    if isinstance(inp, Message):
        return _message(state, inp.text, ctx)
    if isinstance(inp, ExitPressed):
        return _quick_exit(state, ctx) if ctx.status.reachable else Step(state)
    if isinstance(inp, StartCheckin):
        if ctx.status is CaseStatus.ACTIVE and state.flow is None:
            return checkin.start(state, ctx)
        return Step(state)
    in_checkin = state.flow is Flow.CHECKIN and ctx.status.reachable
    if isinstance(inp, Timeout) and in_checkin:
        return checkin.nudge(state, ctx)
    if isinstance(inp, Expiry) and in_checkin:
        return checkin.expire(state, ctx)
    return Step(state)


def _message(state: ConversationState, text: str, ctx: Context) -> Step:
    if ctx.status is CaseStatus.PENDING:
        return _activate(state, text, ctx)
    screening = screen(text, ctx.secrets, ctx.hasher)  # the whole text: screening bounds its own work
    text = text[:MAX_TEXT]
    if screening.quick_exit and ctx.status.reachable:
        return _quick_exit(state, ctx)
    raised: tuple[Event, ...] = ()
    if screening.codeword:
        raised = (CodewordUsed(), AlertRaised(Severity.URGENT, AlertReason.CODEWORD))
        if state.flow is Flow.CHECKIN:
            state = replace(state, signals=(*state.signals, "codeword"), alerted=(*state.alerted, "codeword"))
    if not ctx.status.reachable:
        return Step(state, events=raised)  # closed or withdrawn: say nothing, but a codeword still alerts
    step = _respond(state, text, ctx)
    # A message holding the codeword, or a PIN typed where none was asked, is not kept as a raw message
    # (an answer in it still is).
    return replace(step, events=raised + step.events, sensitive=step.sensitive or screening.codeword or screening.pin)


def _quick_exit(state: ConversationState, ctx: Context) -> Step:
    """The quick exit beats everything: stop now and say nothing revealing.

    What was already answered is still assessed (a "not safe now" must reach the IDVA). A set-up in
    progress stops too: the next message from the phone may not be hers, and must not become a secret.
    """
    replies = (Reply(R.COVER_LINE),) if ctx.cover_line else ()
    events: tuple[Event, ...] = (QuickExitUsed(ctx.exit_pause), *_close_checkin(state, ctx))
    return Step(ConversationState(), replies=replies, events=events, sensitive=True)


def activation_digest(code: str, hasher: Hasher) -> bytes:
    """The digest stored for a one-time code; case, spaces and hyphens do not matter."""
    return hasher("".join(normalise(code).split()))


def _activate(state: ConversationState, text: str, ctx: Context) -> Step:
    attempts = state.retries + 1
    if (
        ctx.activation_code is not None
        and attempts <= MAX_ACTIVATION_ATTEMPTS
        and normalise(text)
        and hmac.compare_digest(activation_digest(text, ctx.hasher), ctx.activation_code)
    ):
        step = onboarding.begin(ctx)
        return replace(step, events=(Activated(), *step.events), sensitive=True)
    # A wrong code gets the very reply an unknown sender gets: the phone may not be in safe hands.
    return Step(replace(state, retries=attempts), replies=(Reply(R.NEUTRAL),), sensitive=True)


def _respond(state: ConversationState, text: str, ctx: Context) -> Step:
    command = parse_command(text, ctx.now)
    if state.choosing_language:
        # LANGUAGE listed the languages; a reply naming one picks it, anything else goes on as usual.
        state = replace(state, choosing_language=False)
        picked = onboarding.pick_language(text, ctx) if command is None else None
        if picked is not None:
            return _set_language(state, picked, ctx)
    if isinstance(command, ChooseLanguage):
        return _choose_language(state, command.choice, ctx)
    if isinstance(command, Help):
        line = (Reply(R.AS_WRITTEN, {"line": ctx.help_line}),) if ctx.help_line else ()
        return Step(state, replies=(Reply(R.HELP), *line, *_pending_question(state, ctx)))
    if isinstance(command, Withdraw):
        return _withdraw(state, ctx)
    if state.flow is Flow.ONBOARDING:
        return onboarding.answer(state, text, ctx)
    if ctx.status is CaseStatus.ONBOARDING:
        return onboarding.begin(ctx)  # set-up stopped by a quick exit: it starts again when she writes
    if isinstance(command, Pause):
        events = (*_close_checkin(state, ctx), PauseRequested(command.until))
        return Step(ConversationState(), replies=(pause_confirmation(command.until, ctx.now),), events=events)
    if isinstance(command, Resume):
        return Step(state, replies=(Reply(R.RESUMED),), events=(ResumeRequested(),))
    if state.flow is Flow.CHECKIN:
        return checkin.answer(state, text, ctx)
    if ctx.status is CaseStatus.PAUSED:
        return Step(state, replies=(Reply(R.PAUSED),))
    return Step(state, replies=(Reply(R.IDLE),))


def _withdraw(state: ConversationState, ctx: Context) -> Step:
    """STOP, WITHDRAW...: no more messages. At the prompt for her exit word or codeword a stop word may be
    meant as the word itself: where the carrier does not act on it (all but SMS), she is asked once more."""
    at_secret = state.flow is Flow.ONBOARDING and state.step in onboarding.SECRET_STEPS
    if at_secret and not ctx.carrier_opt_out and not state.stop_asked:
        question = onboarding.STEPS[state.step or ""]
        replies = (Reply(R.SECRET_REJECTED), ask(question, ctx))
        return Step(replace(state, stop_asked=True), replies=replies, sensitive=True)
    reason = AlertReason.WITHDRAWN_IN_ONBOARDING if state.flow is Flow.ONBOARDING else AlertReason.CONSENT_WITHDRAWN
    events = (*_close_checkin(state, ctx), ConsentWithdrawn(), AlertRaised(Severity.RAISED, reason))
    return Step(ConversationState(), replies=(Reply(R.WITHDRAWN),), events=events)


def pause_confirmation(until: datetime, now: datetime) -> Reply:
    """"OK, paused for 3 days, until Thursday 24 November 10:00": whole days, else hours (plural forms)."""
    hours = max(1, -(-(until - now) // timedelta(hours=1)))  # rounded up: never promise less quiet
    if hours % 24 == 0:
        return Reply(R.PAUSED_DAYS[0], {"count": hours // 24, "until": until}, plural=R.PAUSED_DAYS[1])
    return Reply(R.PAUSED_HOURS[0], {"count": hours, "until": until}, plural=R.PAUSED_HOURS[1])


def _choose_language(state: ConversationState, choice: str, ctx: Context) -> Step:
    """LANGUAGE: list the service's languages (one tap each on Telegram), or switch at once to the one named."""
    picked = onboarding.pick_language(choice, ctx) if choice else None
    if picked is not None:
        return _set_language(state, picked, ctx)
    question = onboarding.language_question(ctx, R.LANGUAGE_ASK)
    return Step(replace(state, choosing_language=True), replies=(ask(question, ctx),))


def _set_language(state: ConversationState, language: str, ctx: Context) -> Step:
    """Confirm in the new language and ask the open question again in it."""
    ctx = replace(ctx, language=language)
    if state.flow is Flow.ONBOARDING and state.step == onboarding.LANGUAGE_STEP:
        state = state.at(Flow.ONBOARDING, onboarding.CONSENT_Q.id)
    replies = (Reply(R.LANGUAGE_SET), *_pending_question(state, ctx))
    return Step(state, replies=replies, events=(LanguageChosen(language),))


def _pending_question(state: ConversationState, ctx: Context) -> tuple[Reply, ...]:
    """After HELP mid-conversation, ask the open question again so the survivor knows where they are."""
    if state.flow is Flow.CHECKIN:
        return (ask(checkin.current(state, ctx), ctx),)
    question = onboarding.question_at(state.step, ctx) if state.flow is Flow.ONBOARDING else None
    return (ask(question, ctx),) if question is not None else ()


def _close_checkin(state: ConversationState, ctx: Context) -> tuple[Event, ...]:
    """A pause or withdrawal mid-check-in still assesses what was answered."""
    if state.flow is Flow.CHECKIN and state.answered > 0:
        return checkin.finish(state, ctx, complete=False).events
    return ()
