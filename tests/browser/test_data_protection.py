"""Issue 14's pages in real Chromium: the subject access review, Purges and a purge record, the case close
form with its outcome questions (and its error state), and Reports with every section holding data, have
no serious axe-core violation on a desk or a 360-px phone; and the issue's "done when", as a manager does
it: last month's report as PDF and CSV, a subject access export with one note withheld, and an erasure
with its purge record, all downloaded or read from the workspace."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Download, Page, expect
from pypdf import PdfReader

from bot import commands
from tests.browser.conftest import Person, Site, axe_check, close_site, no_sideways_scroll, open_site, sign_in
from tests.browser.test_partner_view import partner_linked_to

pytestmark = pytest.mark.browser
LONDON = ZoneInfo("Europe/London")
NOTE = "Her neighbour Pat Quill at number 12 saw him at the door."


def acknowledged(site: Site, alert_id: int, who: Person) -> None:
    """Her IDVA acknowledges the alert (set-up: the same command the CLI runs)."""
    app = site.staff().app
    site.staff().run(lambda: commands.ack(app, alert_id, who.practitioner_id))


def report_data(site: Site, idva: Person, name: str) -> str:
    """A case with an alert acknowledged and shared with a partner (her consent): data for the response,
    risk and sharing sections, and enrolment for engagement. Returns its reference."""
    ref = site.onboarded_case(idva, name=name)
    partner_linked_to(site, f"Drive for {ref}", "drive", "Dee Drive", ref, f"DRV-{ref}")
    acknowledged(site, site.codeword(ref), idva)
    return ref


def add_note(page: Page, ref: str, text: str) -> None:
    page.goto(f"/cases/{ref}")
    page.fill("#note-body", text)
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("main")).to_contain_text(text)


def close_with_outcome(page: Page, ref: str, *, leave_out: str | None = None) -> None:
    """The close form: a reason and every outcome question answered with its first answer, but `leave_out`."""
    page.goto(f"/cases/{ref}")
    page.locator("#close-reason").select_option(index=1)
    for select in page.locator("#close-form fieldset select").all():
        if select.get_attribute("id") != leave_out:
            select.select_option(index=1)
    page.get_by_role("button", name="Close the case").click()


def erase(page: Page, ref: str) -> int:
    """Erase her personal data from the case page, as test_erasure.py does; the purge's number."""
    page.goto(f"/cases/{ref}")
    page.get_by_label("Why?", exact=True).last.select_option("her_request")
    page.get_by_label(f"Type the case reference ({ref}) to confirm").fill(ref)
    page.get_by_role("button", name="Erase her personal data").click()
    expect(page.get_by_role("status")).to_contain_text("Her personal data is erased")
    page.goto("/manage/purges")
    row = page.locator("#purges tbody tr").filter(has_text=ref)
    return int((row.get_attribute("id") or "").removeprefix("purge-"))


def sections_all_hold_data(page: Page) -> None:
    """Every section of the report counts something: a table cell that is not 0 (a small count shows "<5")."""
    sections = page.locator("section.report-section")
    assert sections.count() == 5
    for section in sections.all():
        title = section.get_by_role("heading", level=2).inner_text()
        cells = section.locator("tbody td").all_inner_texts()
        assert any(c.strip() not in ("", "0", "—") and "Nothing" not in c for c in cells), (title, cells)


def test_the_data_protection_pages_have_no_serious_violation_on_a_desk_or_a_phone(page: Page, site: Site) -> None:
    page.set_default_timeout(10_000)
    meg = site.person("meg", "manager")
    dora = site.person("dora", "idva")  # her own caseload: the report below is hers alone
    reviewed = report_data(site, dora, "Sal Subject")
    closing = report_data(site, dora, "Cleo Closing")
    erased = site.onboarded_case(dora, name="Ezra Erased")
    sign_in(page, site, meg)
    add_note(page, reviewed, NOTE)
    purge = erase(page, erased)

    # The close form with one outcome question unanswered: one line, announced, tied to its field.
    close_with_outcome(page, closing, leave_out="close-safety")
    error = page.locator("#close_safety-error")
    expect(error).to_have_role("alert")
    expect(error).not_to_have_text("")
    expect(page.locator("#close-safety")).to_have_attribute("aria-describedby", "close_safety-error")
    expect(page.locator("#close-safety")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#close-reason")).not_to_have_value("")  # what she answered is kept
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 800})
        axe_check(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator("#close-form")).to_be_visible()  # nothing was closed
    close_with_outcome(page, closing)
    expect(page.locator("#closure-outcome")).to_be_visible()

    today = site.now().astimezone(LONDON).date().isoformat()
    report = f"/manage/reports?from={today}&to={today}&idva={dora.practitioner_id}"
    pages = (
        f"/cases/{reviewed}/subject-access", f"/cases/{closing}", "/manage/purges", f"/manage/purges/{purge}", report
    )
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 800})
        for path in pages:
            response = page.goto(path)
            assert response is not None and response.status == 200, (path, response and response.status)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            axe_check(page)
            no_sideways_scroll(page)
    page.goto(f"/cases/{reviewed}/subject-access")
    expect(page.locator("#review-items")).to_contain_text(NOTE)
    page.goto(report)
    sections_all_hold_data(page)


