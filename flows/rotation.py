"""Which rotating questions a check-in asks: those asked longest ago, a few at a time.

Asking the k longest-unasked of R questions at each check-in that reaches them, with k = ceil(R /
within), asks every one within `within` such check-ins. A check-in she misses, or leaves before the
rotating questions, asks none, so they stay first in line rather than being skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil

from flows.questionset import QuestionSet

HISTORY_FACTOR = 3  # how many times `within` past check-ins the shell reads to find when each was asked


def per_checkin(qs: QuestionSet) -> int:
    """How many rotating questions each check-in asks."""
    if qs.rotation is None or not qs.rotating:
        return 0
    return ceil(len(qs.rotating) / qs.rotation.within)


def plan(qs: QuestionSet, recent: Sequence[frozenset[str]]) -> tuple[str, ...]:
    """The rotating questions for this check-in, most overdue first.

    `recent`: the ids of the questions answered at each past check-in, oldest first.
    """
    pool = qs.rotating

    def since(question_id: str) -> int:
        for ago, asked in enumerate(reversed(recent)):
            if question_id in asked:
                return ago
        return len(recent) + 1  # never asked (as far as we read back): the most overdue

    # Stable sort: equally overdue questions keep the order of the file.
    overdue = sorted(pool, key=lambda q: -since(q.id))
    return tuple(q.id for q in overdue[: per_checkin(qs)])
