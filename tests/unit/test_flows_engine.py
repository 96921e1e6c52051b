"""The engine screens first, then honours commands, then runs a flow: (state, input, context) -> Step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

import pytest

from flows import onboarding
from flows import replies as R
from flows.discretion import first_line_problems
from flows.engine import MAX_ACTIVATION_ATTEMPTS, activation_digest, handle, pause_confirmation
from flows.events import (
    Activated,
    AlertRaised,
    CheckinCompleted,
    CheckinStarted,
    CodewordUsed,
    ConsentWithdrawn,
    Event,
    PauseRequested,
    QuickExitUsed,
    ResumeRequested,
)
from flows.model import (
    CaseStatus,
    Context,
    ConversationState,
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
from safety.model import AlertReason, Level, Severity
from tests.unit.flows_support import ASK, DURESS_PIN, EXIT_WORD, NOW, PIN, QS, context, hasher, run

# ---- a pinned world: clock, key, secrets ----

ACTIVATION_CODE = "K7QH-3XPM"


def pending(code: str | None = ACTIVATION_CODE) -> Context:
    digest = activation_digest(code, hasher) if code else None  # as the shell stores it
    return context(CaseStatus.PENDING, exit_word=None, codeword=None, activation_code=digest)


def after(ctx: Context, *inputs: str | Input) -> ConversationState:
    return run(ctx, *inputs)[-1].state


def keys(step: Step) -> list[str]:
    return [reply.key for reply in step.replies]


def events_of(steps: Iterable[Step]) -> list[Event]:
    return [event for step in steps for event in step.events]


CODEWORD_ALERT = [CodewordUsed(), AlertRaised(Severity.URGENT, AlertReason.CODEWORD)]
IDLE = ConversationState()


# ---- activation ----


@pytest.mark.parametrize(
    "text", ["K7QH-3XPM", "k7qh-3xpm", "K7QH3XPM", "k7qh3xpm", " K7QH 3XPM ", "K7QH–3XPM", "k7qh-3xpm."]
)
def test_right_activation_code_in_any_case_with_or_without_hyphen_starts_onboarding(text: str) -> None:
    ctx = pending()
    step = handle(IDLE, Message(text), ctx)
    assert step.events == (Activated(),)
    assert step.replies == (ask(onboarding.CONSENT_Q, ctx),)
    assert step.replies[0].key == R.CONSENT
    assert (step.state.flow, step.state.step, step.state.retries) == (Flow.ONBOARDING, "consent", 0)
    assert step.sensitive  # the code is a secret: the shell must not store it


@pytest.mark.parametrize(
    "text", ["K7QH-3XPN", "K7QH-3XP", "K7QH-3XPM-1", "", "   ", "hello", "1234", "YES", "HELP", "STOP", "pasta"]
)
def test_wrong_activation_code_gets_the_unknown_sender_reply_and_counts_an_attempt(text: str) -> None:
    state = ConversationState(retries=2)
    step = handle(state, Message(text), pending())
    # Exactly what the pipeline sends an unknown number: nothing that reveals a service.
    assert step.replies == (Reply(R.NEUTRAL),)
    assert step.events == ()
    assert step.answers == ()
    assert step.state == ConversationState(retries=3)
    assert step.sensitive


@pytest.mark.parametrize(("wrong_before", "activated"), [(0, True), (1, True), (4, True), (5, False), (9, False)])
def test_after_five_wrong_codes_even_the_right_code_is_refused(wrong_before: int, activated: bool) -> None:
    assert MAX_ACTIVATION_ATTEMPTS == 5
    ctx = pending()
    last = run(ctx, *["nope"] * wrong_before, ACTIVATION_CODE)[-1]
    if activated:
        assert last.events == (Activated(),)
        assert keys(last) == [R.CONSENT]
    else:
        assert last.events == ()
        assert last.replies == (Reply(R.NEUTRAL),)
        assert last.state.flow is None
        assert last.state.retries == wrong_before + 1


def test_expired_or_missing_activation_code_is_refused() -> None:
    # The shell passes None once the code has expired or been used.
    step = handle(IDLE, Message(ACTIVATION_CODE), pending(None))
    assert step.replies == (Reply(R.NEUTRAL),)
    assert step.events == ()
    assert step.state.flow is None


def test_activation_code_for_another_case_is_refused() -> None:
    step = handle(IDLE, Message(ACTIVATION_CODE), pending("ABCD-EFGH"))
    assert step.replies == (Reply(R.NEUTRAL),)
    assert step.events == ()


# ---- starting a check-in ----


def test_due_check_in_starts_when_active_and_idle() -> None:
    ctx = context()
    step = handle(IDLE, StartCheckin(), ctx)
    assert step.events == (CheckinStarted(),)
    assert step.replies == (ask(QS.question("safe_to_talk"), ctx),)
    assert step.replies[0].params == {"sender": "Alex"}
    assert (step.state.flow, step.state.step) == (Flow.CHECKIN, "safe_to_talk")


@pytest.mark.parametrize(
    "status",
    [CaseStatus.PENDING, CaseStatus.ONBOARDING, CaseStatus.PAUSED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN],
)
def test_due_check_in_does_nothing_unless_the_case_is_active(status: CaseStatus) -> None:
    assert handle(IDLE, StartCheckin(), context(status)) == Step(IDLE)


def test_due_check_in_does_nothing_mid_check_in() -> None:
    ctx = context()
    state = after(ctx, StartCheckin(), "yes")
    assert handle(state, StartCheckin(), ctx) == Step(state)


def test_due_check_in_does_nothing_mid_onboarding() -> None:
    state = ConversationState().at(Flow.ONBOARDING, "windows")
    assert handle(state, StartCheckin(), context()) == Step(state)


@pytest.mark.parametrize("timer", [Timeout(), Expiry()])
@pytest.mark.parametrize("state", [IDLE, ConversationState().at(Flow.ONBOARDING, "consent")])
def test_timers_outside_a_check_in_do_nothing(timer: Input, state: ConversationState) -> None:
    assert handle(state, timer, context()) == Step(state)


@pytest.mark.parametrize("status", [CaseStatus.CLOSED, CaseStatus.WITHDRAWN])
def test_a_reminder_on_a_closed_case_never_messages_the_survivor(status: CaseStatus) -> None:
    # A check-in left open when the service closed the case: closed means nothing more is sent.
    state = after(context(), StartCheckin(), "yes")
    step = handle(state, Timeout(), context(status))
    assert step.replies == ()


# ---- the quick exit beats everything ----

EXIT_SPELLINGS = ["pasta", "PASTA", "Pasta", "  Pasta!  ", "pästa", "¿pasta?", "pasta.", "\u200fpasta\u200f"]
EXIT_SPELLINGS += ["pa\u200bsta"]  # a zero-width space inside the word is invisible, so it is still the word


def _mid_checkin(ctx: Context) -> ConversationState:
    return after(ctx, StartCheckin())


def _at_pin(ctx: Context) -> ConversationState:
    return after(ctx, StartCheckin(), "yes")


@pytest.mark.parametrize("text", EXIT_SPELLINGS)
@pytest.mark.parametrize(
    ("status", "where"),
    [
        (CaseStatus.ACTIVE, "idle"),
        (CaseStatus.ACTIVE, "first question"),
        (CaseStatus.PAUSED, "idle"),
    ],
)
def test_exit_word_ends_the_conversation_silently(text: str, status: CaseStatus, where: str) -> None:
    ctx = context(status, pin=PIN)
    state = IDLE if where == "idle" else _mid_checkin(ctx)
    step = handle(state, Message(text), ctx)
    assert step == Step(IDLE, events=(QuickExitUsed(timedelta(days=1)),), sensitive=True)


def test_exit_word_instead_of_the_pin_ends_the_check_in_silently() -> None:
    ctx = context(pin=PIN)
    step = handle(_at_pin(ctx), Message(" PASTA "), ctx)
    assert step.replies == ()
    assert QuickExitUsed(timedelta(days=1)) in step.events
    assert not any(isinstance(e, AlertRaised) for e in step.events)
    assert step.state == IDLE
    assert step.sensitive


def test_exit_word_mid_check_in_sends_only_the_cover_line_when_the_service_uses_one() -> None:
    ctx = context(cover_line=True, exit_pause=timedelta(days=3))
    step = handle(_mid_checkin(ctx), Message("PASTA"), ctx)
    assert step.replies == (Reply(R.COVER_LINE),)
    assert step.events == (QuickExitUsed(timedelta(days=3)),)
    assert step.state == IDLE
    assert step.answers == ()


@pytest.mark.parametrize("text", ["pasta please", "pastas", "no pasta", "pasta pasta"])
def test_exit_word_inside_a_longer_message_is_not_a_quick_exit(text: str) -> None:
    ctx = context()
    step = handle(_mid_checkin(ctx), Message(text), ctx)
    assert not any(isinstance(e, QuickExitUsed) for e in step.events)
    assert keys(step) == [R.REASK, ASK["safe_to_talk"]]


def test_quick_exit_after_an_urgent_answer_still_alerts_the_practitioner() -> None:
    # "Choking" and then the exit word: the most dangerous moment to lose an answer.
    # Pause and withdrawal assess what was answered; the quick exit must too (silently).
    ctx = context()
    before = after(ctx, StartCheckin(), "yes", "yes", "no", "no")
    assert before.step == "incident"
    answered = handle(before, Message("5"), ctx)  # choking or strangling
    assert AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED) in answered.events  # at once, not at the end
    state = answered.state
    assert state.signals == ("choking",)
    assert state.flow is Flow.CHECKIN  # the check-in goes on: she may still leave at any moment
    step = handle(state, Message(EXIT_WORD), ctx)
    assert step.replies == ()
    assert step.state == IDLE
    assert QuickExitUsed(timedelta(days=1)) in step.events
    assert AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED) not in step.events  # not twice
    completed = [e for e in step.events if isinstance(e, CheckinCompleted)]
    assert len(completed) == 1
    assert not completed[0].complete


@pytest.mark.parametrize("status", [CaseStatus.CLOSED, CaseStatus.WITHDRAWN])
def test_exit_word_on_a_closed_case_says_and_does_nothing(status: CaseStatus) -> None:
    assert handle(IDLE, Message(EXIT_WORD), context(status)) == Step(IDLE)


# ---- the codeword alerts silently, wherever it appears ----

CODEWORD_SPELLINGS = [
    "blue kettle",
    "I need to buy a blue kettle today",
    "BLUE KETTLE!!",
    "the blue-kettle broke",
    "a blüe kettle",
    "blue\nkettle",
    "Blue \u200bkettle",
]


@pytest.mark.parametrize("text", CODEWORD_SPELLINGS)
def test_codeword_while_idle_alerts_and_gets_the_ordinary_reply(text: str) -> None:
    step = handle(IDLE, Message(text), context())
    assert list(step.events) == CODEWORD_ALERT
    assert step.replies == (Reply(R.IDLE),)
    assert step.state == IDLE


def test_codeword_while_paused_alerts_and_gets_the_ordinary_paused_reply() -> None:
    step = handle(IDLE, Message("got a blue kettle"), context(CaseStatus.PAUSED))
    assert list(step.events) == CODEWORD_ALERT
    assert step.replies == (Reply(R.PAUSED),)


@pytest.mark.parametrize("status", [CaseStatus.CLOSED, CaseStatus.WITHDRAWN])
def test_codeword_on_a_closed_case_alerts_without_any_reply(status: CaseStatus) -> None:
    step = handle(IDLE, Message("blue kettle"), context(status))
    assert list(step.events) == CODEWORD_ALERT
    assert step.replies == ()
    assert step.state == IDLE


@pytest.mark.parametrize("text", ["blue", "kettle", "bluekettle", "blue kettles", "kettle blue", "hello"])
def test_text_without_the_codeword_raises_no_alert(text: str) -> None:
    step = handle(IDLE, Message(text), context())
    assert step.events == ()
    assert step.replies == (Reply(R.IDLE),)


def test_codeword_inside_an_answer_mid_check_in_alerts_and_the_answer_still_counts() -> None:
    # "5 blue kettle": the codeword alerts silently, and option 5 (choking) is recorded as the
    # answer, which is itself urgent: the check-in moves on as if nothing happened.
    ctx = context()
    state = after(ctx, StartCheckin(), "yes", "yes", "no", "no")
    step = handle(state, Message("5 blue kettle"), ctx)
    assert list(step.events[:2]) == CODEWORD_ALERT
    assert AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED) in step.events
    assert keys(step) == [ASK["separation"]]
    assert [a.options for a in step.answers] == [("choking",)]
    assert "codeword" in step.state.alerted


def test_codeword_with_not_safe_right_now_alerts_and_ends_the_check_in_quietly() -> None:
    # "2 blue kettle": the codeword alerts, and option 2 ("No": not safe right now) ends the check-in
    # with one neutral line, as it would without the codeword.
    ctx = context()
    state = after(ctx, StartCheckin(), "yes")
    step = handle(state, Message("2 blue kettle"), ctx)
    assert list(step.events[:2]) == CODEWORD_ALERT
    assert AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED) in step.events
    assert step.replies == (Reply(R.COVER_LINE),)
    assert [a.options for a in step.answers] == [("no",)]
    assert step.state == IDLE
    assert step.sensitive


def test_codeword_with_no_readable_answer_around_it_gets_the_ordinary_reask() -> None:
    ctx = context()
    state = after(ctx, StartCheckin(), "yes")
    step = handle(state, Message("blue kettle"), ctx)
    assert list(step.events) == CODEWORD_ALERT
    assert keys(step) == [R.REASK, ASK["safe_now"]]
    assert step.answers == ()


def test_codeword_in_a_free_text_answer_alerts_and_the_answer_is_recorded() -> None:
    ctx = context()
    state = after(ctx, StartCheckin(), "yes", "yes", "no", "no", "no", "no", "no", "no")
    assert state.step == "anything_else"
    step = handle(state, Message("Please ring, blue kettle"), ctx)
    assert step.events[:2] == tuple(CODEWORD_ALERT)
    assert [a.text for a in step.answers] == ["Please ring, blue kettle"]
    assert keys(step) == [R.CHECKIN_DONE]


def test_codeword_mid_check_in_alerts_once_even_when_the_check_in_ends_urgent() -> None:
    ctx = context()
    steps = run(ctx, StartCheckin(), "yes", "yes blue kettle", "yes", "no", "no", "no", "no", "no", "no", "skip")
    alerts = [e for e in events_of(steps) if isinstance(e, AlertRaised)]
    assert alerts == [AlertRaised(Severity.URGENT, AlertReason.CODEWORD)]
    (completed,) = [e for e in events_of(steps) if isinstance(e, CheckinCompleted)]
    assert completed.assessment.level.label == "urgent"
    assert "codeword" in completed.assessment.signals


def test_codeword_during_onboarding_alerts_and_onboarding_carries_on() -> None:
    state = ConversationState().at(Flow.ONBOARDING, "missed_consent")
    step = handle(state, Message("blue kettle"), context(CaseStatus.ONBOARDING))
    assert list(step.events) == CODEWORD_ALERT
    assert keys(step) == [R.REASK, R.MISSED_CONSENT]
    assert step.state.flow is Flow.ONBOARDING


def test_codeword_at_the_end_of_a_telegram_length_message_still_alerts() -> None:
    # Telegram lets a message run to 4,096 characters; the codeword may come last.
    text = ("I went to the shop and then " * 200)[: 4096 - len(" blue kettle")] + " blue kettle"
    assert len(text) == 4096
    step = handle(IDLE, Message(text), context())
    assert list(step.events) == CODEWORD_ALERT


# ---- standing commands ----


SERVICE_LINE = "Text or ring Jo on 07700 900123, weekdays 9 to 5."


@pytest.mark.parametrize("status", [CaseStatus.ACTIVE, CaseStatus.PAUSED])
@pytest.mark.parametrize("text", ["HELP", "help", "Help?"])
@pytest.mark.parametrize("help_line", [None, SERVICE_LINE])
def test_help_lists_the_commands_and_the_services_help_line_and_never_names_999(
    status: CaseStatus, text: str, help_line: str | None
) -> None:
    # 999, 55 and her exit word are on the card she was given in person, never in the thread.
    step = handle(IDLE, Message(text), context(status, help_line=help_line))
    service_line = (Reply(R.AS_WRITTEN, {"line": help_line}),) if help_line else ()
    assert step.replies == (Reply(R.HELP), *service_line)
    assert step.events == ()
    for command in ("PAUSE", "RESUME", "LANGUAGE", "WITHDRAW"):
        assert command in R.HELP
    for never in ("999", "55", "exit word"):
        assert never not in R.HELP
    if help_line:
        assert step.replies[1].key.format(**step.replies[1].params) == help_line  # sent as the service wrote it


def test_help_mid_check_in_keeps_the_check_in_where_it_was_and_asks_the_question_again() -> None:
    ctx = context()
    state = after(ctx, StartCheckin(), "yes")
    step = handle(state, Message("help"), ctx)
    assert [r.key for r in step.replies] == [R.HELP, ctx.questionset.question(state.step or "").text]
    assert step.state == state


def test_help_mid_check_in_puts_the_services_line_before_the_question_again() -> None:
    ctx = context(help_line=SERVICE_LINE)
    state = after(ctx, StartCheckin(), "yes", "yes")
    step = handle(state, Message("help"), ctx)
    assert [r.key for r in step.replies] == [R.HELP, R.AS_WRITTEN, ASK["afraid"]]
    assert step.replies[1].params == {"line": SERVICE_LINE}
    assert step.state == state


PAUSES = [
    ("pause 3 days", timedelta(days=3)),
    ("PAUSE 3 days", timedelta(days=3)),
    ("PAUSE", timedelta(days=7)),
    ("pause for a week", timedelta(days=7)),
    ("Pause 12 hours", timedelta(hours=12)),
]


@pytest.mark.parametrize(("text", "length"), PAUSES)
def test_pause_when_idle_asks_the_shell_to_pause_until_then(text: str, length: timedelta) -> None:
    step = handle(IDLE, Message(text), context())
    until = NOW + length
    assert step.events == (PauseRequested(until),)
    assert step.replies == (pause_confirmation(until, NOW),)
    assert step.state == IDLE


def test_pause_mid_check_in_without_answers_just_pauses() -> None:
    ctx = context()
    step = handle(after(ctx, StartCheckin()), Message("pause 3 days"), ctx)
    assert step.events == (PauseRequested(NOW + timedelta(days=3)),)
    assert step.state == IDLE


def test_pause_mid_check_in_assesses_what_was_answered() -> None:
    ctx = context()
    state = after(ctx, StartCheckin(), "yes", "yes", "a lot")
    step = handle(state, Message("pause 3 days"), ctx)
    completed, paused = step.events[0], step.events[-1]
    assert isinstance(completed, CheckinCompleted)
    assert not completed.complete
    assert completed.assessment.signals == ("fear_a_lot",)
    assert paused == PauseRequested(NOW + timedelta(days=3))
    assert step.replies == (
        Reply(R.PAUSED_DAYS[0], {"count": 3, "until": NOW + timedelta(days=3)}, plural=R.PAUSED_DAYS[1]),
    )
    assert step.state == IDLE


@pytest.mark.parametrize("status", [CaseStatus.ACTIVE, CaseStatus.PAUSED])
def test_resume_asks_the_shell_to_resume(status: CaseStatus) -> None:
    step = handle(IDLE, Message("RESUME"), context(status))
    assert step.events == (ResumeRequested(),)
    assert step.replies == (Reply(R.RESUMED),)
    assert step.state == IDLE


WITHDRAWALS = ["WITHDRAW", "withdraw", "STOP", "Stop.", "stop", "unsubscribe", "STOPALL", "cancel", "QUIT"]
WITHDRAWN_EVENTS = [ConsentWithdrawn(), AlertRaised(Severity.RAISED, AlertReason.CONSENT_WITHDRAWN)]


@pytest.mark.parametrize("text", WITHDRAWALS)
@pytest.mark.parametrize("status", [CaseStatus.ACTIVE, CaseStatus.PAUSED])
def test_withdraw_or_stop_withdraws_consent_and_tells_the_idva(text: str, status: CaseStatus) -> None:
    step = handle(IDLE, Message(text), context(status))
    assert list(step.events) == WITHDRAWN_EVENTS
    assert step.replies == (Reply(R.WITHDRAWN),)
    assert step.state == IDLE


def test_withdraw_mid_check_in_assesses_what_was_answered_first() -> None:
    ctx = context()
    state = after(ctx, StartCheckin(), "yes", "yes", "no", "no", "choked")  # urgent: alerted at once
    assert "risk_raised" in state.alerted
    step = handle(state, Message("STOP"), ctx)
    completed = step.events[0]
    assert isinstance(completed, CheckinCompleted)
    assert not completed.complete
    assert completed.assessment.level is Level.URGENT
    assert AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED) not in step.events  # not twice
    assert list(step.events[-2:]) == WITHDRAWN_EVENTS
    assert step.replies == (Reply(R.WITHDRAWN),)
    assert step.state == IDLE


def test_withdraw_mid_onboarding_withdraws_and_says_it_was_during_set_up() -> None:
    state = ConversationState().at(Flow.ONBOARDING, "windows")
    step = handle(state, Message("withdraw"), context(CaseStatus.ONBOARDING, exit_word=None, codeword=None))
    assert list(step.events) == [ConsentWithdrawn(), AlertRaised(Severity.RAISED, AlertReason.WITHDRAWN_IN_ONBOARDING)]
    assert step.state == IDLE


@pytest.mark.parametrize("text", ["please stop messaging me", "help me", "pause it", "I want to withdraw money"])
def test_a_command_word_inside_a_sentence_is_not_a_command(text: str) -> None:
    step = handle(IDLE, Message(text), context())
    assert step.events == ()
    assert step.replies == (Reply(R.IDLE),)


@pytest.mark.parametrize(("status", "reply"), [(CaseStatus.ACTIVE, R.IDLE), (CaseStatus.PAUSED, R.PAUSED)])
def test_ordinary_message_while_idle_gets_a_neutral_acknowledgement(status: CaseStatus, reply: str) -> None:
    assert handle(IDLE, Message("hi"), context(status)) == Step(IDLE, replies=(Reply(reply),))


# ---- huge and strange input ----

STRANGE = [
    pytest.param("", id="empty"),
    pytest.param(" ", id="space"),
    pytest.param("\n\n", id="newlines"),
    pytest.param("x" * 100_000, id="100k-chars"),
    pytest.param("🙂", id="emoji"),
    pytest.param("🙂" * 50_000, id="50k-emoji"),
    pytest.param("👩‍👩‍👧", id="zwj-family"),
    pytest.param("\u200f\u202e\u200e", id="rtl-marks-only"),
    pytest.param("\u202eyes", id="rtl-override-yes"),
    pytest.param("\x00\x01\x07\x1b[31m", id="controls"),
    pytest.param("1\x00", id="digit-nul"),
    pytest.param("\ud800", id="lone-surrogate"),
    pytest.param("١", id="arabic-indic-one"),
    pytest.param("𝟏", id="math-bold-one"),
    pytest.param("نعم", id="arabic-yes"),
    pytest.param("\r\n\t", id="crlf-tab"),
    pytest.param("{sender} {0} %s", id="format-codes"),
]
WHERE = ["pending", "consent", "exit_word", "idle", "choice", "multi", "text", "pin"]


def _situation(where: str) -> tuple[ConversationState, Context]:
    if where == "pending":
        return IDLE, pending()
    if where in ("consent", "exit_word"):
        return ConversationState().at(Flow.ONBOARDING, where), context(CaseStatus.ONBOARDING)
    ctx = context(pin=PIN if where == "pin" else None)
    prefix: dict[str, list[str | Input]] = {
        "idle": [],
        "choice": [StartCheckin(), "yes"],
        "multi": [StartCheckin(), "yes", "yes", "no"],
        "text": [StartCheckin(), "yes", "yes", "no", "no", "no", "no", "no", "no"],
        "pin": [StartCheckin(), "yes"],
    }
    return (after(ctx, *prefix[where]) if prefix[where] else IDLE), ctx


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("text", STRANGE)
def test_huge_or_strange_input_never_raises_and_gets_a_sensible_reply(text: str, where: str) -> None:
    state, ctx = _situation(where)
    step = handle(state, Message(text), ctx)
    assert step.replies, "the survivor always hears something ordinary back"
    assert not any(isinstance(e, AlertRaised | QuickExitUsed | ConsentWithdrawn) for e in step.events)
    for answer in step.answers:
        assert answer.text is None or len(answer.text) <= 1000
    assert ConversationState.from_json(step.state.to_json()) == step.state


# ---- every reply is discreet ----


def _every_rotating_question(ctx: Context) -> list[Step]:
    """Check-ins one after another, each told which questions the ones before asked, until every
    rotating question has been asked once."""
    steps: list[Step] = []
    recent: tuple[frozenset[str], ...] = ()
    for _ in range(QS.rotation.within if QS.rotation else 1):
        done = run(replace(ctx, recent_questions=recent), StartCheckin(), *["1"] * 8, "skip")
        recent += (frozenset(a.question for s in done for a in s.answers),)
        steps += done
    return steps


def _every_path() -> list[Step]:
    """Drive the engine down every path that has its own reply."""
    # Set-up asks for her secrets only where the thread deletes itself (Telegram with auto-delete).
    onb = context(CaseStatus.ONBOARDING, exit_word=None, codeword=None, secrets_on_channel=True)
    steps = run(pending(), "wrong", ACTIVATION_CODE)
    script = ["purple", "yes", "1 3", "pause", "pasta", "1", "blue kettle", "yes", "12", PIN, DURESS_PIN]
    steps += run(onb, *script, state=steps[-1].state)
    steps += run(onb, "no", state=ConversationState().at(Flow.ONBOARDING, "consent"))
    steps += run(onb, "skip", state=ConversationState().at(Flow.ONBOARDING, "pin"))
    in_person = context(CaseStatus.ONBOARDING, exit_word=None, codeword=None)
    steps += run(in_person, "yes", "1 3", "yes", state=ConversationState().at(Flow.ONBOARDING, "consent"))
    active = context(pin=PIN, duress_pin=DURESS_PIN, cover_line=True, help_line="Ring Jo on 07700 900123.")
    steps += run(active, "hi", "help", "pause", "resume", "withdraw", "pasta")
    steps += run(context(CaseStatus.PAUSED), "hi")
    steps += run(active, StartCheckin(), "not now")
    steps += run(active, StartCheckin(), "yes", Timeout(), "0000", "0001")
    steps += run(active, StartCheckin(), "yes", PIN, "purple", "yes", Timeout(), *["no"] * 6, "fine")
    steps += run(active, StartCheckin(), "yes", PIN, "no")  # not safe right now: the neutral line
    steps += _every_rotating_question(context())
    steps += run(active, "pause 12 hours")
    many = ("en_GB", "cy", "ur")
    steps.append(onboarding.begin(context(CaseStatus.ONBOARDING, languages=many)))
    steps += run(context(CaseStatus.ONBOARDING, languages=many), "2", state=steps[-1].state)
    steps += run(context(languages=many), "language", "3")
    return steps


def test_every_reply_the_engine_sends_passes_the_over_the_shoulder_test() -> None:
    replies = [reply for step in _every_path() for reply in step.replies]
    seen = {reply.key for reply in replies}
    labels = {o.label for q in onboarding.STEPS.values() for o in q.options}
    catalogue = {value for name, value in vars(R).items() if name.isupper() and isinstance(value, str)} - labels
    catalogue |= {value[0] for name, value in vars(R).items() if name.isupper() and isinstance(value, tuple)}
    catalogue -= R.SENT_BY_TRANSPORTS
    assert catalogue <= seen, f"paths not driven: {sorted(catalogue - seen)}"
    for key in R.SENT_BY_TRANSPORTS:
        assert first_line_problems(key) == [], key
    assert set(ASK.values()) <= seen
    for key in sorted(seen):
        assert first_line_problems(key) == [], key
    for reply in replies:
        reply.key.format(**reply.params)  # every placeholder has its parameter
        if reply.plural is not None:
            reply.plural.format(**reply.params)
        for label in reply.options:
            assert "\n" not in label


def test_a_step_is_a_plain_value_that_survives_being_stored() -> None:
    ctx = context(pin=PIN)
    for step in run(ctx, StartCheckin(), "yes", PIN, "yes", "a lot", "no", "5", "no"):
        assert ConversationState.from_json(step.state.to_json()) == step.state
    assert ConversationState.from_json(None) == IDLE
