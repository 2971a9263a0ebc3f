"""The "real large CCP" day end to end, pricing included: time and peak memory.

Shape: 150 members in 100 groups, 50,000 accounts, 10^7 position entries, 20,000
instruments (futures and Black-76 options on 40 factors), 2,750 margin and 500 stress
scenarios. One run, timed from the instruments and scenarios to every member's
contribution:

1. pricing: ``instrument_pnl`` in the margin and in the stress scenarios (full
   revaluation of every option);
2. margin and group stress exposures, block by block of accounts
   (``risk.chunked.margin_and_exposures``), each block on ``--threads`` threads;
3. Cover-2, Art 42(3), fund sizing and contributions.

Goals on the 2-core machine: under 30 s and under 4 GiB. Peak memory is the
``tracemalloc`` peak of the timed run (numpy and scipy allocations are traced) and
the process's maximum RSS (which also holds the generated inputs). The same run on
one thread is timed too, for the threads' ratio.

Run: ``python -m benchmarks.bench_large_day`` (``--quick`` for a small day in
seconds, also ``CCP_BENCH_QUICK=1``; ``--threads N``; ``--json FILE``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_risk import HORIZON_DAYS, MARGIN, SEED, Market, generate_market, member_fund
from ccpwaterfall.risk import chunked
from ccpwaterfall.risk.pricing import instrument_pnl
from ccpwaterfall.samples.synthetic import SMALL_CCP_DAY, CcpDay, DayShape, generate_day

GIB = 2**30
LARGE_CCP_DAY = DayShape(
    n_members=150,
    n_groups=100,
    n_accounts=50_000,
    n_instruments=20_000,
    n_positions=10_000_000,
    n_margin_scenarios=2_750,
    n_stress_scenarios=500,
    n_factors=40,
)
TIME_GOAL_SECONDS = 30.0
MEMORY_GOAL_BYTES = 4 * GIB
# Stress scenarios: the first margin scenarios with their moves tripled.
STRESS_SCALE = 3.0


def _stress_market(market: Market, n_stress: int) -> Market:
    scenarios = market.scenarios
    stressed = replace(
        scenarios,
        names=scenarios.names[:n_stress],
        factor_returns=scenarios.factor_returns[:n_stress] * STRESS_SCALE,
        vol_shifts=np.maximum(scenarios.vol_shifts[:n_stress] * STRESS_SCALE, -0.9),
    )
    return replace(market, scenarios=stressed)


def run_day(day: CcpDay, market: Market, stress: Market, threads: int) -> dict[str, Any]:
    """Prices, margin, exposures and the fund of the day; returns figures and timings."""
    start = time.perf_counter()
    margin_pnl = instrument_pnl(market.instruments, market.spot, market.scenarios, HORIZON_DAYS)
    stress_pnl = instrument_pnl(stress.instruments, stress.spot, stress.scenarios, HORIZON_DAYS)
    priced = time.perf_counter()
    margin, member_exposures = chunked.margin_and_exposures(
        day.positions,
        margin_pnl,
        stress_pnl,
        day.account_member,
        day.n_members,
        params=MARGIN,
        threads=threads,
    )
    aggregated = time.perf_counter()
    sizing, contributions = member_fund(day, margin, member_exposures)
    done = time.perf_counter()
    return {
        "threads": threads,
        "seconds": done - start,
        "pricing_seconds": priced - start,
        "margin_and_exposures_seconds": aggregated - priced,
        "fund_seconds": done - aggregated,
        "fund_size": sizing.size,
        "total_margin": float(margin.sum()),
        "contributions_sum": float(contributions.sum()),
    }


def run_benchmark(quick: bool, threads: int) -> dict[str, Any]:
    shape = SMALL_CCP_DAY if quick else LARGE_CCP_DAY
    start = time.perf_counter()
    day = generate_day(shape, seed=SEED)
    market = generate_market(shape, seed=SEED)
    # The day's own synthetic P&L is not used: the benchmark prices the instruments.
    day = replace(day, margin_pnl=day.margin_pnl[:, :1], stress_pnl=day.stress_pnl[:, :1])
    stress = _stress_market(market, shape.n_stress_scenarios)
    generated = time.perf_counter() - start

    tracemalloc.start()
    parallel = run_day(day, market, stress, threads)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    single = run_day(day, market, stress, 1)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    report = {
        "shape": {
            "n_accounts": shape.n_accounts,
            "n_positions": int(day.positions.nnz),
            "n_instruments": shape.n_instruments,
            "n_margin_scenarios": shape.n_margin_scenarios,
            "n_stress_scenarios": shape.n_stress_scenarios,
        },
        "generate_seconds": generated,
        "run": parallel,
        "one_thread": single,
        "threads_speedup": single["seconds"] / parallel["seconds"],
        "identical_results": parallel["fund_size"] == single["fund_size"]
        and parallel["total_margin"] == single["total_margin"],
        "traced_peak_bytes": traced_peak,
        "process_max_rss_bytes": rss_peak,
        "time_goal_met": parallel["seconds"] < TIME_GOAL_SECONDS,
        "memory_goal_met": max(traced_peak, rss_peak) < MEMORY_GOAL_BYTES,
    }
    _print(report)
    return report


def _print(report: dict[str, Any]) -> None:
    shape, run, single = report["shape"], report["run"], report["one_thread"]
    print(
        f"large CCP day: {shape['n_accounts']:,} accounts, {shape['n_positions']:,} positions, "
        f"{shape['n_instruments']:,} instruments, {shape['n_margin_scenarios']:,} + "
        f"{shape['n_stress_scenarios']:,} scenarios (inputs generated in "
        f"{report['generate_seconds']:.1f} s, not timed)"
    )
    print(
        f"end to end on {run['threads']} threads: {run['seconds']:.2f} s (pricing "
        f"{run['pricing_seconds']:.2f} s, margin and exposures "
        f"{run['margin_and_exposures_seconds']:.2f} s, fund {run['fund_seconds']:.3f} s); "
        f"goal < {TIME_GOAL_SECONDS:g} s {'met' if report['time_goal_met'] else 'MISSED'}"
    )
    print(
        f"on 1 thread: {single['seconds']:.2f} s; {run['threads']} threads are "
        f"{report['threads_speedup']:.2f}x faster; identical results: "
        f"{report['identical_results']}"
    )
    print(
        f"peak memory: {report['traced_peak_bytes'] / GIB:.2f} GiB traced in the run, "
        f"{report['process_max_rss_bytes'] / GIB:.2f} GiB process max RSS; goal < "
        f"{MEMORY_GOAL_BYTES // GIB} GiB {'met' if report['memory_goal_met'] else 'MISSED'}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark from the command line (unknown options are ignored)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_large_day")
    parser.add_argument("--quick", action="store_true", help="a small day, in seconds")
    parser.add_argument("--threads", type=int, default=2, help="threads per block (default 2)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    quick = args.quick or os.environ.get("CCP_BENCH_QUICK", "") not in ("", "0")
    report = run_benchmark(quick, args.threads)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
