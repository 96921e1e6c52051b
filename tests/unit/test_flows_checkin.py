"""A check-in walks the question set, checks the PIN, and ends with an assessment and any alert it calls for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

import pytest

from flows import replies as R
from flows.checkin import DEFER_RETRY, MAX_ANSWERS, PIN_STEP
from flows.engine import handle
from flows.events import (
    AlertRaised,
    CallbackRequested,
    CheckinCompleted,
    CheckinDeferred,
    CheckinMissed,
    CheckinStarted,
    DuressPinUsed,
    PinFailedTwice,
)
from flows.loader import QuestionSetError, parse_questionset
from flows.model import (
    Answer,
    Expiry,
    Flow,
    Message,
    Reply,
    Step,
    Timeout,
    ask,
)
from flows.questionset import Option, OptionAction, Question, QuestionKind, QuestionSet
from safety.model import AlertReason, Change, History, IntakeLevel, Level, Severity
from safety.policy import MissedPolicy
from tests.unit.flows_support import ASK, DURESS_PIN, IDLE, PIN, QS, alerts, answers, checkin, context, events, keys


def completed(steps: Iterable[Step]) -> CheckinCompleted:
    (done,) = [event for event in events(steps) if isinstance(event, CheckinCompleted)]
    return done


# The core five, then the two rotating questions a first check-in asks (separation, stalking:
# the first two in the file when none has been asked yet), then callback and anything_else.
ALL_CLEAR = ["yes", "yes", "no", "no", "no", "no", "no", "no", "skip"]
FIRST_ROTATION = ("separation", "stalking")


# ---- walking the questions ----


def test_full_check_in_by_numbers_records_every_answer_and_thanks_the_survivor() -> None:
    steps = checkin(context(), *["1"] * 8, "SKIP")
    assert answers(steps) == [
        Answer("safe_to_talk", ("yes",)),
        Answer("safe_now", ("yes",)),
        Answer("afraid", ("no",)),
        Answer("contact", ("none",)),
        Answer("incident", ("none",)),
        Answer("separation", ("no",)),
        Answer("stalking", ("no",)),
        Answer("callback", ("no",)),
        Answer("anything_else", text=None),
    ]
    assert keys(steps) == [
        ASK["safe_to_talk"],
        ASK["safe_now"],
        ASK["afraid"],
        ASK["contact"],
        ASK["incident"],
        ASK["separation"],
        ASK["stalking"],
        ASK["callback"],
        ASK["anything_else"],
        R.CHECKIN_DONE,
    ]
    assert events(steps)[0] == CheckinStarted()
    done = completed(steps)
    assert (done.assessment.level, done.assessment.score, done.change.change, done.complete) == (
        Level.STANDARD,
        0,
        Change.SAME,
        True,
    )
    assert alerts(steps) == []
    assert steps[-1].state == IDLE


def test_full_check_in_by_words_records_options_signals_and_free_text() -> None:
    steps = checkin(
        context(),
        "yes",
        "not sure",
        "a lot",
        "messages and in person",
        "2 3",
        "thinking",
        "no",
        "no",
        "He came round",
    )
    assert answers(steps) == [
        Answer("safe_to_talk", ("yes",)),
        Answer("safe_now", ("not_sure",), ("unsure_safe_now",)),
        Answer("afraid", ("lot",), ("fear_a_lot",)),
        Answer("contact", ("remote", "in_person"), ("contact_remote", "contact_in_person")),
        Answer("incident", ("threats", "threats_to_kill"), ("threats", "threats_to_kill")),
        Answer("separation", ("planning",), ("separation_planned",)),
        Answer("stalking", ("no",)),
        Answer("callback", ("no",)),
        Answer("anything_else", text="He came round"),
    ]
    assert answers(steps)[-1].text == "He came round"
    done = completed(steps)
    assert done.assessment.level is Level.URGENT
    assert done.assessment.urgent_signals == ("threats_to_kill",)
    assert "separation_planned" in done.assessment.signals
    assert alerts(steps) == [AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED)]
    assert alerts(steps)[0].facts == ("threats_to_kill",)  # what happened, as a code: never her words
    assert keys(steps)[-1] == R.CHECKIN_DONE


@pytest.mark.parametrize(
    ("text", "recorded"),
    [
        ("SKIP", None),
        ("skip", None),
        ("n/a", None),
        ("Nothing else", None),
        ("", None),
        ("He has my keys", "He has my keys"),
        ("  line one\r\nline two\t ", "line one\nline two"),
        ("bell\x07 ring", "bell ring"),
        ("x" * 5000, "x" * 1000),
    ],
)
def test_free_text_answer_is_recorded_cleaned_and_skip_records_nothing(text: str, recorded: str | None) -> None:
    steps = checkin(context(), *ALL_CLEAR[:-1], text)
    assert answers(steps)[-1] == Answer("anything_else", text=recorded)
    assert answers(steps)[-1].text == recorded


@pytest.mark.parametrize("text", ["Not now", "not now", "2", "later", "busy", "no"])
def test_not_now_defers_the_check_in_quietly(text: str) -> None:
    steps = checkin(context(), text)
    assert steps[-1] == Step(IDLE, replies=(Reply(R.DEFERRED),), events=(CheckinDeferred(DEFER_RETRY),))
    assert timedelta(hours=2) == DEFER_RETRY


def test_unrecognised_answer_is_asked_again_once_then_left_unanswered() -> None:
    ctx = context()
    first, second = checkin(ctx, "yes", "purple", "still purple")[-2:]
    assert [r.key for r in first.replies] == [R.REASK, ASK["safe_now"]]
    assert first.answers == ()
    assert first.state.step == "safe_now"
    assert second.answers == (Answer("safe_now", unanswered=True),)
    assert second.replies == (ask(QS.question("afraid"), ctx),)
    assert second.state.retries == 0  # the next question gets its own second chance


@pytest.mark.parametrize(
    ("question_index", "text"),
    [
        (1, "yes no"),  # a choice question takes exactly one option
        (3, "no and messages"),  # "none" cannot be combined
        (4, "none of these threats"),
        (1, "7"),
    ],
)
def test_contradictory_or_out_of_range_answers_are_asked_again(question_index: int, text: str) -> None:
    steps = checkin(context(), *ALL_CLEAR[:question_index], text)
    question = QS.questions[question_index]
    assert [r.key for r in steps[-1].replies] == [R.REASK, question.text]
    assert steps[-1].answers == ()


# ---- levels and alerts ----

RISING = History(IntakeLevel.STANDARD, False, recent_levels=(Level.STANDARD,) * 3)
HIGH_SO_FAR = History(IntakeLevel.HIGH, False, recent_levels=(Level.HIGH,) * 3)
NO_CONTACT_ORDER = History(IntakeLevel.STANDARD, True, recent_levels=(Level.STANDARD,) * 3)
FEAR_CLIMBING = History(IntakeLevel.MEDIUM, False, recent_levels=(Level.RAISED,) * 3, recent_fear=(0, 1))

RISK_TABLE = [
    # (name, history, replies to the 9 questions asked, level, change, alerts)
    # ("Not safe right now" ends the check-in at once: see test_not_safe_right_now_is_urgent_on_its_own.)
    ("all clear", RISING, ALL_CLEAR, Level.STANDARD, Change.SAME, []),
    (
        "choking is urgent on its own",
        RISING,
        ["yes", "yes", "no", "no", "choked", "no", "no", "no", "skip"],
        Level.URGENT,
        Change.RAISED,
        [AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED)],
    ),
    (
        "a weapon is urgent on its own",
        RISING,
        ["yes", "yes", "no", "no", "knife", "no", "no", "no", "skip"],
        Level.URGENT,
        Change.RAISED,
        [AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED)],
    ),
    (
        "fear a lot and threats score high",
        RISING,
        ["yes", "yes", "a lot", "no", "threats", "no", "no", "no", "skip"],
        Level.HIGH,
        Change.RAISED,
        [AlertRaised(Severity.HIGH, AlertReason.RISK_RAISED)],
    ),
    (
        "a little fear and messages score raised",
        RISING,
        ["yes", "yes", "a little", "calls", "no", "no", "no", "no", "skip"],
        Level.RAISED,
        Change.RAISED,
        [AlertRaised(Severity.RAISED, AlertReason.RISK_RAISED)],
    ),
    (
        "high again at a high baseline is the same: no alert",
        HIGH_SO_FAR,
        ["yes", "yes", "a lot", "no", "threats", "no", "no", "no", "skip"],
        Level.HIGH,
        Change.SAME,
        [],
    ),
    ("improvement is recorded without an alert", HIGH_SO_FAR, ALL_CLEAR, Level.STANDARD, Change.IMPROVED, []),
    (
        "contact in person is raised without a no-contact order",
        RISING,
        ["yes", "yes", "no", "in person", "no", "no", "no", "no", "skip"],
        Level.RAISED,
        Change.RAISED,
        [AlertRaised(Severity.RAISED, AlertReason.RISK_RAISED)],
    ),
    (
        "contact in person is urgent with a no-contact order",
        NO_CONTACT_ORDER,
        ["yes", "yes", "no", "came round", "no", "no", "no", "no", "skip"],
        Level.URGENT,
        Change.RAISED,
        [AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED)],
    ),
    (
        "messages are not urgent even with a no-contact order",
        NO_CONTACT_ORDER,
        ["yes", "yes", "no", "texts", "no", "no", "no", "no", "skip"],
        Level.STANDARD,
        Change.SAME,
        [],
    ),
    (
        "urgent call back",
        RISING,
        ["yes", "yes", "no", "no", "no", "no", "no", "3", "skip"],
        Level.URGENT,
        Change.RAISED,
        [AlertRaised(Severity.URGENT, AlertReason.CALLBACK_URGENT)],
    ),
    (
        "call back today",
        RISING,
        ["yes", "yes", "no", "no", "no", "no", "no", "Yes, today", "skip"],
        Level.STANDARD,
        Change.SAME,
        [AlertRaised(Severity.RAISED, AlertReason.CALLBACK_TODAY)],
    ),
    (
        "stalking (asked in turn) and messages score high",
        RISING,
        ["yes", "yes", "no", "calls", "no", "no", "yes", "no", "skip"],
        Level.HIGH,
        Change.RAISED,
        [AlertRaised(Severity.HIGH, AlertReason.RISK_RAISED)],
    ),
    (
        "something else happened scores raised",
        RISING,
        ["yes", "yes", "no", "no", "8", "no", "no", "no", "skip"],
        Level.RAISED,
        Change.RAISED,
        [AlertRaised(Severity.RAISED, AlertReason.RISK_RAISED)],
    ),
    (
        "living together is recorded but scores nothing on its own",
        RISING,
        ["yes", "yes", "no", "we live together", "no", "no", "no", "no", "skip"],
        Level.STANDARD,
        Change.SAME,
        [],
    ),
    (
        "fear rising over three check-ins",
        FEAR_CLIMBING,
        ["yes", "yes", "a lot", "no", "no", "no", "no", "no", "skip"],
        Level.RAISED,
        Change.SAME,
        [AlertRaised(Severity.RAISED, AlertReason.FEAR_RISING)],
    ),
    (
        "fear steady is not rising",
        FEAR_CLIMBING,
        ["yes", "yes", "a little", "no", "no", "no", "no", "no", "skip"],
        Level.STANDARD,
        Change.IMPROVED,
        [],
    ),
]


@pytest.mark.parametrize(
    ("history", "texts", "level", "change", "expected_alerts"),
    [row[1:] for row in RISK_TABLE],
    ids=[row[0] for row in RISK_TABLE],
)
def test_check_in_ends_with_its_level_and_alerts_only_when_it_rises(
    history: History, texts: list[str], level: Level, change: Change, expected_alerts: list[AlertRaised]
) -> None:
    steps = checkin(context(history=history), *texts)
    done = completed(steps)
    assert done.complete
    assert done.assessment.level is level
    assert done.change.change is change
    assert alerts(steps) == expected_alerts
    assert steps[-1].events[0] == done  # assessed only at the end
    assert keys(steps)[-1] == R.CHECKIN_DONE


def test_not_safe_right_now_is_urgent_on_its_own() -> None:
    # Even at a high baseline: "No" to "are you safe right now?" is urgent, and ends the check-in.
    steps = checkin(context(history=HIGH_SO_FAR), "yes", "no")
    done = completed(steps)
    assert not done.complete  # she stopped after two answers
    assert done.assessment.level is Level.URGENT
    assert done.assessment.urgent_signals == ("not_safe_now",)
    assert done.change.change is Change.RAISED
    assert alerts(steps) == [AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED)]
    assert alerts(steps)[0].facts == ("not_safe_now",)
    assert steps[-1].state == IDLE


@pytest.mark.parametrize(("text", "urgency"), [("3", "urgent"), ("urgently", "urgent"), ("2", "today")])
def test_call_back_request_is_reported_when_it_is_answered(text: str, urgency: str) -> None:
    steps = checkin(context(), *ALL_CLEAR[:7], text)
    # An urgent call-back alerts at once: the survivor may never finish the check-in.
    urgent_alert = (AlertRaised(Severity.URGENT, AlertReason.CALLBACK_URGENT),) if urgency == "urgent" else ()
    assert steps[-1].events == (CallbackRequested(urgency), *urgent_alert)
    assert steps[-1].state.step == "anything_else"


# ---- PIN check ----


def test_with_a_pin_set_the_pin_is_asked_after_safe_to_talk() -> None:
    ctx = context(pin=PIN)
    step = checkin(ctx, "yes")[-1]
    assert step.answers == (Answer("safe_to_talk", ("yes",)),)
    assert [r.key for r in step.replies] == [R.PIN_PROMPT]
    assert step.state.step == PIN_STEP


@pytest.mark.parametrize("text", [PIN, " 24 68 ", "2-4-6-8", "٢٤٦٨"])
def test_correct_pin_goes_on_with_the_check_in(text: str) -> None:
    ctx = context(pin=PIN, duress_pin=DURESS_PIN)
    step = checkin(ctx, "yes", text)[-1]
    assert step.events == ()
    assert step.replies == (ask(QS.question("safe_now"), ctx),)
    assert step.sensitive
    assert step.state.step == "safe_now"


def test_not_now_with_a_pin_set_defers_without_asking_for_the_pin() -> None:
    step = checkin(context(pin=PIN), "not now")[-1]
    assert step.events == (CheckinDeferred(DEFER_RETRY),)
    assert [r.key for r in step.replies] == [R.DEFERRED]


def test_duress_pin_alerts_silently_and_looks_exactly_like_the_right_pin() -> None:
    ctx = context(pin=PIN, duress_pin=DURESS_PIN)
    normal = checkin(ctx, "yes", PIN, *ALL_CLEAR[1:])
    duress = checkin(ctx, "yes", DURESS_PIN, *ALL_CLEAR[1:])
    # Whoever holds the phone sees the same conversation, reply for reply.
    assert [s.replies for s in duress] == [s.replies for s in normal]
    assert [s.sensitive for s in duress] == [s.sensitive for s in normal]
    assert duress[2].events == (DuressPinUsed(), AlertRaised(Severity.URGENT, AlertReason.DURESS_PIN))
    # One duress alert, not a second when the check-in is assessed.
    assert alerts(duress) == [AlertRaised(Severity.URGENT, AlertReason.DURESS_PIN)]
    assert completed(duress).assessment.level is Level.URGENT
    assert "duress_pin" in completed(duress).assessment.signals
    assert alerts(normal) == []


def test_wrong_pin_once_asks_again_and_the_right_pin_then_goes_on() -> None:
    ctx = context(pin=PIN)
    wrong, right = checkin(ctx, "yes", "0000", PIN)[-2:]
    assert wrong.replies == (Reply(R.PIN_RETRY),)
    assert wrong.events == ()
    assert wrong.sensitive
    assert (wrong.state.step, wrong.state.pin_failures) == (PIN_STEP, 1)
    assert [r.key for r in right.replies] == [ASK["safe_now"]]
    assert right.state.pin_failures == 0


@pytest.mark.parametrize("second", ["1111", "0000", "hello", ""])
def test_wrong_pin_twice_ends_the_check_in_and_alerts(second: str) -> None:
    last = checkin(context(pin=PIN), "yes", "9999", second)[-1]
    assert last == Step(
        IDLE,
        replies=(Reply(R.PIN_ENDED),),
        events=(PinFailedTwice(), AlertRaised(Severity.HIGH, AlertReason.PIN_FAILED)),
        sensitive=True,
    )


def test_pin_never_reaches_the_state() -> None:
    for step in checkin(context(pin=PIN, duress_pin=DURESS_PIN), "yes", DURESS_PIN, "no"):
        assert PIN not in step.state.to_json()
        assert DURESS_PIN not in step.state.to_json()


# ---- timers ----


def test_timeout_nudges_once_with_the_question_again() -> None:
    ctx = context()
    steps = checkin(ctx, "yes", Timeout(), Timeout())
    nudge, again = steps[-2:]
    assert nudge.replies == (Reply(R.NUDGE), ask(QS.question("safe_now"), ctx))
    assert nudge.events == ()
    assert nudge.state.reminded
    assert again == Step(nudge.state)


def test_timeout_at_the_pin_asks_for_the_pin_again() -> None:
    step = checkin(context(pin=PIN), "yes", Timeout())[-1]
    assert [r.key for r in step.replies] == [R.NUDGE, R.PIN_PROMPT]


@pytest.mark.parametrize(
    ("missed_before", "agreed", "policy", "alert"),
    [
        (0, True, MissedPolicy(alert_each_missed=False), None),
        (0, True, MissedPolicy(), AlertRaised(Severity.RAISED, AlertReason.MISSED_CHECKIN)),
        (1, True, MissedPolicy(), AlertRaised(Severity.HIGH, AlertReason.MISSED_TWICE)),
        (4, True, MissedPolicy(), AlertRaised(Severity.HIGH, AlertReason.MISSED_TWICE)),
        (1, False, MissedPolicy(), None),
        (0, True, MissedPolicy(alert_each_missed=True), AlertRaised(Severity.RAISED, AlertReason.MISSED_CHECKIN)),
        (0, False, MissedPolicy(alert_each_missed=True), None),
    ],
)
def test_expiry_with_no_answers_is_a_missed_check_in(
    missed_before: int, agreed: bool, policy: MissedPolicy, alert: AlertRaised | None
) -> None:
    history = History(IntakeLevel.STANDARD, False, consecutive_missed=missed_before)
    ctx = context(history=history, missed_alerts_agreed=agreed, missed_policy=policy)
    step = checkin(ctx, Timeout(), Expiry())[-1]
    assert step.events == ((CheckinMissed(), alert) if alert else (CheckinMissed(),))
    assert step.replies == ()
    assert step.state == IDLE


def test_expiry_after_an_unrecognised_reply_is_still_missed() -> None:
    step = checkin(context(), "purple", Expiry())[-1]
    assert step.events == (CheckinMissed(),)


def test_expiry_with_some_answers_assesses_them_as_incomplete() -> None:
    steps = checkin(context(history=RISING), "yes", "yes", "a lot", "in person", Expiry())
    last = steps[-1]
    done = last.events[0]
    assert isinstance(done, CheckinCompleted)
    assert not done.complete
    assert done.assessment.signals == ("fear_a_lot", "contact_in_person")
    assert done.assessment.level is Level.HIGH
    assert last.events[1:] == (AlertRaised(Severity.HIGH, AlertReason.RISK_RAISED),)
    assert last.replies == ()
    assert last.state == IDLE


# ---- runaway guard ----

_LOOP_TOML = """
id = "loop"
version = 1
start = "q1"

