"""A text longer than Twilio accepts is cut into parts it accepts, at line ends where possible."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.sms_channel import MAX_PART, split_text


def test_a_text_that_fits_is_left_whole() -> None:
    assert split_text("Hi\nthere") == ["Hi\nthere"]
    assert split_text("x" * MAX_PART) == ["x" * MAX_PART]


def test_a_long_text_is_cut_at_line_ends() -> None:
    lines = [f"line {i:03d} " + "y" * 90 for i in range(40)]  # 40 lines of 99 characters
    parts = split_text("\n".join(lines))
    assert len(parts) == 3
    assert all(len(p) <= MAX_PART for p in parts)
    assert [line for p in parts for line in p.split("\n")] == lines  # in order, no line broken


def test_a_line_longer_than_a_part_is_cut_where_it_must_be() -> None:
    parts = split_text("a" * (2 * MAX_PART + 10))
    assert [len(p) for p in parts] == [MAX_PART, MAX_PART, 10]


@given(st.text(alphabet=st.sampled_from("ab c\n🙂é"), min_size=1, max_size=4 * MAX_PART))
def test_parts_are_never_empty_never_too_long_and_keep_every_character(text: str) -> None:
    parts = split_text(text)
    assert all(0 < len(p) <= MAX_PART for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
