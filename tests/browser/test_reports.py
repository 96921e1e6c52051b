"""Manage → Reports in real Chromium against a real serve: the page opens on last month, the filters
change it (dates, an IDVA), a bad filter is one line beside its field, the chart is an image with an
accessible name, a small count shows as "<5", and axe-core finds nothing serious."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, axe_check, sign_in

pytestmark = pytest.mark.browser


def test_a_manager_filters_the_report_and_reads_its_chart(page: Page, site: Site) -> None:
    meg = site.person("meg", "manager")
    rhea = site.person("rhea", "idva")  # her own caseload, so other tests' cases do not count
    for intake in ("high", "high", "medium"):
        site.enrol(rhea, intake=intake)
    today = site.now().astimezone(ZoneInfo("Europe/London")).date().isoformat()
    sign_in(page, site, meg)
    page.goto("/manage")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(page.locator("#month")).not_to_have_value("")  # last month, by default
    axe_check(page)

    page.fill("#from", today)
    page.fill("#to", "2000-01-01")
    page.get_by_role("button", name="Show the report").click()
    expect(page.locator("#to-error")).to_have_text("The end date is before the start date.")
    expect(page.locator("#to")).to_have_attribute("aria-invalid", "true")
    axe_check(page)

    page.fill("#to", today)
    page.select_option("#idva", label="Rhea Tester")
    page.get_by_role("button", name="Show the report").click()
    expect(page.locator("#report-about")).to_contain_text("Rhea Tester")
    table = page.get_by_role("table", name="Cases", exact=True)
    expect(table).to_be_visible()
    enrolled = table.get_by_role("row", name="Enrolled")
    expect(enrolled.get_by_role("cell").first).to_have_text("<5")  # 3 cases: hidden
    chart = page.get_by_role("img", name="Cases", exact=True)
    expect(chart).to_be_visible()
    assert "Enrolled: Cases <5" in (chart.locator("desc").text_content() or "")
    expect(page.locator("#report-csv")).to_have_attribute(
        "href", f"/manage/reports.csv?from={today}&to={today}&idva={rhea.practitioner_id}"
    )
    axe_check(page)
