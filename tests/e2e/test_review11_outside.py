"""Outside review of issue 11: the workspace probed as an independent tester would, over real HTTP
against a real `safecheck serve` (its own process, its clock moved through `--clock-file`, logging at
DEBUG). Accounts are made through their invitation links and signed in with TOTP codes (pyotp as the
authenticator app); nothing reaches into serve's process.

Set-up the tests are not about (invitations, enrolments, her onboarding, a codeword alert) goes through
the same command functions on an App of our own over the same database and clock file, as
tests/browser/conftest.py does: each CLI process costs about a second.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyotp
import pytest

from bot import commands
from bot.bootstrap import open_app
from bot.config import load as load_settings
from bot.pipeline import InboundMessage, handle_inbound
from safety.sharing import Agreement, Basis, Kind
from storage import accounts, partners, practitioners, rota, services
from storage.cases import by_ref
from storage.db import Tx
from storage.practitioners import ChannelAddress
from tests.fakes.telegram_world import free_port
from tests.webtools import OFFER

pytestmark = pytest.mark.e2e

COMMAND = [sys.executable, "-m", "bot.cli.main"]
PASSWORD = "correct horse battery staple"
EXIT_WORD = "pasta"
CODEWORD = "blue kettle"
HER_NAME = "Zelphine Quarrowby"  # distinctive: found in a log only if it leaked there
NOTE_TEXT = "Xanthorrhoea note: she moved to her sister's flat"


# --- the running serve, and a plain HTTP client ---------------------------------------------------


def _offer_of(page: str) -> str:
    """The keyed hash an invitation page binds its TOTP key with (the form's hidden `offer`)."""
    found = OFFER.search(page)
    assert found, page[:500]
    return found.group(1)


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[-1] if found else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Browser:
    """Cookies kept the way a browser keeps them (host-only, by name), sent on every request."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    origin: str | None = None  # sent as Origin on unsafe requests when set

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        conn = http.client.HTTPConnection("localhost", self.port, timeout=30)
        sent = dict(headers or {})
        if self.cookies:
            sent.setdefault("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if self.origin and method not in ("GET", "HEAD"):
            sent.setdefault("Origin", self.origin)
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            reply = Reply(raw.status, raw.getheaders(), raw.read())
        finally:
            conn.close()
        for line in reply.all("Set-Cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, fields: dict[str, str] | None = None, csrf: str | None = "page") -> Reply:
        """A form post; `csrf="page"` takes the token from the last page this browser was shown."""
        data = dict(fields or {})
        if csrf == "page":
            data["_csrf"] = self.csrf
        elif csrf is not None:
            data["_csrf"] = csrf
        body = urlencode(data).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    @property
    def csrf(self) -> str:
        """The token a page of this browser's session carries (fetched from a page that always has one)."""
        page = self.get("/login" if "__Host-safecheck" not in self.cookies else "/account")
        if page.status == 303:
            page = self.get("/login")
        found = re.search(r'name="_csrf" value="([^"]+)"', page.text)
        assert found, (page.status, page.text[:500])
        return found.group(1)


@dataclass
class Person:
    key: str
    login: str
    secret: str
    codes: list[str]
    practitioner_id: int
    last_step: int = 0


@dataclass
class Serve:
    folder: Path
    port: int
    clock_file: Path
    proc: subprocess.Popen[bytes] | None = None
    offset: float = 0.0
    people: dict[str, Person] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)

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
            "SAFECHECK_LOG_LEVEL": "DEBUG",
        }

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COMMAND, *args], capture_output=True, text=True, env=self.environ(), timeout=120, cwd=self.folder
        )

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def move_clock(self, delta: timedelta) -> None:
        self.offset += delta.total_seconds()
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(f"{self.offset:.3f}\n")
        tmp.replace(self.clock_file)

    def look(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as db:
            return db.execute(sql, params).fetchall()

    def serve_log(self) -> str:
        return self.log.read_text(errors="replace")

    def browser(self) -> Browser:
        return Browser(self.port)

    def totp(self, who: Person) -> str:
        """A code serve accepts now: each 30-second step once, in order (the clock moves on if both are used)."""
        while True:
            step = int(self.now().timestamp() // 30)
            want = max(step, who.last_step + 1)
            if want <= step + 1:
                who.last_step = want
                return pyotp.TOTP(who.secret).at(want * 30)
            self.move_clock(timedelta(seconds=30))

    def accept(self, key: str, token: str) -> Person:
        """Open the invitation link, read the key the page shows, set a password and the first code."""
        b = self.browser()
        page = b.get(f"/invite/{token}")
        assert page.status == 200, page.text
        secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.text)
        csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text)
        assert secret and csrf
        made = Person(key, f"{key}@example.org", secret.group(1), [], 0)
        done = b.post(
            f"/invite/{token}",
            {
                "login": made.login,
                "password": PASSWORD,
                "password_again": PASSWORD,
                "secret": made.secret,
                "offer": _offer_of(page.text),
                "code": self.totp(made),
            },
            csrf=csrf.group(1),
        )
        assert done.status == 200, done.text
        made.codes = re.findall(r"<li><code>([0-9a-f-]{19})</code></li>", done.text)
        assert len(made.codes) == accounts.RECOVERY_CODES, done.text
        [(actor,)] = self.look(
            "SELECT actor FROM audit_log WHERE action = 'invitation_accepted' ORDER BY id DESC LIMIT 1"
        )
        made.practitioner_id = int(str(actor).removeprefix("practitioner:"))
        self.people[key] = made
        return made

    def login(self, who: Person, b: Browser | None = None) -> Browser:
        """A full sign-in (password, then a TOTP code) in a fresh browser (or `b`)."""
        b = b or self.browser()
        first = b.post("/login", {"login": who.login, "password": PASSWORD})
        assert first.status == 303 and first.header("Location") == "/login/second", (first.status, first.text)
        second = b.post("/login/second", {"code": self.totp(who)})
        assert second.status == 303 and second.header("Location") == "/", (second.status, second.text)
        return b


