"""A partner agency's person in real Chromium against a real serve: a manager invites them from Manage →
Partners; they set a password and the second factor, sign in with a TOTP code, see the share sent for
their reference (and none of another agency's), acknowledge it and record what they did; staff pages
refuse them; the IDVA's case page then shows the acknowledgement and the action."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from safety.sharing import Agreement, Basis, Kind
from storage import partners, practitioners
from storage.cases import by_ref
from storage.db import Tx
from storage.practitioners import ChannelAddress
from tests.browser.conftest import PASSWORD, Person, Site, axe_check, login, sign_in

pytestmark = pytest.mark.browser


def partner_linked_to(site: Site, name: str, kind: str, person: str, ref: str, partner_ref: str) -> int:
    """A partner and one of its people, linked to the case with her consent to urgent alerts (set-up,
    through the storage functions the workspace forms call); the person's practitioner id."""
    app = site.staff().app

    async def unit(tx: Tx) -> int:
        now = app.clock.now()
        case = await by_ref(tx, ref)
        assert case is not None
        agreement = Agreement(f"ISA-{kind}", Basis.CONSENT, frozenset({Kind.URGENT_ALERTS, Kind.RISK_CHANGES}))
        partner_id = await partners.create(tx, case.service_id, name, kind, agreement, now)
        pid = await practitioners.add(
            tx, app.crypto, case.service_id, "partner", person, [ChannelAddress("inbox", None)], now,
            partner_id=partner_id,
        )
        await partners.link(tx, app.crypto, case.id, partner_id, pid, partner_ref, "test", now)
        for k in (Kind.URGENT_ALERTS, Kind.RISK_CHANGES):
            await partners.record_consent(tx, case.id, partner_id, k, True, "v1", "in_person", "test", now)
        await tx.commit()
        return pid

    return site.staff().run(lambda: app.db.run(unit))


def share_to(site: Site, contact: int) -> int:
    [(share_id,)] = site.look("SELECT max(id) FROM shares WHERE contact_id = ?", (contact,))
    assert share_id is not None, "nothing was shared"
    return int(share_id)


def test_a_partner_signs_in_sees_only_their_share_acknowledges_it_and_records_an_action(
    page: Page, site: Site
) -> None:
    meg = site.person("meg", "manager")
    ida = site.person("ida", "idva")
    ref = site.onboarded_case(ida)
    other_ref = site.onboarded_case(ida)
    carl = partner_linked_to(site, "Drive (browser)", "drive", "Carl Casemanager", ref, "DRV-4711")
    polly = partner_linked_to(site, "Police DAU (browser)", "police", "Polly Officer", other_ref, "POL-0042")
    site.codeword(ref)
    site.codeword(other_ref)
    ours, theirs = share_to(site, carl), share_to(site, polly)

    # The manager invites Carl from Manage → Partners: a one-time link, shown once.
    sign_in(page, site, meg)
    page.goto("/manage/partners")
    page.locator(f"#invite-person-{carl}").click()
    expect(page.get_by_role("status")).to_contain_text("shown only once")
    link = page.locator("#invitation-link").inner_text().strip()
    token = link.rsplit("/invite/", 1)[1]

    assert site.browser is not None
    context = site.browser.new_context(base_url=site.base)
    context.set_default_timeout(10_000)
    try:
        cm_page = context.new_page()
        cm_page.goto(f"/invite/{token}")
        secret = cm_page.locator("#totp-secret").inner_text().strip()
        cm_page.fill("#login", "carl@drive.example.org")
        cm_page.fill("#password", PASSWORD)
        cm_page.fill("#password_again", PASSWORD)
        cm = Person("carl", "carl@drive.example.org", carl, secret, [], "default")
        cm_page.fill("#code", site.totp(cm))
        cm_page.get_by_role("button", name="Create my account").click()
        expect(cm_page.locator("#recovery-codes li").first).to_be_visible()

        # Signed in with the second factor, they land on their shares.
        login(cm_page, site, cm)
        expect(cm_page).to_have_url(re.compile(r"/shares$"))
        row = cm_page.locator(f"#share-{ours}")
        expect(row).to_contain_text("DRV-4711")
        expect(row).to_contain_text("codeword")
        expect(row).to_contain_text("not yet")
        main = cm_page.locator("main")
        expect(main).not_to_contain_text(ref)
        expect(main).not_to_contain_text("POL-0042")
        assert cm_page.locator(f"#share-{theirs}").count() == 0
        axe_check(cm_page)

        row.get_by_role("link", name=f"S-{ours}").click()
        expect(cm_page).to_have_url(re.compile(rf"/shares/S-{ours}$"))
        axe_check(cm_page)
        cm_page.get_by_role("button", name="Acknowledge").click()
        expect(cm_page.get_by_role("status")).to_contain_text("Acknowledged")
        expect(cm_page.locator("#share-ack")).to_contain_text("Carl Casemanager")
        cm_page.get_by_label("Perpetrator visited").check()
        cm_page.fill("#note", "Visited at home; bail conditions reread")
        cm_page.get_by_role("button", name="Record").click()
        expect(cm_page.locator("#share-action")).to_contain_text("Perpetrator visited")
        axe_check(cm_page)

        # Another agency's share does not exist for them; staff pages refuse them.
        assert cm_page.goto(f"/shares/S-{theirs}").status == 404  # type: ignore[union-attr]
        for path in ("/cases", "/alerts", f"/cases/{ref}"):
            response = cm_page.goto(path)
            assert response is not None and response.status == 403, path
            expect(cm_page.locator("body")).not_to_contain_text("codeword")
    finally:
        context.close()

    [(acknowledged_by, action)] = site.look("SELECT acknowledged_by, action FROM shares WHERE id = ?", (ours,))
    assert (acknowledged_by, action) == (carl, "perpetrator_visited")
    [(still_open,)] = site.look("SELECT acknowledged_at FROM shares WHERE id = ?", (theirs,))
    assert still_open is None

    # The IDVA's case page shows the acknowledgement and the action.
    page.context.clear_cookies()
    sign_in(page, site, ida)
    page.goto(f"/cases/{ref}")
    shared = page.locator(f"#share-{ours}")
    expect(shared).not_to_contain_text("not yet acknowledged")
    expect(shared).to_contain_text("Perpetrator visited")
    expect(shared).to_contain_text("Carl Casemanager")
