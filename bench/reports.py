"""Benchmark: issue 14's reports and data-protection operations on a service the size SafeLives recommends.

    .venv/bin/python -m bench.reports            # 2 services x 8 IDVAs x 100 cases, a year each
    .venv/bin/python -m bench.reports --quick    # 2 services x 8 IDVAs x 10 cases: a smoke run

Seeds a real SQLite file (WAL, synchronous=FULL, real keys) with two services of the same size
(bench/reports_seed.py: a year of twice-weekly check-ins with answers, ~5% alerts with their ladders,
acknowledgements, notes, shares to two partners, a quarter of the cases closed with outcomes, the
hash-chained audit log), so every query has another service's rows to leave out. Then times, on the
product's own code paths:

1. `storage.report_figures.build` for a month and for a year, per section (in one read transaction each);
2. the reports page, its CSV and its PDF over real HTTP (the web app on 127.0.0.1, a manager's session),
   and `bot.report_pdf.render` alone (WeasyPrint);
3. a subject access export of service 1's busiest case: `storage.subject_access.gather`, then the review
   page and the JSON and PDF downloads over HTTP (the form as a browser posts it);
4. erasure on request (`bot.commands.erasure.erase`: one unit of work, secure delete, and the WAL wipe
   before it returns) of the busy case and of two ordinary ones;
5. the daily retention pass (`bot.retention.run`) over the 200 closed cases, once their period is past
   (a 30-day period, a month on): 50 cases a round, so four rounds;
6. `storage.audit.verify` (what `safecheck audit verify` runs) over the whole log, one audit retention pass
   (`storage.audit_retention.run`) with a 365-day period, which removes the log's oldest whole months,
   a second one that removes nothing (the usual day), and `verify` again from the new anchor.

Wall time (perf_counter); medians of `--runs` where a step can be repeated. No assertion on time: it
prints the figures and row counts, and a JSON line last. Exits 1 if a step does not do what it should
(a page not 200, an erasure that left her name, a chain that does not verify): such figures are worthless.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import ClientResponse, CookieJar
from aiohttp.test_utils import TestClient, TestServer

from bench.reports_seed import Seeded, seed
from bot import report_pdf, retention
from bot.app import App
from bot.bootstrap import open_app
from bot.clock import FixedClock
from bot.commands import erasure as erase_command
from bot.config import Settings
from bot.web import make_web_app, workspace_settings
from bot.web.report_view import view
from safety.report_tables import Filters
from storage import accounts, audit, audit_retention, cases, report_figures, services
from storage import subject_access as sar
from storage.db import Database, Tx
from storage.keys import create_key_file

NOW = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)  # a Tuesday; "last month" is May 2027
MONTH = Filters(date(2027, 5, 1), date(2027, 6, 1))
YEAR = Filters(date(2026, 6, 1), date(2027, 6, 1))
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
REVIEWED = re.compile(r'name="reviewed" value="([^"]*)"')
T = TypeVar("T")
figures: dict[str, Any] = {}


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def timed(fn: Callable[[], Awaitable[T]], runs: int) -> tuple[float, T]:
    """The median wall time of `runs` calls, in ms, and the last call's result."""
    took = []
    result: T
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await fn()
        took.append(time.perf_counter() - t0)
    return ms(statistics.median(took)), result


def show(key: str, label: str, value: float, extra: str = "") -> None:
    figures[key] = value
    print(f"  {label:<58} {value:>9.1f} ms{('  ' + extra) if extra else ''}")


def fail(why: str) -> None:
    print(f"CHECK FAILED: {why}", file=sys.stderr)
    raise SystemExit(1)


# --- 1. building the report ---------------------------------------------------------------------------------


