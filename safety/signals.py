"""The catalog of safety signals an answer can record, with their weights and urgency."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class SignalSpec:
    """How much one signal weighs, whether it is urgent on its own, and how much fear it shows."""

    name: str
    weight: int
    urgent: bool = False
    urgent_with_no_contact_order: bool = False
    fear: int = 0

    def is_urgent(self, no_contact_order: bool) -> bool:
        """Whether this signal alone makes a check-in urgent for this survivor."""
        return self.urgent or (self.urgent_with_no_contact_order and no_contact_order)


# Urgent-only signals weigh 0: their level is urgent whatever the score, and a weight would
# only inflate the score figures in outcome reports.
_CATALOG = (
    SignalSpec("not_safe_now", 0, urgent=True),
    SignalSpec("unsure_safe_now", 3),
    SignalSpec("fear_little", 2, fear=1),
    SignalSpec("fear_a_lot", 4, fear=2),
    SignalSpec("contact_remote", 2),
    SignalSpec("contact_in_person", 4, urgent_with_no_contact_order=True),
    SignalSpec("threats", 3),
    SignalSpec("threats_to_kill", 0, urgent=True),
    SignalSpec("physical_harm", 5),
    SignalSpec("choking", 0, urgent=True),
    SignalSpec("harm_to_child", 0, urgent=True),
    SignalSpec("weapons", 0, urgent=True),
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
