"""A passkey as the second factor, in real Chromium: its virtual authenticator (CDP WebAuthn domain)
stands in for the device. The relying party is `localhost`, the host the browser shows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import CDPSession, Page, expect

from tests.browser.conftest import Site, axe_check, sign_in, sign_in_password, signed_in

pytestmark = pytest.mark.browser


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator with user verification, as a laptop's fingerprint reader would be."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, str(added["authenticatorId"])


def add_passkey(page: Page, name: str) -> None:
    """On the account page (signed in): add a passkey on the page's authenticator."""
    page.goto("/account")
    page.get_by_label("Name for the new passkey").fill(name)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(re.compile(r"/account\?done=passkey-added$"))


def test_a_passkey_added_on_the_account_page_signs_in_at_the_second_step_and_only_on_its_device(
    page: Page, site: Site
) -> None:
    pia = site.person("pia", "idva")
    cdp, laptop = virtual_authenticator(page)
    sign_in(page, site, pia)
    add_passkey(page, "work laptop")
    expect(page.get_by_role("heading", name="work laptop")).to_be_visible()
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": laptop})["credentials"]) == 1
    axe_check(page)  # the account page, with a passkey listed

    page.context.clear_cookies()  # a new visit: password, then the passkey instead of a code
    sign_in_password(page, pia)
    expect(page).to_have_url(re.compile(r"/login/second$"))
    button = page.get_by_role("button", name="Use a passkey")
    expect(button).to_be_visible()
    axe_check(page)
    button.click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    assert signed_in(page)
    [(method,)] = site.look(
        "SELECT detail FROM audit_log WHERE action = 'login' AND actor = ? ORDER BY id DESC LIMIT 1",
        (f"practitioner:{pia.practitioner_id}",),
    )
    assert method.startswith("passkey=")
    [cred] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": laptop})["credentials"]
    assert cred["signCount"] >= 1  # the authenticator really signed

    # Another device, holding no passkey of hers: the button does not sign her in.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": laptop})
    virtual_authenticator(page)
    page.context.clear_cookies()
    sign_in_password(page, pia)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("#passkey-status")).not_to_have_text(re.compile(r"^$|Follow the steps"))
    expect(page).to_have_url(re.compile(r"/login/second$"))
    assert not signed_in(page)
