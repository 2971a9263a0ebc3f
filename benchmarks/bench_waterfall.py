"""The exact waterfall engine against its own pro rata splits replayed on plain ints.

Cases of 1,000, 10,000 and 100,000 members with 3 and 30 dated events, every
tranche kind, losses sized so that every event reaches the survivors'
tranches (``build_case``). For each, in the same run:

- ``run_case``: the whole engine, with its journal, explain records and
  invariant checks (median of repeats);
- the baseline: every pro rata split the engine made in that run, recorded
  with its total, weights and caps, replayed through the same integer
  water-filling (``allocate_pro_rata_capped``) on plain ints. It is the
  arithmetic the engine cannot avoid; the ratio is what exact money, the
  journal and the checks cost on top (goal: at most 5x);
- ``dumps_result``: the JSON of the result, against the run (goal: at most 1x).

Then the largest case, 100,000 members x 30 events, as a user runs it: one
``ccp run CASE --json`` process, its wall time and peak memory (goal: under
60 s and 2 GiB).

Run: ``python -m benchmarks.bench_waterfall`` (``--quick`` or
``CCP_BENCH_QUICK=1`` for the smallest case only; ``--json FILE``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from ccpwaterfall.domain import (
    Case,
    CoolingOff,
    Default,
    Member,
    Money,
    Rulebook,
    Tranche,
    TrancheKind,
    add_business_days,
    allocate_pro_rata_capped,
    currency,
)
from ccpwaterfall.io import case_to_toml, dumps_result
from ccpwaterfall.waterfall import rules, run_case

SEED = 2018_09_11
EUR = currency("EUR")
START = dt.date(2024, 1, 8)
RATIO_GOAL = 5.0
JSON_GOAL = 1.0
PROCESS_GOAL_SECONDS = 60.0
PROCESS_GOAL_BYTES = 2 * 2**30
SHAPES: tuple[tuple[int, int], ...] = (
    (1_000, 3),
    (1_000, 30),
    (10_000, 3),
    (10_000, 30),
    (100_000, 3),
    (100_000, 30),
)
ROOT = Path(__file__).resolve().parents[1]

Split = tuple[int, dict[str, int], dict[str, int]]


def build_case(n_members: int = 1_000, n_events: int = 3, seed: int = SEED) -> Case:
    """A seeded case: ``n_members`` members, ``n_events`` dated events, every tranche kind.

    Events come every 15 business days, inside cooling-off periods of 20 days
    extended by 20 per default (63 at most), so some periods run over several
    events and others end, replenishing the fund. Each event's loss beyond the
    defaulter's own resources takes the junior capital, half of what is
    usually left of the fund and some assessments, and every fourth event a
    VM gains haircut.
    """
    rng = random.Random(seed)

    def cents(low: int, high: int) -> Money:
        return Money.from_minor_units(rng.randint(low * 100, high * 100), EUR)

    members = tuple(
        Member(
            f"M{i:06}",
            default_fund=cents(100_000, 5_000_000),
            initial_margin=cents(1_000_000, 50_000_000),
            vm_gains=cents(0, 2_000_000) if i % 2 else Money.zero(EUR),
        )
        for i in range(n_members)
    )
    junior = Money.of(50_000_000, EUR)
    fund = sum(m.default_fund.minor_units for m in members)
    gains = sum(m.vm_gains.minor_units for m in members)
    defaults = []
    for event in range(n_events):
        defaulter = members[event]
        own = defaulter.initial_margin.minor_units + defaulter.default_fund.minor_units
        beyond = junior.minor_units + fund // 3 + (gains // 8 if event % 4 == 3 else fund // 6)
        loss = Money.from_minor_units(own + beyond, EUR)
        defaults.append(Default(defaulter.id, loss, add_business_days(START, 15 * event)))
    waterfall = (
        Tranche(TrancheKind.DEFAULTER_MARGIN),
        Tranche(TrancheKind.DEFAULTER_DEFAULT_FUND),
        Tranche(TrancheKind.CCP_CAPITAL, name="Junior capital", amount=junior),
        Tranche(
            TrancheKind.CCP_CAPITAL_PRO_RATA,
            name="Second capital",
            amount=Money.of(20_000_000, EUR),
            shared_with=TrancheKind.MEMBER_DEFAULT_FUND,
        ),
        Tranche(TrancheKind.MEMBER_DEFAULT_FUND),
        Tranche(TrancheKind.ASSESSMENTS, cap_multiple=Decimal(2)),
        Tranche(TrancheKind.VM_GAINS_HAIRCUT, max_fraction=Decimal("0.5")),
    )
    rulebook = Rulebook(waterfall, cooling_off=CoolingOff(20, 20, 63))
    return Case("Benchmark", EUR, "Benchmark CCP", rulebook, members, tuple(defaults))


@contextmanager
def recorded_splits() -> Iterator[list[Split]]:
    """Every integer water-filling split the rules make, with copies of its inputs."""
    splits: list[Split] = []
    names = vars(rules)  # the rules call the function by the name they imported
    original = names["allocate_pro_rata_capped"]

    def record(total: int, weights: Mapping[str, int], caps: Mapping[str, int]) -> Any:
        splits.append((total, dict(weights), dict(caps)))
        return original(total, weights, caps)

    names["allocate_pro_rata_capped"] = record
    try:
        yield splits
    finally:
        names["allocate_pro_rata_capped"] = original


def replay(splits: Sequence[Split]) -> None:
    """The baseline: the engine's splits again, on plain ints."""
    for total, weights, caps in splits:
        allocate_pro_rata_capped(total, weights, caps)


