"""Opt-in profiling for `bench.pipeline --profile`: time spent in SQLite per statement, and cProfile of our code.

The SQL timer wraps aiosqlite's private `Connection._execute` (every call the worker thread runs goes
through it), so it measures the time SQLite itself takes on that thread, statement by statement —
time the event-loop profiler cannot see. Bench-only: never used by the application.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite


class SqlProfile:
    """Per-statement counts and seconds spent on the SQLite worker thread."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.enabled = False

    def _key(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
        name = getattr(fn, "__name__", repr(fn))
        if name in ("execute", "executemany") and args:
            return " ".join(str(args[0]).split())[:110]
        return name.upper()  # COMMIT, ROLLBACK, FETCHONE, FETCHALL, CLOSE, CURSOR

    @contextmanager
    def installed(self) -> Iterator[SqlProfile]:
        original: Any = aiosqlite.Connection._execute
        profile = self

        async def timed(conn: aiosqlite.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            if not profile.enabled:
                return await original(conn, fn, *args, **kwargs)
            key = profile._key(fn, args)

            def run() -> Any:  # runs on the worker thread
                start = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    profile.calls[key] += 1
                    profile.seconds[key] += time.perf_counter() - start

            return await original(conn, run)

        setattr(aiosqlite.Connection, "_execute", timed)  # noqa: B010 (a private method: keep mypy out of it)
        try:
            yield self
        finally:
            setattr(aiosqlite.Connection, "_execute", original)  # noqa: B010

    def report(self, wall: float, top: int = 15) -> str:
        total = sum(self.seconds.values())
        hops = sum(self.calls.values())
        transactions = self.calls.get("BEGIN IMMEDIATE", 0) or 1
        lines = [
            f"SQLite worker-thread time: {total:.2f} s of {wall:.2f} s wall ({100 * total / wall:.0f}% busy); "
            f"{hops} thread round trips for {transactions} write transactions ({hops / transactions:.0f} each)",
            f"{'calls':>8} {'total s':>8} {'us/call':>8} {'share':>6}  statement",
        ]
        for key, secs in sorted(self.seconds.items(), key=lambda kv: -kv[1])[:top]:
            n = self.calls[key]
            lines.append(f"{n:>8} {secs:>8.2f} {1e6 * secs / n:>8.0f} {100 * secs / total:>5.1f}%  {key}")
        return "\n".join(lines)


def python_hotspots(profiler: cProfile.Profile, top: int = 25) -> str:
    """cProfile of the event-loop thread, sorted by own time, then by cumulative time for our packages."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(r"/(bot|flows|safety|storage)/", top)
    return out.getvalue()
