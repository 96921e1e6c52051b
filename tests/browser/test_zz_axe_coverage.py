"""Every HTML page of the workspace was checked by axe-core during this run, at desk width, and the pages
duty staff use also on a 360-px phone (axe-core and no sideways scrolling).

This module runs after every other browser test (conftest.py's pytest_collection_modifyitems puts it last,
and the guard checks that it is): it reads what their axe_check and no_sideways_scroll calls recorded. Run
on its own, or with only some browser tests, it fails and lists the pages those tests did not check."""

from __future__ import annotations

import pytest

from bot.web import make_web_app, workspace_settings
from tests.browser.axe_coverage import AXE_CHECKED, DESK, FITS_CHECKED, PHONE, Look, gaps, html_pages
from tests.browser.conftest import Site

pytestmark = pytest.mark.browser


def test_the_guard_names_a_page_checked_only_on_a_phone_or_not_at_all(site: Site) -> None:
    """The guard itself can fail: a page checked only at 360 px, or not at all, is listed."""
    web_app = make_web_app(site.staff().app, workspace=workspace_settings(site.base))
    assert {"/alerts", "/cases/{ref}", "/manage/purges/{purge_id}", "/"} <= html_pages(web_app)
    base = site.base
    everything_but = [Look(f"{base}/cases/C-ABC123", DESK), Look(f"{base}/manage/purges/7", 1280)]
    found = gaps(web_app, [*everything_but, Look(f"{base}/alerts?x=1", PHONE)], [])
    assert "/alerts: no axe_check at desk width" in found
    assert "/cases/{ref}: no axe_check at desk width" not in found
    assert "/manage/purges/{purge_id}: no axe_check at desk width" not in found
    assert "/alerts: no axe_check at 360 px" not in found
    assert "/alerts: not checked for sideways scrolling at 360 px" in found
    assert "/cases/{ref}: no axe_check at 360 px" in found


def test_every_html_page_was_axe_checked_at_desk_width_and_duty_pages_on_a_phone(
    site: Site, request: pytest.FixtureRequest
) -> None:
    assert request.session.items[-1] is request.node, "the axe coverage guard must run after every browser test"
    web_app = make_web_app(site.staff().app, workspace=workspace_settings(site.base))
    missing = gaps(web_app, AXE_CHECKED, FITS_CHECKED)
    assert not missing, (
        "Workspace pages no browser test checked in this run (add the page to a test's axe_check, or to "
        "NOT_PAGES in tests/browser/axe_coverage.py with the reason it is not an HTML page):\n" + "\n".join(missing)
    )
