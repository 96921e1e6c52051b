"""Which workspace page each practitioner message points at: codes and our ids only."""

from __future__ import annotations

from bot.alert_text import alert_message, render, render_email
from bot.channels.email import EmailChannel
from bot.dispatcher import workspace_link
from tests.contract.test_email_channel import settings as email_settings

WORKSPACE = "https://workspace.example.org"


def test_an_alert_points_at_its_page_a_summary_at_the_queue_and_a_share_at_nothing_here() -> None:
    alert = alert_message(12, "C-4F7Q2", "urgent", "codeword", "urgent", ("codeword",))
    assert workspace_link(WORKSPACE + "/", alert) == f"{WORKSPACE}/alerts/12"
    assert workspace_link(WORKSPACE, {"kind": "digest", "statuses": {}}) == f"{WORKSPACE}/alerts"
    assert workspace_link(WORKSPACE, {"kind": "share", "share_id": 3}) is None  # its own link, in its text
    assert workspace_link(None, alert) is None


def test_a_daily_summary_mail_says_where_the_queue_is() -> None:
    channel = EmailChannel(email_settings(587, None))
    _, body = render_email("Daily summary: 0 check-in(s) done.", {}, channel.details({"link": f"{WORKSPACE}/alerts"}))
    assert body.endswith(f"Details: {WORKSPACE}/alerts\n")
    assert channel.details({}) == "safecheck alerts list --open"  # no workspace URL: the command


def test_a_link_in_a_channels_meta_is_used_only_if_it_is_a_web_address() -> None:
    meta = {"alert_id": "12", "case_ref": "C-4F7Q2", "severity": "urgent", "reason": "codeword"}
    shown = render({**meta, "link": "javascript:alert(1)"})
    assert shown is not None and shown.link == "safecheck case show C-4F7Q2 --as <your id>"
    shown = render({**meta, "link": f"{WORKSPACE}/alerts/12"})
    assert shown is not None and (shown.link, shown.acknowledge) == (f"{WORKSPACE}/alerts/12",) * 2
