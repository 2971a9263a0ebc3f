"""Monte Carlo runs: convergence to enumerated probabilities, seeds, SITG grid, contagion."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import numpy as np
import pytest

from ccpwaterfall.domain import Money, Rulebook, Tranche, currency
from ccpwaterfall.simulation.book import Book
from ccpwaterfall.simulation.defaults import DefaultModel
from ccpwaterfall.simulation.engine import (
    Market,
    SimulationSettings,
    SitgVariant,
    simulate,
    sitg_rulebook,
)
from ccpwaterfall.waterfall import run_case

EUR = currency("EUR")
PD = np.array([0.05, 0.1, 0.15, 0.2])


def _small_book(scenarios: int = 1) -> Book:
    """Four members, each its own group, with losses that reach every tranche in some path."""
    contributions = np.array([300, 200, 400, 100], np.int64) * 100
    base = np.array([900, 1_500, 700, 2_000], np.int64) * 100
    loss = np.stack([base * (s + 1) for s in range(scenarios)])
    return Book(
        name="small",
        ccp_name="Small CCP",
        currency=EUR,
        rulebook=Rulebook(
            (
                Tranche("defaulter_margin"),
                Tranche("defaulter_default_fund"),
                Tranche("ccp_capital", amount=Money.of("250", EUR)),
                Tranche("member_default_fund"),
                Tranche("assessments", cap_multiple=Decimal("1")),
                Tranche("vm_gains_haircut", max_fraction=Decimal("0.5")),
            )
        ),
        member_ids=("A", "B", "C", "D"),
        member_names=(None,) * 4,
        group_ids=("A", "B", "C", "D"),
        member_group=np.arange(4, dtype=np.intp),
        contribution=contributions,
        margin=np.full(4, 40_000, np.int64),
        scenario_names=tuple(f"S{s}" for s in range(scenarios)),
        loss=loss,
        usable_margin=np.minimum(loss, 40_000),
        gains=np.full((scenarios, 4), 30_000, np.int64),
    )


def _combination_probability(defaulted: tuple[bool, ...], rho: float) -> float:
    nodes, weights = np.polynomial.hermite_e.hermegauss(120)
    weights = weights / math.sqrt(2 * math.pi)
    p = DefaultModel(PD, rho).conditional_pd(nodes)
    mask = np.asarray(defaulted)
    terms = np.where(mask, p, 1 - p).prod(axis=1)
    return float(np.dot(weights, terms))


@pytest.mark.parametrize("rho", [0.0, 0.4])
def test_tranche_probabilities_converge_to_the_enumerated_ones(rho: float) -> None:
    book = _small_book()
    reached = np.zeros(len(book.rulebook.waterfall))
    for combination in itertools.product((False, True), repeat=4):
        if not any(combination):
            continue
        event = run_case(book.case(0, np.asarray(combination))).events[0]
        used = np.asarray([not t.used.is_zero() for t in event.tranches])
        reached += _combination_probability(combination, rho) * used
    n = 100_000
    run = simulate(
        Market(book, DefaultModel(PD, rho)),
        SimulationSettings(paths=n, seed=3, chunk_paths=25_000, exact_worst=50, exact_random=50),
    )
    simulated = run.summary.figures.used.probability()
    for tranche, (want, got) in enumerate(zip(reached.tolist(), simulated.tolist(), strict=True)):
        error = math.sqrt(want * (1 - want) / n)
        assert abs(got - want) < 4 * error + 1e-12, tranche
    assert run.exact.checked > 50
    assert run.exact.agrees


def _demo_like() -> Market:
    return Market(_small_book(scenarios=3), DefaultModel(PD, 0.3))


def test_same_seed_gives_identical_figures_and_another_seed_does_not() -> None:
    settings = SimulationSettings(paths=20_000, seed=9, chunk_paths=4_000, exact_random=20)
    first = simulate(_demo_like(), settings)
    second = simulate(_demo_like(), settings)
    other = simulate(_demo_like(), SimulationSettings(paths=20_000, seed=10, chunk_paths=4_000))
    for a, b in ((first, second),):
        assert a.summary.figures.used.total == b.summary.figures.used.total
        k = settings.tail
        assert np.array_equal(a.summary.figures.used.var(k), b.summary.figures.used.var(k))
        assert a.summary.figures.used.es_units(k) == b.summary.figures.used.es_units(k)
    assert first.summary.figures.used.total != other.summary.figures.used.total


def test_exact_check_covers_the_worst_and_random_paths() -> None:
    settings = SimulationSettings(
        paths=10_000, seed=1, chunk_paths=3_000, exact_worst=30, exact_random=40
    )
    run = simulate(_demo_like(), settings)
    worst = [r.loss for r in run.summary.worst]
    assert len(worst) == 30
    assert worst == sorted(worst, reverse=True)
    assert len(run.summary.sampled) == 40
    assert run.exact.agrees


def test_sitg_grid_lowers_members_losses_as_capital_grows() -> None:
    sizes = (0, 10_000, 50_000, 500_000)
    settings = SimulationSettings(
        paths=20_000,
        seed=4,
        chunk_paths=5_000,
        sitg=tuple(SitgVariant(a, "before") for a in sizes),
        exact_worst=0,
        exact_random=0,
    )
    run = simulate(_demo_like(), settings)
    members = [v.members.total[0] for v in run.summary.variants]
    ccp = [v.ccp.total[0] for v in run.summary.variants]
    assert members == sorted(members, reverse=True)
    assert members[0] > members[-1]
    assert ccp == sorted(ccp)
    assert ccp[0] == 0


def test_sitg_after_the_fund_sits_behind_it() -> None:
    book = _small_book()
    before = sitg_rulebook(book.rulebook, SitgVariant(100, "before"), book)
    after = sitg_rulebook(book.rulebook, SitgVariant(100, "after"), book)
    assert [t.kind for t in before.waterfall][2:4] == ["ccp_capital", "member_default_fund"]
    assert [t.kind for t in after.waterfall][2:4] == ["member_default_fund", "ccp_capital"]


def test_contagion_adds_secondary_defaults_and_agrees_with_the_exact_engine() -> None:
    book = _small_book(scenarios=3)
    capital = np.array([5_000, 5_000, 5_000, 5_000], np.int64)
    settings = SimulationSettings(
        paths=20_000,
        seed=2,
        chunk_paths=5_000,
        contagion_share=Decimal("0.5"),
        exact_worst=100,
        exact_random=100,
    )
    with_capital = simulate(Market(book, DefaultModel(PD, 0.3), capital), settings)
    without = simulate(Market(book, DefaultModel(PD, 0.3)), settings)
    secondary = with_capital.summary.secondary_groups
    assert secondary[1:].sum() > 0
    assert without.summary.secondary_groups[1:].sum() == 0
    # The same draws: contagion only adds loss.
    assert with_capital.summary.loss.total[0] > without.summary.loss.total[0]
    assert with_capital.summary.primary_loss.total == without.summary.primary_loss.total
    assert with_capital.exact.agrees
    assert with_capital.exact.checked > 100


def test_tallies_merged_by_chunk_equal_the_tally_of_all_paths() -> None:
    from ccpwaterfall.simulation.stats import Tally

    rng = np.random.default_rng(8)
    values = rng.integers(0, 1000, (5_000, 4)) * (rng.random((5_000, 4)) < 0.1)
    whole = Tally.of(values)
    pieces = [Tally.of(part) for part in np.array_split(values, 7)]
    merged = Tally.merge(pieces[:3])
    merged = Tally.merge([merged, *pieces[3:]])
    assert merged.paths == whole.paths == 5_000
    assert merged.total == whole.total == values.sum(axis=0).tolist()
    assert merged.positive.tolist() == whole.positive.tolist() == (values > 0).sum(axis=0).tolist()


def test_member_tails_merged_by_chunk_equal_a_brute_force_over_every_path() -> None:
    from ccpwaterfall.simulation.defaults import draw
    from ccpwaterfall.simulation.engine import chunk_seeds, scenario_of
    from ccpwaterfall.simulation.paths import run_paths

    market = _demo_like()
    settings = SimulationSettings(
        paths=9_000, seed=12, chunk_paths=3_000, exact_worst=0, exact_random=0
    )
    run = simulate(market, settings)
    # The same paths drawn again, chunk by chunk, and ranked whole.
    book = market.book
    paid = []
    for seed in chunk_seeds(settings.seed, 3):
        draws = draw(market.model, np.random.default_rng(seed), 3_000)
        defaulted = np.take(draws.defaulted, book.member_group, axis=1)
        fund, assessment, haircut = run_paths(
            book, scenario_of(book, draws.factor), defaulted
        ).dense()
        paid.append(np.stack([fund, assessment, haircut], axis=2))
    every = np.concatenate(paid)
    totals = every.sum(axis=2)
    k = settings.tail
    members = run.summary.figures.member_tally
    assert members.total == totals.sum(axis=0).tolist()
    worst = -np.sort(-totals, axis=0)[:k]
    assert [s for s, _ in members.es_units(k)] == worst.sum(axis=0).tolist()
    assert members.var(k).tolist() == worst[k - 1].tolist()
    parts = run.summary.figures.tail_parts
    assert parts is not None
    for member in range(book.n_members):
        # Each member's tail parts add up to its tail, on paths of its k largest totals.
        assert int(parts[member].sum()) == int(worst[:, member].sum())


def test_each_sitg_size_is_checked_against_the_exact_engine_on_the_worst_paths() -> None:
    variants = tuple(SitgVariant(a, p) for a in (0, 30_000) for p in ("before", "after"))
    settings = SimulationSettings(
        paths=5_000, seed=6, chunk_paths=2_000, exact_worst=20, exact_random=0, sitg=variants
    )
    run = simulate(_demo_like(), settings)
    assert len(run.summary.worst) == 20
    assert run.exact.checked == 20 * (1 + len(variants))
    assert run.exact.agrees
