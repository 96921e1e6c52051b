"""Alert escalation and missed check-in policies: defaults, configuration and its errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safety.model import Severity
from safety.policy import (
    DEFAULT_ALERT_POLICY,
    DEFAULT_MISSED_POLICY,
    AlertPolicy,
    EscalationStep,
    MissedPolicy,
    PolicyError,
    Role,
    alert_policy_to_json,
    missed_policy_to_json,
    parse_alert_policy,
    parse_missed_policy,
)

IDVA, DUTY, MANAGER = Role.ASSIGNED_IDVA, Role.DUTY, Role.MANAGER


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


DEFAULT_JSON = {
    "raised": [{"after_minutes": 0, "role": "idva"}],
    "high": [{"after_minutes": 0, "role": "idva"}, {"after_minutes": 60, "role": "duty"}],
    "urgent": [
        {"after_minutes": 0, "role": "idva"},
        {"after_minutes": 5, "role": "duty"},
        {"after_minutes": 10, "role": "manager"},
    ],
}


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        (
            Severity.URGENT,
            (
                EscalationStep(minutes(0), IDVA),
                EscalationStep(minutes(5), DUTY),
                EscalationStep(minutes(10), MANAGER),
            ),
        ),
        (Severity.HIGH, (EscalationStep(minutes(0), IDVA), EscalationStep(minutes(60), DUTY))),
        (Severity.RAISED, (EscalationStep(minutes(0), IDVA),)),
    ],
)
def test_default_ladders_escalate_from_the_assigned_idva(
    severity: Severity, expected: tuple[EscalationStep, ...]
) -> None:
    assert DEFAULT_ALERT_POLICY.ladder(severity) == expected


def test_roles_have_stable_configuration_names() -> None:
    assert [role.value for role in Role] == ["idva", "duty", "manager"]


def test_default_alert_policy_round_trips_through_json() -> None:
    assert alert_policy_to_json(DEFAULT_ALERT_POLICY) == DEFAULT_JSON
    assert parse_alert_policy(DEFAULT_JSON) == DEFAULT_ALERT_POLICY


def test_severities_left_out_keep_the_default_ladder() -> None:
    policy = parse_alert_policy(
        {
            "high": [
                {"after_minutes": 0, "role": "idva"},
                {"after_minutes": 30, "role": "duty"},
                {"after_minutes": 90.5, "role": "manager"},
            ]
        }
    )
    assert policy.ladder(Severity.HIGH) == (
        EscalationStep(minutes(0), IDVA),
        EscalationStep(minutes(30), DUTY),
        EscalationStep(minutes(90.5), MANAGER),
    )
    assert policy.ladder(Severity.URGENT) == DEFAULT_ALERT_POLICY.ladder(Severity.URGENT)
    assert policy.ladder(Severity.RAISED) == DEFAULT_ALERT_POLICY.ladder(Severity.RAISED)
    assert alert_policy_to_json(policy)["high"] == [
        {"after_minutes": 0, "role": "idva"},
        {"after_minutes": 30, "role": "duty"},
        {"after_minutes": 90.5, "role": "manager"},
    ]


def test_empty_configuration_is_the_default_policy() -> None:
    assert parse_alert_policy({}) == DEFAULT_ALERT_POLICY


def test_severity_and_role_names_ignore_case_and_spaces() -> None:
    policy = parse_alert_policy({" Raised ": [{"after_minutes": 0, "role": "DUTY"}]})
    assert policy.ladder(Severity.RAISED) == (EscalationStep(minutes(0), DUTY),)


def step(after: object, role: object = "idva") -> dict[str, object]:
    return {"after_minutes": after, "role": role}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"critical": [step(0)]}, "alert policy has unknown severity 'critical'; use raised, high, urgent"),
        (
            {"urgent": [step(0), step(5, "boss")]},
            "the urgent ladder's step 2 has unknown role 'boss'; use idva, duty, manager",
        ),
        (
            {"high": [step(0), step(-5, "duty")]},
            "the high ladder's step 2 after_minutes is negative (-5); use 0 or more minutes",
        ),
        (
            {"urgent": [step(0), step(10, "duty"), step(5, "manager")]},
            "the urgent ladder's step 3 (5 minutes) is not later than step 2 (10 minutes); "
            "list steps in increasing after_minutes",
        ),
        (
            {"urgent": [step(0), step(5, "duty"), step(5, "manager")]},
            "the urgent ladder's step 3 (5 minutes) is not later than step 2 (5 minutes); "
            "list steps in increasing after_minutes",
        ),
        (
            {"raised": [step(15)]},
            "the raised ladder starts after 15 minutes; its first step must have after_minutes 0",
        ),
        ({"raised": []}, "the raised ladder is empty; give it at least one step with after_minutes 0"),
        ({"raised": "idva"}, "the raised ladder must be a list of steps, not str"),
        (
            {"raised": ["idva"]},
            'the raised ladder\'s step 1 must be an object like {"after_minutes": 0, "role": "idva"}',
        ),
        ({"raised": [{"after_minutes": 0}]}, "the raised ladder's step 1 is missing role"),
        (
            {"raised": [{"after_mins": 0, "role": "idva"}]},
            "the raised ladder's step 1 has unknown key(s) after_mins; use after_minutes, role",
        ),
        (
            {"raised": [step("5")]},
            "the raised ladder's step 1 after_minutes must be a number of minutes, not '5'",
        ),
        (
            {"raised": [step(True)]},
            "the raised ladder's step 1 after_minutes must be a number of minutes, not True",
        ),
        (
            {"raised": [step(float("nan"))]},
            "the raised ladder's step 1 after_minutes must be a finite number of minutes, not nan",
        ),
        (
            {"urgent": [step(0)], "URGENT": [step(0)]},
            "alert policy gives the urgent ladder twice; keep one",
        ),
        ([step(0)], "alert policy must be an object mapping urgent, high and raised to lists of steps"),
    ],
)
def test_invalid_alert_policy_says_what_is_wrong_in_one_line(raw: object, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_alert_policy(raw)  # type: ignore[arg-type]
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


def test_alert_policy_built_in_code_must_cover_every_severity() -> None:
    with pytest.raises(PolicyError, match="no ladder for high, urgent"):
        AlertPolicy({Severity.RAISED: (EscalationStep(minutes(0), IDVA),)})


def test_escalation_step_cannot_have_a_negative_delay() -> None:
    with pytest.raises(PolicyError, match="negative delay"):
        EscalationStep(minutes(-1), DUTY)


def test_alert_policy_ladders_cannot_be_changed_after_construction() -> None:
    ladders = dict(DEFAULT_ALERT_POLICY.ladders)
    policy = AlertPolicy(ladders)
    ladders[Severity.RAISED] = ()
    assert policy.ladder(Severity.RAISED) == (EscalationStep(minutes(0), IDVA),)
    with pytest.raises(TypeError):
        policy.ladders[Severity.RAISED] = ()  # type: ignore[index]


def test_default_missed_policy_reminds_after_an_hour_waits_three_hours_and_alerts_each_miss() -> None:
    policy = DEFAULT_MISSED_POLICY
    assert (policy.reminder_after, policy.grace, policy.alert_each_missed) == (
        minutes(60),
        minutes(180),
        True,
    )
    assert missed_policy_to_json(DEFAULT_MISSED_POLICY) == {
        "reminder_after_minutes": 60,
        "grace_minutes": 180,
        "alert_each_missed": True,
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, DEFAULT_MISSED_POLICY),
        ({"alert_each_missed": False}, MissedPolicy(minutes(60), minutes(180), False)),
        ({"reminder_after_minutes": 30, "grace_minutes": 90}, MissedPolicy(minutes(30), minutes(90), True)),
        (
            {"reminder_after_minutes": 0.5, "grace_minutes": 600, "alert_each_missed": False},
            MissedPolicy(timedelta(seconds=30), minutes(600), False),
        ),
    ],
)
def test_missed_policy_is_read_from_configuration_with_defaults(raw: dict[str, object], expected: MissedPolicy) -> None:
    policy = parse_missed_policy(raw)
    assert policy == expected
    assert parse_missed_policy(missed_policy_to_json(policy)) == policy


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"grace_minutes": -10}, "grace_minutes is negative (-10); use 0 or more minutes"),
        ({"reminder_after_minutes": 0}, "reminder_after_minutes must be more than 0"),
        (
            {"reminder_after_minutes": 180, "grace_minutes": 180},
            "grace_minutes (180) must be more than reminder_after_minutes (180)",
        ),
        ({"grace_minutes": 30}, "grace_minutes (30) must be more than reminder_after_minutes (60)"),
        ({"alert_each_missed": "yes"}, "alert_each_missed must be true or false, not 'yes'"),
        (
            {"grace": 30},
            "missed check-in policy has unknown key(s) grace; "
            "use reminder_after_minutes, grace_minutes, alert_each_missed",
        ),
        (
            ["grace_minutes"],
            "missed check-in policy must be an object with keys "
            "reminder_after_minutes, grace_minutes, alert_each_missed",
        ),
    ],
)
def test_invalid_missed_policy_says_what_is_wrong_in_one_line(raw: object, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_missed_policy(raw)  # type: ignore[arg-type]
    assert str(raised.value) == message
