"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a
real `safecheck serve` on a real SQLite file.

One serve and one browser for the whole session (starting them is most of the cost); every test gets
a fresh browser context (its own cookies), so tests do not share a login. The serve listens on
`localhost`, not 127.0.0.1: WebAuthn refuses an IP address as its relying party. Its clock is real
time plus the seconds in a file (`serve --clock-file`): tests move time by rewriting that file, and
every CLI process the tests run reads the same file, so all of them agree on the time.
(test_day.py starts a second serve with `open_site`, with SMS on: it says why.)

Accounts are made the way a real person's are: `safecheck invite` prints a link, the browser opens
it, sets a password and reads the TOTP key the page shows as text beside the QR code; pyotp is the
test's authenticator app.

Speed (the layer should take under a minute on two cores): starting a CLI process costs about a
second, so the set-up the tests are not about (invitations, enrolments, her onboarding) goes through
the same command functions in this process, on an App of our own over the same database file and
clock file ("backstage"). What a test is about goes the real way: the codeword through a
`safecheck simulate` process, the invitation link through `safecheck invite` in the public-pages
test. A person's signed-in cookies are kept for the session and put into each fresh context
(`sign_in`), checked live first; tests about signing in sign in for real (`login`).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bot import commands
from bot.app import App
from bot.bootstrap import open_app
from bot.config import load as load_settings
from bot.pipeline import InboundMessage, handle_inbound
from storage import services
from storage.db import Database
from tests.browser.axe_coverage import AXE_CHECKED, FITS_CHECKED, Look
from tests.fakes.telegram_world import free_port

COMMAND = [sys.executable, "-m", "bot.cli.main"]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
OTHER_SERVICE = "other"
EXIT_WORD = "pasta"
CODEWORD = "blue kettle"  # a second service in the same database, for the isolation tests
GUARD = "test_zz_axe_coverage.py"


