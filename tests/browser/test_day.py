"""An IDVA's day in real Chromium (the issue's "done when"): she signs in with a password and a TOTP code;
a codeword alert arrives in her open queue without a reload; she acknowledges and resolves it; she reads
the case's timeline and adds a note; she enrols a survivor on SMS, whose exit word, codeword and PINs are
set on the IDVA's device; then those secrets work over SMS, through the fake Twilio.

This needs a serve with SMS on, and SMS insists on an https:// SAFECHECK_PUBLIC_URL, which serve also
takes as the workspace's origin (its passkey relying party and the links it prints). The session's serve
is browsed at http://localhost, so SMS on it would break the passkey and invitation tests: this test has
a serve of its own (same conftest helpers), with SMS on and the fake Twilio signing its webhooks over
https://localhost:PORT and delivering them to http://localhost:PORT.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Person, Site, axe_check, close_site, login, open_site
from tests.fakes.telegram_world import free_port
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN
from tests.fakes.twilio_thread import ThreadedTwilio

pytestmark = pytest.mark.browser

OUR_NUMBER = "+447700900000"
SURVIVOR = "+447700900777"
SECRETS = {"exit_word": "Mango", "codeword": "Red Kite", "pin": "2468", "duress_pin": "1357"}
NOTE = "Called her back at 10:40: safe, staying with her sister tonight."
CASE_NOTE = "Agreed a safety plan review on Friday."


@pytest.fixture(scope="module")
def twilio() -> Iterator[ThreadedTwilio]:
    fake = ThreadedTwilio()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture(scope="module")
def sms_site(tmp_path_factory: pytest.TempPathFactory, browser: Browser, twilio: ThreadedTwilio) -> Iterator[Site]:
    port = free_port()
    public = f"https://localhost:{port}"
    twilio.fake.proxy[public] = f"http://localhost:{port}"
    settings = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": OUR_NUMBER,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "TWILIO_RATE": "1000",  # pacing has its own tests; here it would only slow the replies down
        "SAFECHECK_PUBLIC_URL": public,
    }
    found = open_site(tmp_path_factory.mktemp("serve-sms"), browser, port=port, settings=settings)
    try:
        yield found
    finally:
        close_site(found)


@pytest.fixture(autouse=True)
def _short_waits() -> None:
    """(Overrides conftest's, which would start the session's serve: this test browses its own.)"""


def test_an_idva_does_a_days_work_in_the_browser_and_the_secrets_she_set_in_person_work_over_sms(
    browser: Browser, sms_site: Site, twilio: ThreadedTwilio
) -> None:
    site = sms_site
    ivy = site.person("ivy", "idva")
    ref = site.onboarded_case(ivy)
    context = browser.new_context(base_url=site.base)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        _day(page, site, twilio, ivy, ref)
    finally:
        context.close()


def _day(page: Page, site: Site, twilio: ThreadedTwilio, ivy: Person, ref: str) -> None:
    # 1. She signs in with her password, then a TOTP code (login checks each step), and lands on her alerts.
    login(page, site, ivy)
    expect(page).to_have_url(re.compile(r"/alerts$"))

    # 2. A codeword alert for one of her cases (a `safecheck simulate` process) appears without a reload.
    item = page.locator(f'#alert-list li[data-case-ref="{ref}"]')
    expect(item).to_have_count(0)
    _watch_for_reloads(page)
    alert_id = site.codeword(ref, process=True)
    expect(item).to_be_visible(timeout=15_000)
    expect(item).to_contain_text("URGENT")
    expect(item).to_contain_text(": codeword")
    _assert_not_reloaded(page)

    # 3. She acknowledges it in one click, then resolves it with an outcome and a note.
    item.get_by_role("button", name=re.compile("Acknowledge")).click()
    expect(item.get_by_role("button", name=re.compile("Acknowledge"))).to_have_count(0)
    item.get_by_role("link", name=re.compile("Resolve")).click()
    expect(page).to_have_url(re.compile(rf"/alerts/{alert_id}$"))
    page.get_by_label("Spoke to her: safe").check()
    page.get_by_label(re.compile("^Note")).fill(NOTE)
    page.get_by_role("button", name="Resolve alert").click()
    expect(page.locator("#resolution")).to_contain_text("Spoke to her: safe")
    expect(page.locator("#resolution")).to_contain_text(NOTE)
    [(acked_by, resolved_by, outcome)] = site.look(
        "SELECT acknowledged_by, resolved_by, outcome FROM alerts WHERE id = ?", (alert_id,)
    )
    assert (acked_by, resolved_by, outcome) == (ivy.practitioner_id, ivy.practitioner_id, "safe")

    # 4. She opens the case: its timeline holds the alert and what she did about it; her note joins it.
    page.get_by_role("link", name=f"Open case {ref}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {ref}")
    timeline = page.locator("ol.timeline")
    alert_event = timeline.locator("li.event-alert").filter(has_text="codeword")
    expect(alert_event).to_contain_text("Acknowledged by Ivy Tester")
    expect(alert_event).to_contain_text("Resolved by Ivy Tester")
    expect(alert_event).to_contain_text("Spoke to her: safe")
    expect(alert_event).to_contain_text(NOTE)
    expect(timeline.locator("li.event-note")).to_have_count(0)
    page.get_by_label("Note", exact=True).fill(CASE_NOTE)
    page.get_by_role("button", name="Save note").click()
    note_event = page.locator("ol.timeline li.event-note")
    expect(note_event).to_have_count(1)
    expect(note_event).to_contain_text("Ivy Tester")
    expect(note_event).to_contain_text(CASE_NOTE)

    # 5. She enrols a survivor on SMS: the activation code once, then the survivor's own screen.
    _nav(page, "New case")
    page.get_by_label("How she gets her messages").select_option("sms")
    page.get_by_label("Her mobile number").fill(SURVIVOR)
    page.get_by_label("DASH risk level at intake").select_option("high")
    page.get_by_label(re.compile("^For direct questions: I have explained")).check()
    page.get_by_role("button", name="Create the case").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Case C-\w+ created$"))
    new_ref = heading.inner_text().split()[1]
    code = page.locator("#activation-code").inner_text().strip()
    assert code
    expect(page.get_by_role("status")).to_contain_text("the only time the activation code is shown")
    page.get_by_role("link", name="Hand her the device to choose them").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your words")
    for name, value in SECRETS.items():
        page.locator(f"#{name}").fill(value)
        page.locator(f"#{name}_again").fill(value)
    page.get_by_label("One week").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, your words are saved")
    axe_check(page)  # what she sees before handing the device back
    page.get_by_role("link", name="Adviser: back to the case").click()
    expect(page.locator("main")).to_contain_text("set in person on")
    assert code not in page.content()  # shown once, on the page that made it
    [(in_person, codeword_hash)] = site.look(
        "SELECT secrets_set_in_person_at, codeword_hash FROM cases WHERE ref = ?", (new_ref,)
    )
    assert in_person is not None and codeword_hash is not None

    # 6. Over SMS, through the fake Twilio: set-up never asks for a word or a PIN...
    inbound = site.settings["SAFECHECK_PUBLIC_URL"] + "/sms/inbound"

    def say(text: str) -> str:
        before = len(twilio.to(SURVIVOR))
        assert twilio.text_in(inbound, SURVIVOR, OUR_NUMBER, text) == 200
        return twilio.wait_for(SURVIVOR, before + 1, f"a reply to {text!r}")[-1].body

    assert "Thanks for setting this up." in say(code)
    assert "When is it usually OK to message you?" in say("YES")
    assert "If you miss check-ins, may we let your contact know?" in say("1 2 3")
    assert "All set." in say("1")
    thread = " ".join(m.body for m in twilio.to(SURVIVOR))
    for asked in ("Choose a word", "After you use that word", "Choose a second word", "PIN"):
        assert asked not in thread, asked
    [(status,)] = site.look("SELECT status FROM cases WHERE ref = ?", (new_ref,))
    assert status == "active"

    # ...her codeword, inside an ordinary text, raises an urgent alert that appears in the queue live...
    _nav(page, "Alerts")
    new_items = page.locator(f'#alert-list li[data-case-ref="{new_ref}"]')
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    expect(new_items).to_have_count(0)
    _watch_for_reloads(page)
    assert twilio.text_in(inbound, SURVIVOR, OUR_NUMBER, "the red kite is broken again") == 200
    codeword_item = new_items.filter(has_text=": codeword")
    expect(codeword_item).to_be_visible(timeout=15_000)
    expect(codeword_item).to_contain_text("URGENT")

    # ...and her exit word stops messages: nothing more said or queued for her, her check-ins cancelled.
    [(planned,)] = site.look(
        "SELECT count(*) FROM timers t JOIN cases c ON c.id = t.case_id"
        " WHERE c.ref = ? AND t.kind = 'checkin' AND t.done_at IS NULL",
        (new_ref,),
    )
    assert planned == 1  # her next check-in, until...
    last_to_her = _last_outbox_row(site, new_ref)
    # serve answers Twilio only once the text and all it causes are committed: no waiting needed below.
    assert twilio.text_in(inbound, SURVIVOR, OUR_NUMBER, "MANGO") == 200
    assert _last_outbox_row(site, new_ref) == last_to_her, "a text to her was queued after her exit word"
    pending = site.look(
        "SELECT o.id FROM outbox o JOIN cases c ON c.id = o.case_id"
        " WHERE c.ref = ? AND o.recipient = 'survivor' AND o.status = 'pending'",
        (new_ref,),
    )
    assert pending == []
    timers_left = site.look(
        "SELECT t.kind FROM timers t JOIN cases c ON c.id = t.case_id"
        " WHERE c.ref = ? AND t.done_at IS NULL AND t.kind != 'escalate'",  # (her alerts' ladders go on)
        (new_ref,),
    )
    assert timers_left == [("resume",)]  # no check-in or reminder: only the end of the week's pause she chose
    expect(new_items.filter(has_text="quick exit used")).to_be_visible(timeout=15_000)  # her IDVA is told
    _assert_not_reloaded(page)
    axe_check(page)  # the queue with both of her alerts in it
    page.goto(f"/cases/{new_ref}")
    expect(page.locator("main")).to_contain_text("paused — until")


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name=name, exact=True).click()


def _last_outbox_row(site: Site, ref: str) -> int:
    [(last,)] = site.look(
        "SELECT coalesce(max(o.id), 0) FROM outbox o JOIN cases c ON c.id = o.case_id"
        " WHERE c.ref = ? AND o.recipient = 'survivor'",
        (ref,),
    )
    return int(last)


def _watch_for_reloads(page: Page) -> None:
    page.evaluate("window.safecheckSamePage = true")  # gone if the page is reloaded or left


def _assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.safecheckSamePage") is True, "the page was reloaded or left"
