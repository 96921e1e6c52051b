"""The DASH-aligned check-in: "not safe right now" ends it at once, rotating questions are each asked in
turn, a later urgent answer alerts for what is new, the loader refuses a broken rotation, and a cover
theme yields exactly the signals and alerts of the direct questions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import pytest

from flows import cover, rotation
from flows import replies as R
from flows.discretion import thread_problems
from flows.engine import handle
from flows.events import AlertRaised, CheckinCompleted
from flows.loader import QuestionSetError, parse_questionset
from flows.model import Answer, Context, ConversationState, Message, Reply, StartCheckin, Step
from flows.questionset import QuestionSet
from safety.model import AlertReason, History, IntakeLevel, Level, Severity
from tests.unit.flows_support import PIN, QS, alerts, answers, checkin, context, events

IDLE = ConversationState()
ROTATING = tuple(q.id for q in QS.rotating)
WITHIN = QS.rotation.within if QS.rotation else 0


def told(steps: Iterable[Step]) -> list[tuple[Severity, AlertReason, str | None, tuple[str, ...]]]:
    """Every alert in full: level and facts do not take part in AlertRaised's ==."""
    return [(a.severity, a.reason, a.level, a.facts) for a in alerts(steps)]


def test_the_default_set_rotates_ten_questions_two_at_a_time_within_five_check_ins() -> None:
    # The promise the tests below rely on: ten rotating questions, two a check-in, all within five.
    assert len(ROTATING) == 10
    assert rotation.per_checkin(QS) == 2
    assert WITHIN == 5
    assert rotation.plan(QS, ()) == ("separation", "stalking")


# ---- (1) "not safe right now" ends the check-in at once ----


@pytest.mark.parametrize("text", ["2", "no", "No.", "nope", "٢"])
def test_not_safe_right_now_ends_the_check_in_with_one_neutral_line_and_the_urgent_alert(text: str) -> None:
    steps = checkin(context(), "yes", text)
    last = steps[-1]
    # No further question: one neutral line, nothing else.
    assert last.replies == (Reply(R.COVER_LINE),)
    assert thread_problems(R.COVER_LINE) == []  # it stays in her thread: nothing in it gives anything away
    # The urgent alert in this very step, naming what happened, then the check-in closed as incomplete.
    alert, done = last.events
    assert alert == AlertRaised(Severity.URGENT, AlertReason.RISK_RAISED)
    assert alert.facts == ("not_safe_now",)
    assert isinstance(done, CheckinCompleted)
    assert not done.complete
    assert done.assessment.level is Level.URGENT
    assert done.assessment.signals == ("not_safe_now",)
    # What she answered is kept.
    assert answers(steps) == [Answer("safe_to_talk", ("yes",)), Answer("safe_now", ("no",), ("not_safe_now",))]
    assert last.state == IDLE
    assert alerts(steps) == [alert]  # once: not again when the check-in is assessed


def test_after_not_safe_right_now_her_next_messages_are_not_answers_and_nothing_chases_her() -> None:
    steps = checkin(context(), "yes", "no", "1", "1")
    assert answers(steps[3:]) == []
    assert [r.key for s in steps[3:] for r in s.replies] == [R.IDLE, R.IDLE]
    assert alerts(steps[3:]) == []


def test_not_safe_right_now_after_the_pin_ends_the_same_way() -> None:
    ctx = context(pin=PIN)
    last = checkin(ctx, "yes", PIN, "no")[-1]
    assert last.replies == (Reply(R.COVER_LINE),)
    assert [type(e) for e in last.events] == [AlertRaised, CheckinCompleted]
    assert last.state == IDLE


def test_not_safe_right_now_in_cover_mode_ends_with_the_themes_own_line() -> None:
    theme = cover.themes()["salon"]
    ctx = context(questionset=cover.apply(QS, theme), ended_line=theme.ended_line.en)
    last = checkin(ctx, "1", "2")[-1]
    assert last.replies == (Reply(theme.ended_line.en),)
    assert alerts([last])[0].facts == ("not_safe_now",)


