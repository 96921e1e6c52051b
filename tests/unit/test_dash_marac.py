"""The DASH checklist's count and level, and the Marac referral criteria, table-driven."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from safety.dash import (
    ITEMS,
    Answer,
    Criterion,
    DashError,
    answers_to_json,
    incidents_by_type,
    is_incident,
    level,
    marac_criteria,
    parse_answers,
    ticks,
)
from safety.model import IntakeLevel

STANDARD, MEDIUM, HIGH = IntakeLevel.STANDARD, IntakeLevel.MEDIUM, IntakeLevel.HIGH
TODAY = date(2025, 6, 1)


def checklist(yes: int, not_known: int = 0) -> dict[int, Answer]:
    """`yes` ticks first, then `not_known` unknowns, the rest "no"."""
    return {
        n: Answer.YES if n <= yes else Answer.NOT_KNOWN if n <= yes + not_known else Answer.NO for n in ITEMS
    }


def test_the_checklist_has_the_24_dash_questions() -> None:
    assert tuple(range(1, 25)) == ITEMS


@pytest.mark.parametrize(
    ("yes", "not_known", "expected"),
    [(0, 0, 0), (0, 24, 0), (9, 15, 9), (14, 0, 14), (24, 0, 24)],
)
def test_only_yes_is_a_tick(yes: int, not_known: int, expected: int) -> None:
    assert ticks(checklist(yes, not_known)) == expected


@pytest.mark.parametrize(
    ("yes", "judgement", "expected"),
    [
        (0, None, STANDARD),
        (9, None, STANDARD),
        (10, None, MEDIUM),
        (13, None, MEDIUM),
        (14, None, HIGH),
        (24, None, HIGH),
        # professional judgement raises the level...
        (9, MEDIUM, MEDIUM),
        (9, HIGH, HIGH),
        (13, HIGH, HIGH),
        (0, HIGH, HIGH),
        # ...and never lowers it
        (14, STANDARD, HIGH),
        (14, MEDIUM, HIGH),
        (10, STANDARD, MEDIUM),
        (13, MEDIUM, MEDIUM),
        (9, STANDARD, STANDARD),
    ],
)
def test_level_follows_the_count_and_judgement_only_raises_it(
    yes: int, judgement: IntakeLevel | None, expected: IntakeLevel
) -> None:
    assert level(checklist(yes), judgement) is expected


def test_answers_round_trip_through_their_stored_form() -> None:
    answers = checklist(5, 3)
    assert parse_answers(answers_to_json(answers)) == answers


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"7": "maybe"}, "DASH item '7': answer yes, no or not_known"),
        ({"25": "yes"}, "DASH item '25' does not exist (items are 1-24)"),
        ({"x": "yes"}, "DASH item 'x': answer yes, no or not_known"),
    ],
)
def test_bad_answers_are_one_clear_error(change: dict[str, str], message: str) -> None:
    raw = {**answers_to_json(checklist(0)), **change}
    with pytest.raises(DashError) as error:
        parse_answers(raw)
    assert str(error.value) == message


def test_an_unanswered_item_is_named() -> None:
    raw = answers_to_json(checklist(0))
    del raw["3"], raw["24"]
    with pytest.raises(DashError) as error:
        parse_answers(raw)
    assert str(error.value) == "DASH items not answered: 3, 24"


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ({"threats"}, True),
        ({"threats_to_kill"}, True),
        ({"physical_harm"}, True),
        ({"choking"}, True),
        ({"harm_to_child"}, True),
        ({"weapons"}, True),
        ({"other_incident"}, True),
        ({"sexual_abuse"}, True),
        ({"fear_a_lot", "contact_remote", "not_safe_now"}, False),
        (set(), False),
    ],
)
def test_an_incident_is_a_checkin_with_any_incident_signal(signals: set[str], expected: bool) -> None:
    assert is_incident(signals) is expected


def criteria(**kwargs: object) -> set[Criterion]:
    args: dict[str, object] = {"answers": checklist(0), "judgement": None, "checkins": [], "today": TODAY}
    args.update(kwargs)
    return {met.criterion for met in marac_criteria(**args)}  # type: ignore[arg-type]


def days_ago(*days: int, signals: tuple[str, ...] = ("threats",)) -> list[tuple[date, tuple[str, ...]]]:
    return [(TODAY - timedelta(days=d), signals) for d in days]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"answers": checklist(13)}, set()),
        ({"answers": checklist(14)}, {Criterion.VISIBLE_HIGH_RISK}),
        ({"answers": None}, set()),
        # potential escalation: N incidents within 365 days, counted on check-in days
        ({"checkins": days_ago(0, 100, 365)}, {Criterion.POTENTIAL_ESCALATION}),
        ({"checkins": days_ago(0, 100, 366)}, set()),
        ({"checkins": days_ago(0, 100)}, set()),
        ({"checkins": days_ago(0, 100, 200, signals=("fear_a_lot",))}, set()),
        ({"checkins": days_ago(0, 100), "escalation_incidents": 2}, {Criterion.POTENTIAL_ESCALATION}),
        ({"checkins": days_ago(0, 100, 200), "escalation_incidents": 4}, set()),
        # professional judgement: the IDVA raised the DASH to high
        ({"answers": checklist(9), "judgement": HIGH}, {Criterion.PROFESSIONAL_JUDGEMENT}),
        ({"answers": checklist(9), "judgement": MEDIUM}, set()),
        ({"answers": checklist(14), "judgement": HIGH}, {Criterion.VISIBLE_HIGH_RISK}),
        # repeat: a new incident within 12 months of the last Marac
        ({"checkins": days_ago(10), "last_marac": TODAY - timedelta(days=375)}, {Criterion.REPEAT}),
        ({"checkins": days_ago(10), "last_marac": TODAY - timedelta(days=376)}, set()),
        ({"checkins": days_ago(10), "last_marac": TODAY - timedelta(days=10)}, set()),
        ({"checkins": days_ago(10), "last_marac": TODAY - timedelta(days=11)}, {Criterion.REPEAT}),
        ({"checkins": days_ago(10, signals=("low_mood",)), "last_marac": TODAY - timedelta(days=30)}, set()),
        ({"checkins": days_ago(10), "last_marac": None}, set()),
        # all at once
        (
            {"answers": checklist(14), "checkins": days_ago(1, 2, 3), "last_marac": TODAY - timedelta(days=30)},
            {Criterion.VISIBLE_HIGH_RISK, Criterion.POTENTIAL_ESCALATION, Criterion.REPEAT},
        ),
    ],
)
def test_marac_criteria(kwargs: dict[str, object], expected: set[Criterion]) -> None:
    assert criteria(**kwargs) == expected


def test_each_criterion_met_says_why_in_one_line() -> None:
    met = marac_criteria(
        answers=checklist(15),
        judgement=None,
        checkins=days_ago(1, 2, 3),
        today=TODAY,
        last_marac=date(2025, 5, 1),
    )
    assert [(m.criterion, m.reason) for m in met] == [
        (Criterion.VISIBLE_HIGH_RISK, "15 of 24 DASH ticks (14 or more is high risk)"),
        (Criterion.POTENTIAL_ESCALATION, "3 incidents in the last 12 months (threshold 3)"),
        (Criterion.REPEAT, "incident on 2025-05-29, within 12 months of the Marac on 2025-05-01"),
    ]
    assert all("\n" not in m.reason for m in met)


def test_a_threshold_below_one_is_refused() -> None:
    with pytest.raises(DashError, match="at least 1 incident"):
        marac_criteria(answers=None, judgement=None, checkins=[], today=TODAY, escalation_incidents=0)


def test_incidents_by_type_count_the_last_12_months_most_frequent_first() -> None:
    year = timedelta(days=365)
    checkins = [
        (TODAY, {"threats", "choking"}),
        (TODAY - timedelta(days=3), {"threats", "fear_a_lot"}),
        (TODAY - year, {"weapons"}),  # exactly 12 months back: counts
        (TODAY - year - timedelta(days=1), {"threats", "sexual_abuse"}),  # too old
        (TODAY - timedelta(days=9), {"fear_a_lot"}),  # not an incident
    ]
    counts = incidents_by_type(checkins, TODAY)
    assert counts == {"threats": 2, "choking": 1, "weapons": 1}
    assert list(counts) == ["threats", "choking", "weapons"]
