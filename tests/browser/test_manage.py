"""A manager's change to the escalation ladder, made in the browser, takes effect in the running serve:
the next urgent alert reaches the managers at the new step's time."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, axe_check, sign_in

pytestmark = pytest.mark.browser


def test_a_managers_ladder_change_takes_effect_on_the_next_alert(page: Page, site: Site) -> None:
    meg = site.person("meg", "manager")
    ida = site.person("ida", "idva")
    ref = site.onboarded_case(ida)
    sign_in(page, site, meg)
    page.goto("/manage/service")
    axe_check(page)
    # Urgent alerts: the IDVA at once, then the managers after 1 minute (the default waits 5 minutes
    # and tells duty).
    steps = [("0", "idva"), ("1", "manager"), ("", ""), ("", ""), ("", "")]
    for i, (after, role) in enumerate(steps):
        page.locator(f"#urgent-{i}-after").fill(after)
        page.locator(f"#urgent-{i}-role").select_option(role)
    page.get_by_role("button", name="Save the ladders").click()
    expect(page).to_have_url(re.compile(r"/manage/service\?done=ladder$"))
    expect(page.get_by_role("status")).to_contain_text("Alert ladders saved")
    [(detail,)] = site.look("SELECT detail FROM audit_log WHERE action = 'alert_policy_set' ORDER BY id DESC LIMIT 1")
    assert "manager" in detail  # audited with the values before and after

    alert_id = site.codeword(ref)
    site.move_clock(timedelta(minutes=1, seconds=5))
    wanted = (f"alert={alert_id}",)
    deadline = time.monotonic() + 15  # serve's timers wake each second
    while not site.look("SELECT 1 FROM audit_log WHERE action = 'alert_escalated:manager' AND detail = ?", wanted):
        assert time.monotonic() < deadline, site.look("SELECT action, detail FROM audit_log WHERE detail = ?", wanted)
        time.sleep(0.1)
    page.goto(f"/alerts/{alert_id}")
    expect(page.locator("main")).to_contain_text("Meg Tester")  # told, as the new ladder says