[[questions]]
id = "q1"
kind = "choice"
text = "Hi.\\nOne?"
next = "q2"
  [[questions.options]]
  key = "yes"
  label = "Yes"

[[questions]]
id = "q2"
kind = "choice"
text = "Hi.\\nTwo?"
next = "q1"
  [[questions.options]]
  key = "yes"
  label = "Yes"
"""


def _looping_set() -> QuestionSet:
    # The loader refuses a loop, so build the same set by hand: the engine must still stop.
    yes = (Option("yes", "Yes"),)
    return QuestionSet(
        "loop",
        1,
        "q1",
        (
            Question("q1", QuestionKind.CHOICE, "Hi.\nOne?", yes, next="q2"),
            Question("q2", QuestionKind.CHOICE, "Hi.\nTwo?", yes, next="q1"),
        ),
    )


def test_loader_refuses_a_looping_question_set() -> None:
    with pytest.raises(QuestionSetError, match="loop"):
        parse_questionset(_LOOP_TOML, "loop.toml")


def test_a_looping_question_set_stops_after_the_answer_limit() -> None:
    steps = checkin(context(questionset=_looping_set()), *["yes"] * (MAX_ANSWERS + 10))
    ended = next(i for i, step in enumerate(steps) if step.state == IDLE and i > 0)
    assert ended == MAX_ANSWERS
    assert len(answers(steps[: ended + 1])) == MAX_ANSWERS
    done = completed(steps[: ended + 1])
    assert not done.complete
    # After the end, further replies are ordinary idle messages, not answers.
    assert answers(steps[ended + 1 :]) == []
    assert {r.key for s in steps[ended + 1 :] for r in s.replies} == {R.IDLE}


# ---- codeword inside a check-in ----


def test_codeword_at_the_pin_prompt_alerts_and_counts_as_a_wrong_pin() -> None:
    step = checkin(context(pin=PIN), "yes", "blue kettle")[-1]
    assert AlertRaised(Severity.URGENT, AlertReason.CODEWORD) in step.events
    assert step.replies == (Reply(R.PIN_RETRY),)


def test_codeword_and_duress_pin_in_one_check_in_alert_once_each() -> None:
    ctx = context(pin=PIN, duress_pin=DURESS_PIN)
    steps = checkin(ctx, "yes", DURESS_PIN, "yes", "blue kettle", "no", "no", "no", "no", "no", "no", "skip")
    assert alerts(steps) == [
        AlertRaised(Severity.URGENT, AlertReason.DURESS_PIN),
        AlertRaised(Severity.URGENT, AlertReason.CODEWORD),
    ]
    assert completed(steps).assessment.level is Level.URGENT


def test_check_in_state_is_in_the_check_in_flow_until_it_ends() -> None:
    steps = checkin(context(), *ALL_CLEAR)
    assert all(step.state.flow is Flow.CHECKIN for step in steps[:-1])
    assert steps[-1].state == IDLE


# ---- answers that cannot wait for the end ----


@pytest.mark.parametrize(
    ("answers_given", "reason"),
    [
        (["yes", "no"], AlertReason.RISK_RAISED),  # not safe right now
        (["yes", "yes", "no", "no", "choking"], AlertReason.RISK_RAISED),
        (["yes", "yes", "no", "no", "no", "no", "no", "urgently"], AlertReason.CALLBACK_URGENT),
    ],
)
def test_an_urgent_answer_alerts_at_once_and_only_once(answers_given: list[str], reason: AlertReason) -> None:
    steps = checkin(context(), *answers_given)
    assert AlertRaised(Severity.URGENT, reason) in steps[-1].events
    rest = checkin(context(), *answers_given, *ALL_CLEAR[len(answers_given):])
    assert alerts(rest).count(AlertRaised(Severity.URGENT, reason)) == 1


def _not_safe_goes_on() -> QuestionSet:
    """The default set as a service might edit it: "No" to safe_now records not_safe_now but goes on."""
    safe_now = QS.question("safe_now")
    options = tuple(replace(o, action=OptionAction.NONE) for o in safe_now.options)
    edited = replace(safe_now, options=options)
    return replace(QS, questions=tuple(edited if q.id == "safe_now" else q for q in QS.questions))


@pytest.mark.parametrize("edited", [False, True], ids=["default set (ends)", "edited set (goes on)"])
def test_no_nudge_is_sent_after_not_safe_right_now(edited: bool) -> None:
    ctx = context(questionset=_not_safe_goes_on()) if edited else context()
    steps = checkin(ctx, "yes", "no", Timeout())
    assert AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED) in steps[2].events
    assert (steps[2].state.step == "afraid") is edited
    assert steps[-1].replies == ()
    assert steps[-1].state == steps[-2].state


def test_not_now_after_some_answers_keeps_them_and_assesses() -> None:
    qs = QuestionSet("late", 1, "q1", (
        Question("q1", QuestionKind.CHOICE, "Hi, it's {sender}.", (
            Option("yes", "Yes"), Option("no", "No", signals=("fear_a_lot",))), next="q2"),
        Question("q2", QuestionKind.CHOICE, "Next one:", (
            Option("ok", "OK"), Option("later", "Later", action=OptionAction.DEFER))),
    ))
    steps = checkin(context(questionset=qs), "no", "later")
    assert keys(steps[-1:]) == [R.DEFERRED]
    done = completed(steps)
    assert not done.complete and done.assessment.signals == ("fear_a_lot",)
    assert not any(isinstance(e, CheckinDeferred) for e in events(steps))


def test_a_question_set_changed_under_an_open_check_in_closes_it_with_what_was_answered() -> None:
    ctx = context()
    steps = checkin(ctx, "yes", "yes", "no", "no", "choked")
    stale = replace(steps[-1].state, step="a_question_that_no_longer_exists")
    step = handle(stale, Message("1"), ctx)
    (done,) = [e for e in step.events if isinstance(e, CheckinCompleted)]
    assert not done.complete and done.assessment.level is Level.URGENT
    assert step.state == IDLE
