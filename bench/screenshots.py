"""Screenshots of the workspace's main pages for docs/workspace.md, so the pictures stay current.

    .venv/bin/python -m bench.screenshots            # writes docs/img/*.png

Builds a small made-up service in a temporary folder (nothing real: the names are invented and the
numbers are Ofcom's drama range), then drives Debian's Chromium (/usr/bin/chromium, through
Playwright, as the browser tests do) against a real `safecheck serve` on localhost:
- `safecheck init`, then an IDVA and a manager with workspace accounts (storage functions);
- twelve survivors enrolled, activated and onboarded through the real pipeline, and two weeks of daily
  check-ins with answers that vary, so the caseload's sparklines and the case's chart have a shape;
- on the last day one survivor puts her codeword in a message (an open urgent alert) and an earlier
  alert is acknowledged;
- a Drive team (bench/screenshot_partners.py) whose case manager is linked to the first survivor with
  her consent: the pipeline shares her risk rises with him, and he acknowledges all but the last day's;
- serve starts with its clock just after that, and the browser signs in (password, then TOTP) as the
  IDVA, then as the manager, and saves the top of each page at 1280 x 900 (the queue also at 360 px);
  the IDVA records a DASH on its page first, and a section of a long page (the case's partner agencies,
  part of the Marac referral) is cut out whole;
- last, the manager invites the case manager from Manage → Partners, he sets up his account from the
  one-time link, signs in and his own Shares pages are saved.

About 15 seconds on 2 shared cores.

A page that does not exist yet (404) is reported and skipped. Run it after a change to a page's look.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
from playwright.sync_api import Page, sync_playwright

from bench.screenshot_partners import acknowledge_today, drive_team
from bot import commands
from bot.alerting import acknowledge
from bot.app import App
from bot.bootstrap import open_app
from bot.clock import FixedClock
from bot.commands import case_mode
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.pipeline import InboundMessage, handle_inbound
from bot.scheduler import TimerRunner
from bot.web.passwords import hash_password, new_totp_secret
from storage import accounts, practitioners
from storage.db import Tx
from tests.fakes.telegram_world import free_port

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
START = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
DAYS = 14
NAMES = (
    "Amara Osei",
    "Beth Lloyd",
    "Chloe Price",
    "Dana Novak",
    "Ella Hughes",
    "Fatima Rahman",
    "Grace Evans",
    "Hana Kowalska",
    "Iris Morgan",
    "Jodie Walsh",
    "Kira Patel",
    "Lena Fischer",
)
INTAKE = ("high", "medium", "standard")
COLOURS = ("blue", "green", "amber", "violet", "silver", "copper")
THINGS = ("kettle", "teapot", "lantern")
# One check-in's answers: talk now, safe now, afraid, contact, incident, call back, free text.
CALM = ("1", "1", "1", "1", "1", "1", "1", "1", "SKIP")  # two rotating DASH questions before the call back
WORRIED = ("1", "1", "2", "2", "1", "1", "1", "1", "SKIP")
# The DASH her IDVA records for the first survivor (items ticked yes): 15 ticks, high risk, so a Marac case.
DASH_TICKS = frozenset({2, 3, 4, 5, 6, 8, 10, 11, 12, 14, 16, 21, 22, 23, 24})
AFRAID = ("1", "3", "3", "2", "1", "1", "1", "2", "he has been outside the house twice this week")


@dataclass(frozen=True)
class Person:
    login: str
    secret: str


@dataclass(frozen=True)
class Seeded:
    ida: Person
    meg: Person
    case_ref: str
    alert_id: int
    partner_person: int  # the Drive case manager's practitioner id
    open_share: int  # a risk rise shared with him that he has not acknowledged yet
    serve_from: datetime


def answers(case: int, day: int) -> tuple[str, ...]:
    """A made-up course: most calm; one survivor more afraid in the second week, one worried now and then."""
    if case == 0 and day >= DAYS // 2:
        return AFRAID if day % 2 else WORRIED
    if case == 1 and day % 4 == 1:
        return WORRIED
    return CALM


def codeword(i: int) -> str:
    return f"{COLOURS[i % len(COLOURS)]} {THINGS[i // len(COLOURS)]}"


async def say(app: App, address: str, text: str) -> None:
    await handle_inbound(app.core, InboundMessage("simulator", address, text, f"shot-{time.monotonic_ns()}"))


async def seed(settings: Settings) -> Seeded:
    clock = FixedClock(START)
    async with open_app(settings, clock=clock, seed=7) as app:
        async with app.db.reading() as tx:
            svc = await commands.service_id(tx, None)
        people: dict[str, tuple[int, Person]] = {}
        for login, name, role in (("ida", "Ida Adeyemi", "idva"), ("meg", "Meg Okafor", "manager")):
            secret = new_totp_secret()
            hashed = await hash_password(PASSWORD)

            async def make(
                tx: Tx,
                name: str = name,
                role: str = role,
                login: str = login,
                hashed: str = hashed,
                secret: str = secret,
            ) -> int:
                inbox = [practitioners.ChannelAddress("inbox", None)]
                pid = await practitioners.add(tx, app.crypto, svc, role, name, inbox, clock.now())
                await accounts.set_roles(tx, pid, frozenset({role}))
                await accounts.create_account(tx, app.crypto, pid, f"{login}@example.org", hashed, secret, clock.now())
                await tx.commit()
                return pid

            pid = await app.db.run(make)
            people[login] = (pid, Person(f"{login}@example.org", secret))
        ida_id = people["ida"][0]
        cases: list[tuple[str, str]] = []
        for i, name in enumerate(NAMES):
            address = f"+4477009{i:05d}"  # Ofcom's drama range: never a real phone
            ref, code = await commands.enrol(
                app, svc, idva=ida_id, channel="simulator", address=address, name=name, intake=INTAKE[i % 3]
            )
            if i == 0:  # the case the screenshots open: cover questions, so the card shows her key
                await case_mode.set_mode(app, svc, ref, "cover", "salon", actor="bench")
            words = {"exit_word": "pasta", "codeword": codeword(i), "pin": "", "duress_pin": ""}
            await commands.set_secrets(app, svc, ref, words, actor="bench")
            for text in (code, "YES", "1 2 3", "1"):
                await say(app, address, text)
            await commands.set_schedule(app, svc, ref, "daily@10:00")
            cases.append((ref, address))
        carl = await drive_team(app, svc, cases[0][0])  # linked before her check-ins: her risk rises get shared
        runner, dispatcher = TimerRunner(app.core), Dispatcher(app)
        first_alert = None
        for day in range(DAYS):
            clock.set(START.replace(hour=10) + timedelta(days=day))
            await runner.run_due()
            for i, (_, address) in enumerate(cases):
                if day == 3 and i == 4:
                    await say(app, address, codeword(4))  # an alert that will have been dealt with
                    continue
                for text in answers(i, day):
                    await say(app, address, text)
            await dispatcher.drain()
            if day == 3:
                async with app.db.reading() as tx:
                    first_alert = await tx.scalar("SELECT max(id) FROM alerts")
            if day == 4 and first_alert is not None:

                async def ack(tx: Tx, alert_id: int = int(first_alert)) -> None:
                    await acknowledge(tx, alert_id, ida_id, clock.now())
                    await tx.commit()

                await app.db.run(ack)
            if day < DAYS - 1:  # the last day's share stays open
                await acknowledge_today(app, clock, runner, carl)
        clock.advance(timedelta(minutes=20))
        ref, address = cases[0]
        await say(app, address, f"{codeword(0)} please")  # the open urgent alert at the top of the queue
        await dispatcher.drain()
        async with app.db.reading() as tx:
            alert = await tx.scalar("SELECT max(id) FROM alerts")
            share = await tx.scalar(
                "SELECT max(id) FROM shares WHERE acknowledged_at IS NULL AND kind = 'risk_changes'"
            )
        serve_from = clock.now() + timedelta(minutes=2)
        return Seeded(people["ida"][1], people["meg"][1], ref, int(alert), carl, int(share), serve_from)


class Shooter:
    def __init__(self, page: Page, base: str, started: float, serve_from: datetime) -> None:
        self.page, self.base, self.started, self.serve_from = page, base, started, serve_from
        self.saved: list[str] = []
        self.skipped: list[str] = []
        self.steps: dict[str, int] = {}  # each person's last TOTP step used

    def serve_now(self) -> float:
        return self.serve_from.timestamp() + (time.monotonic() - self.started)

    def sign_in(self, who: Person) -> None:
        self.page.context.clear_cookies()
        self.page.goto(self.base + "/login")
        self.page.fill("#login", who.login)
        self.page.fill("#password", PASSWORD)
        self.page.get_by_role("button", name="Continue").click()
        self.page.wait_for_url(re.compile(r"/login/second$"))
        self.page.fill("#code", self.code(who))
        self.page.locator("form[action='/login/second']").get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(re.compile(r"^(?!.*/login)"))

    def enrol(self, address: str) -> str | None:
        """Fill in the new-case form and save the page that shows the activation code once; its case ref."""
        self.page.set_viewport_size({"width": 1280, "height": 900})
        response = self.page.goto(self.base + "/cases/new")
        if response is None or response.status != 200:
            return None
        self.page.get_by_label("How she gets her messages").select_option("simulator")
        self.page.get_by_label("Her mobile number").fill(address)
        self.page.get_by_label("DASH risk level at intake").select_option("high")
        self.page.get_by_label(re.compile("^For direct questions: I have explained")).check()
        self.page.get_by_role("button", name="Create the case").click()
        self.page.wait_for_selector("#activation-code")
        self.page.screenshot(path=OUT / "enrolment-done.png")
        self.saved.append("enrolment-done")
        found = re.search(r"C-\w+", self.page.get_by_role("heading", level=1).inner_text())
        return found.group(0) if found else None

    def code(self, who: Person) -> str:
        """A TOTP code serve takes now: each 30-second step once (serve also takes the next step)."""
        step = max(int(self.serve_now() // 30), self.steps.get(who.login, -1) + 1)
        self.steps[who.login] = step
        return pyotp.TOTP(who.secret).at(step * 30)

    def section(self, name: str, path: str, first: str, last: str, width: int = 1280) -> None:
        """From the element `first` to the end of `last` on the page (the page has no one element for a
        section), across the main column, however far down it is."""
        self.page.set_viewport_size({"width": width, "height": 900})
        response = self.page.goto(self.base + path)
        if response is None or response.status != 200:
            self.skipped.append(f"{name} ({path}: {response.status if response else 'no answer'})")
            return
        top, bottom, main = (self.page.locator(s).first.bounding_box() for s in (first, last, "main"))
        assert top is not None and bottom is not None and main is not None, f"{name}: {first} to {last} not shown"
        y, x = top["y"] - 12, main["x"]
        clip = {"x": x, "y": y, "width": main["width"], "height": bottom["y"] + bottom["height"] + 6 - y}
        self.page.screenshot(path=OUT / f"{name}.png", clip=clip, full_page=True)  # type: ignore[arg-type]
        self.saved.append(name)

    def record_dash(self, ref: str, ticked: frozenset[int]) -> None:
        """Answer the DASH on its page: yes to `ticked`, not known to question 20, no to the rest."""
        self.page.goto(f"{self.base}/cases/{ref}/dash")
        for n in range(1, 25):
            answer = "yes" if n in ticked else "not_known" if n == 20 else "no"
            self.page.check(f"#q{n}-{answer}")
        self.page.get_by_role("button", name="Record the DASH").click()
        self.page.wait_for_url(re.compile(rf"/cases/{ref}\?done=dash"))

    def invite(self, person_id: int, login: str) -> Person:
        """As a manager on Manage → Partners: invite the partner's person; then, as them, open the one-time
        link, choose a password and set up the authenticator. Their account."""
        self.page.goto(self.base + "/manage/partners")
        self.page.locator(f"#invite-person-{person_id}").click()
        link = self.page.locator("#invitation-link").inner_text().strip()
        self.page.context.clear_cookies()
        self.page.goto(self.base + "/invite/" + link.rsplit("/invite/", 1)[1])
        who = Person(login, self.page.locator("#totp-secret").inner_text().strip())
        self.page.fill("#login", login)
        self.page.fill("#password", PASSWORD)
        self.page.fill("#password_again", PASSWORD)
        self.page.fill("#code", self.code(who))
        self.page.get_by_role("button", name="Create my account").click()
        self.page.wait_for_selector("#recovery-codes li")
        return who

    def shot(self, name: str, path: str, width: int = 1280, height: int = 900) -> None:
        """The top of the page, as a screen shows it (a whole long page would be too small to read)."""
        self.page.set_viewport_size({"width": width, "height": height})
        response = self.page.goto(self.base + path)
        if response is None or response.status != 200:
            self.skipped.append(f"{name} ({path}: {response.status if response else 'no answer'})")
            return
        self.page.screenshot(path=OUT / f"{name}.png")
        self.saved.append(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        folder = Path(tmp)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAFECHECK_")}
        env.update(SAFECHECK_DB=str(folder / "safecheck.db"), SAFECHECK_HOST="localhost", SAFECHECK_PORT=str(port))
        cli = [sys.executable, "-m", "bot.cli.main"]
        subprocess.run(
            [*cli, "init", "--service-name", "Northshire IDVA service"],
            env=env,
            check=True,
            capture_output=True,
            cwd=folder,
        )
        settings = Settings(db_path=folder / "safecheck.db", key_file=folder / "safecheck.key")
        seeded = asyncio.run(seed(settings))
        log = folder / "serve.log"
        with log.open("w") as err:
            proc = subprocess.Popen(
                [*cli, "--now", seeded.serve_from.isoformat(), "serve"],
                env=env,
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        started = time.monotonic()
        try:
            while "started;" not in log.read_text():
                if proc.poll() is not None:
                    raise SystemExit(f"serve did not start: {log.read_text()}")
                time.sleep(0.1)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM)
                page = browser.new_context(device_scale_factor=1).new_page()
                shoot = Shooter(page, f"http://localhost:{port}", started, seeded.serve_from)
                shoot.shot("login", "/login")
                shoot.sign_in(seeded.ida)
                shoot.shot("alerts", "/alerts")
                shoot.shot("alerts-phone", "/alerts", width=360, height=780)
                shoot.shot("alert", f"/alerts/{seeded.alert_id}")
                shoot.shot("caseload", "/cases")
                shoot.shot("dash", f"/cases/{seeded.case_ref}/dash")
                shoot.record_dash(seeded.case_ref, DASH_TICKS)  # before the case page: it shows the criteria met
                shoot.shot("case", f"/cases/{seeded.case_ref}")
                shoot.shot("enrolment", "/cases/new")
                new_ref = shoot.enrol("+447700900555")
                if new_ref:
                    shoot.shot("secrets", f"/cases/{new_ref}/secrets", width=360, height=780)
                shoot.shot("safety-card", f"/cases/{seeded.case_ref}/card")
                shoot.shot("account", "/account")
                shoot.section("case-partners", f"/cases/{seeded.case_ref}", "#partners", "#shares")
                shoot.shot("marac", f"/cases/{seeded.case_ref}/marac")
                marac = f"/cases/{seeded.case_ref}/marac"
                shoot.section("marac-history", marac, "#referral-incidents", "#referral-partners + ul")
                shoot.sign_in(seeded.meg)
                shoot.shot("manage", "/manage")
                shoot.shot("manage-practitioners", "/manage/practitioners")
                shoot.shot("manage-rota", "/manage/rota")
                shoot.shot("manage-service", "/manage/service")
                shoot.shot("manage-signposting", "/manage/service/signposting")
                shoot.shot("manage-partners", "/manage/partners")
                shoot.shot("manage-shares", "/manage/shares")
                shoot.shot("audit", "/audit")
                carl = shoot.invite(seeded.partner_person, "carl@drive.example.org")
                shoot.sign_in(carl)
                shoot.shot("partner-shares", "/shares")
                shoot.shot("partner-share", f"/shares/S-{seeded.open_share}")
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"saved {len(shoot.saved)} screenshot(s) in {OUT.relative_to(ROOT)}: {', '.join(shoot.saved)}")
    if shoot.skipped:
        print(f"skipped (no such page yet): {'; '.join(shoot.skipped)}")


if __name__ == "__main__":
    main()
