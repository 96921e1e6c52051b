"""Benchmark: Twilio's signed inbound webhook under load, against a real `safecheck serve`.

    .venv/bin/python -m bench.sms_webhook --survivors 200 --burst 1000 --concurrency 50 --rate 50,100 --seconds 10

`safecheck serve` runs as its own process, as in production: our aiohttp server, a real SQLite file
(WAL, synchronous=FULL), the pipeline, the timers and the dispatcher, sending the replies through
the real twilio client. This process plays Twilio: it POSTs signed webhooks (signatures made before
the clock starts, as Twilio makes them on its side) and answers the REST API as the fake Twilio.

Two phases: a burst (`--burst` texts, `--concurrency` in flight at once: inbound messages/s through
the signed webhook) and a steady open-loop rate (`--rate` texts/s, Poisson, for `--seconds`: the
answer latency Twilio sees, goal p99 <= 50 ms at 200/s). `--rate 100,200` runs one steady phase per
rate against the same serve, each once the outbox is empty again. Afterwards every text is counted
back from the database; the run exits 1 if one was lost or stored twice. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yarl

from bench.report import pct
from bench.survivors import START
from bot import commands
from bot.bootstrap import open_app
from bot.channels.sms import SmsTransport
from bot.channels.sms_settings import load_sms
from bot.clock import FixedClock
from bot.config import Settings
from bot.pipeline import InboundMessage, handle_inbound
from storage import services
from storage.db import Database
from storage.keys import create_key_file
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

PUBLIC = "https://safecheck.example.org"
OUR_NUMBER = "+447700900000"
ONBOARDING = ("YES", "1 2 3", "1")  # consent, times, missed check-ins: her words are set in person
WORDS = {"exit_word": "pasta", "codeword": "blue kettle", "pin": "", "duress_pin": ""}
TEXTS = ("hello", "all fine thanks 🙂", "ok", "Thanks, got it", "\u200fمرحبا", "PAUSE 2 days")


@dataclass(frozen=True)
class Signed:
    url: yarl.URL
    data: dict[str, str]
    headers: dict[str, str]


def number(i: int) -> str:
    return f"+4477009{i:05d}"


def env_for(folder: Path, port: int, twilio_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SAFECHECK_", "TWILIO_"))},
        "SAFECHECK_DB": str(folder / "safecheck.db"),
        "SAFECHECK_PORT": str(port),
        "SAFECHECK_PUBLIC_URL": PUBLIC,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": OUR_NUMBER,
        "TWILIO_API_BASE_URL": twilio_url,
        "TWILIO_RATE": "1000",  # the fake answers at once; pacing is not what is measured here
    }


async def prepare(folder: Path, env: dict[str, str], survivors: int) -> None:
    """A service with `survivors` onboarded SMS cases, built in-process through the real pipeline."""
    settings = Settings(folder / "safecheck.db", folder / "safecheck.key", public_url=PUBLIC, env=env)
    create_key_file(settings.key_file)
    db = await Database.open(settings.db_path, create=True)
    async with db.transaction() as tx:
        svc = await services.create(tx, "bench", "Bench service", START)
        await tx.commit()
    await db.close()
    sms = load_sms(env, PUBLIC)
    assert sms is not None
    async with open_app(settings, clock=FixedClock(START), transports=[SmsTransport(sms)]) as app:
        idva = await commands.add_practitioner(app, svc, "Ida", "idva", ["sms:+447700800001", "inbox"])
        for i in range(survivors):
            ref, code = await commands.enrol(
                app, svc, idva=idva, channel="sms", address=number(i), name=None, intake="standard"
            )
            await commands.set_secrets(app, svc, ref, WORDS, actor="bench")
            for k, line in enumerate((code, *ONBOARDING)):
                await handle_inbound(app.core, InboundMessage("sms", number(i), line, f"SMsetup{i:08x}{k:022x}"))
        async with app.db.transaction() as tx:  # the onboarding replies are not part of the measurement
            await tx.execute("UPDATE outbox SET status = 'cancelled' WHERE status = 'pending'")
            await tx.commit()


def sign_all(fake: FakeTwilio, port: int, count: int, survivors: int, tag: str) -> list[Signed]:
    url = PUBLIC + "/sms/inbound"
    rnd = random.Random(tag)
    out = []
    for i in range(count):
        # Mostly survivors, some strangers (the neutral line), as a live number would see.
        sender = number(rnd.randrange(survivors)) if rnd.random() < 0.9 else f"+4477008{rnd.randrange(99999):05d}"
        sid = f"SM{tag}{i:0{32 - len(tag)}x}"  # hex digits, as Twilio's are
        params = fake.inbound_params(sender, OUR_NUMBER, rnd.choice(TEXTS), sid)
        headers = {"X-Twilio-Signature": fake.sign(url, params), "Content-Type": "application/x-www-form-urlencoded"}
        out.append(Signed(yarl.URL(f"http://127.0.0.1:{port}/sms/inbound", encoded=True), params, headers))
    return out


async def post(session: aiohttp.ClientSession, req: Signed, latencies: list[float], errors: list[int]) -> None:
    started = time.perf_counter()
    async with session.post(req.url, data=req.data, headers=req.headers) as resp:
        await resp.read()
        latencies.append(time.perf_counter() - started)
        if resp.status != 200:
            errors.append(resp.status)


async def burst(
    session: aiohttp.ClientSession, reqs: list[Signed], concurrency: int
) -> tuple[float, list[float], list[int]]:
    latencies: list[float] = []
    errors: list[int] = []
    queue = iter(reqs)

    async def worker() -> None:
        for req in queue:
            await post(session, req, latencies, errors)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, errors


async def steady(session: aiohttp.ClientSession, reqs: list[Signed], rate: float) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    errors: list[int] = []
    rnd = random.Random(7)
    tasks = []
    at = time.perf_counter()
    for req in reqs:
        at += rnd.expovariate(rate)
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(session, req, latencies, errors)))
    await asyncio.gather(*tasks)
    return latencies, errors


async def quiet(db_path: Path, limit: float = 30.0) -> bool:
    """Wait until serve's outbox has nothing pending (read from the file, as a second reader); False if it still had."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            pending = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
        finally:
            conn.close()
        if not pending:
            return True
        await asyncio.sleep(0.1)
    return False


