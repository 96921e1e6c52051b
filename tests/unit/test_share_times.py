"""Response times of shares (safety/share_times.py), table-driven with known data: nearest-rank median and
p90, unacknowledged shares counted and never within a bound, and the counts within 5, 15, 30, 60 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from safety.share_times import Sample, by_partner, minutes_text, percentile, summarise

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def acked(minutes: float | None) -> Sample:
    return Sample(T0, None if minutes is None else T0 + timedelta(minutes=minutes))


def mins(m: float | None) -> timedelta | None:
    return None if m is None else timedelta(minutes=m)


@pytest.mark.parametrize(
    ("waits", "median", "p90", "within"),
    [
        ([], None, None, {5: 0, 15: 0, 30: 0, 60: 0}),
        ([3], 3, 3, {5: 1, 15: 1, 30: 1, 60: 1}),
        ([1, 2, 3, 4], 2, 4, {5: 4, 15: 4, 30: 4, 60: 4}),  # nearest rank: the lower middle of an even count
        ([10, 1, 7, 4, 20], 7, 20, {5: 2, 15: 4, 30: 5, 60: 5}),  # order of arrival does not matter
        ([5, 15, 30, 60, 61], 30, 61, {5: 1, 15: 2, 30: 3, 60: 4}),  # a bound includes its own minute
        (list(range(1, 11)), 5, 9, {5: 5, 15: 10, 30: 10, 60: 10}),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, None], 5, 9, {5: 5, 15: 9, 30: 9, 60: 9}),  # 90% acked: p90 still reached
        ([1, 2, 3, 4, 5, 6, 7, 8, None, None], 5, None, {5: 5, 15: 8, 30: 8, 60: 8}),  # 80%: p90 not reached
        ([1, None, None], None, None, {5: 1, 15: 1, 30: 1, 60: 1}),  # fewer than half: no median
        ([None], None, None, {5: 0, 15: 0, 30: 0, 60: 0}),
        ([0.5, 4.99, 5.01], 4.99, 5.01, {5: 2, 15: 3, 30: 3, 60: 3}),
    ],
)
def test_response_times_of_known_waits(
    waits: list[float | None], median: float | None, p90: float | None, within: dict[int, int]
) -> None:
    got = summarise(acked(w) for w in waits)
    assert got.count == len(waits)
    assert got.acknowledged == sum(1 for w in waits if w is not None)
    assert (got.median, got.p90) == (mins(median), mins(p90))
    assert dict(got.within) == within


def test_the_fraction_within_a_bound_counts_unacknowledged_shares_as_not_within() -> None:
    got = summarise([acked(2), acked(20), acked(None), acked(None)])
    assert got.share_within(5) == 0.25 and got.share_within(30) == 0.5
    assert summarise([]).share_within(5) is None


def test_an_acknowledgement_stamped_before_the_risk_change_counts_as_immediate() -> None:
    assert summarise([Sample(T0, T0 - timedelta(seconds=3))]).median == timedelta(0)


def test_figures_are_kept_per_partner_in_order_of_first_appearance() -> None:
    got = by_partner([(7, acked(2)), (3, acked(None)), (7, acked(40))])
    assert list(got) == [7, 3]
    assert (got[7].count, got[7].median, got[7].within[30]) == (2, mins(2), 1)
    assert (got[3].count, got[3].acknowledged, got[3].median) == (1, 0, None)


@pytest.mark.parametrize("p", [0, -1, 101])
def test_a_percentile_outside_0_to_100_is_refused(p: float) -> None:
    with pytest.raises(ValueError, match="not in"):
        percentile([mins(1)], p)


@pytest.mark.parametrize(
    ("wait", "text"),
    [(None, "not reached"), (timedelta(0), "0:00"), (timedelta(minutes=4, seconds=5), "4:05"),
     (timedelta(minutes=75, seconds=59.9), "75:59")],
)
def test_a_wait_is_written_as_minutes_and_seconds(wait: timedelta | None, text: str) -> None:
    assert minutes_text(wait) == text
