"""The live alert queue in real Chromium: a codeword she sends over the simulator (a CLI process beside
serve) appears in the open queue without a reload (Server-Sent Events); acknowledge, then resolve with
an outcome and a note."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, axe_check, login, sign_in, signed_in

pytestmark = pytest.mark.browser


def test_a_codeword_sent_over_the_simulator_appears_in_the_open_queue_without_a_reload(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    ref = site.onboarded_case(ida)
    sign_in(page, site, ida)
    page.goto("/alerts")
    item = page.locator(f'#alert-list li[data-case-ref="{ref}"]')
    expect(item).to_have_count(0)
    page.evaluate("window.safecheckSamePage = true")  # gone if the page is reloaded or left
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    site.codeword(ref, process=True)  # a `safecheck simulate` process beside serve

    expect(item).to_be_visible(timeout=15_000)
    expect(item).to_contain_text("URGENT")
    expect(item.get_by_role("button", name=re.compile("Acknowledge"))).to_be_visible()
    assert page.evaluate("window.safecheckSamePage") is True
    assert navigations == []
    axe_check(page)  # the queue with a live alert in it


def test_acknowledge_in_one_click_then_resolve_with_an_outcome_and_a_note(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    ref = site.onboarded_case(ida)
    alert_id = site.codeword(ref)
    sign_in(page, site, ida)
    page.goto("/alerts")
    item = page.locator(f'#alert-list li[data-case-ref="{ref}"]')
    item.get_by_role("button", name=re.compile("Acknowledge")).click()
    expect(item.get_by_role("button", name=re.compile("Acknowledge"))).to_have_count(0)
    [(acked_by, acked_at)] = site.look("SELECT acknowledged_by, acknowledged_at FROM alerts WHERE id = ?", (alert_id,))
    assert acked_by == ida.practitioner_id and acked_at is not None

    item.get_by_role("link", name=re.compile("Resolve")).click()
    expect(page).to_have_url(re.compile(rf"/alerts/{alert_id}$"))
    axe_check(page)  # the resolve form
    page.get_by_role("button", name="Resolve alert").click()  # no outcome chosen: one line, nothing changed
    expect(page.locator("#outcome-error")).to_be_visible()
    assert site.look("SELECT resolved_at FROM alerts WHERE id = ?", (alert_id,)) == [(None,)]

    page.get_by_label("Spoke to her: action taken").check()
    page.get_by_label("Police called").check()
    page.get_by_label(re.compile("^Note")).fill("Police attended; she is staying with her sister.")
    page.get_by_role("button", name="Resolve alert").click()
    expect(page).to_have_url(re.compile(rf"/alerts/{alert_id}$"))  # the record as kept
    resolution = page.locator("#resolution")
    expect(resolution).to_contain_text("Spoke to her: action taken")
    expect(resolution).to_contain_text("Police called")
    expect(resolution).to_contain_text("Police attended; she is staying with her sister.")
    [(outcome, action, resolved_by, note)] = site.look(
        "SELECT outcome, outcome_action, resolved_by, note_enc FROM alerts WHERE id = ?", (alert_id,)
    )
    assert (outcome, action, resolved_by) == ("action", "police", ida.practitioner_id)
    assert b"sister" not in note  # the note is kept encrypted
    page.goto("/alerts")
    expect(page.locator(f'#alert-list li[data-case-ref="{ref}"]')).to_have_count(0)  # no longer open
    audited = site.look(
        "SELECT actor, action FROM audit_log WHERE detail = ? OR detail LIKE ? ORDER BY id",
        (f"alert={alert_id}", f"alert={alert_id} %"),
    )
    me = f"practitioner:{ida.practitioner_id}"
    assert (me, "alert_acknowledged") in audited and (me, "alert_resolved") in audited, audited


def test_an_open_alert_queue_in_a_visible_tab_keeps_duty_signed_in_past_the_idle_limit(page: Page, site: Site) -> None:
    """(The 8-hour limit holds however active: test_login.test_a_session_ends_8_hours_after_login_however_active.)"""
    dan = site.person("dan-watching", "duty")
    page.clock.install()  # the page's timers (the queue's activity ping) run on a clock the test moves
    login(page, site, dan)
    page.goto("/alerts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    for _ in range(3):  # 30 minutes watching the queue, no click: twice the idle limit
        site.move_clock(timedelta(minutes=10))
        with page.expect_response(lambda r: r.url.endswith("/session") and r.request.method == "POST") as ping:
            page.clock.run_for("01:00")  # the visible queue reports activity once a minute
        assert ping.value.ok and ping.value.json()["signed_in"] is True
    assert signed_in(page)
