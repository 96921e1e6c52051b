"""Count the SMS segments a text costs: GSM-7 when every character fits, UCS-2 otherwise. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# GSM 03.38 basic character set (one septet each); ESC (0x1B) itself is not a character.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: ESC + one septet, so each costs two.
GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153  # a concatenated part loses 7 septets to its header
UCS2_SINGLE, UCS2_PART = 70, 67  # in UTF-16 code units


@dataclass(frozen=True)
class Segments:
    """How a text travels. `chars` is its length in the encoding's units (septets or UTF-16 units),
    the number the 160/153 and 70/67 limits apply to."""

    encoding: Literal["GSM-7", "UCS-2"]
    count: int
    chars: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def segments(text: str) -> Segments:
    """Segments as a handset counts them, without the provider's optional "smart encoding" rewrites."""
    if is_gsm7(text):
        units = [2 if ch in GSM7_EXTENDED else 1 for ch in text]
        return Segments("GSM-7", _count(units, GSM7_SINGLE, GSM7_PART), sum(units))
    # A character outside the BMP (most emoji) is a surrogate pair: two units that stay together.
    units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return Segments("UCS-2", _count(units, UCS2_SINGLE, UCS2_PART), sum(units))


def _count(units: list[int], single: int, part: int) -> int:
    """Fill parts greedily; an escape pair or a surrogate pair is never split across two parts."""
    total = sum(units)
    if total <= single:
        return 1
    count, used = 1, 0
    for size in units:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count
