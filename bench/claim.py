"""Benchmark: one dispatcher claim (the read at the start of each round) against a large backlog.

    .venv/bin/python -m bench.claim --pending 13600

Builds a database with the real migrations holding `--pending` due survivor rows spread over
`--survivors` cases (about 2.7 each, as the 5,000-survivor burst left them) and a few alerts, then
times the dispatcher's read of one round, as it runs it: on the read connection, with `--busy`
survivors being served. Prints min / median / max over `--repeat` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import outbox
from storage.db import Database, ts

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def create(path: Path, pending: int, survivors: int, seed: int) -> None:
    db = await Database.open(path, create=True)
    await db.close()
    rng = random.Random(seed)
    message = json.dumps({"key": "Next one:\nSince we last spoke, have you felt afraid?", "params": {"sender": "Alex"},
                          "options": ["No", "A little", "A lot"]})
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")  # bare rows: the claim reads no other table
    rows = []
    for _ in range(pending):
        at = ts(NOW - timedelta(seconds=rng.uniform(0, 120)))
        rows.append(("survivor", 1 + rng.randrange(survivors), "simulator", b"x" * 60, message, at, at))
    for _ in range(20):
        rows.append(("practitioner", None, "inbox", None, '{"kind": "alert"}', ts(NOW), ts(NOW)))
    conn.executemany(
        "INSERT INTO outbox (recipient, case_id, channel, address_enc, message, status, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
        rows,
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def one_claim(db: Database, busy: set[int]) -> int:
    """What the dispatcher reads at the start of a round; the rows it gets back."""
    async with db.reading() as tx:
        if hasattr(outbox, "claim"):
            return len(await outbox.claim(tx, NOW, outbox.Busy(cases=frozenset(busy))))
        items = await outbox.due(tx, NOW)  # before issue 10: read, sort and parse, then drop the busy in Python
        return len([item for item in items if item.case_id not in busy])


async def bench(args: argparse.Namespace, folder: Path) -> None:
    path = folder / "claim.db"
    await create(path, args.pending, args.survivors, args.seed)
    db = await Database.open(path)
    try:
        busy = set(range(1, args.busy + 1))
        await one_claim(db, busy)  # warm the page cache
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            got = await one_claim(db, busy)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        await db.close()
    print(f"pending rows: {args.pending} over {args.survivors} survivors, {args.busy} of them being served")
    print(f"rows claimed per round: {got}")
    print(f"one claim, ms: min {min(times):.2f} / median {statistics.median(times):.2f} / max {max(times):.2f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.claim", description=__doc__.splitlines()[0])
    p.add_argument("--pending", type=int, default=13600, help="due survivor rows (default 13600)")
    p.add_argument("--survivors", type=int, default=5000, help="cases they are spread over (default 5000)")
    p.add_argument("--busy", type=int, default=32, help="survivors being served meanwhile (default 32)")
    p.add_argument("--repeat", type=int, default=50, help="claims timed (default 50)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="safecheck-claim-") as tmp:
        asyncio.run(bench(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