def median_pair(
    first: Callable[[], object], second: Callable[[], object], repeats: int
) -> tuple[float, float, list[float]]:
    """Median times of ``first`` and ``second`` run back to back, and the paired ratios."""
    ones, twos = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        first()
        middle = time.perf_counter()
        second()
        ones.append(middle - start)
        twos.append(time.perf_counter() - middle)
    ratios = [a / b for a, b in zip(ones, twos, strict=True)]
    return statistics.median(ones), statistics.median(twos), ratios


def measure_shape(n_members: int, n_events: int) -> dict[str, Any]:
    case = build_case(n_members, n_events)
    with recorded_splits() as splits:
        result = run_case(case)
    # More repeats where a run is short: a 2-core machine's noise is a larger share of it.
    size = n_members * n_events
    repeats = 9 if size <= 30_000 else 5 if size <= 300_000 else 3
    engine, bare, ratios = median_pair(lambda: run_case(case), lambda: replay(splits), repeats)
    json_s, _, json_ratios = median_pair(
        lambda: dumps_result(result), lambda: run_case(case), repeats
    )
    return {
        "members": n_members,
        "events": n_events,
        "journal_entries": len(result.journal),
        "postings": sum(len(e.postings) for e in result.journal),
        "splits": len(splits),
        "engine_seconds": engine,
        "baseline_seconds": bare,
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "json_seconds": json_s,
        "json_over_run": statistics.median(json_ratios),
        "met": statistics.median(ratios) <= RATIO_GOAL
        and statistics.median(json_ratios) <= JSON_GOAL,
    }


_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(
    [sys.executable, "-m", "ccpwaterfall", "run", sys.argv[1], "--json"],
    stdout=subprocess.DEVNULL,
)
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - start
if os.waitstatus_to_exitcode(status):
    sys.exit("ccp run failed")
print(json.dumps({"seconds": seconds, "peak_rss_bytes": usage.ru_maxrss * 1024}))
"""


def measure_process(n_members: int, n_events: int) -> dict[str, Any]:
    """One ``ccp run --json`` of the case as a fresh process: wall time and peak memory."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.toml"
        path.write_text(case_to_toml(build_case(n_members, n_events)), encoding="utf-8")
        # A small launcher starts ``ccp`` and reads its peak with wait4: a child forked
        # from this process would count this process's pages in its own peak.
        launched = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(path)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        measured = json.loads(launched.stdout)
        seconds, peak = measured["seconds"], measured["peak_rss_bytes"]
    return {
        "members": n_members,
        "events": n_events,
        "seconds": seconds,
        "peak_rss_bytes": peak,
        "met": seconds < PROCESS_GOAL_SECONDS and peak < PROCESS_GOAL_BYTES,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark from the command line (unknown options are ignored)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_waterfall")
    parser.add_argument("--quick", action="store_true", help="the smallest case only")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    quick = args.quick or os.environ.get("CCP_BENCH_QUICK", "") not in ("", "0")
    shapes = SHAPES[:1] if quick else SHAPES
    print(
        f"{'members':>8} {'events':>6} {'postings':>10} {'engine s':>9} {'baseline s':>10} "
        f"{'ratio':>6} {'min-max':>11} {'json/run':>8}  goal ratio <= {RATIO_GOAL:g}, "
        f"json/run <= {JSON_GOAL:g}"
    )
    rows = []
    for n_members, n_events in shapes:
        row = measure_shape(n_members, n_events)
        rows.append(row)
        spread = f"{row['ratio_min']:.1f}-{row['ratio_max']:.1f}"
        print(
            f"{n_members:>8,} {n_events:>6} {row['postings']:>10,} {row['engine_seconds']:>9.3f} "
            f"{row['baseline_seconds']:>10.3f} {row['ratio']:>6.1f} {spread:>11} "
            f"{row['json_over_run']:>8.2f}  {'met' if row['met'] else 'MISSED'}",
            flush=True,
        )
    report: dict[str, Any] = {"shapes": rows}
    if not quick:
        process = measure_process(100_000, 30)
        report["process"] = process
        print(
            f"ccp run --json, 100,000 members x 30 events, one process: "
            f"{process['seconds']:.1f} s, peak {process['peak_rss_bytes'] / 2**30:.2f} GiB; "
            f"goal under {PROCESS_GOAL_SECONDS:g} s and "
            f"{PROCESS_GOAL_BYTES / 2**30:g} GiB: {'met' if process['met'] else 'MISSED'}"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