@pytest.hookimpl(trylast=True)  # after any other plugin's reordering: the guard below must stay last
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last. Playwright's sync API keeps an event loop marked running in the main thread
    from its first use until the session ends, and pytest-asyncio cannot start a loop for a later test
    while it is ("Runner.run() cannot be called from a running event loop").

    Last of all, the axe coverage guard (test_zz_axe_coverage.py): it counts the pages every other browser
    test ran axe-core on, so it must run after all of them (it also checks that it did)."""
    here = Path(__file__).parent
    ours = [item for item in items if here in item.path.parents]
    guard = [item for item in ours if item.path.name == GUARD]
    ours = [item for item in ours if item.path.name != GUARD] + guard
    items[:] = [item for item in items if here not in item.path.parents] + ours


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, not a downloaded one (`--browser-channel` cannot reach it)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


T = TypeVar("T")


class Backstage:
    """An App of our own on serve's database and clock file, on an event loop in its own thread
    (Playwright's sync API keeps a loop running in the test thread). For set-up only."""

    def __init__(self, env: dict[str, str]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="backstage", daemon=True)
        self.thread.start()
        self.stack = AsyncExitStack()
        settings = load_settings(env=env)
        self.app: App = self.run(lambda: self.stack.enter_async_context(open_app(settings)))

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        return asyncio.run_coroutine_threadsafe(_call(work), self.loop).result(timeout=60)

    def close(self) -> None:
        self.run(self.stack.aclose)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


@dataclass
class Person:
    """A workspace account made through an invitation, and what its owner keeps."""

    key: str
    login: str
    practitioner_id: int
    totp_secret: str
    recovery_codes: list[str]
    service: str
    password: str = PASSWORD
    last_step: int = 0  # the last TOTP step used: serve accepts each step once, in order


@dataclass
class Site:
    """The running serve, its folder, clock file and the CLI beside it."""

    folder: Path
    port: int
    clock_file: Path
    proc: subprocess.Popen[bytes] | None = None
    offset: float = 0.0
    people: dict[str, Person] = field(default_factory=dict)
    browser: Browser | None = None
    backstage: Backstage | None = None
    cookies: dict[str, list[Any]] = field(default_factory=dict)  # each person's signed-in cookies
    addresses: dict[str, str] = field(default_factory=dict)  # case reference -> her simulator address
    settings: dict[str, str] = field(default_factory=dict)  # more environment for serve and the CLI (SMS)
    _cases: int = 0

    @property
    def base(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.folder / "safecheck.db"

    @property
    def log(self) -> Path:
        return self.folder / "serve.log"

    def environ(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SAFECHECK_")}
        return {
            **inherited,
            "SAFECHECK_DB": str(self.db_path),
            "SAFECHECK_HOST": "localhost",
            "SAFECHECK_PORT": str(self.port),
            "SAFECHECK_CLOCK_FILE": str(self.clock_file),
            **self.settings,
        }

    # --- the CLI and the clock ---------------------------------------------------------------

    def cli(self, *args: str, stdin: str = "", ok: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*COMMAND, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.environ(),
            timeout=120,
            cwd=self.folder,
        )
        if ok and proc.returncode != 0:
            raise AssertionError(f"safecheck {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    def now(self) -> datetime:
        """The time serve (and every CLI process) sees."""
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def move_clock(self, delta: timedelta) -> None:
        """Move the clock of serve and of the CLI forward (written whole, then renamed: never half read)."""
        self.offset += delta.total_seconds()
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(f"{self.offset:.3f}\n")
        tmp.replace(self.clock_file)

    def look(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the database serve writes, read-only (what the pages must or must not have changed)."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as db:
            return db.execute(sql, params).fetchall()

    def serve_log(self) -> str:
        return self.log.read_text()

    # --- people ------------------------------------------------------------------------------

    def totp(self, who: Person) -> str:
        """A code serve will accept now: each 30-second step once, in order (serve also takes the next
        step, for clock drift). If both were used, the clock moves on 30 s rather than the test waiting."""
        while True:
            step = int(self.now().timestamp() // 30)
            want = max(step, who.last_step + 1)
            if want <= step + 1:
                who.last_step = want
                return pyotp.TOTP(who.totp_secret).at(want * 30)
            self.move_clock(timedelta(seconds=30))

    def person(self, key: str, *roles: str, service: str = "default") -> Person:
        """An account (made once per session) holding `roles`: invited on the CLI, set up in the browser."""
        if key in self.people:
            return self.people[key]
        assert self.browser is not None
        token = self.invitation(key.title() + " Tester", roles, service)
        login = f"{key}@example.org"
        context = self.browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"{self.base}/invite/{token}")
            secret = page.locator("#totp-secret").inner_text().strip()
            page.fill("#login", login)
            page.fill("#password", PASSWORD)
            page.fill("#password_again", PASSWORD)
            made = Person(key, login, 0, secret, [], service)
            page.fill("#code", self.totp(made))
            page.get_by_role("button", name="Create my account").click()
            codes = page.locator("#recovery-codes li")
            expect(codes.first).to_be_visible()
            made.recovery_codes = [c.strip() for c in codes.all_inner_texts()]
        finally:
            context.close()
        [(pid,)] = self.look(
            "SELECT actor FROM audit_log WHERE action = 'invitation_accepted' ORDER BY id DESC LIMIT 1"
        )
        made.practitioner_id = int(str(pid).removeprefix("practitioner:"))
        self.people[key] = made
        return made

    # --- cases -------------------------------------------------------------------------------

    def staff(self) -> Backstage:
        assert self.backstage is not None
        return self.backstage

    def invitation(self, name: str, roles: tuple[str, ...], service: str = "default") -> str:
        """What `safecheck invite` does (commands.invite), without a process: the link's token."""
        app = self.staff().app

        async def invite() -> str:
            async with app.db.reading() as tx:
                svc = await commands.service_id(tx, service)
            return await commands.invite(app, svc, frozenset(roles), name)

        return self.staff().run(invite)

    def enrol(self, idva: Person, *, intake: str = "high", name: str | None = None) -> tuple[str, str, str]:
        """What `safecheck case enrol` does, on the simulator: (reference, activation code, her address)."""
        self._cases += 1
        address = f"+4477009{self._cases:05d}"
        app = self.staff().app

        async def enrol() -> tuple[str, str]:
            async with app.db.reading() as tx:
                svc = await commands.service_id(tx, idva.service)
            return await commands.enrol(
                app, svc, idva=idva.practitioner_id, channel="simulator", address=address, name=name, intake=intake
            )

        ref, code = self.staff().run(enrol)
        self.addresses[ref] = address
        return ref, code, address

    def onboarded_case(self, idva: Person, name: str | None = None) -> str:
        """A case whose survivor has activated it and chosen her words (through the real pipeline)."""
        ref, code, address = self.enrol(idva, name=name)
        app = self.staff().app

        async def onboard() -> None:
            async with app.db.reading() as tx:
                svc = await commands.service_id(tx, idva.service)
            words = {"exit_word": EXIT_WORD, "codeword": CODEWORD, "pin": "", "duress_pin": ""}
            await commands.set_secrets(app, svc, ref, words)  # in person, as the workspace's screen does
            for text in (code, "YES", "1", "1"):
                said = InboundMessage("simulator", address, text, f"onboard-{uuid.uuid4().hex}")
                await handle_inbound(app.core, said)

        self.staff().run(onboard)
        [(status,)] = self.look("SELECT status FROM cases WHERE ref = ?", (ref,))
        assert status == "active", status
        return ref

    def codeword(self, ref: str, service: str = "default", *, process: bool = False) -> int:
        """She sends her codeword over the simulator: an urgent alert; returns its id. With `process`, through
        a `safecheck simulate` process beside serve (as a rehearsal would); otherwise through the same
        pipeline on the backstage App (set-up for tests about something else: a process costs a second)."""
        [(before,)] = self.look("SELECT coalesce(max(id), 0) FROM alerts")
        if process:
            out = self.simulate(ref, [CODEWORD], service)
            assert '"reason": "codeword"' in out, out
        else:
            address = self.addresses[ref]
            app = self.staff().app

            async def say() -> None:
                said = InboundMessage("simulator", address, CODEWORD, f"codeword-{uuid.uuid4().hex}")
                await handle_inbound(app.core, said)

            self.staff().run(say)
        [(alert_id,)] = self.look(
            "SELECT a.id FROM alerts a JOIN cases c ON c.id = a.case_id"
            " WHERE c.ref = ? AND a.reason = 'codeword' ORDER BY a.id DESC LIMIT 1",
            (ref,),
        )
        assert alert_id > before, "no new alert"
        return int(alert_id)

    def simulate(self, ref: str, lines: list[str], service: str = "default") -> str:
        """Her messages over the simulator, through the real pipeline (a CLI process beside serve)."""
        stdin = "".join(f"{line}\n" for line in lines)
        return self.cli("--service", service, "simulate", "--case", ref, "--json", stdin=stdin).stdout


def _add_service(db_path: Path, slug: str) -> None:
    """A second service in the same database (`init` makes only the first)."""

    async def create() -> None:
        db = await Database.open(db_path)
        try:
            async with db.transaction() as tx:
                await services.create(tx, slug, f"Service {slug}", datetime.now(UTC))
                await tx.commit()
        finally:
            await db.close()

    # Playwright's sync API keeps an event loop running in this thread: run ours in another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, create()).result()


def open_site(
    folder: Path,
    browser: Browser,
    more_services: tuple[str, ...] = (),
    port: int | None = None,
    settings: dict[str, str] | None = None,
) -> Site:
    """`safecheck init` (and `more_services`), then a `serve` on its clock file once it has started, then the
    backstage App. `settings`: more environment for serve and the CLI."""
    clock_file = folder / "clock"
    clock_file.write_text("0\n")
    found = Site(folder, port or free_port(), clock_file, browser=browser, settings=dict(settings or {}))
    found.cli("init", "--service-name", "Browser test service")
    for slug in more_services:
        _add_service(found.db_path, slug)
    with found.log.open("w") as err:
        found.proc = subprocess.Popen(
            [*COMMAND, "serve", "--clock-file", str(clock_file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=found.environ(),
            cwd=folder,
        )
    deadline = time.monotonic() + 60
    while "started;" not in found.serve_log():
        if found.proc.poll() is not None or time.monotonic() > deadline:
            found.proc.kill()
            raise AssertionError(f"serve did not start: {found.serve_log()}")
        time.sleep(0.05)
    found.backstage = Backstage(found.environ())
    return found


def close_site(found: Site) -> None:
    """Stop serve; a page that crashed is a failure even if its test passed."""
    assert found.proc is not None and found.backstage is not None
    try:
        found.backstage.close()
    finally:
        found.proc.send_signal(signal.SIGTERM)
        try:
            found.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            found.proc.kill()
            found.proc.wait()
    log = found.serve_log()
    assert "Traceback" not in log, log


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("serve")
    found = open_site(folder, browser, (OTHER_SERVICE,))
    try:
        yield found
    finally:
        close_site(found)


@pytest.fixture(scope="session")
def base_url(site: Site) -> str:
    """pytest-playwright's contexts resolve page.goto("/login") against the serve."""
    return site.base


@pytest.fixture(autouse=True)
def _short_waits(context: BrowserContext) -> None:
    """A page that never shows what a test waits for fails in 10 s, not Playwright's 30."""
    context.set_default_timeout(10_000)


# --- helpers the tests share ---------------------------------------------------------------------


def sign_in_password(page: Page, who: Person, password: str | None = None) -> None:
    page.goto("/login")
    page.fill("#login", who.login)
    page.fill("#password", password or who.password)
    page.get_by_role("button", name="Continue").click()


def login(page: Page, site: Site, who: Person, code: str | None = None) -> None:
    """Sign in fully (password, then a TOTP code, or the code given) and check that it worked."""
    sign_in_password(page, who)
    expect(page).to_have_url(re.compile(r"/login/second$"))
    page.fill("#code", code or site.totp(who))
    page.locator("form[action='/login/second']").get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    assert signed_in(page), page.url


def sign_in(page: Page, site: Site, who: Person) -> None:
    """Be signed in as `who` in this fresh context: their session from earlier if it still lives, else a
    real login (for tests about something else than signing in)."""
    kept = site.cookies.get(who.key)
    if kept:
        page.context.add_cookies(kept)
        if signed_in(page):
            return
        page.context.clear_cookies()
    login(page, site, who)
    site.cookies[who.key] = page.context.cookies()


def signed_in(page: Page) -> bool:
    """Whether this browser holds a live, full session (asking is not activity: it moves no limit)."""
    status = page.request.get("/session", max_redirects=0)
    if status.status == 303:  # sent to /login or /login/second
        return False
    assert status.status == 200, status.status
    return bool(status.json()["signed_in"])


BLOCKING = ("serious", "critical")


def axe_check(page: Page) -> None:
    """Fail on any serious or critical axe-core violation on the page as it is now, listing them all."""
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
    lines = [
        f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(str(n['target']) for n in v['nodes'][:5])}" for v in bad
    ]
    assert not bad, f"axe-core on {page.url}:\n" + "\n".join(lines)
    AXE_CHECKED.append(Look(page.url, _width(page)))


def no_sideways_scroll(page: Page) -> None:
    """Usable on a phone: nothing wider than the screen makes the page scroll sideways."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, (page.url, _width(page), overflow)
    FITS_CHECKED.append(Look(page.url, _width(page)))


def _width(page: Page) -> int:
    return (page.viewport_size or {"width": 0})["width"]