async def build_times(app: App, svc: int, runs: int) -> None:
    async with app.db.reading() as tx:
        service = await services.get(tx, svc)
    zone = ZoneInfo(service.timezone)
    for name, filters, n in (("month", MONTH, runs + 2), ("year", YEAR, runs)):
        print(f"report for the {name} ({filters.start} to {filters.end}, service 1 of 2), median of {n}:")
        for builder in report_figures.SECTIONS:
            section = builder.__module__.rsplit("_", 1)[-1]

            async def one(b: report_figures.SectionBuilder = builder, f: Filters = filters) -> object:
                async with app.db.reading() as tx:
                    return await b(tx, svc, f, zone)

            took, _ = await timed(one, n)
            show(f"build_{name}_{section}_ms", f"section {section}", took)

        async def whole(f: Filters = filters) -> object:
            async with app.db.reading() as tx:
                return await report_figures.build(tx, svc, service.name, zone, f)

        took, report = await timed(whole, n)
        show(f"build_{name}_ms", "whole report (storage.report_figures.build)", took)
        shown = view(report)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        body = await asyncio.get_running_loop().run_in_executor(None, report_pdf.render, shown, NOW.date())
        show(f"render_pdf_{name}_ms", "bot.report_pdf.render alone (WeasyPrint), once", ms(time.perf_counter() - t0),
             f"{len(body) // 1024} KiB")


# --- 2. and 3. over HTTP ------------------------------------------------------------------------------------


async def client_for(app: App, manager: int) -> TestClient[Any, Any]:
    async def session(tx: Tx) -> str:
        token, _ = await accounts.new_session(tx, manager, "full", NOW)
        await tx.commit()
        return token

    token = await app.db.run(session)
    server = TestServer(make_web_app(app, workspace=workspace_settings("http://127.0.0.1")), host="127.0.0.1")
    await server.start_server()
    jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
    client: TestClient[Any, Any] = TestClient(server, cookie_jar=jar)
    await client.start_server()
    client.session.cookie_jar.update_cookies({"__Host-safecheck": token}, server.make_url("/"))
    return client


async def body_of(resp: ClientResponse, what: str, content_type: str) -> bytes:
    body = await resp.read()
    if resp.status != 200 or not resp.content_type.startswith(content_type):
        fail(f"{what}: HTTP {resp.status} {resp.content_type}")
    return body


async def http_reports(client: TestClient[Any, Any], runs: int) -> None:
    year = "from=2026-06-01&to=2027-05-31"
    print(f"reports over HTTP (GET, manager's session, service 1), median of {runs}:")
    for key, path, kind in (
        ("page_month", "/manage/reports?month=2027-05", "text/html"),
        ("page_year", f"/manage/reports?{year}", "text/html"),
        ("csv_month", "/manage/reports.csv?month=2027-05", "text/csv"),
        ("csv_year", f"/manage/reports.csv?{year}", "text/csv"),
        ("pdf_month", "/manage/reports.pdf?month=2027-05", "application/pdf"),
        ("pdf_year", f"/manage/reports.pdf?{year}", "application/pdf"),
    ):
        async def get(p: str = path, k: str = kind) -> bytes:
            return await body_of(await client.get(p), p, k)

        took, body = await timed(get, runs)
        show(f"http_{key}_ms", f"GET {path}", took, f"{len(body) // 1024} KiB")


