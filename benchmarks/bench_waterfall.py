"""The waterfall engine on a large case, against bare pro rata splits on plain ints.

The case: 1,000 members, three dated events inside one cooling-off period
(extended by the later defaults), all six tranche kinds, losses sized so that
every event reaches the survivors' tranches. The engine's time (median of
several repeats of ``run_case``, journal and invariant checks included) is
compared in the same run with a bare baseline: as many ``allocate_pro_rata``
calls on a dict of 1,000 ints as the engine makes pro rata splits. The ratio
is the cost of exact Decimal money, the journal and the invariants over the
arithmetic alone.

Run: ``python -m benchmarks.bench_waterfall`` (or ``python -m benchmarks`` for all).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from unittest import mock

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
    allocate_pro_rata,
    allocate_pro_rata_capped,
    currency,
    split_pro_rata_capped,
)
from ccpwaterfall.waterfall import rules, run_case

MEMBERS = 1_000
REPEATS = 7
SEED = 2018_09_11
GOAL_SECONDS = 1.0
EUR = currency("EUR")
START = dt.date(2024, 1, 8)


def build_case(n_members: int = MEMBERS, seed: int = SEED) -> Case:
    """A seeded case of ``n_members`` members, three events and every tranche kind."""
    rng = random.Random(seed)

    def cents(low: int, high: int) -> Money:
        return Money.from_minor_units(rng.randint(low * 100, high * 100), EUR)

    members = tuple(
        Member(
            f"M{i:04}",
            default_fund=cents(100_000, 5_000_000),
            initial_margin=cents(1_000_000, 50_000_000),
            vm_gains=cents(0, 2_000_000) if i % 2 else Money.zero(EUR),
        )
        for i in range(n_members)
    )
    junior = Money.of(50_000_000, EUR)
    survivors = members[4:]
    fund = sum(m.default_fund.minor_units for m in survivors)
    gains = sum(m.vm_gains.minor_units for m in survivors)

    def loss(defaulters: tuple[Member, ...], beyond_own: int) -> Money:
        own = sum(m.initial_margin.minor_units + m.default_fund.minor_units for m in defaulters)
        return Money.from_minor_units(own + beyond_own, EUR)

    # Event 0 takes the junior capital and half the fund; event 1 the other half and
    # half the assessment power (2x the fund); event 2 the rest of it and half the
    # VM gains.
    first = members[0:2]
    defaults = [
        Default(m.id, loss((m,), (junior.minor_units + fund // 2) // 2), START) for m in first
    ]
    defaults.append(Default(members[2].id, loss(members[2:3], fund // 2 + fund), _bd(5)))
    defaults.append(Default(members[3].id, loss(members[3:4], fund + gains // 4), _bd(12)))
    waterfall = (
        Tranche(TrancheKind.DEFAULTER_MARGIN),
        Tranche(TrancheKind.DEFAULTER_DEFAULT_FUND),
        Tranche(TrancheKind.CCP_CAPITAL, name="Junior capital", amount=junior),
        Tranche(TrancheKind.MEMBER_DEFAULT_FUND),
        Tranche(TrancheKind.ASSESSMENTS, cap_multiple=Decimal(2)),
        Tranche(TrancheKind.VM_GAINS_HAIRCUT, max_fraction=Decimal("0.5")),
    )
    rulebook = Rulebook(waterfall, cooling_off=CoolingOff(20, 20, 63))
    return Case("Benchmark", EUR, "Benchmark CCP", rulebook, members, tuple(defaults))


def count_splits(case: Case) -> tuple[int, int]:
    """How many pro rata splits one run makes, and how many of them are over the members."""
    with (
        mock.patch.object(
            rules, "allocate_pro_rata_capped", wraps=allocate_pro_rata_capped
        ) as units,
        mock.patch.object(rules, "split_pro_rata_capped", wraps=split_pro_rata_capped) as money,
    ):
        run_case(case)
    calls = [*units.call_args_list, *money.call_args_list]
    sizes = [len(call.args[1]) for call in calls]
    return len(sizes), sum(1 for size in sizes if size > 100)


def median_seconds(
    first: Callable[[], object], second: Callable[[], object], repeats: int = REPEATS
) -> tuple[float, float]:
    """Median wall times of ``first`` and ``second``, repeats interleaved after a warm-up.

    Interleaving exposes both sides to the same load on a shared machine.
    """
    first()
    second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for work, spent in zip((first, second), times, strict=True):
            start = time.perf_counter()
            work()
            spent.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    """Time the engine and the bare baseline in the same run and print both and the ratio."""
    case = build_case()
    result = run_case(case)
    reached = sum(1 for e in result.events for t in e.tranches if not t.used.is_zero())
    splits, over_members = count_splits(case)
    weights = {m.id: m.default_fund.minor_units for m in case.members}
    total = sum(weights.values()) // 3

    def baseline() -> None:
        for _ in range(splits):
            allocate_pro_rata(total, weights)

    engine, bare = median_seconds(lambda: run_case(case), baseline)
    print(
        f"waterfall: {len(case.members):,} members, {len(result.events)} events, "
        f"{len(case.rulebook.waterfall)} tranches ({reached} tranche uses), "
        f"{len(result.journal)} journal entries"
    )
    print(f"  engine run_case        {engine * 1000:9.1f} ms  (median of {REPEATS}, interleaved)")
    print(
        f"  bare baseline          {bare * 1000:9.1f} ms  "
        f"({splits} allocate_pro_rata calls on {len(weights):,} ints; "
        f"the engine's {splits} splits, {over_members} of them over the members)"
    )
    print(f"  ratio engine/baseline  {engine / bare:9.1f}x")
    verdict = "met" if engine < GOAL_SECONDS else "MISSED"
    print(f"  goal: under {GOAL_SECONDS:.0f} s: {verdict}")


def _bd(days: int) -> dt.date:
    return add_business_days(START, days)


if __name__ == "__main__":
    main()
