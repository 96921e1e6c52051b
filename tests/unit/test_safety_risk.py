"""The risk model: signals to levels, baseline, change and the alerts they call for."""

from __future__ import annotations

import pytest

from safety.model import AlertReason, Assessment, Change, History, IntakeLevel, Level, RiskChange, Severity
from safety.policy import MissedPolicy
from safety.risk import assess, baseline, compare, fear_rising, missed_alert
from safety.signals import DASH_QUESTIONS, SIGNALS, SignalSpec, alert_facts, fear_score, is_known

S, R, H, U = Level.STANDARD, Level.RAISED, Level.HIGH, Level.URGENT

CATALOG = [
    # name, weight, urgent, urgent_with_no_contact_order, fear, DASH questions it informs
    ("not_safe_now", 0, True, False, 0, (3,)),
    ("unsure_safe_now", 3, False, False, 0, (3,)),
    ("fear_little", 2, False, False, 1, (2,)),
    ("fear_a_lot", 4, False, False, 2, (2,)),
    ("contact_remote", 2, False, False, 0, (8,)),
    ("contact_in_person", 4, False, True, 0, (8,)),
    ("lives_with_them", 0, False, False, 0, ()),
    ("threats", 3, False, False, 0, (3,)),
    ("threats_to_kill", 0, True, False, 0, (14,)),
    ("physical_harm", 5, False, False, 0, (1,)),
    ("choking", 0, True, False, 0, (15,)),
    ("harm_to_child", 0, True, False, 0, (18,)),
    ("weapons", 0, True, False, 0, (13,)),
    ("other_incident", 3, False, False, 0, ()),
    ("separation", 3, False, False, 0, (6,)),
    ("separation_planned", 3, False, False, 0, (6,)),
    ("stalking", 4, False, False, 0, (8,)),
    ("abuse_worse", 4, False, False, 0, (11,)),
    ("abuse_more_often", 4, False, False, 0, (10,)),
    ("controlling_jealous", 3, False, False, 0, (12,)),
    ("sexual_abuse", 5, False, False, 0, (16,)),
    ("child_contact_conflict", 2, False, False, 0, (7,)),
    ("pregnant_or_new_baby", 2, False, False, 0, (9,)),
    ("low_mood", 2, False, False, 0, (5,)),
    ("self_harm_thoughts", 0, True, False, 0, (5,)),
    ("money_worries", 2, False, False, 0, (20,)),
    ("isolation", 2, False, False, 0, (4,)),
    ("other_person_feared", 3, False, False, 0, (17,)),
    ("callback_today", 1, False, False, 0, ()),
    ("callback_urgent", 0, True, False, 0, ()),
    ("codeword", 0, True, False, 0, ()),
    ("duress_pin", 0, True, False, 0, ()),
    ("pin_failed", 4, False, False, 0, ()),
]


def test_catalog_holds_exactly_the_signals_of_the_risk_model_in_order() -> None:
    assert list(SIGNALS) == [row[0] for row in CATALOG]


@pytest.mark.parametrize(("name", "weight", "urgent", "urgent_with_order", "fear", "dash"), CATALOG)
def test_each_signal_has_its_weight_urgency_fear_and_dash_questions(
    name: str, weight: int, urgent: bool, urgent_with_order: bool, fear: int, dash: tuple[int, ...]
) -> None:
    assert SIGNALS[name] == SignalSpec(name, weight, urgent, urgent_with_order, fear, dash)
    assert all(n in DASH_QUESTIONS for n in dash)


def test_in_person_contact_despite_an_order_is_its_own_fact_for_the_alert() -> None:
    given = ["contact_in_person", "choking", "fear_a_lot"]
    assert alert_facts(given, no_contact_order=True) == ("fear_a_lot", "contact_despite_order", "choking")
    assert alert_facts(given, no_contact_order=False) == ("fear_a_lot", "contact_in_person", "choking")


@pytest.mark.parametrize(("name", "expected"), [("choking", True), ("codeword", True), ("strangled", False)])
def test_is_known_checks_the_catalog(name: str, expected: bool) -> None:
    assert is_known(name) is expected


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ([], 0),
        (["threats"], 0),
        (["fear_little"], 1),
        (["fear_a_lot"], 2),
        (["fear_little", "fear_a_lot"], 2),
    ],
)
def test_fear_score_is_the_highest_fear_shown(signals: list[str], expected: int) -> None:
    assert fear_score(signals) == expected


