"""Issue 10's figures in one run, each against its target: throughput, alert latency, webhook latency,
backlog drain and database growth.

    .venv/bin/python -m bench.issue10 [--runs 3]

Each phase is one of the existing benchmarks, run as its own process (a fresh event loop, database
and memory each time) with the settings the issue names; this module only runs them, reads their
figures back and compares. With --runs N every figure is reported as min / median over the runs.
Progress goes to stderr, the table and a final JSON line to stdout; the exit code is 1 if a target
was missed or a benchmark's own checks failed.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PY = sys.executable


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    target: str
    meets: Callable[[float], bool]


FIGURES = [
    Figure("inbound_per_s", "inbound messages/s, burst of 1,000 survivors", "msg/s", ">= 1,000", lambda v: v >= 1000),
    Figure(
        "fraction_of_raw", "  as a share of raw SQLite (1-row commits, a hop each)", "%", ">= 50 %", lambda v: v >= 50
    ),
    Figure("codeword_alert_p50", "codeword -> alert committed p50, 300 answers/s", "ms", "", lambda v: True),
    Figure(
        "codeword_alert_p99", "codeword -> alert committed p99, 300 answers/s", "ms", "<= 100 ms", lambda v: v <= 100
    ),
    Figure("codeword_to_channel_p99", "codeword -> handed to the practitioner's channel p99", "ms", "", lambda v: True),
    Figure("webhook_p99_100", "SMS webhook answer p99 at 100 texts/s", "ms", "", lambda v: True),
    Figure("webhook_p99_200", "SMS webhook answer p99 at 200 texts/s", "ms", "<= 50 ms", lambda v: v <= 50),
    Figure("drain_s_5000", "drain after a 5,000-survivor burst (simulator)", "s", "<= 30 s", lambda v: v <= 30),
    Figure("bytes_never_pruned", "database bytes per survivor per check-in, never pruned", "B", "", lambda v: True),
    Figure("bytes_pruned", "  the same, sent content pruned after 2 days", "B", "", lambda v: True),
    Figure("growth_ratio", "  pruned / never pruned", "", "<= 0.5", lambda v: v <= 0.5),
]


def run(args: list[str], label: str) -> str:
    """One benchmark as a process of its own; its stdout (a failed run is reported, not hidden)."""
    print(f"[{time.strftime('%H:%M:%S')}] {label}: python -m {' '.join(args)}", file=sys.stderr, flush=True)
    done = subprocess.run([PY, "-m", *args], capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode not in (0, 1):  # 1: the benchmark ran and one of its own checks failed
        raise SystemExit(f"{label} failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


def last_json(out: str) -> dict[str, Any]:
    return dict(json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("{"))))


def webhook_p99(out: str) -> float:
    found = re.search(r"steady: .*\n\s+answer latency p50 / p99 / max: [\d.]+ / ([\d.]+) /", out)
    if found is None:
        raise SystemExit("bench.sms_webhook printed no steady-phase latency")
    return float(found.group(1))


def growth(out: str) -> tuple[float, float, float]:
    never = re.search(r"never pruned: ([\d,]+)", out)
    pruned = re.search(r"pruned after \d+ days: ([\d,]+)", out)
    if never is None or pruned is None:
        raise SystemExit("bench.growth printed no figures")
    a, b = (float(m.group(1).replace(",", "")) for m in (never, pruned))
    return a, b, b / a


def one_run(quick: bool) -> tuple[dict[str, float], bool]:
    """Every figure once; and whether each benchmark's own checks passed."""
    seconds = "8" if quick else "20"
    pipeline = last_json(run(["bench.pipeline", "--survivors", "1000", "--rate", "300"], "burst + 300/s"))
    big = last_json(run(["bench.pipeline", "--survivors", "5000", "--rate", "0"], "5,000-survivor burst"))
    hooks = {
        rate: webhook_p99(
            run(["bench.sms_webhook", "--burst", "200", "--rate", rate, "--seconds", seconds], f"webhook {rate}/s")
        )
        for rate in ("100", "200")
    }
    never, pruned, ratio = growth(run(["bench.growth"], "database growth"))
    steady = pipeline["steady"]
    figures = {
        "inbound_per_s": pipeline["inbound_per_s"],
        "fraction_of_raw": 100 * pipeline["fraction_of_raw"],
        "codeword_alert_p50": steady["codeword_alert_ms"]["p50"],
        "codeword_alert_p99": steady["codeword_alert_ms"]["p99"],
        "codeword_to_channel_p99": steady["codeword_to_inbox_ms"]["p99"],
        "webhook_p99_100": hooks["100"],
        "webhook_p99_200": hooks["200"],
        "drain_s_5000": big["drain_s"],
        "bytes_never_pruned": never,
        "bytes_pruned": pruned,
        "growth_ratio": ratio,
    }
    return figures, bool(pipeline["ok"] and big["ok"])


def fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "":
        return f"{value:.2f}"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.issue10", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=1, help="repeat everything; report min / median (default 1)")
    p.add_argument("--quick", action="store_true", help="shorter webhook phases (8 s instead of 20 s)")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    runs = [one_run(args.quick) for _ in range(args.runs)]
    checks_ok = all(ok for _, ok in runs)
    print(f"\nIssue 10 figures, {args.runs} run(s): min / median; 'ok' judges the median")
    print(f"{'figure':<58} {'min':>10} {'median':>10}  {'target':<10} verdict")
    missed = 0
    result: dict[str, Any] = {"runs": args.runs, "checks_ok": checks_ok}
    for f in FIGURES:
        values = [figures[f.key] for figures, _ in runs]
        best = min(values)  # the convention: min / median of the runs, whatever the figure
        median = statistics.median(values)
        verdict = ("ok" if f.meets(median) else "MISSED") if f.target else ""
        missed += verdict == "MISSED"
        print(f"{f.label:<58} {fmt(best, f.unit):>10} {fmt(median, f.unit):>10}  {f.target:<10} {verdict}")
        result[f.key] = {"best": round(best, 3), "median": round(median, 3), "all": [round(v, 3) for v in values]}
    print("benchmarks' own checks (nothing lost, nothing duplicated):", "ok" if checks_ok else "FAILED")
    print(json.dumps(result, separators=(",", ":")))
    return 0 if checks_ok and not missed else 1


if __name__ == "__main__":
    sys.exit(main())
