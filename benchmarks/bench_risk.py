"""The "big CCP day" benchmark: each risk step against its bare NumPy/SciPy baseline.

Shape (illustrative, ``samples.synthetic``, scaled to a 2-core machine): 150 members in
100 groups, 20,000 accounts, 10^6 position entries, 20,000 instruments, 2,750 margin and
500 stress scenarios. Every ratio is measured in the same run, against a baseline on the
same arrays:

- pricing: ``instrument_pnl`` (futures and Black-76 options on 40 price factors, full
  revaluation in the margin scenarios) versus a bare NumPy/SciPy Black-76 and linear
  revaluation of the same shapes, checked to agree (goal: at most 1.3x);
- aggregation: ``account_pnl`` for the margin and the stress scenarios versus a bare
  ``positions @ pnl`` (goal: at most 1.3x);
- margin: ES of the k worst (k from 99.7%, the PAIRS "6 of 2,500" style) for every account
  versus a bare ``np.partition`` of the same array (goal: at most 1.5x). The kernel is
  that partition, 64 rows at a time so that each copy stays in the cache (which makes
  it faster than the one bare call), plus a sort and a running sum of the k worst (so
  the result does not depend on the order of the scenarios). A single-pass top-k would
  have to be compiled code (numba or a C extension): numpy's introselect is already one
  linear pass in C, and the rest is k of 2,750 values per account, so a compiled
  dependency would buy at most the measured gap over the bare partition;
- stress, Cover-2, Art 42(3), fund sizing and allocation, from account P&L and margin to
  member contributions (goal: under 1 s);
- the account-chunked pipeline end to end, with its peak memory (goal: under 8 GiB);
- the same pipeline on a local Dask cluster of two workers, versus in process.

Timings are medians of repeats after one warm-up run of each side; a step and its baseline
run back to back, and a ratio is the median of the ratios within those pairs.

Run: ``python -m benchmarks.bench_risk`` (options: ``--quick`` for a small day in seconds,
also set by ``CCP_BENCH_QUICK=1``; ``--float32``; ``--repeats N``; ``--no-dask``;
``--json FILE`` to write the figures as JSON).
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from distributed import Client, LocalCluster
from numpy.typing import NDArray
from scipy import special

from ccpwaterfall.risk import chunked, distributed
from ccpwaterfall.risk.aggregate import account_pnl, sum_by_index
from ccpwaterfall.risk.fund import FundSizing, allocate_contributions, size_default_fund
from ccpwaterfall.risk.instruments import InstrumentKind, Instruments, build_instruments
from ccpwaterfall.risk.margin import expected_shortfall, initial_margin, k_for_confidence
from ccpwaterfall.risk.params import ContributionMethod, FundParams, MarginModel, MarginParams
from ccpwaterfall.risk.pricing import TRADING_DAYS_PER_YEAR, instrument_pnl
from ccpwaterfall.risk.scenarios import ScenarioKind, ScenarioSet
from ccpwaterfall.risk.stress import account_shortfall, group_exposures
from ccpwaterfall.samples.synthetic import (
    BIG_CCP_DAY,
    SMALL_CCP_DAY,
    CcpDay,
    DayShape,
    generate_day,
)

GIB = 2**30
SEED = 20_240_601
#: ES over the k worst scenarios, k from a 99.7% confidence (LCH's stated target, [LCH-PAIRS]).
MARGIN = MarginParams(model=MarginModel.ES, confidence=0.997)
FUND = FundParams(cover=2, buffer=0.1, method=ContributionMethod.MIXED, margin_weight=0.5)
AGGREGATION_GOAL = 1.3
#: Row blocks on both cores of the 2-core machine: at least 1.6x faster than on one.
THREADS = 2
THREAD_SPEEDUP_GOAL = 1.6
PRICING_GOAL = 1.3
#: Margin period of risk of the priced scenarios, in business days.
HORIZON_DAYS = 2
# Synthetic market: share of futures among the instruments (the rest are calls and puts),
# Student-t tail of the factor returns, contract multipliers, option expiries (business
# days, all beyond the horizon) and the spread of strikes (sd of ln(K / F_0)).
FUTURE_SHARE = 0.3
RETURN_TAIL_DF = 3.5
MULTIPLIERS = (1.0, 10.0, 50.0, 100.0, 1_000.0)
EXPIRY_DAYS = (5, 504)
MONEYNESS_SD = 0.15
MARGIN_GOAL = 1.5
FUND_GOAL_SECONDS = 1.0
MEMORY_GOAL_BYTES = 8 * GIB
BARE_PRODUCT = "positions @ pnl"
BARE_PRICING = "bare Black-76"


@dataclass(frozen=True, slots=True)
class StepTiming:
    """One timed step: median seconds, and its baseline's where it has one.

    ``ratio`` is the median over repeats of (step time / baseline time) within each
    back-to-back pair, which cancels the slow drift of a shared machine.
    """

    step: str
    seconds: float
    baseline: str = ""
    baseline_seconds: float | None = None
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None


@dataclass(frozen=True, slots=True)
class PairedTimes:
    """Wall times of a step and of its baseline, repeat by repeat, shape (repeats,)."""

    candidate: NDArray[np.float64]
    baseline: NDArray[np.float64]

    def __add__(self, other: PairedTimes) -> PairedTimes:
        return PairedTimes(self.candidate + other.candidate, self.baseline + other.baseline)

    def compared(self, step: str, baseline: str, goal_ratio: float | None = None) -> StepTiming:
        """The step's medians and paired ratio, judged against ``goal_ratio`` if given."""
        ratio = float(np.median(self.candidate / self.baseline))
        return StepTiming(
            step,
            float(np.median(self.candidate)),
            baseline,
            float(np.median(self.baseline)),
            ratio,
            "" if goal_ratio is None else f"<= {goal_ratio}x",
            None if goal_ratio is None else ratio <= goal_ratio,
        )


