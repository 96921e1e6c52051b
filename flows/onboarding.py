"""Onboarding over her channel: language, consent and safe times, in neutral words.

Her exit word, codeword and PINs are set in person, in the workspace. Only where the thread deletes
itself (Telegram with auto-delete on) may set-up ask for them, and only if she chose that.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flows import replies as R
from flows.answers import parse_options, parse_text
from flows.events import (
    ConsentRecorded,
    Event,
    ExitPauseChosen,
    LanguageChosen,
    OnboardingCompleted,
    SafeWindow,
    SafeWindowsChosen,
    SecretChosen,
    SecretKind,
)
from flows.model import Context, ConversationState, Flow, Reply, Step, ask
from flows.questionset import Option, Question, QuestionKind
from flows.schedule import ScheduleError, parse_windows
from safety.lexicon import AUTONYMS, LANGUAGE_NAMES
from safety.normalise import normalise
from safety.screening import pin_digest, secret_digest
from safety.secret_rules import codeword_problem, duress_pin_problem, exit_word_problem, first_pin_problem, pin_text

CONSENT_TEXT_VERSION = "2026-11-v1"

_YES_NO = (Option("yes", R.YES), Option("no", R.NO))
CONSENT_Q = Question("consent", QuestionKind.CHOICE, R.CONSENT, _YES_NO)
WINDOWS_Q = Question(
    "windows",
    QuestionKind.MULTI,
    R.WINDOWS,
    (
        Option("morning", R.WINDOW_MORNING),
        Option("afternoon", R.WINDOW_AFTERNOON),
        Option("evening", R.WINDOW_EVENING),
    ),
)
WINDOW_BY_KEY = {
    "morning": SafeWindow(9 * 60, 12 * 60),
    "afternoon": SafeWindow(12 * 60, 17 * 60),
    "evening": SafeWindow(17 * 60, 21 * 60),
}
EXIT_WORD_Q = Question("exit_word", QuestionKind.TEXT, R.EXIT_WORD, sensitive=True)
EXIT_PAUSE_Q = Question(
    "exit_pause",
    QuestionKind.CHOICE,
    R.EXIT_PAUSE,
    (Option("1d", R.PAUSE_DAY), Option("3d", R.PAUSE_THREE_DAYS), Option("7d", R.PAUSE_WEEK)),
)
PAUSE_BY_KEY = {"1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}
CODEWORD_Q = Question("codeword", QuestionKind.TEXT, R.CODEWORD, sensitive=True)
MISSED_Q = Question("missed_consent", QuestionKind.CHOICE, R.MISSED_CONSENT, _YES_NO)
PIN_Q = Question("pin", QuestionKind.TEXT, R.PIN, sensitive=True)
DURESS_Q = Question("duress_pin", QuestionKind.TEXT, R.DURESS_PIN, sensitive=True)

SECRET_STEPS = frozenset({EXIT_WORD_Q.id, CODEWORD_Q.id})  # where a stop word may be meant as the word itself
STEPS: dict[str, Question] = {
    q.id: q for q in (CONSENT_Q, WINDOWS_Q, EXIT_WORD_Q, EXIT_PAUSE_Q, CODEWORD_Q, MISSED_Q, PIN_Q, DURESS_Q)
}
LANGUAGE_STEP = "language"


def language_question(ctx: Context, text: str = R.LANGUAGE_WELCOME) -> Question:
    """The service's languages, each by its own name ("Cymraeg", "اردو"): never translated."""
    options = tuple(Option(code, AUTONYMS.get(code, code), LANGUAGE_NAMES.get(code, ())) for code in ctx.languages)
    return Question(LANGUAGE_STEP, QuestionKind.CHOICE, text, options)


def pick_language(text: str, ctx: Context) -> str | None:
    """The enabled language `text` names (by number, code or name), or None."""
    choice = parse_options(text, language_question(ctx), ctx.language)
    return choice[0] if choice else None


def question_at(step: str | None, ctx: Context) -> Question | None:
    """The question an onboarding step asks."""
    if step == LANGUAGE_STEP:
        return language_question(ctx)
    return STEPS.get(step or "")


def asks_secrets(ctx: Context) -> bool:
    """Whether set-up asks for her secrets over the channel: only where the thread deletes itself
    (Telegram with auto-delete on) and she chose to, and not if she already chose them in person."""
    return ctx.secrets_on_channel and not ctx.secrets_in_person


def begin(ctx: Context) -> Step:
    """Start onboarding right after activation: the language first, if the service offers more than one."""
    first = language_question(ctx) if len(ctx.languages) > 1 else CONSENT_Q
    return Step(ConversationState().at(Flow.ONBOARDING, first.id), replies=(ask(first, ctx),))


def answer(state: ConversationState, text: str, ctx: Context) -> Step:
    """Take the survivor's answer to the current onboarding step."""
    if state.step == LANGUAGE_STEP:
        return _language(state, text, ctx)
    question = STEPS[state.step or CONSENT_Q.id]
    handler = _HANDLERS[question.id]
    return handler(state, text, ctx)


def _language(state: ConversationState, text: str, ctx: Context) -> Step:
    code = pick_language(text, ctx)
    if code is None:
        return _again(state, language_question(ctx), ctx)
    # From here on the survivor reads their own language: consent is asked in it.
    return _go(state, CONSENT_Q, replace(ctx, language=code), LanguageChosen(code))


def _go(state: ConversationState, question: Question, ctx: Context, *events: Event, sensitive: bool = False) -> Step:
    return Step(
        state.at(Flow.ONBOARDING, question.id),
        replies=(ask(question, ctx),),
        events=events,
        sensitive=sensitive,
    )