# --- the "done when", on a serve of its own: the clock moves on into next month ----------------


@pytest.fixture(scope="module")
def month_site(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Site]:
    found = open_site(tmp_path_factory.mktemp("serve-month"), browser)
    try:
        yield found
    finally:
        close_site(found)


@pytest.fixture(autouse=True)
def _short_waits() -> None:
    """(Overrides conftest's, which would start the session's serve for every test here.)"""


def saved(download: Download, folder: Path) -> Path:
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(path).pages)


def test_a_manager_produces_the_months_report_a_subject_access_export_and_an_erasure_with_its_record(
    browser: Browser, month_site: Site, tmp_path: Path
) -> None:
    site = month_site
    mo = site.person("mo", "manager")
    ivy = site.person("ivy", "idva")
    asked = report_data(site, ivy, "Nora Needs-Access")
    closed = report_data(site, ivy, "Other Case")
    leaving = site.onboarded_case(ivy, name="Lena Leaving")
    context = browser.new_context(base_url=site.base, accept_downloads=True)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, site, mo)
        close_with_outcome(page, closed)  # her outcome at closure, for last month's report
        expect(page.locator("#closure-outcome")).to_be_visible()
        # On into the 2nd of next month, at noon: the cases above are last month's.
        local = site.now().astimezone(LONDON)
        first = (local.replace(day=1) + timedelta(days=32)).replace(day=2)
        target = datetime.combine(first.date(), time(12), LONDON)
        month = local.strftime("%Y-%m")
        site.move_clock(target - site.now())

        sign_in(page, site, mo)  # (the session may have run out in the month)
        add_note(page, asked, NOTE)

        # Last month's report, as PDF and CSV.
        page.goto("/manage")
        page.get_by_role("link", name="Reports").click()
        expect(page.locator("#month")).to_have_value(month)
        page.get_by_role("button", name="Show the report").click()
        sections_all_hold_data(page)
        with page.expect_download() as got:
            page.locator("#report-pdf").click()
        text = pdf_text(saved(got.value, tmp_path))
        for title in ("Engagement", "Sharing with partners", "<5"):
            assert title in text, title
        with page.expect_download() as got:
            page.locator("#report-csv").click()
        rows = list(csv.reader(io.StringIO(saved(got.value, tmp_path).read_text(encoding="utf-8-sig"))))
        assert rows[0] == ["section", "table", "row", "column", "value"]
        sections = {r[0] for r in rows[1:]}
        assert {"Report", "Sharing with partners"} <= sections, sections
        assert any(r[4] == "<5" for r in rows[1:]), "no small count was suppressed"

        # Her subject access export, the note withheld: neither file holds its text; both say it was withheld.
        page.goto(f"/cases/{asked}")
        page.get_by_role("link", name="Subject access export").click()
        item = page.locator("#review-items li").filter(has_text=NOTE)
        item.get_by_label("Release or withhold").select_option("third_party")
        for button, suffix in (("Download JSON", ".json"), ("Download PDF", ".pdf")):
            with page.expect_download() as got:
                page.get_by_role("button", name=button).click()
            path = saved(got.value, tmp_path)
            assert path.suffix == suffix
            body = path.read_text(encoding="utf-8") if suffix == ".json" else pdf_text(path)
            assert "Pat Quill" not in body and NOTE not in body, suffix
            assert "withheld: may identify another person" in body, suffix
            if suffix == ".json":
                assert json.loads(body)["withheld"][0]["reason"] == "third_party"
            else:
                assert asked in body

        # An erasure and its purge record.
        purge = erase(page, leaving)
        page.get_by_role("link", name=f"P-{purge}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Purge record P-{purge}")
        expect(page.locator("#purge-cases")).to_have_text(leaving)
        counts = page.locator("#purge-counts tbody tr")
        assert counts.count() > 0
        assert sum(int(n) for n in page.locator("#purge-counts tbody td").all_inner_texts()) > 0
    finally:
        context.close()
