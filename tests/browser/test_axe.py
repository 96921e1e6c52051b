"""axe-core (shipped inside axe-playwright-python, run offline) finds no serious or critical violation on
any workspace page, each filled with real content, at desktop width and on a 360-px phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, axe_check, no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser


def test_axe_check_fails_on_a_page_with_a_serious_violation(page: Page) -> None:
    """The checker itself can fail: an unlabelled input and an image without text are caught."""
    page.set_content('<html lang="en"><title>t</title><main><input id="x"><img src="data:,"></main></html>')
    with pytest.raises(AssertionError, match="label"):
        axe_check(page)


def add_partner(page: Page) -> None:
    """A partner and its person, through Manage → Partners as a manager would."""
    page.goto("/manage/partners")
    page.get_by_label("Name of the agency or team").fill("Drive West Mercia")
    page.get_by_label("Kind").select_option("drive")
    page.get_by_label("Information-sharing agreement reference").fill("ISA-2026-014")
    page.get_by_label("Lawful basis").select_option("consent")
    page.get_by_label("Risk-level changes").check()
    page.get_by_role("button", name="Add the partner").click()
    page.get_by_label("Partner", exact=True).select_option(label="Drive West Mercia")
    page.get_by_label("Their name").fill("Carl Case-Manager")
    page.get_by_label("How shares reach them, in order").fill("email:carl@drive.example.org")
    page.get_by_role("button", name="Add the person").click()
    expect(page.get_by_role("status")).to_have_text("Their person is saved.")


def ask_to_share_without_consent(page: Page, ref: str) -> None:
    """Link the case to the partner's person, and ask to share her risk level without her consent."""
    page.goto(f"/cases/{ref}")
    page.locator("#link-contact").select_option(label="Carl Case-Manager (Drive West Mercia)")
    page.get_by_label("The partner's own reference for this case").fill("DRV-889")
    page.get_by_role("button", name="Link").click()
    page.get_by_label("Who would receive it").select_option(label="Carl Case-Manager (Drive West Mercia)")
    page.get_by_label("What would go").select_option("risk_changes")
    page.get_by_label("Lawful basis other than consent").select_option("vital_interests")
    page.get_by_label("Why it must go without her consent").fill("Seen near her home with a weapon.")
    page.get_by_role("button", name="Ask a manager to approve").click()
    expect(page.get_by_role("status")).to_have_text("Asked: nothing is sent unless another manager approves it.")


def test_every_page_a_manager_and_an_idva_use_has_no_serious_violation_on_a_desk_or_a_phone(
    page: Page, site: Site
) -> None:
    meg = site.person("meg", "manager")
    ida = site.person("ida", "idva")
    ref = site.onboarded_case(ida, name="Axe Survivor")
    alert_id = site.codeword(ref)
    sign_in(page, site, meg)
    add_partner(page)  # so the case page shows its partner forms too
    ask_to_share_without_consent(page, ref)  # so the case page lists it, and Manage shows it to decide
    pages = (
        "/alerts",
        f"/alerts/{alert_id}",
        "/cases",
        f"/cases/{ref}",
        f"/cases/{ref}/card",
        f"/cases/{ref}/dash",
        f"/cases/{ref}/marac",
        "/cases/new",
        "/manage",
        "/manage/practitioners",
        "/manage/rota",
        "/manage/service",
        "/manage/service/signposting",
        "/manage/questions",
        "/manage/partners",
        "/manage/shares",
        "/manage/reports",
        "/manage/overrides",
        "/audit",
        "/account",
    )
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 800})
        for path in pages:
            response = page.goto(path)
            assert response is not None and response.status == 200, (path, response and response.status)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            # Every page at desk width; on a phone, the pages duty staff work from away from a desk.
            if width > 360 or path in ("/alerts", f"/alerts/{alert_id}", f"/cases/{ref}"):
                axe_check(page)
            no_sideways_scroll(page)


def test_enrolment_the_activation_code_and_her_secrets_screen_have_no_serious_violation(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    sign_in(page, site, ida)
    page.goto("/cases/new")
    axe_check(page)
    page.get_by_label("How she gets her messages").select_option("simulator")
    page.get_by_label("Her mobile number").fill("+447700900999")
    page.get_by_label("DASH risk level at intake").select_option("high")
    page.get_by_label(re.compile("^For direct questions: I have explained")).check()
    page.get_by_role("button", name="Create the case").click()
    expect(page.locator("#activation-code")).to_be_visible()
    axe_check(page)  # the activation code, shown once
    page.get_by_role("link", name="Hand her the device to choose them").click()
    expect(page).to_have_url(re.compile(r"/cases/C-\w+/secrets$"))
    axe_check(page)  # the screen she uses, on the practitioner's device
    page.set_viewport_size({"width": 360, "height": 800})
    axe_check(page)
