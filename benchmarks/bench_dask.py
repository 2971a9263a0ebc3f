"""The end of day in process versus on a Dask cluster (``ccp eod --scheduler``): the crossover.

For each size of a synthetic clearing day it times ``lifecycle.end_of_day`` (what
``ccp eod`` runs once the case is read: pricing, margin, stress, fund sizing and every
Cover-2 drill) in process, then with a client of a ``LocalCluster`` of two
single-threaded worker processes (what ``ccp eod --scheduler`` runs), in the same run,
and checks that both give the same margins, exposures and contributions, bit for bit.
The cluster is started once, before the timings, as a real one is long-lived; the
positions are scattered to it inside each timed run.

The day (``samples.synthetic`` positions; ``benchmarks.bench_risk`` instruments): 150
members in 100 groups, 50 positions per account, 20,000 instruments (30% futures, the
rest Black-76 options on 40 factors), 2,500 margin scenarios (the 2-day moves of a
synthetic ten-year history, ES at 99%), 8 stress scenarios; sizes of 2,000, 20,000 and
50,000 accounts.

On a cluster the aggregation of positions to accounts and the margin measure run on the
workers, block by block of ``DEFAULT_CHUNK_ACCOUNTS`` accounts; pricing, the sums by
member and group, the fund and the drills run in process either way (in process the
margin also goes block by block). The report splits the time of that "margin step"
from the rest, and times one block in process and the sending of the instrument P&L to
the workers, from which it estimates what workers on separate machines would give:
each worker receives its own copy of the P&L (the send time per worker measured here)
and then takes blocks in rounds, one block's time each, with the memory bandwidth of
its own machine. Two workers on one 2-core machine share one memory bus, and the
margin step (a sparse product reading the P&L rows of every position) is bound by it.

Run: ``python -m benchmarks.bench_dask`` (``--quick`` for small sizes in seconds, also
``CCP_BENCH_QUICK=1``; ``--sizes 2000,20000``; ``--json FILE``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from distributed import Client, LocalCluster, wait

from benchmarks.bench_risk import HORIZON_DAYS, SEED, generate_market
from ccpwaterfall.domain import Money, Rulebook, Tranche, TrancheKind, currency
from ccpwaterfall.lifecycle import EndOfDay, EndOfDayInputs, end_of_day
from ccpwaterfall.lifecycle.inputs import revalue
from ccpwaterfall.risk.chunked import DEFAULT_CHUNK_ACCOUNTS, block_margin
from ccpwaterfall.risk.params import (
    AntiProcyclicality,
    ContributionMethod,
    FundParams,
    MarginModel,
    MarginParams,
    ScenarioParams,
)
from ccpwaterfall.risk.portfolio import Portfolio
from ccpwaterfall.risk.scenarios import PriceHistory, StressDefinition, historical_scenarios
from ccpwaterfall.samples.synthetic import DayShape, generate_day

SIZES = (2_000, 20_000, 50_000)
QUICK_SIZES = (300, 1_500)
POSITIONS_PER_ACCOUNT = 50
N_INSTRUMENTS = 20_000
QUICK_INSTRUMENTS = 500
N_FACTORS = 40
LOOKBACK_DAYS = 2_500
QUICK_LOOKBACK_DAYS = 250
N_STRESS = 8
WORKERS = 2
# The steps of ``end_of_day`` that run on the cluster when it has one (progress names).
MARGIN_STEPS = ("initial margin", "initial margin on the cluster")
CLUSTER_STEPS = ("positions to the cluster", "stress aggregation on the cluster")


def synthetic_inputs(n_accounts: int, quick: bool) -> EndOfDayInputs:
    """A seeded synthetic end of day of ``n_accounts`` accounts (shapes in the module doc)."""
    n_instruments = QUICK_INSTRUMENTS if quick else N_INSTRUMENTS
    lookback = QUICK_LOOKBACK_DAYS if quick else LOOKBACK_DAYS
    shape = DayShape(
        n_members=min(150, n_accounts),
        n_groups=min(100, n_accounts),
        n_accounts=n_accounts,
        n_instruments=n_instruments,
        n_positions=min(POSITIONS_PER_ACCOUNT * n_accounts, n_accounts * n_instruments // 2),
        # Only the positions and the account maps of the generated day are used.
        n_margin_scenarios=1,
        n_stress_scenarios=1,
        n_factors=N_FACTORS,
    )
    day = generate_day(shape, seed=SEED)
    market = generate_market(shape, seed=SEED)
    rng = np.random.default_rng(SEED)
    n_days = lookback + HORIZON_DAYS + 1
    # A ten-year history ending at the market's levels: daily moves of 0.8% to 3%.
    daily = rng.standard_t(4.0, (n_days - 1, N_FACTORS)) * rng.uniform(0.008, 0.03, N_FACTORS)
    paths = np.vstack([np.zeros(N_FACTORS), np.cumsum(daily / np.sqrt(2.0), axis=0)])
    levels = market.spot * np.exp(paths - paths[-1])
    dates = np.datetime64("2010-01-04") + np.arange(n_days)
    history = PriceHistory(dates, market.instruments.factor_ids, levels)
    factors = market.instruments.factor_ids
    stress = tuple(
        StressDefinition(
            name=f"Crash {k + 1}",
            shocks=tuple(
                (f, float(s))
                for f, s in zip(factors, rng.normal(0, 0.08 * (k + 1), N_FACTORS), strict=True)
            ),
            vol_shifts=tuple((f, 0.5) for f in factors),
        )
        for k in range(N_STRESS)
    )
    usd = currency("USD")
    members = tuple(f"M{i:03d}" for i in range(day.n_members))
    portfolio = Portfolio(
        member_ids=members,
        member_names=(None,) * len(members),
        member_group=day.member_group,
        group_ids=tuple(f"G{g:03d}" for g in range(day.n_groups)),
        account_ids=tuple(f"A{a:06d}" for a in range(n_accounts)),
        account_member=day.account_member,
        account_is_client=np.zeros(n_accounts, dtype=np.bool_),
        instrument_ids=market.instruments.ids,
        positions=day.positions,
    )
    rulebook = Rulebook(
        waterfall=(
            Tranche(TrancheKind.DEFAULTER_MARGIN),
            Tranche(TrancheKind.DEFAULTER_DEFAULT_FUND),
            Tranche(TrancheKind.CCP_CAPITAL, name="Junior SITG", amount=Money.of("50000000", usd)),
            Tranche(TrancheKind.MEMBER_DEFAULT_FUND),
            Tranche(TrancheKind.ASSESSMENTS, cap_multiple=Decimal(2)),
        )
    )
    return EndOfDayInputs(
        name=f"Synthetic day of {n_accounts:,} accounts",
        currency=usd,
        ccp_name="Synthetic CCP",
        rulebook=rulebook,
        portfolio=portfolio,
        instruments=market.instruments,
        history=history,
        scenario_pnl=None,
        scenario_params=ScenarioParams(mpor_days=HORIZON_DAYS, lookback_days=lookback),
        margin_params=MarginParams(
            model=MarginModel.ES,
            confidence=0.99,
            anti_procyclicality=AntiProcyclicality.BUFFER,
        ),
        fund_params=FundParams(cover=2, buffer=0.1, method=ContributionMethod.MIXED),
        stress=stress,
        stress_multipliers=(),
    )


def timed_steps(
    run: Callable[[Callable[[str], None]], EndOfDay],
) -> tuple[EndOfDay, dict[str, float], float]:
    """``run(progress)``, the seconds of each step it reported and its total seconds."""
    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    result = run(lambda step: marks.append((step, time.perf_counter())))
    end = time.perf_counter()
    steps: dict[str, float] = {}
    for (step, at), (_, after) in zip(marks, [*marks[1:], ("", end)], strict=True):
        steps[step] = steps.get(step, 0.0) + after - at
    return result, steps, end - start


def same_results(one: EndOfDay, other: EndOfDay) -> bool:
    """The same margins, exposures, fund and contributions, bit for bit."""
    return (
        np.array_equal(one.margin.account_margin, other.margin.account_margin)
        and np.array_equal(one.stress.account_pnl, other.stress.account_pnl)
        and np.array_equal(one.stress.exposures, other.stress.exposures)
        and one.fund.sizing.size == other.fund.sizing.size
        and one.fund.contributions_money == other.fund.contributions_money
    )


def one_block_seconds(inputs: EndOfDayInputs, margin_pnl: Any) -> float:
    """Aggregation and margin of one block of accounts, in process (the unit of work a
    worker runs), the median of three."""
    rows = slice(0, min(DEFAULT_CHUNK_ACCOUNTS, inputs.portfolio.n_accounts))
    block = inputs.portfolio.positions[rows]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        block_margin(block, margin_pnl, inputs.margin_params)
        times.append(time.perf_counter() - start)
    return sorted(times)[1]


def measure(client: Any, n_accounts: int, quick: bool, repeats: int) -> dict[str, Any]:
    """One size: a warm-up run of each side (first touches of the big arrays, in this
    process and on the workers), checked to agree bit for bit, then ``repeats`` timed
    runs of each side, back to back; each figure is the median of its runs."""
    inputs = synthetic_inputs(n_accounts, quick)
    local = end_of_day(inputs)
    identical = same_results(local, end_of_day(inputs, client=client))
    del local
    local_runs, remote_runs = [], []
    for _ in range(repeats):
        local_runs.append(timed_steps(lambda report: end_of_day(inputs, report))[1:])
        remote_runs.append(timed_steps(lambda report: end_of_day(inputs, report, client))[1:])
    local_s = statistics.median(total for _, total in local_runs)
    remote_s = statistics.median(total for _, total in remote_runs)
    local_margin = statistics.median(
        sum(steps.get(s, 0.0) for s in MARGIN_STEPS) for steps, _ in local_runs
    )
    remote_margin = statistics.median(
        sum(steps.get(s, 0.0) for s in (*MARGIN_STEPS, *CLUSTER_STEPS)) for steps, _ in remote_runs
    )
    assert inputs.history is not None
    pnl = revalue(inputs, historical_scenarios(inputs.history, inputs.scenario_params))
    block_s = one_block_seconds(inputs, pnl)
    send_s = send_seconds(client, pnl)
    n_blocks = math.ceil(n_accounts / DEFAULT_CHUNK_ACCOUNTS)
    rounds = math.ceil(n_blocks / WORKERS)
    return {
        "n_accounts": n_accounts,
        "n_positions": int(inputs.portfolio.positions.nnz),
        "n_instruments": inputs.instruments.n_instruments,
        "n_margin_scenarios": int(pnl.shape[1]),
        "n_blocks": n_blocks,
        "in_process_seconds": local_s,
        "cluster_seconds": remote_s,
        "ratio": remote_s / local_s,
        "in_process_margin_seconds": local_margin,
        "cluster_margin_seconds": remote_margin,
        "rest_seconds": local_s - local_margin,
        "block_seconds": block_s,
        "pnl_bytes": int(pnl.nbytes),
        "send_seconds_per_worker": send_s / WORKERS,
        # Beyond one block's time per round: transfers, scheduling and the two workers
        # sharing one machine's memory bandwidth.
        "cluster_overhead_seconds": max(remote_margin - rounds * block_s, 0.0),
        "identical": identical,
    }


def estimate_seconds(row: dict[str, Any], workers: int, n_accounts: int | None = None) -> float:
    """The end of day with ``workers`` single-threaded workers on separate machines, for
    ``n_accounts`` accounts (the row's by default): the rest of the day as in process,
    one P&L copy sent per worker, and one block's time per round of blocks."""
    accounts = row["n_accounts"] if n_accounts is None else n_accounts
    rounds = math.ceil(math.ceil(accounts / DEFAULT_CHUNK_ACCOUNTS) / workers)
    return float(
        row["rest_seconds"]
        + workers * row["send_seconds_per_worker"]
        + rounds * row["block_seconds"]
    )


def crossover_accounts(row: dict[str, Any], workers: int) -> int:
    """The fewest accounts, in whole blocks, from which ``workers`` workers on separate
    machines are estimated faster than one process (the margin step grows by one block's
    time per block in process, by one per ``workers`` blocks on the cluster)."""
    saved_per_block = float(row["block_seconds"]) * (1.0 - 1.0 / workers)
    send = float(row["send_seconds_per_worker"])
    blocks = math.floor(workers * send / saved_per_block) + 1
    return blocks * DEFAULT_CHUNK_ACCOUNTS


def send_seconds(client: Any, pnl: Any) -> float:
    """Seconds to send ``pnl`` to every worker of ``client`` (a copy each), median of 3."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        futures = client.scatter([pnl], broadcast=True, hash=False)
        wait(futures)  # type: ignore[no-untyped-call]
        times.append(time.perf_counter() - start)
        del futures
    return sorted(times)[1]


def run_benchmark(sizes: Sequence[int], quick: bool, repeats: int) -> dict[str, Any]:
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        # Warm-up: the workers import the engine on their first task.
        measure(client, min(sizes), quick=True, repeats=1)
        rows = [measure(client, n, quick, repeats) for n in sizes]
    report = {
        "workers": WORKERS,
        "chunk_accounts": DEFAULT_CHUNK_ACCOUNTS,
        "repeats": repeats,
        "sizes": rows,
    }
    _print(report)
    return report


def _print(report: dict[str, Any]) -> None:
    print(
        f"end of day in process vs on a LocalCluster of {report['workers']} single-threaded "
        f"worker processes, blocks of {report['chunk_accounts']:,} accounts; medians of "
        f"{report['repeats']}"
    )
    header = (
        f"{'accounts':>9} {'positions':>10} {'in process':>11} {'cluster':>8} {'ratio':>6} "
        f"{'margin step':>12} {'on cluster':>11} {'one block':>10} {'identical':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in report["sizes"]:
        print(
            f"{row['n_accounts']:>9,} {row['n_positions']:>10,} "
            f"{row['in_process_seconds']:>10.2f}s {row['cluster_seconds']:>7.2f}s "
            f"{row['ratio']:>6.2f} {row['in_process_margin_seconds']:>11.2f}s "
            f"{row['cluster_margin_seconds']:>10.2f}s "
            f"{row['block_seconds']:>9.3f}s {'yes' if row['identical'] else 'NO':>9}"
        )
    last = report["sizes"][-1]
    print(
        f"per block of {report['chunk_accounts']:,} accounts (aggregation and margin, in "
        f"process): {last['block_seconds']:.3f}s; sending the {last['pnl_bytes'] / 2**20:,.0f} "
        f"MiB of instrument P&L: {last['send_seconds_per_worker']:.2f}s per worker; the rest "
        f"of the day: {last['rest_seconds']:.2f}s"
    )
    for workers in (2, 4, 8):
        print(
            f"estimate, {workers} workers on separate machines: {last['n_accounts']:,} accounts "
            f"{estimate_seconds(last, workers):.1f}s (in process "
            f"{last['in_process_seconds']:.1f}s); faster than in process from about "
            f"{crossover_accounts(last, workers):,} accounts"
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark from the command line (unknown options are ignored)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_dask")
    parser.add_argument("--quick", action="store_true", help="small sizes, in seconds")
    parser.add_argument("--sizes", type=str, default=None, help="accounts, comma separated")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs of each side")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    quick = args.quick or os.environ.get("CCP_BENCH_QUICK", "") not in ("", "0")
    sizes = (
        tuple(int(s) for s in args.sizes.split(","))
        if args.sizes
        else (QUICK_SIZES if quick else SIZES)
    )
    repeats = args.repeats if args.repeats is not None else (1 if quick else 3)
    report = run_benchmark(sizes, quick, repeats)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