async def subject_access(app: App, client: TestClient[Any, Any], ref: str, runs: int) -> None:
    async with app.db.reading() as tx:
        case = await cases.by_ref(tx, ref)
        assert case is not None
        counts = {t: int(await tx.scalar(f"SELECT COUNT(*) FROM {t} WHERE case_id = ?", (case.id,)))
                  for t in ("checkins", "answers", "alerts", "case_notes", "shares", "audit_log")}
    print(f"subject access export of {ref} ({', '.join(f'{v} {k}' for k, v in counts.items())}), median of {runs}:")

    async def gather() -> sar.Export:
        async with app.db.reading() as tx:
            return await sar.gather(tx, app.crypto, case.id, NOW)

    took, export = await timed(gather, runs)
    show("sar_gather_ms", "storage.subject_access.gather (no rendering of texts)", took,
         f"{len(export.reviewed)} items to review")
    path = f"/cases/{ref}/subject-access"

    async def review() -> str:
        return (await body_of(await client.get(path), path, "text/html")).decode()

    took, page = await timed(review, runs)
    show("http_sar_review_ms", f"GET {path} (the review)", took, f"{len(page) // 1024} KiB")
    token = CSRF.search(page)
    reviewed = REVIEWED.search(page)
    if not token or not reviewed:
        fail("the review page has no CSRF token or no list of reviewed items")
        return
    for fmt, kind in (("json", "application/json"), ("pdf", "application/pdf")):
        async def download(f: str = fmt, k: str = kind) -> bytes:
            form = {"_csrf": token.group(1), "reviewed": reviewed.group(1), "format": f}
            return await body_of(await client.post(path, data=form), f"POST {path} {f}", k)

        took, body = await timed(download, runs if fmt == "json" else 1)  # the PDF is slow: once
        show(f"http_sar_{fmt}_ms", f"POST {path} format={fmt}", took, f"{len(body) // 1024} KiB")


# --- 4. and 5. erasure and retention ------------------------------------------------------------------------


def file_sizes(db_path: Path) -> str:
    wal = db_path.with_name(db_path.name + "-wal")
    return f"db {db_path.stat().st_size // 2**20} MiB, WAL {wal.stat().st_size // 1024 if wal.exists() else 0} KiB"


async def erasures(app: App, settings: Settings, svc: int, refs: list[str]) -> None:
    print("erasure on request (bot.commands.erasure.erase: one unit, secure delete, WAL wipe), once per case:")
    for i, ref in enumerate(refs):
        before = file_sizes(settings.db_path)
        t0 = time.perf_counter()
        done = await erase_command.erase(app, svc, ref, "her_request", actor="os:bench")
        took = ms(time.perf_counter() - t0)
        what = "busy case" if i == 0 else "ordinary case"
        show(f"erase_{'busy' if i == 0 else f'ordinary{i}'}_ms", f"erase {ref} ({what})", took,
             f"{sum(done.counts.values())} records; before: {before}; after: {file_sizes(settings.db_path)}")
        with sqlite3.connect(settings.db_path) as conn:
            [(name, erased)] = conn.execute("SELECT name_enc, erased_at FROM cases WHERE ref = ?", (ref,)).fetchall()
        if name is not None or erased is None:
            fail(f"{ref} still has her name after erasure")


async def retention_rounds(app: App, svc: int) -> None:
    async def shorter(tx: Tx) -> None:
        await services.update(tx, svc, closed_case_days=30)
        await tx.commit()

    await app.db.run(shorter)
    async with app.db.reading() as tx:
        due = int(await tx.scalar("SELECT COUNT(*) FROM cases WHERE service_id = ? AND status = 'closed' "
                                  "AND erased_at IS NULL", (svc,)))
    print(f"daily retention pass (bot.retention.run), a 30-day period set, a month on: {due} closed cases due, "
          f"{retention.CASES_PER_ROUND} a round:")
    day = NOW + timedelta(days=31)
    rounds = 0
    while True:
        async with app.db.reading() as tx:
            service = await services.get(tx, svc)

        async def unit(tx: Tx, s: services.Service = service, at: datetime = day) -> int | None:
            purge = await retention.run(tx, s, at)
            await tx.commit()
            return purge

        t0 = time.perf_counter()
        purge = await app.db.run(unit)
        took = ms(time.perf_counter() - t0)
        rounds += 1
        async with app.db.reading() as tx:
            left = int(await tx.scalar("SELECT COUNT(*) FROM cases WHERE service_id = ? AND status = 'closed' "
                                       "AND erased_at IS NULL", (svc,)))
        show(f"retention_round{rounds}_ms", f"round {rounds} ({day:%Y-%m-%d})", took,
             f"purge {purge}; {left} closed cases left to erase")
        day += timedelta(days=1)
        if purge is None or left == 0 or rounds > 10:
            break
    if left:
        fail(f"{left} closed cases past their period were not erased")


