"""The catalog of safety signals an answer can record, with their weights and urgency."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class SignalSpec:
    """How much one signal weighs, whether it is urgent on its own, how much fear it shows, and which
    questions of the SafeLives DASH risk checklist (numbered 1-24) it informs."""

    name: str
    weight: int
    urgent: bool = False
    urgent_with_no_contact_order: bool = False
    fear: int = 0
    dash: tuple[int, ...] = ()

    def is_urgent(self, no_contact_order: bool) -> bool:
        """Whether this signal alone makes a check-in urgent for this survivor."""
        return self.urgent or (self.urgent_with_no_contact_order and no_contact_order)


# The DASH questions (SafeLives DASH risk checklist, 2009), as the Marac count will need them.
DASH_QUESTIONS: Mapping[int, str] = MappingProxyType(
    {
        1: "current incident resulted in injury",
        2: "very frightened",
        3: "afraid of further injury or violence",
        4: "isolated from family or friends",
        5: "depressed or having suicidal thoughts",
        6: "separated or tried to separate within the past year",
        7: "conflict over child contact",
        8: "constant contact, following, stalking or harassment",
        9: "pregnant or a baby in the last 18 months",
        10: "abuse happening more often",
        11: "abuse getting worse",
        12: "controlling or excessively jealous",
        13: "weapons or objects used to hurt",
        14: "threats to kill",
        15: "strangling, choking, suffocating or drowning",
        16: "sexual abuse",
        17: "another person she is afraid of",
        18: "abuser has hurt anyone else (children included)",
        19: "abuser has mistreated an animal",
        20: "financial issues",
        21: "abuser's drug, alcohol or mental-health problems",
        22: "abuser has threatened or attempted suicide",
        23: "abuser has broken bail, an injunction or an agreement",
        24: "abuser has a criminal history",
    }
)

# Urgent-only signals weigh 0: their level is urgent whatever the score, and a weight would
# only inflate the score figures in outcome reports.
_CATALOG = (
    SignalSpec("not_safe_now", 0, urgent=True, dash=(3,)),
    SignalSpec("unsure_safe_now", 3, dash=(3,)),
    SignalSpec("fear_little", 2, fear=1, dash=(2,)),
    SignalSpec("fear_a_lot", 4, fear=2, dash=(2,)),
    SignalSpec("contact_remote", 2, dash=(8,)),
    # With a no-contact order in place, contact in person is a breach of it (DASH 23).
    SignalSpec("contact_in_person", 4, urgent_with_no_contact_order=True, dash=(8,)),
    SignalSpec("lives_with_them", 0),
    SignalSpec("threats", 3, dash=(3,)),
    SignalSpec("threats_to_kill", 0, urgent=True, dash=(14,)),
    SignalSpec("physical_harm", 5, dash=(1,)),
    SignalSpec("choking", 0, urgent=True, dash=(15,)),
    SignalSpec("harm_to_child", 0, urgent=True, dash=(18,)),
    SignalSpec("weapons", 0, urgent=True, dash=(13,)),
    SignalSpec("other_incident", 3),
    SignalSpec("separation", 3, dash=(6,)),
    SignalSpec("separation_planned", 3, dash=(6,)),
    SignalSpec("stalking", 4, dash=(8,)),
    SignalSpec("abuse_worse", 4, dash=(11,)),
    SignalSpec("abuse_more_often", 4, dash=(10,)),
    SignalSpec("controlling_jealous", 3, dash=(12,)),
    SignalSpec("sexual_abuse", 5, dash=(16,)),
    SignalSpec("child_contact_conflict", 2, dash=(7,)),
    SignalSpec("pregnant_or_new_baby", 2, dash=(9,)),
    SignalSpec("low_mood", 2, dash=(5,)),
    # Thoughts of self-harm call for a person at once, whatever else the check-in says.
    SignalSpec("self_harm_thoughts", 0, urgent=True, dash=(5,)),
    SignalSpec("money_worries", 2, dash=(20,)),
    SignalSpec("isolation", 2, dash=(4,)),
    SignalSpec("other_person_feared", 3, dash=(17,)),
    SignalSpec("callback_today", 1),
    SignalSpec("callback_urgent", 0, urgent=True),
    SignalSpec("codeword", 0, urgent=True),
    SignalSpec("duress_pin", 0, urgent=True),
    SignalSpec("pin_failed", 4),
)

# Catalog order is the stable order used wherever signals are listed.
SIGNALS: Mapping[str, SignalSpec] = MappingProxyType({spec.name: spec for spec in _CATALOG})


def is_known(name: str) -> bool:
    """Whether `name` is a signal in the catalog."""
    return name in SIGNALS


def spec(name: str) -> SignalSpec:
    """Return the catalog entry for `name`; an unknown name is a programming error."""
    try:
        return SIGNALS[name]
    except KeyError:
        raise ValueError(f"unknown safety signal {name!r} (known: {', '.join(SIGNALS)})") from None


def fear_score(signals: Iterable[str]) -> int:
    """Return the highest fear shown by `signals` (0 when none shows fear)."""
    return max((spec(name).fear for name in signals), default=0)


def alert_facts(signals: Iterable[str], no_contact_order: bool) -> tuple[str, ...]:
    """The signals an alert names, in catalog order: her answers as codes, never her words.

    In-person contact despite a no-contact order is its own fact ("contact_despite_order"): it is
    what makes that contact urgent, and what the IDVA must read first.
    """
    given = set(signals)
    facts = []
    for name in SIGNALS:
        if name in given:
            facts.append("contact_despite_order" if name == "contact_in_person" and no_contact_order else name)
    return tuple(facts)
