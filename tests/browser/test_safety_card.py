"""The safety card in a real browser: reached from the case page, no serious accessibility violation, and on
paper only the card (the print stylesheet drops the workspace's header and links), with her cover key."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from bot import commands
from bot.commands import case_mode
from tests.browser.conftest import Site, axe_check, sign_in

pytestmark = pytest.mark.browser


def test_the_card_of_a_cover_case_prints_without_the_workspace_and_passes_axe(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    ref, _, _ = site.enrol(ida, name="Card Survivor")
    app = site.staff().app

    async def to_cover() -> str:
        async with app.db.reading() as tx:
            svc = await commands.service_id(tx, ida.service)
        return await case_mode.set_mode(app, svc, ref, "cover", "salon", actor="test")

    site.staff().run(to_cover)
    sign_in(page, site, ida)
    page.goto(f"/cases/{ref}")
    page.get_by_role("link", name="Print her safety card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Keep this somewhere safe")
    axe_check(page)
    card = page.locator("article.card")
    expect(card).to_contain_text("Call 999.")
    expect(card.get_by_role("table")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Card Survivor")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator(".screen-only")).to_be_hidden()
    expect(card.get_by_role("heading", name="What our messages mean")).to_be_visible()
    expect(card.get_by_role("table")).to_be_visible()