# --- 6. the audit log -----------------------------------------------------------------------------------------


async def audit_steps(app: App) -> None:
    async with app.db.reading() as tx:
        rows = int(await tx.scalar("SELECT COUNT(*) FROM audit_log"))
    print(f"audit log ({rows} rows, both services):")
    t0 = time.perf_counter()
    check = await audit.verify(app.db)
    show("audit_verify_ms", "storage.audit.verify (safecheck audit verify), whole log", ms(time.perf_counter() - t0),
         f"{check.rows} rows checked")
    figures["audit_rows"] = check.rows
    if check.broken_at is not None:
        fail(f"the seeded chain breaks at row {check.broken_at}: {check.problem}")

    async def year(tx: Tx) -> None:
        for svc in (1, 2):
            await services.update(tx, svc, audit_retention_days=365)
        await tx.commit()

    await app.db.run(year)
    for label in ("first pass (removes whole expired months)", "next day's pass (nothing expired)"):
        at = NOW if "first" in label else NOW + timedelta(days=1)

        async def unit(tx: Tx, when: datetime = at) -> audit_retention.Removed:
            done = await audit_retention.run(tx, when, None)
            await tx.commit()
            return done

        t0 = time.perf_counter()
        done = await app.db.run(unit)
        key = "audit_retention_first_ms" if "first" in label else "audit_retention_noop_ms"
        show(key, f"storage.audit_retention.run, {label}", ms(time.perf_counter() - t0),
             f"{done.rows} rows in {done.months} months removed")
    t0 = time.perf_counter()
    check = await audit.verify(app.db)
    show("audit_verify_after_ms", "verify again, from the anchor", ms(time.perf_counter() - t0),
         f"{check.rows} rows checked")
    if check.broken_at is not None or check.anchor is None:
        fail(f"after retention the chain does not verify from an anchor: {check.problem}")


# --- the run ----------------------------------------------------------------------------------------------------


async def run(folder: Path, idvas: int, per_idva: int, runs: int) -> None:
    os.environ.pop("SAFECHECK_KEY", None)
    settings = Settings(db_path=folder / "reports.db", key_file=folder / "reports.key")
    create_key_file(settings.key_file)
    db = await Database.open(settings.db_path, create=True)
    await db.close()
    async with open_app(settings, clock=FixedClock(NOW), seed=14) as app:
        t0 = time.perf_counter()
        seeded: Seeded = await seed(app, idvas=idvas, per_idva=per_idva, now=NOW)
        took = time.perf_counter() - t0
        figures["rows"] = seeded.rows
        figures["seed_s"] = round(took, 1)
        print(f"seeded 2 services x {idvas} IDVAs x {per_idva} cases in {took:.0f} s ({file_sizes(settings.db_path)})")
        print("  rows: " + ", ".join(f"{k} {v:,}" for k, v in seeded.rows.items()))
        svc = seeded.service_ids[0]
        await build_times(app, svc, runs)
        client = await client_for(app, seeded.managers[0])
        try:
            await http_reports(client, runs)
            await subject_access(app, client, seeded.busy_ref, runs)
        finally:
            await client.close()
        await erasures(app, settings, svc, [seeded.busy_ref, *seeded.other_refs])
        await retention_rounds(app, svc)
        await audit_steps(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 cases per IDVA, 1 run: a smoke run (~20 s)")
    parser.add_argument("--idvas", type=int, default=8)
    parser.add_argument("--per-idva", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="runs per repeatable step (the median is printed)")
    args = parser.parse_args()
    per_idva, runs = (10, 1) if args.quick else (args.per_idva, args.runs)
    if args.idvas < 1 or per_idva < 4 or runs < 1:
        parser.error("--idvas and --runs must be at least 1, --per-idva at least 4")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(Path(folder), args.idvas, per_idva, runs))
    figures["total_s"] = round(time.perf_counter() - started, 1)
    print(f"total {figures['total_s']} s, load average {os.getloadavg()[0]:.1f}")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