async def settle(fake: FakeTwilio, replies: int, limit: float = 60.0) -> float:
    """Wait until the burst's replies have all reached the Twilio API; return how long that took."""
    started = time.perf_counter()
    while len(fake.messages) < replies and time.perf_counter() - started < limit:
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_listening(port: int, proc: asyncio.subprocess.Process) -> None:
    for _ in range(600):
        if proc.returncode is not None:
            raise SystemExit(f"safecheck serve exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise SystemExit("safecheck serve did not start listening")


async def run(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="sms-bench-"))
    port = free_port()
    async with FakeTwilio() as fake:
        env = env_for(folder, port, fake.base_url)
        t0 = time.perf_counter()
        await prepare(folder, env, args.survivors)
        print(f"prepared {args.survivors} onboarded SMS survivors in {time.perf_counter() - t0:.1f} s ({folder})")
        burst_reqs = sign_all(fake, port, args.burst, args.survivors, "b0")
        steady_reqs = {
            rate: sign_all(fake, port, int(rate * args.seconds), args.survivors, f"c{j}")
            for j, rate in enumerate(args.rate)
        }
        steady_lat: dict[float, tuple[list[float], list[int]]] = {}
        with (folder / "serve.log").open("w") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli.main", "serve", env=env, cwd=folder, stdout=log, stderr=log
            )
            try:
                await wait_listening(port, proc)
                connector = aiohttp.TCPConnector(limit=args.concurrency * 4)
                async with aiohttp.ClientSession(connector=connector) as session:
                    took, b_lat, b_err = await burst(session, burst_reqs, args.concurrency)
                    drained = await settle(fake, len(burst_reqs))  # replies still going out would skew the next phase
                    for rate, reqs in steady_reqs.items():
                        await quiet(folder / "safecheck.db")  # each rate starts with nothing left to send
                        steady_lat[rate] = await steady(session, reqs, rate)
                await asyncio.sleep(2)
            finally:
                proc.terminate()
                await proc.wait()
    with sqlite3.connect(folder / "safecheck.db") as conn:
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT provider_id) FROM inbound_messages WHERE provider_id NOT LIKE 'SMsetup%'"
        ).fetchone()
    sent = len(burst_reqs) + sum(len(reqs) for reqs in steady_reqs.values())
    print(f"burst: {len(burst_reqs)} texts, {args.concurrency} in flight")
    print(f"  inbound messages/s through the signed webhook: {len(burst_reqs) / took:.0f}")
    print(f"  answer latency p50 / p99: {pct(b_lat, 50):.1f} / {pct(b_lat, 99):.1f} ms; non-200: {len(b_err)}")
    print(f"  replies all through the Twilio API {drained:.1f} s after the last answer")
    summary: dict[str, object] = {"burst_per_s": round(len(burst_reqs) / took, 1), "steady": {}}
    for rate, (s_lat, s_err) in steady_lat.items():
        print(f"steady: {rate:g} texts/s (Poisson, open loop) for {args.seconds:g} s, {len(s_lat)} texts")
        print(
            f"  answer latency p50 / p99 / max: {pct(s_lat, 50):.1f} / {pct(s_lat, 99):.1f} / "
            f"{max(s_lat) * 1000:.1f} ms (goal p99 <= 50 ms at 200/s); mean {statistics.mean(s_lat) * 1000:.1f} ms; "
            f"non-200: {len(s_err)}"
        )
        summary["steady"][f"{rate:g}"] = {  # type: ignore[index]
            "p50_ms": round(pct(s_lat, 50), 1), "p99_ms": round(pct(s_lat, 99), 1),
            "max_ms": round(max(s_lat) * 1000, 1), "n": len(s_lat), "non_200": len(s_err),
        }
    print(f"replies sent through the Twilio API: {len(fake.messages)}")
    print(f"stored: {stored[0]} rows, {stored[1]} distinct MessageSids, of {sent} texts sent")
    ok = stored[0] == stored[1] == sent and not b_err and not any(err for _, err in steady_lat.values())
    print("OK: every text stored exactly once" if ok else "FAILED: texts lost, duplicated or refused")
    print(json.dumps({**summary, "ok": ok}, separators=(",", ":")))
    if ok:
        shutil.rmtree(folder, ignore_errors=True)  # a failed run keeps its database and serve.log to look at
    return 0 if ok else 1


def rates(text: str) -> list[float]:
    """`--rate 100,200`: one steady phase per rate, in that order (0 alone: no steady phase)."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate or a comma-separated list of rates") from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError("rates must not be negative")
    return [v for v in values if v > 0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.sms_webhook", description=__doc__.splitlines()[0])
    p.add_argument("--survivors", type=int, default=200)
    p.add_argument("--burst", type=int, default=1000, help="texts in the burst phase")
    p.add_argument("--concurrency", type=int, default=50, help="webhook requests in flight during the burst")
    p.add_argument("--rate", type=rates, default=[50.0],
                   help="steady phase: texts per second, or several (100,200), one phase each (0 skips it)")
    p.add_argument("--seconds", type=float, default=10.0, help="steady phase length")
    args = p.parse_args(argv)
    if min(args.survivors, args.burst, args.concurrency) < 1 or args.seconds <= 0:
        p.error("--survivors, --burst, --concurrency and --seconds must be positive")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
