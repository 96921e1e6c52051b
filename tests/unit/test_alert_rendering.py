"""One alert renderer: every practitioner channel lays out the same rendering, for every reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.alert_text import REASONS, alert_message, render, render_email, render_practitioner
from bot.channels.base import Outgoing
from bot.channels.sms_channel import practitioner_text
from bot.channels.telegram_ui import alert_text
from safety.model import AlertReason

AT = "2026-11-23T10:00:00+00:00"


def meta_of(message: dict[str, object]) -> dict[str, str]:
    """What the dispatcher hands a channel with an alert: its fields as text, and when it was due."""
    fields = ("alert_id", "case_ref", "severity", "reason", "level")
    return {**{k: str(message[k]) for k in fields if message.get(k) is not None}, "at": AT, "outbox_id": "9"}


@pytest.mark.parametrize("level", [None, "high"])
@pytest.mark.parametrize("reason", list(AlertReason))
def test_every_practitioner_channel_lays_out_the_one_rendering_of_every_alert_reason(
    reason: AlertReason, level: str | None
) -> None:
    message = alert_message(42, "C-7QK2M", "urgent", reason.value, level)
    text = render_practitioner(message, 5)  # what the inbox keeps and every channel receives as the text
    meta = meta_of(message)
    alert = render(meta, text=text)
    assert alert is not None
    assert alert.reason == REASONS[reason.value]  # in words, never the bare code
    assert (alert.severity, alert.case_ref, alert.acknowledge) == (
        "URGENT",
        "C-7QK2M",
        "safecheck alerts ack 42 --as 5",
    )
    assert render(message, 5) == replace(alert, at=None)  # the same from the stored row

    assert text == f"{alert.headline}. Acknowledge: {alert.acknowledge}"  # inbox (and log: its codes)
    assert practitioner_text(Outgoing(text, meta=meta)) == f"{alert.headline}. Reply ACK {alert.case_ref}"  # SMS
    assert alert_text(meta, text) == f"{alert.title}.\nDetails: {alert.link}"  # Telegram
    subject, body = render_email(text, meta, alert.link)
    assert subject == f"[{alert.severity}] Safecheck alert {alert.case_ref}"
    level_words = f" (level {level})" if level else ""
    assert f"\nReason:   {alert.reason}{level_words}\n" in body
    assert f"\nAcknowledge in Safecheck: {alert.acknowledge}\n" in body
    assert f"\nDetails: {alert.link}\n" in body


def test_a_digest_is_no_alert_and_every_channel_keeps_its_counts_as_they_are() -> None:
    digest = {"kind": "digest", "statuses": {"completed": 2}, "levels": {"standard": 2}, "alerts": 0, "open_alerts": 0}
    text = render_practitioner(digest)
    assert render(digest) is None
    assert practitioner_text(Outgoing(text, meta={})) == text
    assert alert_text({}, text) == text
    assert render_email(text, {}, "here")[1].startswith(text)
