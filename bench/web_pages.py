"""Benchmark: workspace page times (p50 / p95) for the caseload, a case and the alert queue.

    .venv/bin/python -m bench.web_pages                   # 100 cases, 100 check-ins each (10,000)
    .venv/bin/python -m bench.web_pages --cases 20 --checkins 10 --requests 50   # a quick look

Setup (timed apart, not measured): one service whose IDVA has `--cases` survivors, each enrolled,
activated and onboarded through the real pipeline, then `--checkins` daily check-ins that every
survivor answers (bench.burst.run_round: the timers fire, the answers go through handle_inbound, the
dispatcher drains the outbox). In the last round a tenth of them put their codeword in the free text,
so the queue holds open urgent alerts. The IDVA gets a workspace account (storage functions: password
and TOTP secret).

Measured: a real `safecheck serve` on that file (its clock pinned just after the last round, so no
check-in falls due while it is measured), an aiohttp client that signs in as the IDVA over HTTP
(password, then a TOTP code) and then GETs each page `--requests` times in turn, sequentially, with its
session cookie: /cases, /cases/{ref} (cycling through every case) and /alerts. Each time is from
sending the request to having read the whole body, status 200 checked. Every view is audited, as in use.
Target: p95 at most 200 ms on this machine. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
from aiohttp import ClientSession, CookieJar

from bench.burst import run_round
from bench.phase import Figures
from bench.survivors import START, checkin_time, create_service, onboard_all
from bot.bootstrap import open_app
from bot.channels.simulator import SimulatorChannel
from bot.clock import FixedClock
from bot.config import Settings
from bot.web.passwords import hash_password, new_totp_secret
from storage import accounts
from storage.db import Tx
from tests.fakes.telegram_world import free_port

TARGET_MS = 200.0
LOGIN = "ida@example.org"
PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def seed(settings: Settings, cases: int, checkins: int) -> tuple[list[str], str, str]:
    """The service, its survivors and their check-ins; returns the case refs, the TOTP secret and the
    instant serve should start at."""
    service_id = await create_service(settings)
    clock = FixedClock(START)
    sim = SimulatorChannel()
    async with open_app(settings, clock=clock, simulator=sim, seed=1) as app:
        survivors, idva = await onboard_all(app, sim, service_id, cases)
        fig = Figures()
        codeword_people = set(range(0, cases, 10))
        for day in range(checkins):
            last = day == checkins - 1
            await run_round(app, clock, sim, survivors, fig, day, codeword_people if last else set())
            if day % 10 == 9:
                print(f"  day {day + 1}/{checkins}: {len(survivors) * (day + 1)} check-ins", file=sys.stderr)
        secret = new_totp_secret()
        hashed = await hash_password(PASSWORD)
        now = clock.now()

        async def account(tx: Tx) -> None:
            await accounts.set_roles(tx, idva, frozenset({"idva"}))
            await accounts.create_account(tx, app.crypto, idva, LOGIN, hashed, secret, now)
            await tx.commit()

        await app.db.run(account)
        async with app.db.reading() as tx:  # what the pages will show: checked, not assumed
            answered = await tx.scalar("SELECT count(*) FROM checkins WHERE status = 'completed'")
            open_alerts = await tx.scalar("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL")
        print(f"setup: {answered} completed check-ins, {open_alerts} open alerts", file=sys.stderr)
        if answered != cases * checkins or not open_alerts:
            raise SystemExit(f"setup went wrong: {answered} check-ins completed, {open_alerts} open alerts")
    start = (checkin_time(checkins - 1) + timedelta(minutes=2)).astimezone(UTC)
    return [s.ref for s in survivors], secret, start.isoformat()


async def sign_in(http: ClientSession, base: str, secret: str, now: float) -> None:
    async def form(path: str, data: dict[str, str]) -> str:
        async with http.get(base + path) as page:
            found = CSRF.search(await page.text())
        assert found, f"no form on {path}"
        async with http.post(base + path, data={**data, "_csrf": found.group(1)}, allow_redirects=False) as done:
            assert done.status == 303, (path, done.status, await done.text())
            return done.headers["Location"]

    assert await form("/login", {"login": LOGIN, "password": PASSWORD}) == "/login/second"
    assert await form("/login/second", {"code": pyotp.TOTP(secret).at(now)}) == "/"


async def measure(base: str, secret: str, serve_now: float, refs: list[str], requests: int) -> dict[str, list[float]]:
    jar = CookieJar(unsafe=True, treat_as_secure_origin=base)  # the __Host- cookies, as a browser on localhost
    async with ClientSession(cookie_jar=jar) as http:
        await sign_in(http, base, secret, serve_now)
        pages = {
            "/cases": lambda i: "/cases",
            "/cases/{ref}": lambda i: f"/cases/{refs[i % len(refs)]}",
            "/alerts": lambda i: "/alerts",
        }
        times: dict[str, list[float]] = {name: [] for name in pages}
        for i in range(-5, requests):  # five rounds of warm-up first
            for name, path in pages.items():
                started = time.perf_counter()
                async with http.get(base + path(i), allow_redirects=False) as resp:
                    body = await resp.read()
                elapsed = time.perf_counter() - started
                assert resp.status == 200, (path(i), resp.status, body[:200])
                if i >= 0:
                    times[name].append(elapsed * 1000)
    return times


def wait_started(proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while "started;" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"serve did not start: {log.read_text()}")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--checkins", type=int, default=100, help="check-ins per case (one a day)")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="web-pages-") as tmp:
        folder = Path(tmp)
        settings = Settings(db_path=folder / "bench.db", key_file=folder / "bench.key")
        os.environ.pop("SAFECHECK_KEY", None)
        t0 = time.perf_counter()
        refs, secret, start = asyncio.run(seed(settings, args.cases, args.checkins))
        print(
            f"setup: {len(refs)} cases, {len(refs) * args.checkins} check-ins in {time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
        )
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAFECHECK_")}
        env.update(
            SAFECHECK_DB=str(settings.db_path),
            SAFECHECK_KEY_FILE=str(settings.key_file),
            SAFECHECK_HOST="localhost",
            SAFECHECK_PORT=str(port),
        )
        log = folder / "serve.log"
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli.main", "--now", start, "serve"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
            )
        started_at = time.time()
        try:
            wait_started(proc, log)
            serve_now = datetime.fromisoformat(start).timestamp() + (time.time() - started_at)
            times = asyncio.run(measure(f"http://localhost:{port}", secret, serve_now, refs, args.requests))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        if "Traceback" in log.read_text():
            raise SystemExit(f"serve failed: {log.read_text()}")
    print(f"{'page':<14} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target p95 <= {TARGET_MS:.0f} ms")
    result: dict[str, object] = {"cases": len(refs), "checkins": len(refs) * args.checkins, "requests": args.requests}
    for name, values in times.items():
        p50, p95 = percentile(values, 0.50), percentile(values, 0.95)
        verdict = "ok" if p95 <= TARGET_MS else "MISSED"
        print(f"{name:<14} {p50:8.1f} {p95:8.1f} {max(values):8.1f}  {verdict}")
        result[name] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "ok": p95 <= TARGET_MS}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