def _start(folder: Path) -> Serve:
    clock = folder / "clock"
    clock.write_text("0\n")
    found = Serve(folder, free_port(), clock)
    init = found.cli("init", "--service-name", "Review service")
    assert init.returncode == 0, init.stderr
    with found.log.open("w") as err:
        found.proc = subprocess.Popen(
            [*COMMAND, "serve", "--clock-file", str(clock)],
            stdin=subprocess.DEVNULL,
            stdout=err,  # stdout and stderr both: neither may hold personal data
            stderr=subprocess.STDOUT,
            env=found.environ(),
            cwd=folder,
        )
    deadline = time.monotonic() + 60
    while "started;" not in found.serve_log():
        if found.proc.poll() is not None or time.monotonic() > deadline:
            found.proc.kill()
            raise AssertionError(f"serve did not start: {found.serve_log()}")
        time.sleep(0.05)
    return found


async def _set_up(serve: Serve) -> dict[str, str]:
    """Another service, invitations for everyone, cases (one onboarded, with a codeword alert), partners."""
    settings = load_settings(env=serve.environ())
    tokens: dict[str, str] = {}
    async with open_app(settings) as app:
        now = app.clock.now()

        async def other(tx: Tx) -> None:
            await services.create(tx, "other", "Other service", now)
            await tx.commit()

        await app.db.run(other)
        async with app.db.reading() as tx:
            home = await commands.service_id(tx, None)
            away = await commands.service_id(tx, "other")
        wanted = {
            "idva_a": (home, {"idva"}),
            "idva_b": (home, {"idva"}),
            "duty": (home, {"duty"}),
            "manager": (home, {"manager"}),
            "admin": (home, {"admin"}),
            "idva_x": (away, {"idva"}),
            "manager_x": (away, {"manager"}),
        }
        for key, (svc, roles) in wanted.items():
            tokens[key] = await commands.invite(app, svc, frozenset(roles), key.replace("_", " ").title())
        # Two partner agencies' people (accounts made later through their links).
        for key, kind in (("partner_p", "police"), ("partner_q", "drive")):

            async def partner(tx: Tx, key: str = key, kind: str = kind) -> str:
                agreement = Agreement(f"ISA-{kind}", Basis.CONSENT, frozenset({Kind.URGENT_ALERTS}))
                partner_id = await partners.create(tx, home, f"Agency {kind}", kind, agreement, now)
                pid = await practitioners.add(
                    tx,
                    app.crypto,
                    home,
                    "partner",
                    key.title(),
                    [ChannelAddress("inbox", None)],
                    now,
                    partner_id=partner_id,
                )
                token = await accounts.invite_existing(tx, app.crypto, pid, "test", now)
                assert token is not None
                await tx.commit()
                return f"{pid}:{partner_id}:{token}"

            tokens[key] = await app.db.run(partner)
    return tokens


