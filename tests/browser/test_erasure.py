"""A manager erases a survivor's personal data from her case page in Chromium, then opens the purge record
from Manage; the form, the list and the record have no serious accessibility violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, axe_check, sign_in

pytestmark = pytest.mark.browser


def test_a_manager_erases_her_data_from_the_case_page_and_prints_the_purge_record(page: Page, site: Site) -> None:
    meg = site.person("meg", "manager")
    ida = site.person("ida", "idva")
    ref = site.onboarded_case(ida, name="Erin Erasable")
    sign_in(page, site, meg)
    page.goto(f"/cases/{ref}")
    axe_check(page)
    page.get_by_label("Why?", exact=True).last.select_option("her_request")
    page.get_by_label(f"Type the case reference ({ref}) to confirm").fill("C-WRONG")
    page.get_by_role("button", name="Erase her personal data").click()
    expect(page.locator("#case_erase-error")).to_contain_text(f"Type the case reference {ref} exactly")
    expect(page.get_by_text("Erin Erasable")).to_be_visible()  # nothing was erased
    page.get_by_label("Why?", exact=True).last.select_option("her_request")
    page.get_by_label(f"Type the case reference ({ref}) to confirm").fill(ref)
    page.get_by_role("button", name="Erase her personal data").click()
    expect(page.get_by_role("status")).to_contain_text("Her personal data is erased")
    expect(page.get_by_text("Erin Erasable")).to_have_count(0)
    page.goto("/manage")
    page.get_by_role("link", name="Purges").click()
    axe_check(page)
    page.locator("#purges a").first.click()
    expect(page.locator("#purge-cases")).to_have_text(ref)
    axe_check(page)
