"""The SafeLives DASH risk checklist and the Marac referral criteria: pure rules, time passed in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from safety.model import IntakeLevel
from safety.signals import DASH_QUESTIONS

ITEMS: tuple[int, ...] = tuple(sorted(DASH_QUESTIONS))
HIGH_TICKS = 14
MEDIUM_TICKS = 10
DEFAULT_ESCALATION_INCIDENTS = 3
# "12 months" as the criteria are applied day by day: an incident 365 days back still counts.
YEAR = timedelta(days=365)

# A check-in with any of these signals is one incident (what happened to her, not how she feels).
INCIDENT_SIGNALS = frozenset(
    {"threats", "threats_to_kill", "physical_harm", "choking", "harm_to_child", "weapons", "other_incident",
     "sexual_abuse"}
)

_ORDER = {IntakeLevel.STANDARD: 0, IntakeLevel.MEDIUM: 1, IntakeLevel.HIGH: 2}


class DashError(ValueError):
    """A checklist that cannot be recorded as given; the message names what is wrong."""


class Answer(str, Enum):
    """One checklist answer; only "yes" is a tick."""

    YES = "yes"
    NO = "no"
    NOT_KNOWN = "not_known"

    @property
    def label(self) -> str:
        return {"yes": "Yes", "no": "No", "not_known": "Not known"}[self.value]


Answers = Mapping[int, Answer]


def parse_answers(raw: Mapping[str, str]) -> dict[int, Answer]:
    """Read item number → answer text (as stored or posted); every item 1-24 must be answered."""
    answers: dict[int, Answer] = {}
    for key, value in raw.items():
        try:
            item = int(key)
            answer = Answer(value)
        except ValueError:
            raise DashError(f"DASH item {key!r}: answer yes, no or not_known") from None
        if item not in DASH_QUESTIONS:
            raise DashError(f"DASH item {key!r} does not exist (items are 1-24)")
        answers[item] = answer
    missing = [n for n in ITEMS if n not in answers]
    if missing:
        raise DashError(f"DASH items not answered: {', '.join(map(str, missing))}")
    return answers


def answers_to_json(answers: Answers) -> dict[str, str]:
    """Item number (as text) → answer code, in item order: the stored form."""
    return {str(n): answers[n].value for n in ITEMS}


def ticks(answers: Answers) -> int:
    """The number of "yes" answers."""
    return sum(1 for answer in answers.values() if answer is Answer.YES)


def level_for_ticks(count: int) -> IntakeLevel:
    """The level the count alone gives: 14+ high, 10-13 medium, else standard."""
    if count >= HIGH_TICKS:
        return IntakeLevel.HIGH
    if count >= MEDIUM_TICKS:
        return IntakeLevel.MEDIUM
    return IntakeLevel.STANDARD


def level(answers: Answers, judgement: IntakeLevel | None = None) -> IntakeLevel:
    """The DASH level: the count's level, raised (never lowered) by professional judgement."""
    counted = level_for_ticks(ticks(answers))
    if judgement is not None and _ORDER[judgement] > _ORDER[counted]:
        return judgement
    return counted


def raises(answers: Answers, judgement: IntakeLevel | None) -> bool:
    """Whether `judgement` raises the level above what the count gives (otherwise it is not recorded)."""
    return judgement is not None and _ORDER[judgement] > _ORDER[level_for_ticks(ticks(answers))]


class Criterion(str, Enum):
    """The Marac referral criteria (SafeLives)."""

    VISIBLE_HIGH_RISK = "visible_high_risk"
    POTENTIAL_ESCALATION = "potential_escalation"
    PROFESSIONAL_JUDGEMENT = "professional_judgement"
    REPEAT = "repeat"


@dataclass(frozen=True)
class CriterionMet:
    """One criterion a case meets, with a one-line reason that names counts and dates, never her words."""

    criterion: Criterion
    reason: str


def is_incident(signals: Iterable[str]) -> bool:
    """Whether a check-in with these signals reports an incident."""
    return not INCIDENT_SIGNALS.isdisjoint(signals)


def marac_criteria(
    *,
    answers: Answers | None,
    judgement: IntakeLevel | None,
    checkins: Iterable[tuple[date, Iterable[str]]],
    today: date,
    last_marac: date | None = None,
    escalation_incidents: int = DEFAULT_ESCALATION_INCIDENTS,
) -> tuple[CriterionMet, ...]:
    """Which Marac referral criteria the case meets, from its latest DASH and its check-ins.

    `judgement` is the level the IDVA raised the latest DASH to; raising it to high is the IDVA's
    professional judgement that the case belongs at Marac. `checkins` are (day, signals) pairs.
    """
    if escalation_incidents < 1:
        raise DashError("the potential-escalation threshold must be at least 1 incident")
    met: list[CriterionMet] = []
    if answers is not None and (count := ticks(answers)) >= HIGH_TICKS:
        met.append(CriterionMet(Criterion.VISIBLE_HIGH_RISK, f"{count} of 24 DASH ticks (14 or more is high risk)"))
    incidents = sorted(day for day, signals in checkins if is_incident(signals))
    recent = [day for day in incidents if today - YEAR <= day <= today]
    if len(recent) >= escalation_incidents:
        met.append(
            CriterionMet(
                Criterion.POTENTIAL_ESCALATION,
                f"{len(recent)} incidents in the last 12 months (threshold {escalation_incidents})",
            )
        )
    if answers is not None and judgement is IntakeLevel.HIGH and raises(answers, judgement):
        met.append(CriterionMet(Criterion.PROFESSIONAL_JUDGEMENT, "the IDVA judged the risk high"))
    if last_marac is not None:
        after = [day for day in incidents if last_marac < day <= last_marac + YEAR]
        if after:
            met.append(
                CriterionMet(
                    Criterion.REPEAT,
                    f"incident on {after[0].isoformat()}, within 12 months of the Marac on {last_marac.isoformat()}",
                )
            )
    return tuple(met)


def incidents_by_type(checkins: Iterable[tuple[date, Iterable[str]]], today: date) -> dict[str, int]:
    """How many check-ins in the last 12 months reported each kind of incident, most frequent first
    (a check-in reporting threats and choking counts once under each)."""
    counts: dict[str, int] = {}
    for day, signals in checkins:
        if today - YEAR <= day <= today:
            for signal in sorted(INCIDENT_SIGNALS.intersection(signals)):
                counts[signal] = counts.get(signal, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