# ---- (2) rotation: every rotating question within `within` check-ins ----


def one_checkin(ctx: Context) -> list[str]:
    """A check-in she answers to the end, "1" each time: the ids of the questions she answered, in order."""
    state = handle(IDLE, StartCheckin(), ctx)
    asked = [a.question for a in state.answers]
    for _ in range(30):
        if state.state.flow is None:
            break
        state = handle(state.state, Message("1"), ctx)
        asked += [a.question for a in state.answers]
    assert state.state == IDLE, "the check-in did not end"
    return asked


def rotate(present: Sequence[bool], window: int | None = None) -> list[list[str]]:
    """Her check-ins one after another, each told (as Context.recent_questions) what the ones before
    asked, oldest first, with an empty set for each she missed; `window`: how many the shell reads.
    Returns, for each check-in she answered, the rotating questions it asked."""
    recent: tuple[frozenset[str], ...] = ()
    asked: list[list[str]] = []
    for answered in present:
        if not answered:
            recent += (frozenset(),)
            continue
        seen = recent[-window:] if window else recent
        questions = one_checkin(context(recent_questions=seen))
        asked.append([q for q in questions if q in ROTATING])
        recent += (frozenset(questions),)
    return asked


def longest_wait(asked: list[list[str]]) -> dict[str, int]:
    """For each rotating question, the most answered check-ins it waited to be asked (from the first)."""
    waits: dict[str, int] = {}
    for question in ROTATING:
        at = [n for n, questions in enumerate(asked, start=1) if question in questions]
        assert at, f"{question} was never asked"
        waits[question] = max(b - a for a, b in zip([0, *at], at, strict=False))
    return waits


def test_a_survivor_who_answers_every_check_in_is_asked_every_rotating_question_within_five() -> None:
    asked = rotate([True] * 4 * WITHIN)
    assert all(len(questions) == 2 for questions in asked)
    for start in range(len(asked) - WITHIN + 1):
        in_window = {q for questions in asked[start : start + WITHIN] for q in questions}
        assert in_window == set(ROTATING), f"check-ins {start + 1} to {start + WITHIN} missed some"
    assert set(longest_wait(asked).values()) == {WITHIN}  # each comes round every fifth check-in, no later


MISSED = {
    "every other one missed": [True, False] * 12,
    "three missed in a row, twice": [True, True, False, False, False, True, True, True, False, False, False] * 2
    + [True] * 6,
    "a first check-in missed": [False] + [True] * 10,
    "leaves for a week then comes back": [True] * 3 + [False] * 7 + [True] * 10,
}


@pytest.mark.parametrize("present", MISSED.values(), ids=MISSED.keys())
def test_a_survivor_who_misses_check_ins_is_still_asked_every_rotating_question_within_five_she_answers(
    present: list[bool],
) -> None:
    # A missed check-in asks nothing, so the questions it would have asked stay first in line.
    asked = rotate(present)
    assert sum(present) >= 2 * WITHIN
    waits = longest_wait(asked)
    assert max(waits.values()) <= WITHIN, waits


def test_a_check_in_she_leaves_before_the_rotation_keeps_its_questions_first_in_line() -> None:
    # "Not safe right now" ends the check-in before the rotating questions: the next asks them.
    recent = (frozenset({"safe_to_talk", "safe_now"}),)
    assert rotation.plan(QS, recent) == ("separation", "stalking")
    answered_them = (*recent, frozenset({"separation", "stalking"}))
    assert rotation.plan(QS, answered_them) == ("escalation", "controlling")


# ---- (3) a second urgent answer alerts again, for the new fact only ----


def _mood_first() -> tuple[frozenset[str], ...]:
    """A history after which the rotation asks mood (and money) next."""
    recent = (frozenset(q for q in ROTATING if q not in ("mood", "money_isolation")),)
    assert rotation.plan(QS, recent) == ("mood", "money_isolation")
    return recent


