"""Monte Carlo through the waterfall against drawing its random numbers alone.

10^6 paths over 100 member groups (150 members; every path's defaults from the
one-factor Gaussian copula, pd 1%, rho 0.2) through the demo CCP's rulebook
(``examples/demo-ccp/case.toml``: defaulter resources, junior skin in the
game, the members' fund, assessments, VM gains haircut), in chunks of 20,000
paths. Losses and resources are seeded synthetic amounts in minor units, sized
so that the tail reaches the members' fund and assessments.

In the same run:

- the baseline: the paths' random numbers alone, drawn chunk by chunk from the
  same streams (the factor and one normal per group and path);
- the simulation: the same draws, the market state, the waterfall on every
  path with a default, the tallies (tranche, member, tail); no exact re-run
  (its cost is the exact engine's, per path sampled);
- memory: the peak traced by ``tracemalloc`` for 10^5, 10^6 and 2 x 10^6
  paths of the same chunk size: the chunk's arrays plus what each figure's
  tail keeps, at most half a chunk of values per figure. 10^5 and 10^6 paths
  take one pass (their 1% tails, 1,000 and 10,000 values, fit that budget);
  2 x 10^6 take several passes over the same chunks (counting values in
  buckets, then keeping the few near each VaR), so its peak stays at the
  10^6 one's while the paths double.

Goals: at most 3x the baseline, under 60 s on 2 cores. Run: ``python -m
benchmarks.bench_simulation`` (``--quick``: 20,000 paths in chunks of 400; ``--json FILE``).
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np

from ccpwaterfall.domain import currency
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.simulation.book import Book
from ccpwaterfall.simulation.defaults import DefaultModel
from ccpwaterfall.simulation.engine import (
    Market,
    SimulationSettings,
    chunk_seeds,
    simulate,
)

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-ccp" / "case.toml"
SEED = 20181228
GROUPS = 100
MEMBERS = 150
SCENARIOS = 12
CHUNK = 20_000


def synthetic_book() -> Book:
    """150 members in 100 groups, 12 scenarios, the demo's rulebook; seeded amounts."""
    rulebook = load_risk_case(DEMO).inputs.rulebook
    rng = np.random.default_rng(SEED)
    usd = currency("USD")
    ids = tuple(f"CM{i:03d}" for i in range(MEMBERS))
    member_group = np.sort(np.concatenate([np.arange(GROUPS), rng.integers(0, GROUPS, 50)]))
    severity = np.linspace(2.5, 0.3, SCENARIOS)[:, None]
    size = rng.lognormal(21.5, 1.0, MEMBERS)  # a typical loss, in cents: USD 22m
    loss = (severity * size[None, :] * rng.lognormal(0.0, 0.5, (SCENARIOS, MEMBERS))).astype(
        np.int64
    )
    margin = (size * 3.5).astype(np.int64)
    return Book(
        name="Synthetic CCP: 150 members in 100 groups",
        ccp_name="Synthetic Clearing House",
        currency=usd,
        rulebook=rulebook,
        member_ids=ids,
        member_names=(None,) * MEMBERS,
        group_ids=tuple(f"G{g:03d}" for g in range(GROUPS)),
        member_group=member_group.astype(np.intp),
        contribution=(size * 0.1).astype(np.int64),
        margin=margin,
        scenario_names=tuple(f"S{s}" for s in range(SCENARIOS)),
        loss=loss,
        usable_margin=np.minimum(loss, margin[None, :]),
        gains=(size[None, :] * rng.random((SCENARIOS, MEMBERS))).astype(np.int64),
    )


def draw_only(paths: int, seed: int, chunk: int = CHUNK) -> float:
    """Seconds to draw the paths' random numbers alone, chunk by chunk, from the same streams."""
    seeds = chunk_seeds(seed, -(-paths // chunk))
    start = time.perf_counter()
    left = paths
    for child in seeds:
        count = min(chunk, left)
        rng = np.random.default_rng(child)
        rng.standard_normal(count)
        rng.standard_normal((count, GROUPS))
        left -= count
    return time.perf_counter() - start


def run(market: Market, paths: int, seed: int, chunk: int = CHUNK) -> tuple[float, float, int]:
    """Seconds of one simulation, its share of paths reaching the members' fund, its passes."""
    settings = SimulationSettings(
        paths=paths, seed=seed, chunk_paths=chunk, exact_worst=0, exact_random=0
    )
    start = time.perf_counter()
    result = simulate(market, settings)
    elapsed = time.perf_counter() - start
    kinds = [t.kind for t in market.book.rulebook.waterfall]
    fund = kinds.index("member_default_fund")
    return elapsed, float(result.summary.figures.used.probability()[fund]), result.passes


def traced_peak(market: Market, paths: int, chunk: int = CHUNK) -> tuple[int, int]:
    """The traced peak of one simulation, in bytes, and its passes over the chunks."""
    settings = SimulationSettings(
        paths=paths, seed=1, chunk_paths=chunk, exact_worst=0, exact_random=0
    )
    tracemalloc.start()
    result = simulate(market, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, result.passes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 paths only")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    # Quick: 50 chunks, as in the full run, so that the 1% tail just fits half a chunk.
    paths, chunk = (20_000, 400) if args.quick else (1_000_000, CHUNK)
    book = synthetic_book()
    market = Market(book, DefaultModel(np.full(GROUPS, 0.01), 0.2))
    run(market, min(paths, 2 * chunk), SEED, chunk)  # warm up: imports, first allocations
    baselines, simulations = [], []
    fund_share, passes = 0.0, 0
    for repeat in range(1 if args.quick else 3):
        baselines.append(draw_only(paths, SEED + repeat, chunk))
        elapsed, fund_share, passes = run(market, paths, SEED + repeat, chunk)
        simulations.append(elapsed)
    baseline, simulation = float(np.median(baselines)), float(np.median(simulations))
    peaks = {count: traced_peak(market, count, chunk) for count in (paths // 10, paths, 2 * paths)}
    report = {
        "paths": paths,
        "groups": GROUPS,
        "members": MEMBERS,
        "chunk_paths": chunk,
        "draw_only_s": baseline,
        "simulation_s": simulation,
        "ratio": simulation / baseline,
        "members_fund_reached": fund_share,
        "passes": passes,
        "traced_peak_bytes": {str(k): v for k, (v, _) in peaks.items()},
        "traced_passes": {str(k): n for k, (_, n) in peaks.items()},
    }
    print(f"{paths:,} paths x {GROUPS} groups ({MEMBERS} members), chunks of {chunk:,}")
    print(f"  random numbers alone  {baseline:8.2f} s")
    print(
        f"  simulation            {simulation:8.2f} s   ratio {simulation / baseline:.2f}"
        f"   ({passes} pass{'es' if passes != 1 else ''} over the chunks)"
    )
    print(f"  members' fund reached on {100 * fund_share:.2f}% of paths")
    for count, (peak, runs) in peaks.items():
        print(
            f"  traced peak, {count:>9,} paths: {peak / 2**20:8.1f} MiB"
            f"   ({runs} pass{'es' if runs != 1 else ''})"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