async def _cases(serve: Serve) -> None:
    """Cases of idva_a, idva_b (home) and idva_x (other service); each onboarded, each with a codeword alert;
    partner_p linked to case_a with consent to urgent alerts (so the alert made a share for them)."""
    settings = load_settings(env=serve.environ())
    async with open_app(settings) as app:
        for n, (key, owner, slug) in enumerate(
            (("case_a", "idva_a", None), ("case_b", "idva_b", None), ("case_x", "idva_x", "other"))
        ):
            async with app.db.reading() as tx:
                svc = await commands.service_id(tx, slug)
            address = f"+4477009{n:05d}"
            ref, code = await commands.enrol(
                app,
                svc,
                idva=serve.people[owner].practitioner_id,
                channel="simulator",
                address=address,
                name=HER_NAME,
                intake="high",
            )
            serve.refs[key] = ref
            words = {"exit_word": EXIT_WORD, "codeword": CODEWORD, "pin": "", "duress_pin": ""}
            await commands.set_secrets(app, svc, ref, words)
            for text in (code, "YES", "1", "1"):
                await handle_inbound(app.core, InboundMessage("simulator", address, text, uuid.uuid4().hex))
            if key == "case_a":
                pid, partner_id = (int(x) for x in serve.refs["partner_p"].split(":"))

                async def link(tx: Tx, ref: str = ref, pid: int = pid, partner_id: int = partner_id) -> None:
                    case = await by_ref(tx, ref)
                    assert case is not None
                    await partners.link(tx, app.crypto, case.id, partner_id, pid, "POL-1", "test", app.clock.now())
                    await partners.record_consent(
                        tx, case.id, partner_id, Kind.URGENT_ALERTS, True, "v1", "in_person", "test", app.clock.now()
                    )
                    await tx.commit()

                await app.db.run(link)
            await handle_inbound(app.core, InboundMessage("simulator", address, CODEWORD, uuid.uuid4().hex))
            [(alert_id,)] = serve.look(
                "SELECT a.id FROM alerts a JOIN cases c ON c.id = a.case_id WHERE c.ref = ? AND a.reason = 'codeword'",
                (ref,),
            )
            serve.alerts[key] = int(alert_id)
        # A case with no alert (duty needs a reason for it), and the duty worker on the rota now.
        async with app.db.reading() as tx:
            home = await commands.service_id(tx, None)
        ref, _ = await commands.enrol(
            app,
            home,
            idva=serve.people["idva_b"].practitioner_id,
            channel="simulator",
            address="+447700900999",
            name=HER_NAME,
            intake="standard",
        )
        serve.refs["case_quiet"] = ref
        now = app.clock.now()

        async def shift(tx: Tx) -> None:
            await rota.add_shift(
                tx,
                home,
                serve.people["duty"].practitioner_id,
                now - timedelta(hours=1),
                now + timedelta(days=30),
                "test",
                now,
            )
            await tx.commit()

        await app.db.run(shift)


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    found = _start(tmp_path_factory.mktemp("review11"))
    try:
        tokens = asyncio.run(_set_up(found))
        for key, token in tokens.items():
            if key.startswith("partner_"):
                pid, partner_id, token = token.split(":")
                found.refs[key] = f"{pid}:{partner_id}"
            found.accept(key, token)
        asyncio.run(_cases(found))
        yield found
    finally:
        assert found.proc is not None
        found.proc.send_signal(signal.SIGTERM)
        try:
            found.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            found.proc.kill()
            found.proc.wait()


LOG_MARK = [0]  # where serve's log stood when this test began: a test answers for its own tracebacks


@pytest.fixture(autouse=True)
def _log_mark(serve: Serve) -> None:
    LOG_MARK[0] = len(serve.serve_log())


def new_log(serve: Serve) -> str:
    return serve.serve_log()[LOG_MARK[0] :]


def no_crash(serve: Serve, reply: Reply) -> None:
    """Never a 5xx, never a traceback in serve's output."""
    assert reply.status < 500, (reply.status, reply.text[:300])
    assert "Traceback" not in new_log(serve), new_log(serve)[-3000:]


# --- tests ---------------------------------------------------------------------------------------


def test_harness_signs_in(serve: Serve) -> None:
    b = serve.login(serve.people["idva_a"])
    page = b.get(f"/cases/{serve.refs['case_a']}")
    assert page.status == 200, page.text[:300]


# --- the routes, with a real value in each path parameter ----------------------------------------------


def _routes() -> list[tuple[str, str]]:
    from bot.web.pages import route_tables

    found = []
    for table in route_tables():
        for route in table:
            found.append((route.method, route.path))  # type: ignore[attr-defined]
    return found


def fill(serve: Serve, pattern: str) -> str:
    """A route's pattern with a value that exists in each parameter (case A, its alert, a practitioner...)."""
    partner_pid, partner_id = serve.refs["partner_p"].split(":")
    values = {
        "ref": serve.refs["case_a"],
        "id": str(serve.alerts["case_a"]),
        "pid": str(serve.people["idva_b"].practitioner_id) if "partners" not in pattern else partner_pid,
        "person": partner_pid,
        "partner": partner_id,
        "token": "no-such-token",
        "fmt": "csv",
    }

    def one(match: re.Match[str]) -> str:
        return values.get(match.group(1), "1")

    return re.sub(PARAMETER, one, pattern)


PARAMETER = r"\{(\w+)(?::(?:[^{}]|\{[^{}]*\})*)?\}"  # {name} or {name:regex}, the regex may hold {m,n}