def test_a_second_urgent_answer_in_the_rotation_alerts_again_with_only_the_new_fact() -> None:
    ctx = context(recent_questions=_mood_first())
    steps = checkin(ctx, "yes", "yes", "no", "no", "5", "3", "1", "1", "skip")
    assert [a.question for a in answers(steps)][5] == "mood"
    choking, self_harm = steps[5], steps[6]
    assert told([choking]) == [(Severity.URGENT, AlertReason.RISK_RAISED, None, ("choking",))]
    assert told([self_harm]) == [(Severity.URGENT, AlertReason.RISK_RAISED, None, ("self_harm_thoughts",))]
    assert len(alerts(steps)) == 2  # and no third when the check-in is assessed
    (done,) = [e for e in events(steps) if isinstance(e, CheckinCompleted)]
    assert done.assessment.urgent_signals == ("choking", "self_harm_thoughts")


def test_an_urgent_answer_already_named_does_not_alert_again() -> None:
    ctx = context(recent_questions=_mood_first())
    # Choking and a weapon together: one alert naming both, in catalog order.
    steps = checkin(ctx, "yes", "yes", "no", "no", "7 5", "1", "1", "3", "skip")
    assert told(steps[5:6]) == [(Severity.URGENT, AlertReason.RISK_RAISED, None, ("choking", "weapons"))]
    # An urgent call back later is new: it alerts, with its own reason and only its own fact.
    assert told(steps[8:9]) == [(Severity.URGENT, AlertReason.CALLBACK_URGENT, None, ("callback_urgent",))]
    assert len(alerts(steps)) == 2


_TWICE = """\
id = "twice"
version = 1
start = "q1"

[[questions]]
id = "q1"
kind = "multi"
text = "Hello.\\nWhich of these?"
next = "q2"
  [[questions.options]]
  key = "none"
  label = "None"
  exclusive = true
  [[questions.options]]
  key = "choking"
  label = "Choking"
  signals = ["choking"]

[[questions]]
id = "q2"
kind = "multi"
text = "Next one:\\nAnd these?"
  [[questions.options]]
  key = "none"
  label = "None"
  exclusive = true
  [[questions.options]]
  key = "choking"
  label = "Choking"
  signals = ["choking"]
  [[questions.options]]
  key = "weapon"
  label = "A weapon"
  signals = ["weapons"]
"""


def test_the_same_urgent_fact_twice_alerts_once_and_a_new_one_beside_it_alerts_alone() -> None:
    ctx = context(questionset=parse_questionset(_TWICE, "twice.toml"))
    steps = checkin(ctx, "2", "2")
    assert told(steps) == [(Severity.URGENT, AlertReason.RISK_RAISED, None, ("choking",))]
    steps = checkin(ctx, "2", "2 3")
    assert told(steps) == [
        (Severity.URGENT, AlertReason.RISK_RAISED, None, ("choking",)),
        (Severity.URGENT, AlertReason.RISK_RAISED, None, ("weapons",)),
    ]


def test_in_person_contact_despite_a_no_contact_order_is_named_as_such() -> None:
    history = History(IntakeLevel.STANDARD, True, recent_levels=(Level.STANDARD,) * 3)
    steps = checkin(context(history=history), "yes", "yes", "no", "in person")
    assert told(steps) == [(Severity.URGENT, AlertReason.RISK_RAISED, None, ("contact_despite_order",))]


def test_a_risk_rise_at_the_end_names_what_she_answered() -> None:
    rising = History(IntakeLevel.STANDARD, False, recent_levels=(Level.STANDARD,) * 3)
    steps = checkin(context(history=rising), "yes", "yes", "a lot", "no", "threats", "no", "no", "no", "skip")
    assert told(steps) == [(Severity.HIGH, AlertReason.RISK_RAISED, "high", ("fear_a_lot", "threats"))]


# ---- (4) the loader refuses a broken rotation, in one line ----

