"""Every default survivor message as the phone shows it: no links, and cheap to send by SMS."""

from __future__ import annotations

import re

import pytest

from bench.sms_segments import default_messages
from bot.channels.segments import segments
from bot.i18n import Catalogs, to_message
from flows import replies as R
from flows import rotation
from flows.loader import load_default
from flows.model import StartCheckin
from tests.unit.flows_support import context, run

CATALOGS = Catalogs()
# A link in a survivor's thread is a clue for whoever reads the phone, and a tap away from a page
# whose history stays on it: default messages carry none, in any form a phone would make tappable.
LINK = re.compile(r"https?://|www\.|\b[\w-]+\.(?:com|org|net|uk|io|ly|me|co|info|gov|nhs)\b", re.IGNORECASE)


@pytest.mark.parametrize("language", CATALOGS.languages)
def test_no_default_survivor_message_carries_a_link(language: str) -> None:
    messages = list(default_messages(CATALOGS, language))
    assert len(messages) > 30
    for name, text in messages:
        assert not LINK.search(text), (language, name, text)


def test_the_link_check_would_see_a_link() -> None:
    for text in ("see https://x.example", "www.help.org", "visit safe-place.org.uk now", "go to example.com"):
        assert LINK.search(text), text


def test_every_english_default_message_stays_in_the_gsm_alphabet_and_two_segments() -> None:
    for name, text in default_messages(CATALOGS, "en_GB"):
        cost = segments(text)
        assert cost.encoding == "GSM-7", (name, text)  # one curly quote would double the cost
        assert cost.count <= 2, (name, cost)


def _calm_checkins(rounds: int) -> list[list[str]]:
    """The English texts she receives in each of `rounds` calm default check-ins one after another
    ("1" to every question, SKIP to the last), each told what the earlier ones asked, as the shell does."""
    qs = load_default()
    recent: tuple[frozenset[str], ...] = ()
    thread = []
    for _ in range(rounds):
        ctx = context(questionset=qs, recent_questions=recent, translate=CATALOGS.gettext)
        steps = run(ctx, StartCheckin(), *["1"] * 8, "skip")
        assert steps[-1].state.flow is None and steps[-1].replies[-1].key == R.CHECKIN_DONE  # it went to the end
        recent += (frozenset(a.question for step in steps for a in step.answers),)
        replies = [reply for step in steps for reply in step.replies]
        thread.append([CATALOGS.render(to_message(r), "en_GB", "Europe/London").text for r in replies])
    return thread


# The issue asked for the DASH risk factors: the default check-in (standard.toml v2) now asks two
# rotating risk questions each time (ten, in turn: rotation.per_checkin) on top of the core, and the
# incident list gained "Something else". Its questions were 8 segments; now they are 10 (two more
# one-segment questions), and with the closing "that's everything" a check-in she completes is 11.
WHOLE_CHECKIN_BUDGET = 11


def test_a_whole_default_checkin_costs_at_most_eleven_segments_in_english() -> None:
    ids = {q.id for q in load_default().questions}
    costs = {name: segments(text).count for name, text in default_messages(CATALOGS, "en_GB") if name in ids}
    assert set(costs) == ids
    assert costs["safe_to_talk"] == 1  # the first one, which may arrive at a bad moment, is a single text
    qs = load_default()
    assert qs.rotation is not None and rotation.per_checkin(qs) == 2
    # Every check-in of a full rotation, so every pair of rotating questions she can be asked is counted.
    thread = _calm_checkins(qs.rotation.within)
    asked = {len(texts) for texts in thread}
    assert asked == {10}, asked  # 9 questions (5 core, 2 rotating, callback, anything else) and the closing line
    totals = [sum(segments(text).count for text in texts) for texts in thread]
    assert max(totals) <= WHOLE_CHECKIN_BUDGET, totals
    assert max(totals) == WHOLE_CHECKIN_BUDGET  # if it got cheaper, lower the budget (and docs/sms.md)
