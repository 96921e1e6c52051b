"""Reading an update the client library could not parse, and the polling loop's backoff: pure parts."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels import telegram_raw
from bot.channels.telegram_transport import MAX_POLL_PAUSE, backoff


@pytest.mark.parametrize(
    ("raw", "chat", "text"),
    [
        ({"update_id": 7, "message": {"chat": {"id": 42}, "text": "hi"}}, "42", "hi"),
        ({"update_id": 7, "message": {"chat": {"id": "42"}, "caption": "look"}}, "42", "look"),
        ({"update_id": 7, "edited_message": {"chat": {"id": -5}, "text": "a", "caption": "b"}}, "-5", "a\nb"),
        ({"update_id": 7, "message": {"chat": "42", "text": 3}}, None, ""),
        ({"update_id": 7, "message": {"chat": {"id": True}, "text": "x"}}, None, "x"),
        ({"update_id": 7, "callback_query": {"from": {"id": 9}, "data": "1"}}, "9", ""),
        ({"update_id": 7, "poll": {"id": "p"}}, None, ""),
    ],
)
def test_the_chat_and_words_are_found_without_trusting_the_shape(raw: Any, chat: str | None, text: str) -> None:
    found = telegram_raw.read(raw)
    assert (found.provider_id, found.update_id, found.chat, found.text) == ("u7", 7, chat, text)


@pytest.mark.parametrize("raw", [[1, 2], "update", None, {"update_id": "7"}, {"update_id": True}])
def test_something_without_an_update_id_gets_a_stable_id_of_its_own(raw: Any) -> None:
    first, again = telegram_raw.read(raw), telegram_raw.read(raw)
    assert first.update_id is None and first.provider_id.startswith("x") and first.provider_id == again.provider_id


def test_polling_backoff_doubles_and_is_capped_however_long_telegram_is_down() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert backoff(8) == backoff(10_000) == MAX_POLL_PAUSE
