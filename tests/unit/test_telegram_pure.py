"""Telegram's pure parts: settings checks, the send window, keyboards and callback data."""

from __future__ import annotations

import pytest

from bot.channels import telegram_ui as ui
from bot.channels.telegram_pacing import Window
from bot.channels.telegram_settings import DEFAULT_API, load_telegram
from bot.config import ConfigError

TOKEN = "123456:AAH-fake_token_for_tests_0123456789"
SECRET = "s" * 32


def test_no_token_means_telegram_is_off() -> None:
    assert load_telegram({}, "https://x.example.org") is None


def test_defaults_poll_the_public_api() -> None:
    s = load_telegram({"TELEGRAM_BOT_TOKEN": TOKEN}, None)
    assert s is not None
    assert (s.api_base_url, s.api_file_url, s.webhook_mode) == (DEFAULT_API, "https://api.telegram.org/file/bot", False)
    assert (s.global_rate, s.chat_rate) == (30.0, 1.0)
    assert s.deep_link("K7QH-3XPM") is None


def test_a_public_url_means_webhook_mode_with_a_secret() -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_BOT_USERNAME": "@alex_bot"}
    s = load_telegram(env, "https://safecheck.example.org")
    assert s is not None and s.webhook_url == "https://safecheck.example.org/telegram/webhook"
    assert s.deep_link("K7QH-3XPM") == "https://t.me/alex_bot?start=K7QH-3XPM"
    forced = load_telegram({**env, "TELEGRAM_MODE": "polling"}, "https://safecheck.example.org")
    assert forced is not None and not forced.webhook_mode


@pytest.mark.parametrize(
    ("env", "public", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, None, "does not look like a bot token"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN}, "https://x.example.org", "needs TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "short"}, "https://x.example.org", "16-256"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "s" * 20 + "!"}, "https://x.example.org", "16-256"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET}, "http://x.example.org", "https"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_MODE": "webhook"}, None, "needs SAFECHECK_PUBLIC_URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_MODE": "push"}, None, "polling or webhook"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_GLOBAL_RATE": "fast"}, None, "TELEGRAM_GLOBAL_RATE must be a number"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_RATE": "0"}, None, "TELEGRAM_CHAT_RATE must be between"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "ftp://x"}, None, "TELEGRAM_API_BASE_URL must be"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BOT_USERNAME": "a b"}, None, "TELEGRAM_BOT_USERNAME"),
    ],
)
def test_bad_settings_fail_in_one_line_without_echoing_the_token(
    env: dict[str, str], public: str | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_telegram(env, public)
    assert "\n" not in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_the_window_lets_limit_sends_through_then_waits_for_answers_and_their_span() -> None:
    w = Window(2.0)  # 2 per second, at least 0.5 s apart
    assert w.wait_time(0.0) == 0
    w.inflight, w.last = 1, 0.0
    assert w.wait_time(0.1) == pytest.approx(0.4)  # spacing
    w.inflight, w.last = 2, 0.5
    assert w.wait_time(0.6) is None  # both in flight: only an answer can free a slot
    w.inflight = 0
    w.done.extend([0.7, 0.9])  # answered at 0.7 and 0.9
    assert w.wait_time(1.0) == pytest.approx(0.7)  # until the first answer is a window old
    assert w.wait_time(1.8) == 0
    slow = Window(0.5)  # one every two seconds
    slow.done.append(3.0)
    assert slow.wait_time(4.0) == pytest.approx(1.0)


def test_survivor_keyboard_has_the_options_as_typed_numbers_and_exit_last() -> None:
    markup = ui.survivor_keyboard(("Yes", "Not now"))
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows == [[("Yes", "1"), ("Not now", "2")], [(ui.EXIT_LABEL, "x")]]
    long = ui.survivor_keyboard(("Mornings (9-12)", "Afternoons (12-5)", "Evenings (5-9)"))
    assert [len(r) for r in long.inline_keyboard] == [1, 1, 1, 1]
    assert ui.survivor_keyboard(()).inline_keyboard[0][0].callback_data == "x"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ("x", "exit"),
        ("3", "option"),
        ("ak:Yq3v0_Zt-9LmN2pQrS7uWx", "ack"),
        ("ack:12", "old_ack"),  # a button sent before the tokens: answered with how to acknowledge
        ("ak:12", "unknown"),
        ("ak:Yq3v0_Zt-9LmN2pQrS7uWx; DROP", "unknown"),
        ("0", "unknown"),
        ("999", "unknown"),
        ("ack:", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
        ("ack:1; DROP", "unknown"),
        ("\u202e1", "unknown"),
    ],
)
def test_callback_data_from_the_client_is_decoded_strictly(data: str | None, kind: str) -> None:
    assert ui.decode(data).kind == kind


def test_an_answered_question_loses_its_numbered_options_and_shows_the_answer() -> None:
    question = "Are you safe right now?\n1 Yes\n2 No"
    labels = ui.option_labels(ui.survivor_keyboard(("Yes", "No")))
    assert labels == {1: "Yes", 2: "No"}
    assert ui.answered_text(question, labels, 2) == "Are you safe right now?\n\n✓ No"


def test_alert_text_names_the_case_and_reason_only() -> None:
    meta = {"alert_id": "4", "case_ref": "C-4F7Q2", "severity": "urgent", "reason": "codeword"}
    text = ui.alert_text(meta, "fallback")
    assert text.startswith("[URGENT] Case C-4F7Q2: codeword.")
    assert "safecheck case show C-4F7Q2" in text
    assert ui.alert_text({}, "Daily summary: ...") == "Daily summary: ..."
