"""The benchmark's report: the printed tables and the one-line JSON summary, from what a run measured."""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.phase import Figures
from bench.steady import Steady
from bench.survivors import REPLIES

Row = tuple[str, str, str]  # name, value, note
PERCENTILES = {"p50": 50, "p99": 99, "max": 100}


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile in milliseconds (nan when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def jround(value: float, digits: int = 1) -> float | None:
    """Round for the JSON line; NaN (no samples) becomes null, since NaN is not JSON."""
    return None if math.isnan(value) else round(value, digits)


def pcts_json(values: list[float], *keys: str, digits: int = 1) -> dict[str, float | None]:
    """The percentiles named by `keys` ("p50", "p99", "max") in ms, rounded for the JSON line."""
    return {key: jround(pct(values, PERCENTILES[key]), digits) for key in keys}


def spread(values: list[float], *formats: str) -> str:
    """"p50 / p99 / max ms" for a table, one format per figure (two formats: p50 and p99 only)."""
    return " / ".join(format(pct(values, p), f) for p, f in zip((50, 99, 100), formats, strict=False)) + " ms"


def share_under(values: list[float], seconds: float) -> float:
    """The fraction of values below `seconds` (nan when empty)."""
    return sum(v < seconds for v in values) / len(values) if values else math.nan


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def machine() -> dict[str, Any]:
    return {
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(terse=True),
    }


@dataclass(frozen=True)
class Run:
    """Everything one run measured and checked."""

    args: argparse.Namespace
    db_path: Path
    load_before: float
    setup_seconds: float
    rss_setup: float
    rss_peak: float
    raw_before: float  # durable single-row commits/s through one thread hop each, before and after the run
    raw_after: float
    raw_sqlite3: float
    burst: Figures
    steady: Steady | None  # None with --rate 0
    checks: list[tuple[str, int, int]]  # (name, got, expected)

    @property
    def raw(self) -> float:
        return (self.raw_before + self.raw_after) / 2

    @property
    def rate(self) -> float:
        return self.burst.inbound / self.burst.answer_seconds


def measured(values: list[float]) -> list[float]:
    """The values that were measured (a unit whose writer time was not seen is NaN)."""
    return [v for v in values if not math.isnan(v)]


def alert_json(fig: Figures) -> dict[str, Any]:
    cw = fig.codeword_latency
    return {"codeword_alert_ms": {**pcts_json(cw, "p50", "p99", "max"), "n": len(cw)},
            "codeword_alert_on_writer_ms": pcts_json(measured(fig.codeword_service), "p50", "p99", digits=2),
            "codeword_to_channel_ms": {**pcts_json(fig.codeword_to_channel, "p50", "p99", "max"),
                                       "n": len(fig.codeword_to_channel)}}


def writer_busy(st: Steady) -> float:
    """The answers' own time on the writer's thread over the phase's wall time: the writer's utilisation by them."""
    return sum(measured(st.service)) / st.wall


def steady_summary(st: Steady) -> dict[str, Any]:
    return {
        "rate_offered": st.rate, "rate_offered_realised": round(st.inbound / st.span, 1),
        "rate_achieved": round(st.inbound / st.wall, 1), "inbound": st.inbound, "seconds": round(st.wall, 2),
        "checkins_started_per_s": round(st.timers_fired / st.timer_seconds, 1) if st.timer_seconds else None,
        "writer_busy_answers": round(writer_busy(st), 3),
        **alert_json(st),
        "alerts_under_100ms": jround(share_under(st.codeword_latency, 0.1), 3),
        "any_answer_ms": pcts_json(st.latency, "p50", "p99", "max"),
        "start_lag_ms": pcts_json(st.start_lag, "p99", "max", digits=2),
        "waited_on_own_previous": st.waited,
    }


def summary(run: Run) -> dict[str, Any]:
    """The JSON summary line: the burst figures at the top level, the steady-rate ones under "steady"."""
    args, fig = run.args, run.burst
    return {
        "survivors": args.survivors, "rounds": args.checkins, "codeword_share": args.codeword_share,
        "inbound_per_s": round(run.rate, 1), "inbound": fig.inbound, "answer_s": round(fig.answer_seconds, 2),
        "drain_s": round(fig.drain_seconds, 2), "drained": fig.drained,
        "checkins_started_per_s": round(fig.timers_fired / fig.timer_seconds, 1) if fig.timer_seconds else None,
        **alert_json(fig),
        "raw_hop_per_s": round(run.raw, 1), "raw_sqlite3_per_s": round(run.raw_sqlite3, 1),
        # The target's ratio is fraction_of_raw: one committed row per transaction through one thread hop each.
        "fraction_of_raw": round(run.rate / run.raw, 3),
        "fraction_of_raw_sqlite3": round(run.rate / run.raw_sqlite3, 3), "peak_rss_mib": round(run.rss_peak, 1),
        "steady": steady_summary(run.steady) if run.steady is not None else None,
        "setup_s": round(run.setup_seconds, 1), "ok": all(got == want for _, got, want in run.checks), **machine(),
    }


def alert_rows(fig: Figures, queue_note: str, writer_note: str) -> list[Row]:
    cw = fig.codeword_latency
    return [
        ("codeword -> alert committed", spread(cw, ",.0f", ",.0f", ",.0f"), f"p50/p99/max of {len(cw)}{queue_note}"),
        ("  of which holding the writer", spread(measured(fig.codeword_service), ".1f", ".1f", ".1f"), writer_note),
    ]


def channel_row(fig: Figures) -> Row:
    return ("codeword -> practitioner channel", spread(fig.codeword_to_channel, ",.0f", ",.0f"),
            f"p50/p99 of {len(fig.codeword_to_channel)}, until the dispatcher calls the channel's send")


def burst_rows(run: Run, started_per_s: float) -> list[Row]:
    fig = run.burst
    return [
        ("inbound messages/s", f"{run.rate:,.0f}", f"{fig.inbound} msgs in {fig.answer_seconds:.2f} s"),
        ("check-ins started/s (timers)", f"{started_per_s:,.0f}",
         f"{fig.timers_fired} timers in {fig.timer_seconds:.2f} s"),
        *alert_rows(fig, f", incl. queueing behind {run.args.survivors} concurrent survivors",
                    "on the writer's thread, BEGIN..COMMIT: the same alert with no queue"),
        channel_row(fig),
        ("any answer, call -> return", spread(fig.latency, ",.0f", ",.0f"), "p50/p99"),
        ("raw durable inserts/s, one hop each", f"{run.raw:,.0f}",
         f"before {run.raw_before:,.0f}, after {run.raw_after:,.0f}; 1 row per commit"),
        ("raw durable inserts/s, sqlite3", f"{run.raw_sqlite3:,.0f}", "same settings, no thread hop"),
        ("pipeline / raw, one hop each", f"{run.rate / run.raw:.1%}",
         "inbound msgs/s over raw commits/s: issue 10's target, >= 50 %"),
        ("pipeline / raw sqlite3, no hop", f"{run.rate / run.raw_sqlite3:.1%}", "for reference, no target"),
        drain_row(fig),
        ("peak RSS", f"{run.rss_peak:,.0f} MiB", f"after setup {run.rss_setup:,.0f} MiB"),
    ]


def steady_rows(st: Steady) -> list[Row]:
    cw = st.codeword_latency
    under = share_under(cw, 0.1)
    return [
        ("offered rate", f"{st.rate:,.0f} msg/s",
         f"{st.inbound} answers planned over {st.span:.1f} s: {st.inbound / st.span:,.0f}/s in this draw"),
        ("achieved rate", f"{st.inbound / st.wall:,.0f} msg/s",
         f"all handled {st.wall:.1f} s after the phase began"),
        ("writer busy with answers", f"{writer_busy(st):.0%}",
         "answers' time on the writer's thread over the phase; the queue grows steeply as this nears 100 %"),
        ("check-ins started/s (timers)", f"{st.timers_fired / st.timer_seconds:,.0f}",
         f"{st.timers_fired} timers in {st.timer_seconds:.2f} s, before the first answer"),
        *alert_rows(st, " (p99 = max below 100 samples)" if len(cw) < 100 else "",
                    "on the writer's thread, BEGIN..COMMIT"),
        ("alerts committed under 100 ms", "n/a" if math.isnan(under) else f"{under:.1%}",
         f"{sum(v < 0.1 for v in cw)} of {len(cw)}"),
        channel_row(st),
        ("any answer, arrival -> return", spread(st.latency, ",.1f", ",.1f", ",.0f"),
         f"p50/p99/max of {len(st.latency)}"),
        ("send start lag", spread(st.start_lag, ".2f", ".2f", ".1f"),
         "planned arrival -> task running (event-loop lateness, counted above)"),
        ("answers behind their own previous", f"{st.waited}",
         "arrived while the same survivor's previous answer was still in progress"),
        drain_row(st),
    ]


def drain_row(fig: Figures) -> Row:
    note = "last answer returned -> nothing pending in the outbox"
    if not fig.drained:
        return ("outbox drain after last answer", f"> {fig.drain_seconds:.0f} s", "NOT DRAINED: gave up waiting")
    return ("outbox drain after last answer", f"{fig.drain_seconds:.2f} s", note)


def print_rows(rows: list[Row]) -> None:
    for name, value, note in rows:
        print(f"  {name:<34} {value:>24}   {note}")


def print_report(run: Run, summary: dict[str, Any]) -> None:
    """Everything but the --profile tables and the JSON line: the setup, both phases' tables and the checks."""
    args, fig, st, n = run.args, run.burst, run.steady, run.args.survivors
    print(f"Safecheck pipeline benchmark — {summary['nproc']} cores, Python {summary['python']}, "
          f"SQLite {summary['sqlite']}, {summary['platform']}")
    print(f"load average (1 min): {run.load_before:.2f} at start, {summary['load_avg_1m']:.2f} at end — other "
          "processes on these cores slow every figure below")
    kept = "kept" if args.db is not None else "a temp dir, deleted at exit"
    print(f"database: {run.db_path} ({kept}; WAL, synchronous=FULL, AES-GCM + HMAC as in production)")
    print(f"setup: {n} survivors enrolled and onboarded ({n * 8} messages via handle_inbound) "
          f"in {run.setup_seconds:.1f} s ({n * 8 / run.setup_seconds:.0f} msg/s incl. enrol, schedule, delivery); "
          f"RSS {run.rss_setup:.0f} MiB")
    print(f"burst phase: {args.checkins} round(s) x {n} survivors x {REPLIES} answers, all survivors at "
          f"once; {fig.codeword_expected} codeword answers (share {args.codeword_share:g}, seed {args.seed})")
    print()
    print_rows(burst_rows(run, summary["checkins_started_per_s"]))
    if st is not None:
        print()
        print(f"steady-rate phase: 1 more round, {n} survivors x {REPLIES} answers arriving open-loop at "
              f"{args.rate:g}/s (Poisson); {st.codeword_expected} codeword answers; every latency counts from the "
              "answer's planned arrival")
        if st.inbound / st.wall < 0.95 * st.inbound / st.span:
            print("  OVERLOADED: the pipeline fell behind the offered rate, so the queue (and every latency below) "
                  "grew for the whole phase: these are not steady-state figures; try a lower --rate")
        print()
        print_rows(steady_rows(st))
    print()
    print("checks (read back from the database file):")
    for name, got, want in run.checks:
        print(f"  {'ok  ' if got == want else 'FAIL'} {name}: {got}" + ("" if got == want else f" (expected {want})"))
