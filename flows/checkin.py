"""The check-in flow: walk a question set, check the PIN, assess at the end."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flows import replies as R
from flows import rotation
from flows.answers import parse_options, parse_text
from flows.events import (
    AlertRaised,
    CallbackRequested,
    CheckinCompleted,
    CheckinDeferred,
    CheckinMissed,
    CheckinStarted,
    DuressPinUsed,
    Event,
    PinFailedTwice,
)
from flows.model import Answer, Context, ConversationState, Flow, Reply, Step, ask
from flows.questionset import END, Option, OptionAction, Question, QuestionKind
from safety.model import AlertReason, PinResult, Severity
from safety.risk import assess, compare, fear_rising, missed_alert
from safety.screening import check_pin, without_codeword
from safety.signals import alert_facts, fear_score, spec

PIN_STEP = "__pin__"
FACT = "fact:"  # marks, in ConversationState.alerted, a fact an alert of this check-in already named
DEFER_RETRY = timedelta(hours=2)
MAX_ANSWERS = 50  # a question set may loop back; this stops a runaway check-in
PIN_Q = Question(PIN_STEP, QuestionKind.TEXT, R.PIN_PROMPT, sensitive=True)


def start(state: ConversationState, ctx: Context) -> Step:
    """A check-in fell due: plan its rotating questions and ask the first question."""
    first = ctx.questionset.question(ctx.questionset.start)
    fresh = ConversationState(plan=rotation.plan(ctx.questionset, ctx.recent_questions))
    return Step(fresh.at(Flow.CHECKIN, first.id), replies=(ask(first, ctx),), events=(CheckinStarted(),))


def current(state: ConversationState, ctx: Context) -> Question:
    return PIN_Q if state.step == PIN_STEP else ctx.questionset.question(state.step or ctx.questionset.start)


def answer(state: ConversationState, text: str, ctx: Context) -> Step:
    """Take the survivor's answer to the current question."""
    if state.step == PIN_STEP:
        return _pin(state, text, ctx)
    if state.step not in {q.id for q in ctx.questionset.questions}:
        # The service changed its question set under an open check-in: keep what was answered.
        return finish(state, ctx, complete=False)
    question = current(state, ctx)
    step = _answer(state, question, text, ctx)
    return replace(step, sensitive=step.sensitive or question.sensitive)


def _answer(state: ConversationState, question: Question, text: str, ctx: Context) -> Step:
    if question.kind is QuestionKind.TEXT:
        free = parse_text(text)
        return _record(state, question, Answer(question.id, text=free), question.next, ctx)
    keys = parse_options(text, question, ctx.language, ctx.translate)
    if keys is None and ctx.secrets.codewords:
        # "no, <codeword>": the codeword has done its work; the answer around it still counts.
        keys = parse_options(without_codeword(text, ctx.secrets, ctx.hasher), question, ctx.language, ctx.translate)
    if keys is None:
        if state.retries == 0:
            return Step(replace(state, retries=1), replies=(Reply(R.REASK), ask(question, ctx)))
        return _record(state, question, Answer(question.id, unanswered=True), question.next, ctx)
    chosen = [o for o in question.options if o.key in keys]
    if any(o.action is OptionAction.END for o in chosen):
        return _end_quietly(state, question, Answer(question.id, options=keys, signals=_signals(chosen)), ctx)
    if any(o.action is OptionAction.DEFER for o in chosen):
        if state.answered > 0:  # signals already given must not be thrown away
            done = finish(state, ctx, complete=False)
            return replace(done, replies=(Reply(R.DEFERRED),))
        return Step(ConversationState(), replies=(Reply(R.DEFERRED),), events=(CheckinDeferred(DEFER_RETRY),))
    signals = _signals(chosen)
    nexts = [o.next for o in chosen if o.next]
    record = Answer(question.id, options=keys, signals=signals)
    events: tuple[Event, ...] = ()
    if "callback_today" in signals or "callback_urgent" in signals:
        events = (CallbackRequested("urgent" if "callback_urgent" in signals else "today"),)
    state, alerts = _urgent_now(state, signals, ctx)
    step = _record(state, question, record, nexts[0] if nexts else question.next, ctx)
    return replace(step, events=events + alerts + step.events)


def _signals(chosen: list[Option]) -> tuple[str, ...]:
    return tuple(s for o in chosen for s in o.signals)


def _end_quietly(state: ConversationState, question: Question, record: Answer, ctx: Context) -> Step:
    """"Not safe right now": no more questions, one neutral line, and the urgent alert at once."""
    state, alerts = _urgent_now(state, record.signals, ctx)
    state = replace(state, signals=state.signals + record.signals, answered=state.answered + 1)
    done = finish(state, ctx, complete=False)
    line = Reply(ctx.ended_line or R.COVER_LINE)
    return replace(done, replies=(line,), answers=(record,), events=alerts + done.events, sensitive=question.sensitive)


