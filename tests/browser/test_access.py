"""Per-record checks and isolation, in real Chromium: an IDVA opening another IDVA's case is refused
and the attempt is in the audit log a manager reads; another service's cases, alerts and audit rows do
not exist for a person of this one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import OTHER_SERVICE, Site, sign_in

pytestmark = pytest.mark.browser


def test_idva_a_opening_idva_b_s_case_gets_403_and_the_attempt_is_in_the_audit_log(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    bea = site.person("bea", "idva")
    meg = site.person("meg", "manager")
    ref, _, _ = site.enrol(bea, name="Bea's Survivor")
    sign_in(page, site, ida)
    response = page.goto(f"/cases/{ref}")
    assert response is not None and response.status == 403
    expect(page.locator("body")).not_to_contain_text("Bea's Survivor")
    rows = site.look(
        "SELECT actor, detail FROM audit_log WHERE action = 'case_view_denied'"
        " AND case_id = (SELECT id FROM cases WHERE ref = ?)",
        (ref,),
    )
    assert rows == [(f"practitioner:{ida.practitioner_id}", "access=denied")]

    page.context.clear_cookies()
    sign_in(page, site, meg)
    page.goto(f"/audit?action=case_view_denied&case={ref}")
    entries = page.locator("#audit-entries tbody tr")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("case_view_denied")
    expect(entries.first).to_contain_text(ref)
    # Her own IDVA opens it: allowed, and that view is audited too.
    page.context.clear_cookies()
    sign_in(page, site, bea)
    response = page.goto(f"/cases/{ref}")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text(ref)
    assert site.look(
        "SELECT count(*) FROM audit_log WHERE action = 'case_viewed' AND actor = ?"
        " AND case_id = (SELECT id FROM cases WHERE ref = ?)",
        (f"practitioner:{bea.practitioner_id}", ref),
    ) == [(1,)]


def test_a_manager_of_another_service_finds_nothing_of_this_one(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    ref = site.onboarded_case(ida)
    site.codeword(ref)  # an open alert in this service
    olga = site.person("olga", "manager", service=OTHER_SERVICE)
    otto = site.person("otto", "idva", service=OTHER_SERVICE)
    their_ref, _, _ = site.enrol(otto)
    sign_in(page, site, olga)

    # Another service's case is "no such case", word for word as a reference that does not exist.
    theirs = page.goto(f"/cases/{ref}")
    assert theirs is not None
    shown = page.locator("body").inner_text()
    missing = page.goto("/cases/C-NOSUCH")
    assert missing is not None
    assert (theirs.status, shown) == (missing.status, page.locator("body").inner_text())
    assert theirs.status in (403, 404)

    page.goto("/alerts")
    expect(page.locator(f'[data-case-ref="{ref}"]')).to_have_count(0)
    page.goto("/cases")
    expect(page.locator("main")).to_contain_text(their_ref)  # her own service's case is listed
    expect(page.locator("main")).not_to_contain_text(ref)
    # Her service's log: her own sign-in and her own refused try are there, nothing of the other service.
    page.goto("/audit")
    rows = page.locator("#audit-entries tbody tr")
    expect(rows.filter(has_text="login")).not_to_have_count(0)
    mentions = rows.filter(has_text=ref)
    expect(mentions).to_have_count(1)
    expect(mentions).to_contain_text("Olga Tester")
    expect(mentions).to_contain_text("case_view_denied")
    expect(page.locator("main")).not_to_contain_text("Ida Tester")