POSTS = [path for method, path in _routes() if method == "POST"]
# The event stream never ends; the report PDF takes seconds (WeasyPrint) and is a download like the CSV.
GETS = [path for method, path in _routes() if method == "GET" and path not in ("/alerts/events", "/manage/reports.pdf")]


def _snapshot(serve: Serve) -> dict[str, int]:
    """Every table's content (but the audit log and sessions, which reading rightly writes), hashed, once serve
    has sent what set-up queued (its dispatcher works in the background)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{serve.db_path}?mode=ro", uri=True) as db:
            if not db.execute("SELECT 1 FROM outbox WHERE status = 'pending'").fetchone():
                break
        time.sleep(0.05)
    with sqlite3.connect(f"file:{serve.db_path}?mode=ro", uri=True) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            n: hash(tuple(map(tuple, db.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall())))
            for n in names
            if n not in ("audit_log", "sessions") and not n.startswith("sqlite_")
        }


def test_every_post_route_refuses_a_missing_or_wrong_csrf_token_and_a_foreign_origin(serve: Serve) -> None:
    b = serve.login(serve.people["manager"])
    good = b.csrf
    before = _snapshot(serve)
    let_through = []
    for pattern in POSTS:
        path = fill(serve, pattern)
        for label, token, origin in (
            ("no token", None, None),
            ("wrong token", "x" * 43, None),
            ("foreign origin", good, "https://evil.example"),
        ):
            b.origin = origin
            reply = b.post(path, {"note": "csrf probe"}, csrf=token)
            b.origin = None
            if reply.status != 403:
                let_through.append(f"{pattern} ({label}): {reply.status}")
            no_crash(serve, reply)
    assert not let_through, "\n".join(let_through)
    assert _snapshot(serve) == before


def test_origin_null_passes_only_from_our_own_pages(serve: Serve) -> None:
    """Under `Referrer-Policy: no-referrer` a browser posts our own forms with `Origin: null`, and so does a
    sandboxed page on another site: Fetch Metadata (`Sec-Fetch-Site`) tells them apart."""
    b = serve.login(serve.people["idva_b"])
    b.origin = "null"
    for site in ("cross-site", "same-site"):
        reply = b.request(
            "POST", "/logout", urlencode({"_csrf": b.csrf}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": site},
        )
        assert reply.status == 403, (site, reply.status, reply.header("Location"))
    assert b.get("/account").status == 200  # still signed in: neither got through
    reply = b.request(
        "POST", "/logout", urlencode({"_csrf": b.csrf}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"},
    )
    assert reply.status == 303, reply.status  # our own form, as Chromium sends it


def _header_problems(path: str, reply: Reply) -> list[str]:
    problems = []
    csp = reply.header("Content-Security-Policy") or ""
    if not csp or "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append(f"{path}: CSP {csp!r}")
    if "frame-ancestors 'none'" not in csp:
        problems.append(f"{path}: no frame-ancestors 'none'")
    if reply.header("Referrer-Policy") != "no-referrer":
        problems.append(f"{path}: Referrer-Policy {reply.header('Referrer-Policy')!r}")
    if reply.header("X-Content-Type-Options") != "nosniff":
        problems.append(f"{path}: X-Content-Type-Options {reply.header('X-Content-Type-Options')!r}")
    if not path.startswith("/static/") and reply.header("Cache-Control") != "no-store":
        problems.append(f"{path}: Cache-Control {reply.header('Cache-Control')!r}")
    return problems


def test_every_page_carries_the_security_headers_and_no_get_changes_anything(serve: Serve) -> None:
    """Every GET route, as a manager and as an IDVA (pages, refusals and redirects alike): strict CSP, no
    framing, no referrer, nosniff, no-store; and none of them changes a table (views are audited, no more)."""
    problems: list[str] = []
    signed_in = [(who, serve.login(serve.people[who])) for who in ("manager", "idva_a")]
    before = _snapshot(serve)
    for who, b in signed_in:
        for pattern in GETS:
            path = fill(serve, pattern)
            reply = b.get(path)
            no_crash(serve, reply)
            problems += _header_problems(f"{who} {path} {reply.status}", reply)
    anonymous = serve.browser()
    for path in ("/login", "/cases", "/no-such-page", "/static/no-such-file.css", "/invite/nothing"):
        problems += _header_problems(path, anonymous.get(path))
    assert not problems, "\n".join(problems)
    after = _snapshot(serve)
    assert after == before, [name for name in after if after[name] != before.get(name)]


# --- sessions --------------------------------------------------------------------------------------------


def test_the_session_cookie_is_host_only_secure_httponly_strict(serve: Serve) -> None:
    b = serve.browser()
    b.post("/login", {"login": serve.people["idva_a"].login, "password": PASSWORD})
    reply = b.post("/login/second", {"code": serve.totp(serve.people["idva_a"])})
    [line] = [c for c in reply.all("Set-Cookie") if c.startswith("__Host-safecheck=")]
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in line.split(";")[1:]}
    assert "secure" in flags and "httponly" in flags, line
    assert flags.get("samesite", "").lower() == "samesite=strict", line
    assert flags.get("path") == "Path=/" and "domain" not in flags, line
    assert len(b.cookies["__Host-safecheck"]) >= 22  # 128 bits or more, URL-safe base64


def test_login_rotates_the_token_and_a_planted_token_dies(serve: Serve) -> None:
    """Fixation: a token from before login (the password step's, or one planted) is dead once signed in."""
    who = serve.people["idva_a"]
    b = serve.browser()
    b.post("/login", {"login": who.login, "password": PASSWORD})
    half = b.cookies["__Host-safecheck"]
    b.post("/login/second", {"code": serve.totp(who)})
    full = b.cookies["__Host-safecheck"]
    assert full != half
    stale = Browser(serve.port, {"__Host-safecheck": half})
    assert stale.get("/cases").status == 303
    # Signing in again in the same browser replaces the full session too.
    serve.login(who, b)
    assert b.cookies["__Host-safecheck"] != full
    assert Browser(serve.port, {"__Host-safecheck": full}).get("/cases").status == 303
    assert b.get("/cases").status == 200


def test_logout_ends_the_session_on_the_server(serve: Serve) -> None:
    b = serve.login(serve.people["idva_a"])
    copy = Browser(serve.port, dict(b.cookies))
    assert copy.get("/cases").status == 200
    out = b.post("/logout")
    assert out.status == 303
    reply = copy.get("/cases")
    assert reply.status == 303 and reply.header("Location") == "/login", reply.header("Location")


def test_idle_and_absolute_expiry_with_the_clock_moved(serve: Serve) -> None:
    idle = serve.login(serve.people["idva_b"])
    serve.move_clock(timedelta(minutes=14))
    assert idle.get("/cases").status == 200  # within 15 minutes: and this counts as activity
    serve.move_clock(timedelta(minutes=15, seconds=5))
    reply = idle.get("/cases")
    assert (reply.status, reply.header("Location")) == (303, "/login?ended=idle")
    # Active every 14 minutes: still signed in until 8 hours after login, then out.
    busy = serve.login(serve.people["manager"])
    started = serve.now()
    while serve.now() + timedelta(minutes=14) < started + timedelta(hours=8):
        serve.move_clock(timedelta(minutes=14))
        assert busy.get("/session").status == 200
        assert busy.post("/session").status == 200  # "stay signed in" is activity
    serve.move_clock(timedelta(minutes=14))
    reply = busy.get("/cases")
    assert (reply.status, reply.header("Location")) == (303, "/login?ended=absolute")


# --- login ----------------------------------------------------------------------------------------------


def _strip_tokens(html: str) -> str:
    return re.sub(r'value="[^"]*"|content="[^"]*"', "", html)


def test_the_login_page_does_not_tell_whether_an_account_exists(serve: Serve) -> None:
    b = serve.browser()
    replies, took = {}, {}
    for login in ("manager_x@example.org", "nobody-here@example.org"):
        times = []
        for _ in range(2):
            start = time.monotonic()
            replies[login] = b.post("/login", {"login": login, "password": "not the password at all"})
            times.append(time.monotonic() - start)
        took[login] = min(times)
    known, unknown = replies.values()
    assert known.status == unknown.status == 401
    assert _strip_tokens(known.text).replace("manager_x", "X") == _strip_tokens(unknown.text).replace(
        "nobody-here", "X"
    )
    fast, slow = sorted(took.values())
    assert slow < fast * 3 + 0.05, took  # both pay for an argon2 check


def test_throttling_grows_and_is_the_same_for_unknown_names(serve: Serve) -> None:
    waits = {}
    for login, rounds in (("duty@example.org", 6), ("ghost@example.org", 4)):
        b = serve.browser()
        seen = []
        for _ in range(rounds):
            reply = b.post("/login", {"login": login, "password": "wrong wrong wrong"})
            if reply.status == 429:
                found = re.search(r"Wait (\d+) seconds", reply.text)
                assert found
                seen.append(int(found.group(1)))
                serve.move_clock(timedelta(seconds=int(found.group(1)) + 1))
                reply = b.post("/login", {"login": login, "password": "wrong wrong wrong"})
            assert reply.status == 401
        waits[login] = seen
    known, unknown = waits["duty@example.org"], waits["ghost@example.org"]
    assert len(known) == 3 and len(unknown) == 1, waits  # (seconds left are rounded as real time passes)
    assert abs(known[0] - unknown[0]) <= 1, waits
    assert known[0] < known[1] < known[2], waits
    serve.move_clock(timedelta(minutes=16))  # let duty sign in again for the tests after this one


def test_a_recovery_code_works_once_and_a_totp_code_once(serve: Serve) -> None:
    who = serve.people["idva_b"]
    b = serve.browser()
    b.post("/login", {"login": who.login, "password": PASSWORD})
    code = who.codes.pop()
    assert b.post("/login/second", {"code": code}).status == 303
    again = serve.browser()
    again.post("/login", {"login": who.login, "password": PASSWORD})
    assert again.post("/login/second", {"code": code}).status == 401
    totp = serve.totp(who)
    assert again.post("/login/second", {"code": totp}).status == 303
    third = serve.browser()
    third.post("/login", {"login": who.login, "password": PASSWORD})
    assert third.post("/login/second", {"code": totp}).status == 401


def test_an_invitation_link_works_once_and_expires(serve: Serve) -> None:
    async def make() -> tuple[str, str]:
        async with open_app(load_settings(env=serve.environ())) as app:
            async with app.db.reading() as tx:
                svc = await commands.service_id(tx, None)
            fresh = await commands.invite(app, svc, frozenset({"idva"}), "Late Larry")

            async def old(tx: Tx) -> str:
                long_ago = app.clock.now() - accounts.INVITATION_VALID_FOR - timedelta(seconds=1)
                token = await accounts.invite(tx, app.crypto, svc, frozenset({"idva"}), "Old Olga", "test", long_ago)
                await tx.commit()
                return token

            return fresh, await app.db.run(old)

    fresh, stale = asyncio.run(make())
    assert serve.browser().get(f"/invite/{stale}").status == 404
    serve.accept("larry", fresh)
    b = serve.browser()
    assert b.get(f"/invite/{fresh}").status == 404
    reply = b.post(
        f"/invite/{fresh}",
        {
            "login": "again@example.org",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "secret": "A" * 32,
            "code": "000000",
        },
    )
    assert reply.status == 404


def test_an_admin_reset_lets_a_throttled_person_straight_back_in(serve: Serve) -> None:
    """Someone who knows a duty worker's login name fails it again and again: each failure after the first
    three doubles the wait, up to 15 minutes, and the right password is refused while it runs. The issue
    promises no lockout that keeps a duty worker out in an emergency ("an admin can reset"); but a reset
    leaves the throttle on the login name, so the reset person is still told to wait."""
    try:
        _throttled_then_reset(serve)
    finally:
        serve.move_clock(timedelta(minutes=16))  # the duty worker may sign in again in later tests


def _throttled_then_reset(serve: Serve) -> None:
    who = serve.people["duty"]
    attacker = serve.browser()
    for _ in range(10):
        reply = attacker.post("/login", {"login": who.login, "password": "guessing guessing"})
        if reply.status == 429:
            found = re.search(r"Wait (\d+) seconds", reply.text)
            assert found
            serve.move_clock(timedelta(seconds=int(found.group(1))))
    manager = serve.login(serve.people["manager"])
    reset = manager.post(f"/manage/practitioners/{who.practitioner_id}/reset")
    assert reset.status in (200, 303), reset.status
    page = manager.get(reset.header("Location") or "/manage/practitioners") if reset.status == 303 else reset
    link = re.search(r"/invite/([A-Za-z0-9_-]{20,})", page.text)
    assert link, page.text[:2000]
    b = serve.browser()
    form = b.get(f"/invite/{link.group(1)}")
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', form.text)
    assert secret
    who.secret, who.last_step = secret.group(1), 0
    new_password = PASSWORD  # the same words are allowed again; what matters is the throttle
    done = b.post(
        f"/invite/{link.group(1)}",
        {
            "password": new_password,
            "password_again": new_password,
            "secret": who.secret,
            "offer": _offer_of(form.text),
            "code": serve.totp(who),
        },
    )
    assert done.status == 200, done.text[:500]
    reply = serve.browser().post("/login", {"login": who.login, "password": new_password})
    wait = re.findall(r"Wait \d+ seconds", reply.text)
    assert reply.status == 303, f"reset, yet still throttled: {reply.status} {wait}"


# --- access ---------------------------------------------------------------------------------------------


def _denials(serve: Serve, actor: Person) -> int:
    [(n,)] = serve.look(
        "SELECT count(*) FROM audit_log WHERE actor = ? AND action IN ('case_view_denied', 'alert_view_denied')",
        (f"practitioner:{actor.practitioner_id}",),
    )
    return int(n)


def test_who_reaches_which_case_and_alert(serve: Serve) -> None:
    a, b_ref, x_ref = serve.people["idva_a"], serve.refs["case_b"], serve.refs["case_x"]
    idva_a = serve.login(a)
    before = _denials(serve, a)
    assert idva_a.get(f"/cases/{b_ref}").status == 403  # a colleague's case
    assert idva_a.get(f"/cases/{x_ref}").status == 404  # another service's: it does not exist
    assert idva_a.get(f"/alerts/{serve.alerts['case_b']}").status in (403, 404)
    assert idva_a.get(f"/alerts/{serve.alerts['case_x']}").status == 404
    assert idva_a.post(f"/alerts/{serve.alerts['case_x']}/ack").status == 404
    assert idva_a.post(f"/cases/{b_ref}/notes", {"body": "not mine"}).status == 403
    assert _denials(serve, a) >= before + 2
    # Duty on the rota: a case with an open alert yes, a quiet one only with a reason.
    duty = serve.login(serve.people["duty"])
    assert duty.get(f"/cases/{serve.refs['case_a']}").status == 200
    quiet = serve.refs["case_quiet"]
    assert duty.get(f"/cases/{quiet}").status == 403
    assert duty.post(f"/cases/{quiet}/reason", {"reason": ""}).status == 400
    assert duty.post(f"/cases/{quiet}/reason", {"reason": "her sister rang the duty line"}).status == 303
    assert duty.get(f"/cases/{quiet}").status == 200
    assert duty.get(f"/cases/{x_ref}").status == 404
    # Admin alone: configuration, no case content.
    admin = serve.login(serve.people["admin"])
    for path in (f"/cases/{serve.refs['case_a']}", f"/alerts/{serve.alerts['case_a']}"):
        assert admin.get(path).status in (403, 404), path
    for path in ("/cases", "/alerts"):  # a page that says the role holds no case content is fine
        reply = admin.get(path)
        assert reply.status in (200, 403, 404), (path, reply.status)
        assert HER_NAME not in reply.text and not any(ref in reply.text for ref in serve.refs.values())
    # Another service's manager: nothing of ours by any id.
    away = serve.login(serve.people["manager_x"])
    home_idva = serve.people["idva_a"].practitioner_id
    for path in (
        f"/cases/{serve.refs['case_a']}",
        f"/alerts/{serve.alerts['case_a']}",
        f"/cases/{serve.refs['case_a']}/marac.csv",
        f"/cases/{serve.refs['case_a']}/card",
    ):
        assert away.get(path).status == 404, path
    for path in (
        f"/manage/practitioners/{home_idva}/roles",
        f"/manage/practitioners/{home_idva}/deactivate",
        f"/manage/practitioners/{home_idva}/reset",
        f"/alerts/{serve.alerts['case_a']}/resolve",
    ):
        assert away.post(path, {"roles": "manager", "outcome": "false_alarm"}).status == 404, path
    [(active,)] = serve.look("SELECT active FROM practitioners WHERE id = ?", (home_idva,))
    assert active == 1


def test_a_partner_person_reaches_only_their_shares(serve: Serve) -> None:
    p = serve.login(serve.people["partner_p"])
    q = serve.login(serve.people["partner_q"])
    [(share_id,)] = serve.look("SELECT max(id) FROM shares")
    assert share_id is not None, "the codeword made no share for partner P"
    assert p.get(f"/shares/S-{share_id}").status == 200
    assert q.get(f"/shares/S-{share_id}").status in (403, 404)
    assert q.post(f"/shares/S-{share_id}/ack").status in (403, 404)
    for path in ("/cases", "/alerts", f"/cases/{serve.refs['case_a']}", "/manage", "/audit", "/manage/purges/1"):
        reply = q.get(path)
        assert reply.status == 403, (path, reply.status)
        assert HER_NAME not in reply.text


# --- hostile input --------------------------------------------------------------------------------------


def test_odd_bodies_and_paths_get_a_clear_refusal_never_a_crash(serve: Serve) -> None:
    b = serve.login(serve.people["idva_a"])
    token = b.csrf
    ref = serve.refs["case_a"]
    form = "application/x-www-form-urlencoded"
    probes: list[tuple[str, str, bytes | None, dict[str, str]]] = [
        (
            "POST",
            f"/cases/{ref}/notes",
            b"_csrf=" + token.encode() + b"&text=" + b"a" * 200_000,
            {"Content-Type": form},
        ),
        ("POST", f"/cases/{ref}/notes", b"_csrf=" + token.encode() + b"&text=\xff\xfe\xc3", {"Content-Type": form}),
        ("POST", f"/cases/{ref}/notes", b'{"text": "x"}', {"Content-Type": "application/json"}),
        ("POST", f"/cases/{ref}/notes", b"text=x", {"Content-Type": "text/plain"}),
        ("POST", f"/cases/{ref}/notes", b"--zz\r\n", {"Content-Type": "multipart/form-data; boundary=zz"}),
        ("POST", f"/cases/{ref}/notes", b"text=x", {"Content-Type": "multipart/form-data"}),
        ("GET", "/static/../../bot/config.py", None, {}),
        ("GET", "/static/%2e%2e/%2e%2e/pyproject.toml", None, {}),
        ("GET", "/static/..%2f..%2fpyproject.toml", None, {}),
        ("GET", "/cases?q=" + "x" * 7000, None, {}),
        ("GET", "/cases?" + "&".join(f"a{i}=1" for i in range(700)), None, {}),
        ("GET", "/audit?actor=%ff%fe&action=%00", None, {}),
        ("GET", "/cases?sort=%00&status=%ff", None, {}),
        ("GET", f"/cases/{ref}/marac.json?x=%ff", None, {}),
        ("GET", "/alerts/99999999999999999999999999", None, {}),
        ("GET", "/manage/purges/99999999999999999999999999", None, {}),
    ]
    for method, path, body, headers in probes:
        reply = b.request(method, path, body, headers)
        assert reply.status < 500, (path[:80], headers, reply.status, new_log(serve)[-1500:])
        assert "pyproject" not in reply.text and "ConfigError" not in reply.text
    assert "Traceback" not in new_log(serve), new_log(serve)[-3000:]


def test_a_form_with_an_unknown_charset_is_refused_not_a_500(serve: Serve) -> None:
    b = serve.login(serve.people["idva_a"])
    body = f"_csrf={b.csrf}&text=hello".encode()
    reply = b.request(
        "POST",
        f"/cases/{serve.refs['case_a']}/notes",
        body,
        {"Content-Type": "application/x-www-form-urlencoded; charset=no-such-charset"},
    )
    no_crash(serve, reply)


def test_a_huge_number_in_an_id_path_is_a_404_not_a_500(serve: Serve) -> None:
    b = serve.login(serve.people["manager"])
    huge = "9" * 30
    failed = []
    for path in (
        f"/manage/practitioners/{huge}/roles",
        f"/manage/practitioners/{huge}/deactivate",
        f"/manage/rota/{huge}/remove",
        f"/account/passkeys/{huge}/name",
        f"/account/sessions/{huge}/end",
        f"/manage/partners/{huge}/agreement",
        f"/manage/partners/people/{huge}/duty",
    ):
        reply = b.post(path, {"roles": "idva", "name": "x", "duty": "yes"})
        if reply.status >= 500:
            failed.append(f"{path}: {reply.status}")
    assert not failed, "\n".join(failed)
    assert "Traceback" not in new_log(serve), new_log(serve)[-3000:]


def test_a_tampered_totp_key_on_the_invitation_form_is_refused_not_a_500(serve: Serve) -> None:
    """The key is a hidden field the browser sends back; one that is 32 letters and digits but not base32
    (0, 1, 8, 9 or a non-ASCII letter) reaches pyotp, whose base32 decoding raises."""

    async def make() -> str:
        async with open_app(load_settings(env=serve.environ())) as app:
            async with app.db.reading() as tx:
                svc = await commands.service_id(tx, None)
            return await commands.invite(app, svc, frozenset({"idva"}), "Tampering Tom")

    token = asyncio.run(make())
    b = serve.browser()
    b.get(f"/invite/{token}")
    reply = b.post(
        f"/invite/{token}",
        {
            "login": "tom@example.org",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "secret": "1" * 32,
            "code": "123456",
        },
    )
    no_crash(serve, reply)
    assert reply.status == 400


# --- privacy: serve's output at DEBUG after a session of use -------------------------------------------------


def test_serve_output_at_debug_holds_no_personal_data_or_secrets(serve: Serve) -> None:
    a = serve.people["idva_a"]
    b = serve.login(a)
    ref = serve.refs["case_a"]
    assert b.post(f"/cases/{ref}/notes", {"body": NOTE_TEXT}).status in (200, 303)
    assert NOTE_TEXT.split(":")[0] in b.get(f"/cases/{ref}").text
    b.get(f"/cases?q={HER_NAME.split()[0]}")
    b.post("/cases", {"q": HER_NAME})
    b.post("/login", {"login": "typo-" + a.login, "password": "a wrong password here"})
    log = serve.serve_log()
    assert "DEBUG" in log, "serve did not log at DEBUG"
    leaks = [
        what
        for what in (
            HER_NAME,
            HER_NAME.split()[0],
            NOTE_TEXT,
            NOTE_TEXT.split(":")[0],
            "+4477009",
            "7700900",
            PASSWORD,
            "a wrong password here",
            CODEWORD,
            EXIT_WORD,
            *(p.login for p in serve.people.values()),
            "typo-",
            *(p.secret for p in serve.people.values()),
            *(c for p in serve.people.values() for c in p.codes),
            *(v for k, v in b.cookies.items()),
        )
        if what in log
    ]
    assert not leaks, leaks