ROTATION_BASE = """\
id = "mini"
version = 1
start = "q1"

[rotation]
after = "q1"
within = 2

[[questions]]
id = "q1"
kind = "choice"
text = "Hello.\\nHow are things?"
next = "q2"
  [[questions.options]]
  key = "yes"
  label = "Fine"
  [[questions.options]]
  key = "no"
  label = "Not great"
  action = "end"

[[questions]]
id = "r1"
kind = "choice"
text = "Another one:\\nFirst in turn?"
rotates = true
  [[questions.options]]
  key = "yes"
  label = "Yes"
  [[questions.options]]
  key = "no"
  label = "No"

[[questions]]
id = "r2"
kind = "choice"
text = "Another one:\\nSecond in turn?"
rotates = true
  [[questions.options]]
  key = "yes"
  label = "Yes"
  [[questions.options]]
  key = "no"
  label = "No"

[[questions]]
id = "q2"
kind = "multi"
text = "Next one:\\nWhich of these?"
  [[questions.options]]
  key = "none"
  label = "None of these"
  exclusive = true
  [[questions.options]]
  key = "calls"
  label = "Calls"
  signals = ["contact_remote"]
"""


def rotation_broken(old: str, new: str) -> str:
    assert old in ROTATION_BASE, old
    return ROTATION_BASE.replace(old, new, 1)


def test_the_rotation_fixture_is_valid_and_walks_q1_then_the_plan_then_q2() -> None:
    qs = parse_questionset(ROTATION_BASE, "mini.toml")
    assert [q.id for q in qs.rotating] == ["r1", "r2"]
    steps = checkin(context(questionset=qs), "1", "1", "2")
    assert [a.question for a in answers(steps)] == ["q1", "r1", "q2"]
    recent = (frozenset({"q1", "r1", "q2"}),)
    steps = checkin(context(questionset=qs, recent_questions=recent), "1", "1", "2")
    assert [a.question for a in answers(steps)] == ["q1", "r2", "q2"]


ROTATION_BROKEN = [
    (
        "rotating_question_with_next",
        rotation_broken('rotates = true\n', 'rotates = true\nnext = "q2"\n'),
        ["question 'r1'", "rotating question cannot set 'next'"],
    ),
    (
        "rotating_question_with_an_option_next",
        rotation_broken('  key = "no"\n  label = "No"\n', '  key = "no"\n  label = "No"\n  next = "q2"\n'),
        ["question 'r1'", "rotating question cannot set 'next'"],
    ),
    (
        "rotation_after_an_unknown_question",
        rotation_broken('after = "q1"', 'after = "q9"'),
        ["[rotation]", "after 'q9'", "does not rotate"],
    ),
    (
        "rotation_after_a_rotating_question",
        rotation_broken('after = "q1"', 'after = "r2"'),
        ["[rotation]", "after 'r2'", "does not rotate"],
    ),
    ("within_zero", rotation_broken("within = 2", "within = 0"), ["[rotation]", "'within'", "from 1"]),
    ("within_negative", rotation_broken("within = 2", "within = -3"), ["[rotation]", "'within'", "from 1"]),
    ("within_not_a_number", rotation_broken("within = 2", 'within = "2"'), ["[rotation]", "'within'"]),
    ("within_a_bool", rotation_broken("within = 2", "within = true"), ["[rotation]", "'within'"]),
    ("within_missing", rotation_broken("within = 2\n", ""), ["[rotation]", "missing field 'within'"]),
    (
        "rotates_without_a_rotation_table",
        rotation_broken('[rotation]\nafter = "q1"\nwithin = 2\n', ""),
        ["question 'r1'", "rotates = true needs a [rotation] table"],
    ),
    (
        "rotation_without_a_rotating_question",
        ROTATION_BASE.replace("rotates = true\n", ""),
        ["[rotation]", "no question has rotates = true"],
    ),
    (
        "rotation_unknown_field",
        rotation_broken("within = 2\n", "within = 2\nevery = 3\n"),
        ["[rotation]", "unknown field 'every'"],
    ),
    (
        "end_on_a_multi_question",
        rotation_broken('  label = "Calls"\n', '  label = "Calls"\n  action = "end"\n'),
        ["question 'q2', option 'calls'", "action 'end' cannot be on a multi question"],
    ),
    (
        "start_is_a_rotating_question",
        rotation_broken('start = "q1"', 'start = "r1"'),
        ["start 'r1'", "cannot be a rotating question"],
    ),
]


