"""One alert renderer: every practitioner channel lays out the same rendering, for every reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.alert_text import FACTS, alert_message, reason_words, render, render_email, render_practitioner
from bot.channels.base import Outgoing
from bot.channels.sms_channel import practitioner_text
from bot.channels.telegram_ui import alert_text
from safety.alert_reasons import REASONS
from safety.model import AlertReason
from safety.signals import SIGNALS, alert_facts

AT = "2026-11-23T10:00:00+00:00"


def meta_of(message: dict[str, object]) -> dict[str, str]:
    """What the dispatcher hands a channel with an alert: its fields as text, and when it was due."""
    fields = ("alert_id", "case_ref", "severity", "reason", "level", "facts")
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


# ---- what happened: the facts an alert names ----


def test_every_signal_in_the_catalog_has_a_phrase_and_so_does_contact_despite_an_order() -> None:
    missing = [name for name in SIGNALS if name not in FACTS]
    assert missing == [], f"signals without an alert phrase in bot/alert_text.FACTS: {missing}"
    assert "contact_despite_order" in FACTS
    assert set(FACTS) == {*SIGNALS, "contact_despite_order"}  # nothing phrased that no answer can record
    # Every fact an alert can carry reads as words, and no two facts read alike.
    assert all("_" not in phrase and phrase == phrase.strip() and phrase for phrase in FACTS.values())
    assert len(set(FACTS.values())) == len(FACTS)


@pytest.mark.parametrize(
    ("facts", "words"),
    [
        (("not_safe_now",), "not safe now"),
        (("choking",), "strangulation disclosed"),
        (("threats_to_kill",), "threats to kill disclosed"),
        (("contact_despite_order",), "in-person contact despite a no-contact order"),
        (("self_harm_thoughts",), "thoughts of self-harm disclosed"),
        (("harm_to_child",), "a child hurt"),
        (("weapons",), "weapon used or threatened"),
        (("fear_a_lot",), "very afraid"),
        (("stalking",), "stalking or constant contact"),
        (
            ("not_safe_now", "threats_to_kill", "choking"),
            "not safe now; threats to kill disclosed; strangulation disclosed",  # as given: catalog order
        ),
    ],
)
def test_the_reason_names_what_happened_on_every_channel(facts: tuple[str, ...], words: str) -> None:
    message = alert_message(7, "C-7QK2M", "urgent", "risk_raised", None, facts)
    text = render_practitioner(message, 5)
    meta = meta_of(message)
    assert meta["facts"] == ",".join(facts)  # a channel's meta is text: the codes, comma-separated
    alert = render(meta, text=text)
    assert alert is not None and alert.reason == words and alert.facts == facts
    assert alert.reason_code == "risk_raised"  # what a log line carries stays the code
    assert render(message, 5) == replace(alert, at=None)
    assert text == f"[URGENT] Case C-7QK2M: {words}. Acknowledge: safecheck alerts ack 7 --as 5"
    assert practitioner_text(Outgoing(text, meta=meta)) == f"[URGENT] Case C-7QK2M: {words}. Reply ACK C-7QK2M"
    assert alert_text(meta, text).startswith(f"[URGENT] Case C-7QK2M: {words}.\n")
    assert f"\nReason:   {words}\n" in render_email(text, meta, alert.link)[1]


def test_the_facts_come_in_catalog_order_most_serious_first_and_keep_it() -> None:
    facts = alert_facts(["fear_a_lot", "contact_in_person", "choking", "not_safe_now"], no_contact_order=True)
    assert facts == ("not_safe_now", "fear_a_lot", "contact_despite_order", "choking")
    assert reason_words("risk_raised", facts) == (
        "not safe now; very afraid; in-person contact despite a no-contact order; strangulation disclosed"
    )


@pytest.mark.parametrize(
    ("reason", "words"),
    [("fear_rising", "fear rising over 3 check-ins"), ("codeword", "codeword"), ("risk_raised", "risk level rose")],
)
def test_without_facts_the_reason_code_says_why(reason: str, words: str) -> None:
    alert = render(alert_message(3, "C-7QK2M", "raised", reason))
    assert alert is not None and alert.reason == words and alert.facts == ()


def test_an_alert_stored_before_facts_existed_renders_as_it_did() -> None:
    old = {"kind": "alert", "alert_id": 3, "case_ref": "C-7QK2M", "severity": "high", "reason": "risk_raised"}
    alert = render(old)
    assert alert is not None and alert.reason == "risk level rose"


def test_only_our_own_phrases_reach_a_practitioner_whatever_the_facts_hold() -> None:
    """Facts are codes by construction; a code we have no phrase for is dropped, never shown raw."""
    meta = {"alert_id": "3", "case_ref": "C-7QK2M", "severity": "urgent", "reason": "risk_raised"}
    mixed = render({**meta, "facts": "choking,Jane at 07700 900123"})
    assert mixed is not None and mixed.reason == "strangulation disclosed" and mixed.facts == ("choking",)
    unknown = render({**meta, "facts": "she said he has a knife"})
    assert unknown is not None and unknown.reason == "risk level rose" and unknown.facts == ()
