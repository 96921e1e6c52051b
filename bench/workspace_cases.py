"""Benchmark: the caseload and case pages' times (p50 / p95) with 100 cases and 10,000 check-ins.

    .venv/bin/python -m bench.workspace_cases --cases 100 --checkins-per-case 100 --requests 40

Fills a fresh file the way months of use would (check-ins with their answers and assessments, alerts
with their rungs, archived delivery records, notes), then a manager — who sees every case — asks for
GET /cases and GET /cases/{ref} over real HTTP on the real web app. Target: p95 ≤ 200 ms on this
machine. Rows are written in bulk with SQL here (a benchmark's set-up, not product code); the pages
read them through the storage layer. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer

from bot import commands
from bot.bootstrap import open_app
from bot.clock import FixedClock
from bot.config import Settings
from bot.web import make_web_app, workspace_settings
from storage import accounts, checkins, notes, services
from storage import cases as cases_store
from storage.crypto import Crypto
from storage.db import Database, Tx, ts
from storage.keys import create_key_file

NOW = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
LEVELS = ("standard", "standard", "standard", "raised", "raised", "high", "urgent")
QUESTIONS = ("talk_now", "safe_now", "fear", "contact", "happened", "callback", "anything_else")


async def fill(db: Database, crypto: Crypto, service_id: int, idvas: list[int], cases: int, per_case: int) -> list[str]:
    """Cases with months of history; returns their references."""
    rnd = random.Random(5)
    refs = [f"C-B{n:04d}" for n in range(cases)]
    async with db.transaction() as tx:
        await _fill(tx, crypto, rnd, service_id, idvas, refs, per_case)
        await tx.commit()
    return refs


async def _fill(
    tx: Tx, crypto: Crypto, rnd: random.Random, svc: int, idvas: list[int], refs: list[str], per_case: int
) -> None:
    checkin_id = answer_id = delivery_id = 0
    alert_id = 0
    for n, ref in enumerate(refs):
        case_id = n + 1
        await tx.execute(
            "INSERT INTO cases (id, service_id, ref, idva_id, channel, salt, intake_level, status, created_at, "
            "onboarded_at, name_enc) VALUES (?, ?, ?, ?, 'sms', ?, ?, 'active', ?, ?, ?)",
            (
                case_id,
                svc,
                ref,
                idvas[n % len(idvas)],
                os.urandom(16),
                rnd.choice(("standard", "medium", "high")),
                ts(NOW - timedelta(days=per_case + 5)),
                ts(NOW - timedelta(days=per_case + 5)),
                crypto.encrypt(f"Survivor {n}", cases_store.NAME.at(case_id)),
            ),
        )
        ck, asm, ans, dl, al, rungs = [], [], [], [], [], []
        for d in range(per_case):
            checkin_id += 1
            at = NOW - timedelta(days=per_case - d)
            status = "missed" if rnd.random() < 0.1 else "completed"
            ck.append((checkin_id, case_id, f"d{d}", ts(at), ts(at), ts(at + timedelta(minutes=4)), status))
            for k in range(3):
                delivery_id += 1
                epoch = int(at.timestamp()) + k * 60
                dl.append((delivery_id, "survivor", case_id, None, None, "sms", "sent", 1, epoch, epoch + 1))
            if status == "missed":
                continue
            level = rnd.choice(LEVELS)
            signals = ["fear_a_lot"] if level in ("high", "urgent") else []
            asm.append((case_id, checkin_id, LEVELS.index(level) * 3, level, 1, json.dumps(signals), ts(at)))
            for q in QUESTIONS:
                answer_id += 1
                text = "nothing new this week" if q == "anything_else" else None
                ans.append(
                    (
                        answer_id,
                        checkin_id,
                        case_id,
                        q,
                        json.dumps(["1"]),
                        json.dumps([]),
                        crypto.encrypt(text, checkins.ANSWER_TEXT.at(answer_id)) if text else None,
                        ts(at),
                    )
                )
            if level in ("high", "urgent"):
                alert_id += 1
                acked = d < per_case - 2
                al.append(
                    (
                        alert_id,
                        svc,
                        case_id,
                        level,
                        "risk_raised",
                        ts(at),
                        *((ts(at), idvas[0]) if acked else (None, None)),
                    )
                )
                rungs.append((alert_id, 0, "idva", idvas[n % len(idvas)], ts(at)))
                delivery_id += 1
                epoch = int(at.timestamp())
                dl.append((delivery_id, "practitioner", case_id, idvas[0], alert_id, "inbox", "sent", 1, epoch, epoch))
        await tx.executemany(
            "INSERT INTO checkins (id, case_id, slot, due_at, started_at, ended_at, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ck,
        )
        await tx.executemany(
            "INSERT INTO assessments (case_id, checkin_id, score, level, fear, signals, change, baseline, complete, "
            "at) VALUES (?, ?, ?, ?, ?, ?, 'same', 'standard', 1, ?)",
            asm,
        )
        await tx.executemany(
            "INSERT INTO answers (id, checkin_id, case_id, question, options, signals, text_enc, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ans,
        )
        await tx.executemany(
            "INSERT INTO alerts (id, service_id, case_id, severity, reason, created_at, acknowledged_at, "
            "acknowledged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            al,
        )
        await tx.executemany(
            "INSERT INTO alert_notifications (alert_id, step, role, practitioner_id, at) VALUES (?, ?, ?, ?, ?)", rungs
        )
        await tx.executemany(
            "INSERT INTO deliveries (id, recipient, case_id, practitioner_id, alert_id, channel, status, attempts, "
            "queued_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            dl,
        )
        await tx.execute(
            "INSERT INTO timers (kind, key, case_id, due_at) VALUES ('checkin', ?, ?, ?)",
            (f"{case_id}:next", case_id, ts(NOW + timedelta(hours=rnd.randint(1, 48)))),
        )
        for k in range(3):
            await notes.add(tx, crypto, case_id, idvas[0], f"Bench note {k}", NOW - timedelta(days=k))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def timed(client: TestClient, path: str, requests: int, search: str | None = None) -> list[float]:
    """GET the page `requests` times; with `search`, POST it as the search form does (with the CSRF token)."""
    took = []
    token = ""
    if search is not None:
        page = await (await client.get(path)).text()
        found = re.search(r'name="_csrf" value="([^"]+)"', page)
        token = found.group(1) if found else ""
    for _ in range(requests):
        started = time.perf_counter()
        if search is None:
            resp = await client.get(path)
        else:
            resp = await client.post(path, data={"q": search, "_csrf": token})
        await resp.read()
        took.append((time.perf_counter() - started) * 1000)
        if resp.status != 200:
            raise SystemExit(f"{path}: HTTP {resp.status}")
    return took


async def run(folder: Path, cases: int, per_case: int, requests: int) -> dict[str, float]:
    os.environ.pop("SAFECHECK_KEY", None)
    settings = Settings(db_path=folder / "cases.db", key_file=folder / "cases.key")
    create_key_file(settings.key_file)
    db = await Database.open(settings.db_path, create=True)
    async with db.transaction() as tx:
        svc = await services.create(tx, "bench", "Bench service", NOW)
        await tx.commit()
    await db.close()
    async with open_app(settings, clock=FixedClock(NOW), seed=3) as app:
        idvas = [await commands.add_practitioner(app, svc, f"Idva {i}", "idva", ["inbox"]) for i in range(2)]
        manager = await commands.add_practitioner(app, svc, "Manager", "manager", ["inbox"])
        t0 = time.perf_counter()
        refs = await fill(app.db, app.crypto, svc, idvas, cases, per_case)
        print(f"filled {cases} cases x {per_case} check-ins in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

        async def session(tx: Tx) -> str:
            token, _ = await accounts.new_session(tx, manager, "full", NOW)
            await tx.commit()
            return token

        token = await app.db.run(session)
        server = TestServer(make_web_app(app, workspace=workspace_settings("http://127.0.0.1")), host="127.0.0.1")
        await server.start_server()
        jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
        client = TestClient(server, cookie_jar=jar)
        await client.start_server()
        client.session.cookie_jar.update_cookies({"__Host-safecheck": token}, server.make_url("/"))
        try:
            await timed(client, "/cases", 3)  # warm: templates compiled, reader connection open
            caseload = await timed(client, "/cases", requests)
            searched = await timed(client, "/cases", requests, search="survivor 42")
            case = []
            for i in range(requests):
                case += await timed(client, f"/cases/{refs[i % len(refs)]}", 1)
        finally:
            await client.close()
    figures = {}
    for name, took in (("caseload", caseload), ("caseload_name_search", searched), ("case", case)):
        figures[f"{name}_p50_ms"] = round(statistics.median(took), 1)
        figures[f"{name}_p95_ms"] = round(percentile(took, 0.95), 1)
        print(f"GET {name}: p50 {figures[f'{name}_p50_ms']} ms, p95 {figures[f'{name}_p95_ms']} ms (target p95 ≤ 200)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--checkins-per-case", type=int, default=100)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = asyncio.run(run(Path(folder), args.cases, args.checkins_per_case, args.requests))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