@pytest.mark.parametrize(
    ("text", "fragments"), [case[1:] for case in ROTATION_BROKEN], ids=[case[0] for case in ROTATION_BROKEN]
)
def test_a_broken_rotation_or_end_action_is_refused_in_one_line_naming_the_problem(
    text: str, fragments: list[str]
) -> None:
    with pytest.raises(QuestionSetError) as caught:
        parse_questionset(text, "mini.toml")
    message = str(caught.value)
    assert message.startswith("mini.toml")
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


# ---- (5) a cover theme: the same path, the same signals, the same alerts ----

URGENT_SCRIPT = ["1", "3", "3", "2 3 4", "5 7", "2", "2", "3", "skip"]
SCRIPTS = {
    "all clear by numbers": ["1"] * 8 + ["1"],
    "not safe right now": ["1", "2"],
    "urgent: every contact, choking and a weapon, urgent call back": URGENT_SCRIPT,
    "threats, separated, call back today": ["1", "1", "2", "2", "2", "2", "1", "2", "2"],
    "not now": ["2"],
    "an unreadable reply asked again, then left unanswered": ["1", "9", "9", "1", "1", "1", "1", "1", "1", "1"],
}
HISTORIES = {
    "first check-in": (),
    "mood next": (frozenset(q for q in ROTATING if q not in ("mood", "money_isolation")),),
}


@pytest.mark.parametrize("theme_name", ["salon", "catch_up"])
@pytest.mark.parametrize("recent", HISTORIES.values(), ids=HISTORIES.keys())
@pytest.mark.parametrize("script", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_a_cover_theme_walks_the_same_path_with_the_same_signals_and_alerts(
    script: list[str], recent: tuple[frozenset[str], ...], theme_name: str
) -> None:
    theme = cover.themes()[theme_name]
    covered: QuestionSet = cover.apply(QS, theme)
    rising = History(IntakeLevel.STANDARD, False, recent_levels=(Level.STANDARD,) * 3)
    direct_ctx = context(history=rising, recent_questions=recent)
    cover_ctx = replace(direct_ctx, questionset=covered, ended_line=theme.ended_line.en)
    direct, dressed = checkin(direct_ctx, *script), checkin(cover_ctx, *script)
    # The same path...
    assert [s.state.step for s in dressed] == [s.state.step for s in direct]
    # ...the same answers (question, option keys, signals, free text)...
    assert answers(dressed) == answers(direct)
    assert [a.text for a in answers(dressed)] == [a.text for a in answers(direct)]
    # ...the same events, alerts in full (level and facts too), and the same assessment.
    assert events(dressed) == events(direct)
    assert told(dressed) == told(direct)
    # ...in other words: every question asked in cover words, never the direct ones.
    direct_texts = {q.text for q in QS.questions}
    for step in dressed:
        for reply in step.replies:
            assert reply.key not in direct_texts
    assert [len(r.options) for s in dressed for r in s.replies] == [len(r.options) for s in direct for r in s.replies]


def test_the_cover_scripts_reach_the_alerts_they_are_meant_to() -> None:
    # Guard for the comparison above: it must compare real alerts and signals, not two empty lists.
    rising = History(IntakeLevel.STANDARD, False, recent_levels=(Level.STANDARD,) * 3)
    urgent = checkin(context(history=rising), *URGENT_SCRIPT)
    assert told(urgent) == [
        (Severity.URGENT, AlertReason.RISK_RAISED, None, ("choking", "weapons")),
        (Severity.URGENT, AlertReason.CALLBACK_URGENT, None, ("callback_urgent",)),
    ]
    contact = ("contact_remote", "contact_in_person", "lives_with_them")
    assert answers(urgent)[3] == Answer("contact", ("remote", "in_person", "live_together"), contact)
    assert [a.signals for a in answers(urgent)[5:7]] == [("separation",), ("stalking",)]
    ended = checkin(context(history=rising), *SCRIPTS["not safe right now"])
    assert told(ended) == [(Severity.URGENT, AlertReason.RISK_RAISED, None, ("not_safe_now",))]