@pytest.mark.parametrize(
    ("signals", "no_contact_order", "expected"),
    [
        ([], False, Assessment(0, S, (), ())),
        (["fear_little"], False, Assessment(2, S, ("fear_little",), ())),
        (["callback_today", "fear_little"], False, Assessment(3, R, ("fear_little", "callback_today"), ())),
        (["unsure_safe_now"], False, Assessment(3, R, ("unsure_safe_now",), ())),
        (["physical_harm"], False, Assessment(5, R, ("physical_harm",), ())),
        (
            ["physical_harm", "callback_today"],
            False,
            Assessment(6, H, ("physical_harm", "callback_today"), ()),
        ),
        (["threats", "threats", "threats"], False, Assessment(3, R, ("threats",), ())),
        (
            ["contact_in_person", "fear_a_lot"],
            False,
            Assessment(8, H, ("fear_a_lot", "contact_in_person"), ()),
        ),
        (
            ["contact_in_person", "fear_a_lot"],
            True,
            Assessment(8, U, ("fear_a_lot", "contact_in_person"), ("contact_in_person",)),
        ),
        (["contact_remote"], True, Assessment(2, S, ("contact_remote",), ())),
        (["codeword"], False, Assessment(0, U, ("codeword",), ("codeword",))),
        (
            ["weapons", "fear_a_lot", "choking", "not_safe_now"],
            False,
            Assessment(
                4,
                U,
                ("not_safe_now", "fear_a_lot", "choking", "weapons"),
                ("not_safe_now", "choking", "weapons"),
            ),
        ),
        (["pin_failed"], False, Assessment(4, R, ("pin_failed",), ())),
    ],
)
def test_assessment_scores_distinct_signals_and_sets_the_level(
    signals: list[str], no_contact_order: bool, expected: Assessment
) -> None:
    assert assess(signals, no_contact_order) == expected


@pytest.mark.parametrize("name", [row[0] for row in CATALOG if row[2]])
def test_each_urgent_signal_alone_makes_the_check_in_urgent(name: str) -> None:
    assert assess([name], no_contact_order=False) == Assessment(0, U, (name,), (name,))


def test_assessment_does_not_depend_on_signal_order() -> None:
    assert assess(["threats", "choking", "fear_little"], False) == assess(["fear_little", "threats", "choking"], False)


def test_unknown_signal_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown safety signal 'strangled'"):
        assess(["threats", "strangled"], False)


def history(intake: IntakeLevel = IntakeLevel.STANDARD, *levels: Level) -> History:
    return History(intake=intake, no_contact_order=False, recent_levels=levels)


@pytest.mark.parametrize(
    ("intake", "levels", "expected"),
    [
        (IntakeLevel.STANDARD, (), S),
        (IntakeLevel.MEDIUM, (), R),
        (IntakeLevel.HIGH, (), H),
        (IntakeLevel.HIGH, (S,), S),
        (IntakeLevel.STANDARD, (S, H), S),
        (IntakeLevel.STANDARD, (H, S, R), R),
        (IntakeLevel.STANDARD, (U, U, S, S), S),
        (IntakeLevel.STANDARD, (S, S, U, U), U),
        (IntakeLevel.STANDARD, (U, H, S, U), H),
    ],
)
def test_baseline_is_the_lower_median_of_the_last_three_levels(
    intake: IntakeLevel, levels: tuple[Level, ...], expected: Level
) -> None:
    assert baseline(history(intake, *levels)) is expected


IS, IM, IH = IntakeLevel.STANDARD, IntakeLevel.MEDIUM, IntakeLevel.HIGH