def _urgent_now(
    state: ConversationState, signals: tuple[str, ...], ctx: Context
) -> tuple[ConversationState, tuple[Event, ...]]:
    """An urgent answer alerts at once: the survivor may never reach the end of the check-in.

    A later urgent answer in the same check-in alerts again only for what was not yet said.
    """
    urgent = [s for s in signals if spec(s).is_urgent(ctx.history.no_contact_order)]
    facts = tuple(f for f in alert_facts(urgent, ctx.history.no_contact_order) if FACT + f not in state.alerted)
    if not facts:
        return state, ()
    reason = AlertReason.CALLBACK_URGENT if urgent == ["callback_urgent"] else AlertReason.RISK_RAISED
    told = tuple(FACT + f for f in facts) + ((reason.value,) if reason.value not in state.alerted else ())
    return replace(state, alerted=(*state.alerted, *told)), (AlertRaised(Severity.URGENT, reason, facts=facts),)


def _record(state: ConversationState, question: Question, record: Answer, nxt: str, ctx: Context) -> Step:
    state = replace(state, signals=state.signals + record.signals, answered=state.answered + 1)
    state, nxt = _route(state, question, nxt, ctx)
    if question.id == ctx.questionset.start and ctx.secrets.pin is not None:
        state = replace(state.at(Flow.CHECKIN, PIN_STEP), resume_step=nxt, signals=state.signals)
        prompt = replace(PIN_Q, text=ctx.pin_prompt) if ctx.pin_prompt else PIN_Q
        return Step(state, replies=(ask(prompt, ctx),), answers=(record,))
    step = _advance(state, nxt, ctx)
    return replace(step, answers=(record, *step.answers))


def _route(state: ConversationState, question: Question, nxt: str, ctx: Context) -> tuple[ConversationState, str]:
    """Where the check-in goes after `question`: into the planned rotating questions after the
    rotation's `after` question and from one to the next, then back to `after`'s own next."""
    rot = ctx.questionset.rotation
    if rot is None or not (question.id == rot.after or question.rotates):
        return state, nxt
    planned = [q for q in state.plan if q in {r.id for r in ctx.questionset.rotating}]
    if planned:
        return replace(state, plan=tuple(planned[1:])), planned[0]
    return replace(state, plan=()), ctx.questionset.question(rot.after).next if question.rotates else nxt


def _advance(state: ConversationState, nxt: str, ctx: Context) -> Step:
    if nxt == END:
        return finish(state, ctx, complete=True)
    if state.answered >= MAX_ANSWERS:
        return finish(state, ctx, complete=False)
    question = ctx.questionset.question(nxt)
    state = state.at(Flow.CHECKIN, question.id)
    return Step(state, replies=(ask(question, ctx),))


def _pin(state: ConversationState, text: str, ctx: Context) -> Step:
    result = check_pin(text, ctx.secrets, ctx.hasher)
    resume = state.resume_step or END
    if result is PinResult.WRONG:
        failures = state.pin_failures + 1
        if failures < 2:
            return Step(replace(state, pin_failures=failures), replies=(Reply(R.PIN_RETRY),), sensitive=True)
        # Someone else may hold the phone: end as if all is well and tell the IDVA.
        events = (PinFailedTwice(), AlertRaised(Severity.HIGH, AlertReason.PIN_FAILED))
        return Step(ConversationState(), replies=(Reply(R.PIN_ENDED),), events=events, sensitive=True)
    events_: tuple[Event, ...] = ()
    state = replace(state, pin_failures=0)
    if result is PinResult.DURESS:
        events_ = (DuressPinUsed(), AlertRaised(Severity.URGENT, AlertReason.DURESS_PIN))
        state = replace(state, signals=(*state.signals, "duress_pin"), alerted=(*state.alerted, "duress_pin"))
    step = _advance(state, resume, ctx)
    return replace(step, events=events_ + step.events, sensitive=True)


def finish(state: ConversationState, ctx: Context, complete: bool) -> Step:
    """Assess what was answered and close the check-in."""
    assessment = assess(state.signals, ctx.history.no_contact_order)
    change = compare(assessment, ctx.history)
    events: list[Event] = [CheckinCompleted(assessment, change, complete)]
    if change.alert is not None and change.reason is not None and change.reason.value not in state.alerted:
        level = assessment.level.label if change.reason is AlertReason.RISK_RAISED else None
        facts = alert_facts(assessment.signals, ctx.history.no_contact_order) if level else ()
        events.append(AlertRaised(change.alert, change.reason, level, facts))
    elif change.alert is None and fear_rising(ctx.history, fear_score(state.signals)):
        events.append(AlertRaised(Severity.RAISED, AlertReason.FEAR_RISING))
    replies = (Reply(R.CHECKIN_DONE),) if complete else ()
    return Step(ConversationState(), replies=replies, events=tuple(events))


def expire(state: ConversationState, ctx: Context) -> Step:
    """The check-in window closed: missed if nothing was answered, else assess what we have."""
    if state.answered > 0:
        return finish(state, ctx, complete=False)
    events: list[Event] = [CheckinMissed()]
    alert = missed_alert(ctx.history.consecutive_missed + 1, ctx.missed_alerts_agreed, ctx.missed_policy)
    if alert is not None:
        events.append(AlertRaised(*alert))
    return Step(ConversationState(), events=tuple(events))


def nudge(state: ConversationState, ctx: Context) -> Step:
    """No reply for a while: remind once, gently."""
    if state.reminded or "not_safe_now" in state.signals:
        return Step(state)  # never chase someone who just said they are not safe
    return Step(replace(state, reminded=True), replies=(Reply(R.NUDGE), ask(current(state, ctx), ctx)))
