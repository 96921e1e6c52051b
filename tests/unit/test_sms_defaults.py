"""Every default survivor message as the phone shows it: no links, and cheap to send by SMS."""

from __future__ import annotations

import re

import pytest

from bench.sms_segments import default_messages
from bot.channels.segments import segments
from bot.i18n import Catalogs
from flows.loader import load_default

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


def test_a_whole_default_checkin_costs_at_most_eight_segments_in_english() -> None:
    ids = {q.id for q in load_default().questions}
    costs = {name: segments(text).count for name, text in default_messages(CATALOGS, "en_GB") if name in ids}
    assert set(costs) == ids
    assert costs["safe_to_talk"] == 1  # the first one, which may arrive at a bad moment, is a single text
    assert sum(costs.values()) <= 8
