"""SMS segment counting: GSM-7 vs UCS-2, single vs concatenated limits, pairs never split."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.segments import GSM7_BASIC, GSM7_EXTENDED, Segments, segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Segments("GSM-7", 1, 0)),
        ("Hi, it's Alex. All OK?", Segments("GSM-7", 1, 22)),
        ("a" * 160, Segments("GSM-7", 1, 160)),
        ("a" * 161, Segments("GSM-7", 2, 161)),
        ("a" * 306, Segments("GSM-7", 2, 306)),
        ("a" * 307, Segments("GSM-7", 3, 307)),
        ("€" * 80, Segments("GSM-7", 1, 160)),  # extension characters cost two septets
        ("€" * 81, Segments("GSM-7", 2, 162)),
        ("é ñ ü Ä £ ¥ §", Segments("GSM-7", 1, 13)),  # these accents are in the GSM alphabet
        ("café ç", Segments("UCS-2", 1, 6)),  # small c cedilla is not: the whole text switches
        ("ok" + "\u2019", Segments("UCS-2", 1, 3)),  # a curly apostrophe switches the whole message
        ("x" * 70, Segments("GSM-7", 1, 70)),
        ("ą" * 70, Segments("UCS-2", 1, 70)),
        ("ą" * 71, Segments("UCS-2", 2, 71)),
        ("ą" * 134, Segments("UCS-2", 2, 134)),
        ("ą" * 135, Segments("UCS-2", 3, 135)),
        ("🙂" * 35, Segments("UCS-2", 1, 70)),  # an emoji is two UTF-16 units
        ("\u200fمرحبا", Segments("UCS-2", 1, 6)),  # RTL mark and Arabic
    ],
)
def test_segments_match_the_handset_count(text: str, expected: Segments) -> None:
    assert segments(text) == expected


def test_an_escape_pair_is_not_split_across_parts() -> None:
    # 152 plain septets then "€": the pair does not fit in part one's last septet, so it moves on.
    assert segments("a" * 152 + "€" + "a" * 10).count == 2
    assert segments("a" * 152 + "€" + "a" * 152).count == 3


def test_a_surrogate_pair_is_not_split_across_parts() -> None:
    # 66 units, then the pair does not fit in the one unit left: 66 | 2 + 65 | 1.
    assert segments("ą" * 66 + "🙂" + "ą" * 66).count == 3
    assert segments("ą" * 65 + "🙂" + "ą" * 67).count == 2


def test_a_1600_character_message_is_eleven_gsm_parts() -> None:
    assert segments("a" * 1600) == Segments("GSM-7", 11, 1600)


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENDED), max_size=800))
def test_gsm_text_never_needs_more_parts_than_septets_allow(text: str) -> None:
    result = segments(text)
    assert result.encoding == "GSM-7"
    assert result.chars <= 160 or result.count * 153 >= result.chars
    assert result.count <= max(1, -(-result.chars // 152))  # at worst one septet wasted per part


@given(st.text(max_size=400))
def test_any_text_is_counted_without_error(text: str) -> None:
    result = segments(text)
    assert result.count >= 1
    assert result.chars >= len(text)
    assert result.encoding == ("GSM-7" if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text) else "UCS-2")
