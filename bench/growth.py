"""Benchmark: database bytes per survivor per check-in, with sent messages pruned after a short window and without.

    .venv/bin/python -m bench.growth --survivors 200

Runs the real pipeline twice on fresh files (as `bench.pipeline` does: onboarding, then one check-in a
day answered by every survivor, with the dispatcher running). In the pruned run the service keeps sent
messages' content `--window-days` days, and `bot.pruning.prune` runs after each day's check-in, as
serve runs it every few minutes. The first `--window-days` days fill the window; growth is measured over
the `--checkins` days after them, as pages in use (page_count - freelist_count) after a checkpoint.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from bench.burst import run_round
from bench.phase import Figures
from bench.survivors import START, checkin_time, create_service, onboard_all
from bot import commands, pruning
from bot.bootstrap import open_app
from bot.channels.simulator import SimulatorChannel
from bot.clock import FixedClock
from bot.config import Settings


def used_bytes(path: Path) -> int:
    """Bytes of pages in use, once the WAL is copied in (free pages are reused before the file grows)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
        return int(pages * conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


async def run(folder: Path, survivors: int, warmup: int, checkins: int, window: int | None) -> float:
    """Bytes per survivor per check-in over the measured days; `window` None: never pruned."""
    os.environ.pop("SAFECHECK_KEY", None)
    settings = Settings(db_path=folder / "growth.db", key_file=folder / "growth.key")
    service_id = await create_service(settings)
    clock = FixedClock(START)
    sim = SimulatorChannel()
    async with open_app(settings, clock=clock, simulator=sim, seed=1) as app:
        if window is not None:
            await commands.configure_service(app, service_id, sent_content_days=window)
        people, _ = await onboard_all(app, sim, service_id, survivors)
        start = 0
        for day in range(warmup + checkins):
            if day == warmup:
                start = used_bytes(settings.db_path)
            await run_round(app, clock, sim, people, Figures(), day, set())
            if window is not None:
                clock.set(checkin_time(day) + timedelta(hours=1))  # what serve's pruner does during the day
                await pruning.prune(app.db, clock)
        end = used_bytes(settings.db_path)
    return (end - start) / (survivors * checkins)


async def bench(args: argparse.Namespace) -> None:
    figures = {}
    for label, window in (("never pruned", None), (f"pruned after {args.window_days} days", args.window_days)):
        with tempfile.TemporaryDirectory(prefix="safecheck-growth-") as tmp:
            figures[label] = await run(Path(tmp), args.survivors, args.window_days, args.checkins, window)
    print(f"{args.survivors} survivors, {args.checkins} check-ins measured after {args.window_days} days' warm-up")
    for label, value in figures.items():
        print(f"database bytes per survivor per check-in, {label}: {value:,.0f}")
    kept, pruned = figures.values()
    print(f"pruned / never pruned: {pruned / kept:.2f}")
    summary = {"window_days": args.window_days, "never_pruned": round(kept), "pruned": round(pruned)}
    print(json.dumps({**summary, "ratio": round(pruned / kept, 3)}, separators=(",", ":")))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__.splitlines()[0])
    p.add_argument("--survivors", type=int, default=200, help="simulated survivors (default 200)")
    p.add_argument("--checkins", type=int, default=4, help="check-in days measured (default 4)")
    p.add_argument("--window-days", type=int, default=2, help="the short pruning window (default 2, the least allowed)")
    args = p.parse_args(argv)
    if args.survivors < 1 or args.checkins < 1 or args.window_days < 2:
        p.error("--survivors and --checkins must be positive, --window-days at least 2")
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s %(message)s")
    asyncio.run(bench(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
