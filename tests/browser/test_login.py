"""Signing in, in real Chromium against a real serve: TOTP, recovery codes, throttling, the login page
telling nothing about which accounts exist, idle and absolute expiry, and CSRF."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHROMIUM, Site, axe_check, login, no_sideways_scroll, sign_in_password, signed_in

pytestmark = pytest.mark.browser

SECOND = "form[action='/login/second']"


def test_healthz_answers_and_the_login_page_is_served_on_localhost(page: Page, site: Site) -> None:
    health = page.request.get("/healthz")
    assert health.ok, health.status
    page.goto("/")  # not signed in: sent to the login page
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert page.url.startswith(f"http://localhost:{site.port}/")
    # Debian's Chromium, the one Playwright was pointed at (no downloaded browser).
    debian = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=True).stdout
    assert page.context.browser is not None
    assert page.context.browser.version in debian


def test_login_with_password_then_totp_reaches_the_workspace_and_is_audited(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    login(page, site, ida)
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["__Host-safecheck"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"
    rows = site.look(
        "SELECT detail FROM audit_log WHERE action = 'login' AND actor = ? ORDER BY id DESC LIMIT 1",
        (f"practitioner:{ida.practitioner_id}",),
    )
    assert rows == [("totp",)]


def test_a_wrong_totp_code_is_refused_with_one_line_and_no_session(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    sign_in_password(page, ida)
    expect(page).to_have_url(re.compile(r"/login/second$"))
    right = site.totp(ida)
    page.fill("#code", f"{(int(right) + 1) % 1_000_000:06d}")
    page.locator(SECOND).get_by_role("button", name="Sign in").click()
    expect(page.locator("#form-error")).to_have_text("That code is not right, or was used already.")
    assert not signed_in(page)  # still only half signed in


def test_a_recovery_code_signs_in_once_and_never_again(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    code = ida.recovery_codes[0]
    login(page, site, ida, code=code)
    page.context.clear_cookies()  # another day, another browser

    sign_in_password(page, ida)
    page.fill("#code", code)  # the same code again: used up
    page.locator(SECOND).get_by_role("button", name="Sign in").click()
    expect(page.locator("#form-error")).to_have_text("That code is not right, or was used already.")
    page.fill("#code", ida.recovery_codes[1])  # the next one works
    page.locator(SECOND).get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    assert signed_in(page)
    methods = site.look(
        "SELECT detail FROM audit_log WHERE action = 'login' AND actor = ? ORDER BY id",
        (f"practitioner:{ida.practitioner_id}",),
    )
    assert methods[-2:] == [("recovery_code",), ("recovery_code",)]


def _try_password(page: Page, login_name: str, password: str) -> tuple[int, str]:
    page.goto("/login")
    page.fill("#login", login_name)
    page.fill("#password", password)
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as posted:
        page.get_by_role("button", name="Continue").click()
    return posted.value.status, page.locator("#form-error").inner_text()


WAIT = re.compile(r"Too many attempts\. Wait (\d+) seconds?, then try again\.")


def _refused_for(page: Page, login_name: str, password: str) -> int:
    """Try a login that must be held back; return the seconds the page says to wait."""
    status, text = _try_password(page, login_name, password)
    found = WAIT.fullmatch(text)
    assert status == 429 and found, (status, text)
    return int(found.group(1))


def test_wrong_passwords_meet_growing_delays_and_an_unknown_login_looks_the_same(page: Page, site: Site) -> None:
    tess = site.person("tess", "idva")
    # After three free tries each failure makes the next wait longer (2, 4, 8 s); the right password
    # is held back too while a wait runs, but there is never a lockout. The page counts down in real
    # time, so each figure may be a few seconds under its delay on a busy machine.
    known = [_try_password(page, tess.login, "not the password at all") for _ in range(3)]
    waits = [_refused_for(page, tess.login, tess.password)]
    for delay in (2, 4):
        site.move_clock(timedelta(seconds=delay + 1))
        status, _ = _try_password(page, tess.login, "still not the password")
        assert status == 401
        waits.append(_refused_for(page, tess.login, tess.password))
    assert waits == sorted(waits) and len(set(waits)) == 3, waits
    assert 5 <= waits[-1] <= 8, waits

    # The same status and the same words whether or not the account exists, and held back the same way.
    unknown = [_try_password(page, "nobody@example.org", "not the password at all") for _ in range(3)]
    assert known == unknown
    assert {status for status, _ in known} == {401}
    assert len({text for _, text in known}) == 1
    assert _refused_for(page, "nobody@example.org", tess.password) in (1, 2)

    site.move_clock(timedelta(seconds=9))
    login(page, site, tess)  # the right password after the wait: in


def test_an_idle_session_ends_after_15_minutes_and_the_login_page_says_why(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    login(page, site, ida)
    site.move_clock(timedelta(minutes=14))
    page.goto("/")  # activity within the limit keeps the session
    assert signed_in(page)
    site.move_clock(timedelta(minutes=15, seconds=5))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?ended=idle$"))
    expect(page.get_by_role("status")).to_contain_text("signed out after a time without activity")
    assert not signed_in(page)


def test_a_session_ends_8_hours_after_login_however_active(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    login(page, site, ida)
    for _ in range(34):  # active every 14 minutes: never idle, but 7 h 56 min in
        site.move_clock(timedelta(minutes=14))
        active = page.request.get("/", max_redirects=0)  # any page: the session is touched
        assert active.status == 303 and "/login" not in active.headers["location"], active.headers
    assert signed_in(page)
    site.move_clock(timedelta(minutes=5))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?ended=absolute$"))
    expect(page.get_by_role("status")).to_contain_text("reached its time limit")
    assert not signed_in(page)


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    login(page, site, ida)
    sessions_before = site.look("SELECT id, ended_at FROM sessions ORDER BY id")
    # Sign out is a real change (it ends the session): post it without the form's token.
    refused = page.request.post("/logout", form={"nothing": "here"}, max_redirects=0)
    assert refused.status == 403
    assert "did not come from this site" in refused.text()
    forged = page.request.post("/logout", form={"_csrf": "forged-token"}, max_redirects=0)
    assert forged.status == 403
    assert site.look("SELECT id, ended_at FROM sessions ORDER BY id") == sessions_before
    assert signed_in(page)  # still signed in


def test_the_public_pages_have_no_serious_accessibility_violation(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    for width in (1280, 360):  # duty staff sign in on their phones too
        page.set_viewport_size({"width": width, "height": 800})
        page.goto("/login")
        axe_check(page)
        no_sideways_scroll(page)
        page.fill("#login", "nobody@example.org")
        page.fill("#password", "not the password")
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("#form-error")).to_be_visible()
        axe_check(page)  # the page with its error line
        sign_in_password(page, ida)
        expect(page).to_have_url(re.compile(r"/login/second$"))
        axe_check(page)
        no_sideways_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    invite = site.cli("invite", "--name", "Ann Axe", "--role", "idva").stdout
    link = re.search(r"(http://\S+/invite/\S+)", invite)
    assert link
    page.goto(link.group(1))
    axe_check(page)
    ada = site.person("ada", "admin")  # configuration alone: no queue, so the home page stays
    page.context.clear_cookies()
    login(page, site, ada)
    expect(page).to_have_url(f"{site.base}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Workspace")
    axe_check(page)


def test_the_page_warns_before_the_idle_limit_and_staying_signed_in_resets_it(page: Page, site: Site) -> None:
    ida = site.person("ida", "idva")
    page.clock.install()  # the page's own timers (session.js) run on a clock the test moves
    login(page, site, ida)
    page.goto("/account")
    warning = page.locator("#session-warning")
    expect(warning).to_be_hidden()
    page.clock.run_for("12:50")  # 15 minutes idle, less 2 minutes and 10 seconds: no warning yet
    expect(warning).to_be_hidden()
    page.clock.run_for("00:20")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("You will be signed out in 2 minutes without activity.")
    with page.expect_response(lambda r: r.url.endswith("/session") and r.request.method == "POST") as extended:
        warning.get_by_role("button", name="Stay signed in").click()
    assert extended.value.ok and extended.value.json()["signed_in"] is True
    expect(warning).to_be_hidden()
    page.clock.run_for("12:00")  # counted again from the click: without it the page would have left by now
    expect(warning).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/account$"))
    assert signed_in(page)