def _seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` runs after one warm-up run."""
    work()
    return statistics.median(_seconds(work) for _ in range(repeats))


def time_pairs(
    candidate: Callable[[], object], baseline: Callable[[], object], repeats: int
) -> PairedTimes:
    """Times of candidate and baseline, run back to back after one warm-up each.

    Which of the two goes first alternates between repeats; results are dropped at once
    so every run starts from the same memory.
    """
    candidate()
    baseline()
    first = np.empty(repeats)
    second = np.empty(repeats)
    for run in range(repeats):
        if run % 2:
            second[run] = _seconds(baseline)
            first[run] = _seconds(candidate)
        else:
            first[run] = _seconds(candidate)
            second[run] = _seconds(baseline)
    return PairedTimes(first, second)


def member_fund(
    day: CcpDay, margin: NDArray[np.floating[Any]], member_exposures: NDArray[np.floating[Any]]
) -> tuple[FundSizing, NDArray[np.float64]]:
    """Fund size (Cover-2 and Art 42(3) on group exposures) and each member's contribution.

    ``member_exposures``: shape (n_members, n_stress_scen), account shortfalls summed by
    member; groups are sums of their members. The stress key of a member is its largest
    shortfall over the scenarios; the margin key its summed account margin.
    """
    exposures = sum_by_index(member_exposures, day.member_group, day.n_groups)
    sizing = size_default_fund(exposures, FUND)
    margin_by_member = sum_by_index(margin[:, None], day.account_member, day.n_members)[:, 0]
    stress_by_member = member_exposures.max(axis=1)
    return sizing, allocate_contributions(sizing.size, margin_by_member, stress_by_member, FUND)


def stress_to_contributions(
    day: CcpDay, stress_account_pnl: NDArray[np.floating[Any]], margin: NDArray[np.float64]
) -> tuple[FundSizing, NDArray[np.float64]]:
    """From account stress P&L and margin to member contributions, whole arrays."""
    shortfall = account_shortfall(stress_account_pnl, margin)
    member_exposures = group_exposures(shortfall, day.account_member, day.n_members)
    return member_fund(day, margin, member_exposures)


def chunked_pipeline(
    day: CcpDay, chunk_accounts: int
) -> tuple[FundSizing, NDArray[np.float64], NDArray[np.floating[Any]]]:
    """Positions to contributions, never holding every account's P&L at once.

    The pipeline groups accounts by member; members then sum into groups.
    """
    margin, member_exposures = chunked.margin_and_exposures(
        day.positions,
        day.margin_pnl,
        day.stress_pnl,
        day.account_member,
        day.n_members,
        params=MARGIN,
        chunk_accounts=chunk_accounts,
    )
    sizing, contributions = member_fund(day, margin, member_exposures)
    return sizing, contributions, member_exposures


@dataclass(frozen=True, slots=True, eq=False)
class Market:
    """What the pricing step takes: instruments, today's levels and the scenarios.

    ``spot``: shape (n_factors,), float64, positive; ``scenarios``: the margin scenarios,
    on the instruments' factors.
    """

    instruments: Instruments
    spot: NDArray[np.float64]
    scenarios: ScenarioSet


def _unit_t(rng: np.random.Generator, size: tuple[int, ...]) -> NDArray[np.float64]:
    """Student-t draws scaled to unit variance (heavy tails, comparable scale)."""
    draws: NDArray[np.float64] = rng.standard_t(RETURN_TAIL_DF, size)
    draws *= np.sqrt((RETURN_TAIL_DF - 2.0) / RETURN_TAIL_DF)
    return draws


def generate_market(shape: DayShape, seed: int) -> Market:
    """Seeded futures and options on ``shape.n_factors`` prices, and margin scenarios.

    Prices from 5 to 5,000; daily volatilities of 0.8% to 3%. About ``FUTURE_SHARE`` of
    the ``shape.n_instruments`` instruments are futures, the rest calls and puts in equal
    numbers, with strikes on a grid of three significant figures around today's price
    (log-moneyness sd ``MONEYNESS_SD``), expiries beyond the horizon (``EXPIRY_DAYS``) and
    implied volatilities on a skewed smile. The ``shape.n_margin_scenarios`` scenarios are
    ``HORIZON_DAYS``-day Student-t log returns with a common market shock; in half of them
    implied volatilities move against prices (the other half leave them unchanged, as
    historical scenarios without volatility data do).
    """
    rng = np.random.default_rng(seed)
    n_ins, n_fac, n_scen = shape.n_instruments, shape.n_factors, shape.n_margin_scenarios
    factor_ids = tuple(f"F{j:02d}" for j in range(n_fac))
    spot = np.exp(rng.uniform(np.log(5.0), np.log(5_000.0), n_fac))
    daily_vol = rng.uniform(0.008, 0.03, n_fac)
    beta = rng.uniform(0.3, 0.8, n_fac)
    shocks = beta * _unit_t(rng, (n_scen, 1)) + np.sqrt(1.0 - beta**2) * _unit_t(
        rng, (n_scen, n_fac)
    )
    returns = shocks * daily_vol * np.sqrt(HORIZON_DAYS)
    moved = rng.random((n_scen, 1)) < 0.5
    vol_shifts = np.where(
        moved, np.clip(-4.0 * returns + rng.normal(0.0, 0.05, returns.shape), -0.5, 1.5), 0.0
    )
    scenarios = ScenarioSet(
        names=tuple(f"S{i:05d}" for i in range(n_scen)),
        factor_ids=factor_ids,
        factor_returns=returns,
        vol_shifts=vol_shifts,
        kind=ScenarioKind.HISTORICAL,
    )

    # Kinds drawn independently per instrument, so futures and options interleave by id.
    code = np.where(rng.random(n_ins) < FUTURE_SHARE, 0, rng.integers(1, 3, n_ins))
    option = code > 0
    kinds = np.array((InstrumentKind.FUTURE, InstrumentKind.CALL, InstrumentKind.PUT))[code]
    under = rng.integers(0, n_fac, n_ins)
    level = spot[under]
    moneyness = rng.normal(0.0, MONEYNESS_SD, n_ins)  # ln(K / F_0)
    grid = 10.0 ** (np.floor(np.log10(level)) - 2.0)
    strike = np.maximum(np.round(level * np.exp(moneyness) / grid), 1.0) * grid
    smile = 1.0 - 0.5 * moneyness + 2.0 * moneyness**2
    volatility = np.maximum(daily_vol[under] * np.sqrt(TRADING_DAYS_PER_YEAR) * smile, 0.05)
    expiry = rng.integers(EXPIRY_DAYS[0], EXPIRY_DAYS[1] + 1, n_ins) / TRADING_DAYS_PER_YEAR
    instruments = build_instruments(
        [f"I{i:05d}" for i in range(n_ins)],
        kinds.tolist(),
        np.asarray(factor_ids)[under].tolist(),
        multipliers=rng.choice(MULTIPLIERS, n_ins),
        strikes=np.where(option, strike, np.nan),
        expiry_years=np.where(option, expiry, np.nan),
        volatilities=np.where(option, volatility, np.nan),
        factor_ids=factor_ids,
    )
    return Market(instruments, spot, scenarios)


def bare_revaluation(market: Market, horizon_days: int) -> NDArray[np.float64]:
    """Per-unit P&L, shape (n_instruments, n_scenarios): the textbook formulas, bare.

    Futures ``m F_0 (exp(r) - 1)``; options ``m (V(F_0 exp(r), sigma (1 + shift),
    T - horizon) - V(F_0, sigma, T))`` with Black-76 at a zero rate, computed in place
    (two scratch arrays of the options' size). No validation and no branch for expired
    or zero-volatility options (the synthetic market has none).
    """
    ins, spot = market.instruments, market.spot
    returns = market.scenarios.factor_returns.T  # (n_factors, n_scenarios)
    option = ins.is_option
    opt, lin = np.flatnonzero(option), np.flatnonzero(~option)
    pnl = np.empty((ins.n_instruments, market.scenarios.n_scenarios))
    u = ins.underlying[lin]
    moves = np.expm1(returns)[u]
    moves *= (ins.multiplier[lin] * spot[u])[:, None]
    pnl[lin] = moves
    del moves

    u = ins.underlying[opt]
    f = (spot[:, None] * np.exp(returns))[u]  # F_s
    k = ins.strike[opt][:, None]
    sign = np.where(ins.is_call[opt], 1.0, -1.0)[:, None]
    vol = ins.volatility[opt]
    years = ins.expiry_years[opt]
    sd = (1.0 + market.scenarios.vol_shifts.T)[u]
    sd *= vol[:, None]
    sd *= np.sqrt(years - horizon_days / TRADING_DAYS_PER_YEAR)[:, None]
    d1 = np.divide(f, k)
    np.log(d1, out=d1)
    d1 /= sd
    sd *= 0.5
    d1 += sd
    sd *= 2.0
    d2 = np.subtract(d1, sd, out=sd)
    # V = sign (F N(sign d1) - K N(sign d2)), into d1.
    d1 *= sign
    special.ndtr(d1, out=d1)
    d1 *= f
    d2 *= sign
    special.ndtr(d2, out=d2)
    d2 *= k
    d1 -= d2
    d1 *= sign

    f0, k0, sign0, sd0 = spot[u], k[:, 0], sign[:, 0], vol * np.sqrt(years)
    d1_0 = np.log(f0 / k0) / sd0 + 0.5 * sd0
    today = sign0 * (f0 * special.ndtr(sign0 * d1_0) - k0 * special.ndtr(sign0 * (d1_0 - sd0)))
    d1 -= today[:, None]
    d1 *= ins.multiplier[opt][:, None]
    pnl[opt] = d1
    return pnl


def pricing_step(
    market: Market, dtype: type[np.floating[Any]], repeats: int
) -> tuple[StepTiming, dict[str, float]]:
    """``instrument_pnl`` in the margin scenarios versus ``bare_revaluation``.

    Both price in float64 (``instrument_pnl``'s contract); with float32 P&L both then
    cast, as the pipeline would. Raises ``AssertionError`` if the two disagree beyond a
    relative 1e-9. Returns the timing and the pricing figures.
    """

    def candidate() -> NDArray[np.floating[Any]]:
        pnl = instrument_pnl(market.instruments, market.spot, market.scenarios, HORIZON_DAYS)
        return pnl.astype(dtype, copy=False)

    def baseline() -> NDArray[np.floating[Any]]:
        return bare_revaluation(market, HORIZON_DAYS).astype(dtype, copy=False)

    expected = bare_revaluation(market, HORIZON_DAYS)
    actual = instrument_pnl(market.instruments, market.spot, market.scenarios, HORIZON_DAYS)
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=0.0)
    scale = np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    max_rel_diff = float(np.max(np.abs(actual - expected) / scale))
    del expected, actual

    n_ins, n_scen = market.instruments.n_instruments, market.scenarios.n_scenarios
    cast = "" if dtype is np.float64 else ", to float32"
    step = time_pairs(candidate, baseline, repeats).compared(
        f"instrument_pnl, {n_ins:,} x {n_scen:,} scen.{cast}", BARE_PRICING, PRICING_GOAL
    )
    revaluations = n_ins * n_scen
    assert step.baseline_seconds is not None
    figures = {
        "n_instruments": n_ins,
        "n_options": int(market.instruments.is_option.sum()),
        "n_factors": len(market.instruments.factor_ids),
        "n_scenarios": n_scen,
        "horizon_days": HORIZON_DAYS,
        "revaluations": revaluations,
        "revaluations_per_second": revaluations / step.seconds,
        "baseline_revaluations_per_second": revaluations / step.baseline_seconds,
        "max_rel_diff": max_rel_diff,
    }
    return step, figures


def aggregation_steps(day: CcpDay, repeats: int) -> list[StepTiming]:
    """``account_pnl`` for the margin and the stress scenarios versus bare products."""
    steps: list[StepTiming] = []
    times: list[PairedTimes] = []
    # The bare product in the P&L dtype throughout (float64 positions would upcast float32).
    held = day.positions.astype(day.margin_pnl.dtype)
    for label, pnl in (("margin", day.margin_pnl), ("stress", day.stress_pnl)):
        times.append(
            time_pairs(
                partial(account_pnl, day.positions, pnl),
                partial(operator.matmul, held, pnl),
                repeats,
            )
        )
        steps.append(
            times[-1].compared(f"account_pnl, {pnl.shape[1]:,} {label} scenarios", BARE_PRODUCT)
        )
    total = (times[0] + times[1]).compared(
        "aggregation, margin + stress", BARE_PRODUCT, AGGREGATION_GOAL
    )
    return [*steps, total]


def margin_steps(day: CcpDay, repeats: int) -> tuple[list[StepTiming], NDArray[np.float64]]:
    """ES margin of every account versus a bare partition; also returns the margins."""
    pnl = account_pnl(day.positions, day.margin_pnl)
    k = k_for_confidence(pnl.shape[1], MARGIN.confidence)
    steps: list[StepTiming] = []
    for label, work in (
        (f"initial_margin, ES k={k}", partial(initial_margin, pnl, MARGIN)),
        (f"expected_shortfall, k={k}", partial(expected_shortfall, pnl, k)),
    ):
        times = time_pairs(work, partial(np.partition, pnl, k - 1, axis=1), repeats)
        steps.append(times.compared(label, "np.partition", MARGIN_GOAL))
    return steps, initial_margin(pnl, MARGIN)


def thread_steps(day: CcpDay, repeats: int) -> list[StepTiming]:
    """Aggregation and ES margin on two threads versus the same call on one (same arrays)."""
    pnl = account_pnl(day.positions, day.margin_pnl)
    aggregation = time_pairs(
        partial(account_pnl, day.positions, day.margin_pnl, threads=THREADS),
        partial(account_pnl, day.positions, day.margin_pnl, threads=1),
        repeats,
    )
    margin = time_pairs(
        partial(initial_margin, pnl, MARGIN, threads=THREADS),
        partial(initial_margin, pnl, MARGIN, threads=1),
        repeats,
    )
    goal = f"<= {1 / THREAD_SPEEDUP_GOAL:.3f}x ({THREAD_SPEEDUP_GOAL}x faster)"
    steps = []
    for label, times in (
        ("account_pnl, margin scenarios", aggregation),
        ("initial_margin", margin),
    ):
        step = times.compared(f"{label}, {THREADS} threads", "the same on 1 thread")
        met = step.ratio is not None and step.ratio <= 1 / THREAD_SPEEDUP_GOAL
        steps.append(replace(step, goal=goal, met=met))
    return steps


def fund_step(
    day: CcpDay, margin: NDArray[np.float64], repeats: int
) -> tuple[StepTiming, FundSizing, NDArray[np.float64]]:
    """Stress to contributions, timed from the account stress P&L and the margins."""
    pnl = account_pnl(day.positions, day.stress_pnl)
    work = partial(stress_to_contributions, day, pnl, margin)
    seconds = median_seconds(work, repeats)
    sizing, contributions = work()
    step = StepTiming(
        "stress, Cover-2, Art 42(3), sizing, allocation",
        seconds,
        goal=f"< {FUND_GOAL_SECONDS:g} s",
        met=seconds < FUND_GOAL_SECONDS,
    )
    return step, sizing, contributions


def run_benchmark(
    quick: bool, float32: bool, repeats: int, with_dask: bool, chunk_accounts: int
) -> dict[str, Any]:
    """Build the day, time every step, and return the figures (also printed as a table)."""
    shape = SMALL_CCP_DAY if quick else BIG_CCP_DAY
    dtype = np.float32 if float32 else np.float64
    start = time.perf_counter()
    day = generate_day(shape, seed=SEED, dtype=dtype)
    steps = [StepTiming("generate the synthetic day", time.perf_counter() - start)]
    start = time.perf_counter()
    market = generate_market(shape, seed=SEED)
    steps.append(StepTiming("generate the synthetic market", time.perf_counter() - start))
    timed_pricing, pricing = pricing_step(market, dtype, repeats)
    steps.append(timed_pricing)
    del market
    steps.extend(aggregation_steps(day, repeats))
    timed_margin, margin = margin_steps(day, repeats)
    steps.extend(timed_margin)
    steps.extend(thread_steps(day, repeats))
    timed_fund, sizing, contributions = fund_step(day, margin, repeats)
    steps.append(timed_fund)

    # The chunked pipeline end to end, then once more under tracemalloc for its peak.
    pipeline = partial(chunked_pipeline, day, chunk_accounts)
    pipeline_seconds = median_seconds(pipeline, repeats)
    tracemalloc.start()
    chunked_sizing, chunked_contributions, member_exposures = pipeline()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    steps.append(
        StepTiming(
            f"chunked pipeline, {chunk_accounts:,} accounts a block",
            pipeline_seconds,
            goal=f"peak < {MEMORY_GOAL_BYTES // GIB} GiB",
            met=traced_peak < MEMORY_GOAL_BYTES,
        )
    )
    checks = {
        "fund_size": sizing.size,
        "cover2": sizing.cover.amount,
        "art42_floor": sizing.art42_floor,
        "chunked_fund_size_rel_diff": abs(chunked_sizing.size - sizing.size) / sizing.size,
        "chunked_contributions_max_rel_diff": float(
            np.max(np.abs(chunked_contributions - contributions)) / np.max(contributions)
        ),
    }
    if with_dask:
        steps.extend(_dask_steps(day, chunk_accounts, repeats, member_exposures, checks))

    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    memory = {
        "chunked_traced_peak_bytes": traced_peak,
        "process_max_rss_bytes": rss_peak,
        "goal_bytes": MEMORY_GOAL_BYTES,
        "met": max(traced_peak, rss_peak) < MEMORY_GOAL_BYTES,
    }
    report = {
        "shape": asdict(shape),
        "nnz": int(day.positions.nnz),
        "dtype": np.dtype(dtype).name,
        "repeats": repeats,
        "steps": [asdict(step) for step in steps],
        "memory": memory,
        "pricing": pricing,
        "checks": checks,
    }
    _print_report(report, steps)
    return report


def _dask_steps(
    day: CcpDay,
    chunk_accounts: int,
    repeats: int,
    member_exposures: NDArray[np.floating[Any]],
    checks: dict[str, float],
) -> list[StepTiming]:
    """The margin and exposures step on a two-worker LocalCluster versus in process."""
    inputs = (day.positions, day.margin_pnl, day.stress_pnl, day.account_member, day.n_members)
    start = time.perf_counter()
    # ":0": any free port (None would still bind the scheduler's HTTP routes to 8787).
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        started = time.perf_counter() - start
        times = time_pairs(
            lambda: distributed.margin_and_exposures(
                *inputs, params=MARGIN, client=client, chunk_accounts=chunk_accounts
            ),
            lambda: chunked.margin_and_exposures(
                *inputs, params=MARGIN, chunk_accounts=chunk_accounts
            ),
            repeats,
        )
        _, dask_exposures = distributed.margin_and_exposures(
            *inputs, params=MARGIN, client=client, chunk_accounts=chunk_accounts
        )
    checks["dask_exposures_max_abs_diff"] = float(np.max(np.abs(dask_exposures - member_exposures)))
    return [
        StepTiming("start LocalCluster(2 workers, threads)", started),
        times.compared("margin + exposures on Dask", "same, in process"),
    ]


def _print_report(report: dict[str, Any], steps: Sequence[StepTiming]) -> None:
    shape = report["shape"]
    print(
        f"big CCP day: {shape['n_members']} members in {shape['n_groups']} groups, "
        f"{shape['n_accounts']:,} accounts, {report['nnz']:,} positions, "
        f"{shape['n_instruments']:,} instruments, {shape['n_margin_scenarios']:,} margin + "
        f"{shape['n_stress_scenarios']:,} stress scenarios; {report['dtype']}, "
        f"median of {report['repeats']}"
    )
    header = f"{'step':<48} {'seconds':>9} {'baseline':<17} {'base s':>8} {'ratio':>6}  goal"
    print(header)
    print("-" * len(header))
    for step in steps:
        base = "" if step.baseline_seconds is None else f"{step.baseline_seconds:8.3f}"
        ratio = "" if step.ratio is None else f"{step.ratio:6.2f}"
        verdict = "" if step.met is None else (" met" if step.met else " MISSED")
        print(
            f"{step.step:<48} {step.seconds:9.3f} {step.baseline:<17} {base:>8} {ratio:>6}"
            f"  {step.goal}{verdict}"
        )
    pricing = report["pricing"]
    print(
        f"pricing: {pricing['revaluations']:,} instrument-scenario revaluations "
        f"({pricing['n_options']:,} options, {pricing['n_factors']} factors, "
        f"{pricing['horizon_days']}-day horizon): "
        f"{pricing['revaluations_per_second']:.3g}/s, baseline "
        f"{pricing['baseline_revaluations_per_second']:.3g}/s; "
        f"max rel. diff {pricing['max_rel_diff']:.1e}"
    )
    memory = report["memory"]
    print(
        f"peak memory: chunked pipeline {memory['chunked_traced_peak_bytes'] / GIB:.3f} GiB "
        f"(tracemalloc), process {memory['process_max_rss_bytes'] / GIB:.3f} GiB (max RSS); "
        f"goal < {MEMORY_GOAL_BYTES // GIB} GiB {'met' if memory['met'] else 'MISSED'}"
    )
    checks = report["checks"]
    print(
        f"fund: {checks['fund_size']:,.0f} (Cover-2 {checks['cover2']:,.0f}, "
        f"Art 42(3) {checks['art42_floor']:,.0f}); chunked vs whole: size rel. diff "
        f"{checks['chunked_fund_size_rel_diff']:.1e}, contributions "
        f"{checks['chunked_contributions_max_rel_diff']:.1e}"
        + (
            f"; Dask vs in process: {checks['dask_exposures_max_abs_diff']:.1e}"
            if "dask_exposures_max_abs_diff" in checks
            else ""
        )
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark from the command line (unknown options are ignored)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_risk")
    parser.add_argument("--quick", action="store_true", help="a small day, in seconds")
    parser.add_argument("--float32", action="store_true", help="instrument P&L in float32")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per step")
    parser.add_argument("--no-dask", action="store_true", help="skip the LocalCluster step")
    parser.add_argument("--chunk-accounts", type=int, default=chunked.DEFAULT_CHUNK_ACCOUNTS)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    quick = args.quick or os.environ.get("CCP_BENCH_QUICK", "") not in ("", "0")
    repeats = args.repeats if args.repeats is not None else (1 if quick else 3)
    report = run_benchmark(quick, args.float32, repeats, not args.no_dask, args.chunk_accounts)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