@pytest.mark.parametrize(
    ("signals", "intake", "levels", "expected"),
    [
        # Urgent always alerts urgently, with the most specific reason.
        (["codeword"], IS, (), RiskChange(Change.RAISED, S, Severity.URGENT, AlertReason.CODEWORD)),
        (
            ["duress_pin", "codeword"],
            IS,
            (),
            RiskChange(Change.RAISED, S, Severity.URGENT, AlertReason.CODEWORD),
        ),
        (["duress_pin"], IS, (), RiskChange(Change.RAISED, S, Severity.URGENT, AlertReason.DURESS_PIN)),
        (
            ["callback_urgent"],
            IS,
            (),
            RiskChange(Change.RAISED, S, Severity.URGENT, AlertReason.CALLBACK_URGENT),
        ),
        (
            ["callback_urgent", "fear_a_lot"],
            IS,
            (),
            RiskChange(Change.RAISED, S, Severity.URGENT, AlertReason.CALLBACK_URGENT),
        ),
        (
            ["callback_urgent", "choking"],
            IS,
            (),
            RiskChange(Change.RAISED, S, Severity.URGENT, AlertReason.RISK_RAISED),
        ),
        (["choking"], IS, (U, U, U), RiskChange(Change.SAME, U, Severity.URGENT, AlertReason.RISK_RAISED)),
        # Above the recent baseline.
        (["threats"], IS, (S, S, S), RiskChange(Change.RAISED, S, Severity.RAISED, AlertReason.RISK_RAISED)),
        (
            ["physical_harm", "threats"],
            IH,
            (R, R, R),
            RiskChange(Change.RAISED, R, Severity.HIGH, AlertReason.RISK_RAISED),
        ),
        (
            ["fear_a_lot", "threats"],
            IM,
            (),
            RiskChange(Change.RAISED, R, Severity.HIGH, AlertReason.RISK_RAISED),
        ),
        # Level steady at the baseline: no alert.
        (["threats"], IS, (R, R, R), RiskChange(Change.SAME, R, None, None)),
        (["physical_harm", "threats"], IH, (), RiskChange(Change.SAME, H, None, None)),
        ([], IS, (), RiskChange(Change.SAME, S, None, None)),
        # Crossing above the intake level alerts even under a drifted-up baseline, once.
        (
            ["threats"],
            IS,
            (H, H, S),
            RiskChange(Change.IMPROVED, H, Severity.RAISED, AlertReason.RISK_RAISED),
        ),
        (["threats"], IS, (H, H, R), RiskChange(Change.IMPROVED, H, None, None)),
        (["threats"], IM, (H, H, S), RiskChange(Change.IMPROVED, H, None, None)),
        # Improvements are recorded, without an alert.
        ([], IH, (H, H, H), RiskChange(Change.IMPROVED, H, None, None)),
        (["threats"], IH, (), RiskChange(Change.IMPROVED, H, None, None)),
        # A same-day callback alerts on its own, unless a risk alert says more.
        (["callback_today"], IS, (), RiskChange(Change.SAME, S, Severity.RAISED, AlertReason.CALLBACK_TODAY)),
        (
            ["callback_today"],
            IH,
            (H,),
            RiskChange(Change.IMPROVED, H, Severity.RAISED, AlertReason.CALLBACK_TODAY),
        ),
        (
            ["callback_today", "threats"],
            IS,
            (),
            RiskChange(Change.RAISED, S, Severity.RAISED, AlertReason.RISK_RAISED),
        ),
    ],
)
def test_change_against_baseline_and_the_alert_it_calls_for(
    signals: list[str], intake: IntakeLevel, levels: tuple[Level, ...], expected: RiskChange
) -> None:
    assert compare(assess(signals, no_contact_order=False), history(intake, *levels)) == expected


def test_in_person_contact_breaching_a_no_contact_order_alerts_urgently() -> None:
    past = History(intake=IS, no_contact_order=True, recent_levels=(S, S, S))
    result = compare(assess(["contact_in_person"], past.no_contact_order), past)
    assert result == RiskChange(Change.RAISED, S, Severity.URGENT, AlertReason.RISK_RAISED)


@pytest.mark.parametrize(
    ("recent_fear", "fear_now", "expected"),
    [
        ((), 2, False),
        ((1,), 2, False),
        ((0, 1), 2, True),
        ((2, 0, 1), 2, True),
        ((0, 1), 1, False),
        ((1, 1), 2, False),
        ((0, 2), 1, False),
        ((0, 0), 0, False),
        ((0, 1, 2), 2, False),
    ],
)
def test_fear_rising_needs_a_strict_rise_over_three_check_ins(
    recent_fear: tuple[int, ...], fear_now: int, expected: bool
) -> None:
    past = History(intake=IS, no_contact_order=False, recent_fear=recent_fear)
    assert fear_rising(past, fear_now) is expected


@pytest.mark.parametrize(
    ("missed", "agreed", "each", "expected"),
    [
        (1, False, True, None),
        (2, False, False, None),
        (0, True, True, None),
        (1, True, False, None),
        (1, True, True, (Severity.RAISED, AlertReason.MISSED_CHECKIN)),
        (2, True, False, (Severity.HIGH, AlertReason.MISSED_TWICE)),
        (2, True, True, (Severity.HIGH, AlertReason.MISSED_TWICE)),
        (5, True, False, (Severity.HIGH, AlertReason.MISSED_TWICE)),
    ],
)
def test_missed_check_ins_alert_only_when_the_survivor_agreed(
    missed: int, agreed: bool, each: bool, expected: tuple[Severity, AlertReason] | None
) -> None:
    assert missed_alert(missed, agreed, MissedPolicy(alert_each_missed=each)) == expected