def _again(state: ConversationState, question: Question, ctx: Context, hint: str | None = None) -> Step:
    """Ask the same step again (onboarding steps are re-asked until answered)."""
    replies = ((Reply(hint),) if hint else (Reply(R.REASK),)) + (ask(question, ctx),)
    return Step(replace(state, retries=state.retries + 1), replies=replies, sensitive=question.sensitive)


def _consent(state: ConversationState, text: str, ctx: Context) -> Step:
    choice = parse_options(text, CONSENT_Q, ctx.language, ctx.translate)
    if choice is None:
        return _again(state, CONSENT_Q, ctx)
    agreed = choice == ("yes",)
    event = ConsentRecorded("checkins", agreed, CONSENT_TEXT_VERSION)
    if not agreed:
        return Step(ConversationState(), replies=(Reply(R.CONSENT_REFUSED),), events=(event,))
    return _go(state, WINDOWS_Q, ctx, event)


def _windows(state: ConversationState, text: str, ctx: Context) -> Step:
    keys = parse_options(text, WINDOWS_Q, ctx.language, ctx.translate)
    windows: tuple[SafeWindow, ...]
    if keys is not None:
        windows = tuple(WINDOW_BY_KEY[k] for k in keys)
    else:
        try:  # survivors may also type their own times: "10:00-12:00, 18:00-20:00"
            windows = parse_windows(text)
        except ScheduleError:
            return _again(state, WINDOWS_Q, ctx)
    if not asks_secrets(ctx):  # never ask for (or explain) a secret in a thread that stays on her phone
        return _go(state, MISSED_Q, ctx, SafeWindowsChosen(windows))
    return _go(state, EXIT_WORD_Q, ctx, SafeWindowsChosen(windows))


def _exit_word(state: ConversationState, text: str, ctx: Context) -> Step:
    phrase = normalise(text)
    if exit_word_problem(phrase, ctx.hasher):
        return _again(state, EXIT_WORD_Q, ctx, R.SECRET_REJECTED)
    state = replace(state, other_digest=secret_digest(phrase, ctx.hasher).hex())
    return _go(state, EXIT_PAUSE_Q, ctx, SecretChosen(SecretKind.EXIT_WORD, phrase), sensitive=True)


def _exit_pause(state: ConversationState, text: str, ctx: Context) -> Step:
    choice = parse_options(text, EXIT_PAUSE_Q, ctx.language, ctx.translate)
    if choice is None:
        return _again(state, EXIT_PAUSE_Q, ctx)
    return _go(state, CODEWORD_Q, ctx, ExitPauseChosen(PAUSE_BY_KEY[choice[0]]))


def _codeword(state: ConversationState, text: str, ctx: Context) -> Step:
    phrase = normalise(text)
    exit_word = bytes.fromhex(state.other_digest) if state.other_digest else None
    if codeword_problem(phrase, exit_word, ctx.hasher):
        return _again(state, CODEWORD_Q, ctx, R.SECRET_REJECTED)
    state = replace(state, other_digest=None)  # no longer needed: keep state minimal
    return _go(state, MISSED_Q, ctx, SecretChosen(SecretKind.CODEWORD, phrase), sensitive=True)


def _missed(state: ConversationState, text: str, ctx: Context) -> Step:
    choice = parse_options(text, MISSED_Q, ctx.language, ctx.translate)
    if choice is None:
        return _again(state, MISSED_Q, ctx)
    consent = ConsentRecorded("missed_alerts", choice == ("yes",), CONSENT_TEXT_VERSION)
    if not asks_secrets(ctx):  # her PINs (or none) are settled in person too
        return _finish((consent,), sensitive=False)
    return _go(state, PIN_Q, ctx, consent)


def _pin(state: ConversationState, text: str, ctx: Context) -> Step:
    if normalise(text) and parse_text(text) is None:  # SKIP, no, none... (an empty message is asked again)
        return _finish(())
    pin = pin_text(text)
    if first_pin_problem(pin, ctx.hasher):
        return _again(state, PIN_Q, ctx, R.PIN_REJECTED)
    state = replace(state, other_digest=pin_digest(pin, ctx.hasher).hex())
    return _go(state, DURESS_Q, ctx, SecretChosen(SecretKind.PIN, pin), sensitive=True)


def _duress(state: ConversationState, text: str, ctx: Context) -> Step:
    if normalise(text) and parse_text(text) is None:  # SKIP, no, none... (an empty message is asked again)
        return _finish(())
    pin = pin_text(text)
    first_pin = bytes.fromhex(state.other_digest) if state.other_digest else None
    if duress_pin_problem(pin, first_pin, ctx.hasher):
        return _again(state, DURESS_Q, ctx, R.PIN_REJECTED)
    return _finish((SecretChosen(SecretKind.DURESS_PIN, pin),))


def _finish(events: tuple[Event, ...], sensitive: bool = True) -> Step:
    return Step(
        ConversationState(),
        replies=(Reply(R.ONBOARDED),),
        events=(*events, OnboardingCompleted()),
        sensitive=sensitive,
    )


_HANDLERS = {
    CONSENT_Q.id: _consent,
    WINDOWS_Q.id: _windows,
    EXIT_WORD_Q.id: _exit_word,
    EXIT_PAUSE_Q.id: _exit_pause,
    CODEWORD_Q.id: _codeword,
    MISSED_Q.id: _missed,
    PIN_Q.id: _pin,
    DURESS_Q.id: _duress,
}
