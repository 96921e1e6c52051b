"""Benchmark: N simulated survivors answer check-ins through the real pipeline on a real SQLite file.

    .venv/bin/python -m bench.pipeline --survivors 1000

Everything is the production code path: `handle_inbound` on a WAL file with synchronous=FULL, real
AES-GCM and HMAC, the timer runner and a concurrently running dispatcher. Only time is pinned (a
FixedClock moved by hand) so every run fires the same timers. Two measured phases: a burst (every
survivor answers at once) and a steady rate (answers arrive open-loop at a Poisson rate, `--rate`).
Prints the figures, checks the database afterwards, and exits 1 if the pipeline lost, duplicated or
mis-alerted anything.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import math
import os
import random
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from bench.burst import run_round
from bench.checks import Expected, verify
from bench.phase import Figures, Probe, instrument
from bench.report import Run, peak_rss_mib, print_report, summary
from bench.sqlite_raw import hop_rate, sqlite3_rate
from bench.sqlprofile import SqlProfile, python_hotspots
from bench.steady import Steady, run_steady
from bench.survivors import START, create_service, onboard_all
from bot.bootstrap import open_app
from bot.channels.simulator import SimulatorChannel
from bot.clock import FixedClock
from bot.config import Settings
from bot.inbound import Outcome


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__.splitlines()[0])
    p.add_argument("--survivors", type=int, default=1000, help="simulated survivors (default 1000)")
    p.add_argument("--checkins", type=int, default=1, help="check-in rounds, one a day (default 1)")
    p.add_argument("--codeword-share", type=float, default=0.1,
                   help="fraction who put their codeword in the free-text answer (default 0.1)")
    p.add_argument("--db", type=Path, default=None, help="folder for the database (default: a fresh temp dir)")
    p.add_argument("--seed", type=int, default=1,
                   help="seed for who uses the codeword and for the arrival times (default 1)")
    p.add_argument("--raw-seconds", type=float, default=3.0, help="length of each raw insert-rate run (default 3)")
    p.add_argument("--rate", type=float, default=150.0,
                   help="steady-rate phase: answers per second, Poisson, open loop (default 150; 0 skips the phase)")
    p.add_argument("--profile", action="store_true",
                   help="profile the burst phase: time on the writer's thread per kind of unit of work, and cProfile")
    args = p.parse_args(argv)
    if args.survivors < 1 or args.checkins < 1 or args.raw_seconds <= 0:
        p.error("--survivors, --checkins and --raw-seconds must be positive")
    if not 0.0 <= args.rate < math.inf:
        p.error("--rate must be 0 (no steady-rate phase) or a positive number of answers per second")
    if not 0.0 <= args.codeword_share <= 1.0:
        p.error("--codeword-share must be between 0 and 1")
    if args.db is not None and not args.db.is_dir():
        p.error(f"--db {args.db} is not an existing folder")
    if args.db is not None and any((args.db / name).exists() for name in ("bench.db", "bench.key")):
        p.error(f"--db {args.db} already holds bench.db or bench.key from an earlier run: "
                "delete them or pick another folder")
    return args


async def bench(args: argparse.Namespace, folder: Path) -> int:
    settings = Settings(db_path=folder / "bench.db", key_file=folder / "bench.key")
    os.environ.pop("SAFECHECK_KEY", None)  # use the key file created here, never a key from the environment
    rng = random.Random(args.seed)
    n = args.survivors
    load_before = os.getloadavg()[0]
    raw_before = await hop_rate(folder, args.raw_seconds)

    t0 = time.perf_counter()
    service_id = await create_service(settings)
    clock = FixedClock(START)
    fig = Figures()
    st = Steady(rate=args.rate)

    def received(_: object) -> None:
        fig.delivered += 1

    sim = SimulatorChannel(listener=received)
    sql = SqlProfile()
    profiler = cProfile.Profile()
    # The writer-thread timer wraps every unit of work, so it is installed only when asked for.
    with sql.installed() if args.profile else nullcontext(sql):
        async with open_app(settings, clock=clock, simulator=sim, seed=args.seed) as app:
            survivors, _ = await onboard_all(app, sim, service_id, n)
            if args.profile:
                sql.watch(app.db)
            setup_seconds = time.perf_counter() - t0
            rss_setup = peak_rss_mib()
            probe = Probe(phase=fig)
            instrument(app, probe)
            sql.enabled = True
            if args.profile:
                profiler.enable()
            # At least one codeword answer whenever the share is above zero, so small runs still time an alert.
            k = min(n, max(1, round(n * args.codeword_share))) if args.codeword_share > 0 else 0
            for rnd in range(args.checkins):
                chosen = set(rng.sample(range(n), k))
                await run_round(app, clock, sim, survivors, fig, rnd, chosen)
            if args.profile:
                profiler.disable()
            sql.enabled = False  # --profile covers the burst only: its report divides by the burst's wall time
            if args.rate > 0:
                # One more day: every survivor answers one more check-in, the answers arriving at --rate per second.
                probe.phase = st
                chosen = set(rng.sample(range(n), k))
                await run_steady(app, clock, sim, survivors, st, args.checkins, chosen, rng)
    rss_peak = peak_rss_mib()
    raw_after = await hop_rate(folder, args.raw_seconds)
    raw_sqlite3 = sqlite3_rate(folder, args.raw_seconds)
    steady = args.rate > 0
    bad = fig.outcomes + st.outcomes
    checks = verify(settings.db_path, Expected(
        survivors=n, rounds=args.checkins + steady, inbound=n * 8 + fig.inbound + st.inbound,
        codeword_answers=fig.codeword_expected + st.codeword_expected,
        bad_outcomes=sum(v for k, v in bad.items() if k != Outcome.PROCESSED.value), delivered=fig.delivered,
    ))

    run = Run(args=args, db_path=settings.db_path, load_before=load_before, setup_seconds=setup_seconds,
              rss_setup=rss_setup, rss_peak=rss_peak, raw_before=raw_before, raw_after=raw_after,
              raw_sqlite3=raw_sqlite3, burst=fig, steady=st if steady else None, checks=checks)
    result = summary(run)
    print_report(run, result)
    if args.profile:
        print()
        print(sql.report(fig.timer_seconds + fig.answer_seconds + fig.drain_seconds))
        print()
        print(python_hotspots(profiler))
    print()
    print(json.dumps(result, separators=(",", ":")))
    return 0 if result["ok"] else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s %(message)s")
    if args.db is not None:
        return asyncio.run(bench(args, args.db.resolve()))
    with tempfile.TemporaryDirectory(prefix="safecheck-bench-") as tmp:
        return asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
