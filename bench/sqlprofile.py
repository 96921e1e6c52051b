"""Opt-in profiling for `bench.pipeline --profile`: the writer thread's work, and cProfile of our code.

The writer timer wraps storage.db's `_unit_on_writer` (each unit of work is one call to it, on the
writer's thread), so it measures how long units hold the writer, by kind: time the event-loop
profiler cannot see. `watch` also times every job the writer's thread runs (units, the commits of
batches that several units shared, statement-by-statement transactions, WAL checkpoints), so the
busy share it reports is the whole thread's. Bench-only: never used by the application.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from storage import db

T = TypeVar("T")


class SqlProfile:
    """Per kind of unit of work: how many ran on the writer's thread, and for how long."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.jobs = 0  # every call run on the writer's thread, units included (see `watch`)
        self.busy = 0.0
        self.enabled = False

    def watch(self, database: db.Database) -> None:
        """Time every job `database`'s writer thread runs while enabled (wraps this instance's hop)."""
        writer = database._writer
        original = writer.call
        profile = self

        async def call(fn: Callable[[], T]) -> T:
            def timed() -> T:  # on the writer's thread
                if not profile.enabled:
                    return fn()
                start = time.perf_counter()
                try:
                    return fn()
                finally:
                    profile.jobs += 1
                    profile.busy += time.perf_counter() - start

            return await original(timed)

        writer.call = call  # type: ignore[method-assign]

    @contextmanager
    def installed(self) -> Iterator[SqlProfile]:
        original: Any = db._unit_on_writer
        profile = self

        def timed(tx: db.Tx, unit: Any, first: bool, commit_now: bool) -> Any:  # on the writer's thread
            if not profile.enabled:
                return original(tx, unit, first, commit_now)
            key = getattr(unit, "__qualname__", repr(unit))
            start = time.perf_counter()
            try:
                return original(tx, unit, first, commit_now)
            finally:
                profile.calls[key] += 1
                profile.seconds[key] += time.perf_counter() - start

        db._unit_on_writer = timed
        try:
            yield self
        finally:
            db._unit_on_writer = original

    def report(self, wall: float, top: int = 15) -> str:
        total = sum(self.seconds.values())
        units = sum(self.calls.values()) or 1
        other = max(0.0, self.busy - total)
        lines = [
            f"writer thread: busy {self.busy:.2f} s of {wall:.2f} s wall ({100 * self.busy / wall:.0f}%), "
            f"{self.jobs} jobs, each one hop from the event loop",
            f"  units of work: {total:.2f} s ({100 * total / wall:.0f}% of the wall time), {units} units, "
            f"{1e6 * total / units:.0f} us each on average",
            f"  everything else (shared commits, statement-by-statement transactions, checkpoints): {other:.2f} s "
            f"in {max(0, self.jobs - units)} jobs",
            f"{'units':>8} {'total s':>8} {'us/unit':>8} {'share':>6}  unit of work",
        ]
        for key, secs in sorted(self.seconds.items(), key=lambda kv: -kv[1])[:top]:
            n = self.calls[key]
            lines.append(f"{n:>8} {secs:>8.2f} {1e6 * secs / n:>8.0f} {100 * secs / (total or 1):>5.1f}%  {key}")
        return "\n".join(lines)


def python_hotspots(profiler: cProfile.Profile, top: int = 25) -> str:
    """cProfile of the event-loop thread, sorted by own time, then by cumulative time for our packages."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(r"/(bot|flows|safety|storage)/", top)
    return out.getvalue()
