"""Properties of the risk measures, Cover-N, fund sizing and contributions (Hypothesis)."""

from __future__ import annotations

from random import Random

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray

from ccpwaterfall.risk.fund import allocate_contributions, size_default_fund
from ccpwaterfall.risk.margin import expected_shortfall, k_for_confidence, value_at_risk
from ccpwaterfall.risk.params import ContributionMethod, FundParams
from ccpwaterfall.risk.reverse_stress import reverse_stress
from ccpwaterfall.risk.stress import account_shortfall, cover, emir_art42_floor, group_exposures

PNL = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
AMOUNT = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)


def pnl_matrices(
    max_accounts: int = 5, max_scenarios: int = 40
) -> st.SearchStrategy[NDArray[np.float64]]:
    shapes = st.tuples(st.integers(1, max_accounts), st.integers(1, max_scenarios))
    return shapes.flatmap(lambda shape: arrays(np.float64, shape, elements=PNL))


def exposure_matrices(
    max_groups: int = 6, max_scenarios: int = 20
) -> st.SearchStrategy[NDArray[np.float64]]:
    shapes = st.tuples(st.integers(1, max_groups), st.integers(1, max_scenarios))
    return shapes.flatmap(lambda shape: arrays(np.float64, shape, elements=AMOUNT))


def close_or_above(left: NDArray[np.float64], right: NDArray[np.float64]) -> bool:
    """``left >= right`` up to the rounding of a mean of a few numbers."""
    slack = 1e-12 * np.maximum(np.abs(left), np.abs(right)) + 1e-9
    return bool(np.all(left >= right - slack))


@given(pnl_matrices(), st.floats(0.5, 0.98), st.floats(0.5, 0.98))
def test_var_rises_with_confidence(pnl: NDArray[np.float64], a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert np.all(value_at_risk(pnl, low) <= value_at_risk(pnl, high))


@given(pnl_matrices(), st.data())
def test_es_falls_as_the_tail_widens(pnl: NDArray[np.float64], data: st.DataObject) -> None:
    n_scenarios = pnl.shape[1]
    k = data.draw(st.integers(1, n_scenarios))
    wider = data.draw(st.integers(k, n_scenarios))
    assert close_or_above(expected_shortfall(pnl, k), expected_shortfall(pnl, wider))


@given(pnl_matrices(), st.data())
def test_es_is_at_least_var_at_the_same_tail(pnl: NDArray[np.float64], data: st.DataObject) -> None:
    n_scenarios = pnl.shape[1]
    k = data.draw(st.integers(1, n_scenarios))
    confidence = 1.0 - k / n_scenarios
    if confidence <= 0.0:
        confidence = 0.5 / n_scenarios  # k = n: any confidence whose tail rounds up to n
    assert k_for_confidence(n_scenarios, confidence) == k
    assert close_or_above(expected_shortfall(pnl, k), value_at_risk(pnl, confidence))


@given(pnl_matrices(), st.randoms(use_true_random=False), st.floats(0.5, 0.99))
def test_margin_ignores_scenario_order(
    pnl: NDArray[np.float64], random: Random, confidence: float
) -> None:
    order = np.array(random.sample(range(pnl.shape[1]), pnl.shape[1]))
    shuffled = pnl[:, order]
    k = k_for_confidence(pnl.shape[1], confidence)
    # Exactly equal: the k worst are summed in sorted order whatever the column order.
    assert np.array_equal(expected_shortfall(shuffled, k), expected_shortfall(pnl, k))
    assert np.array_equal(value_at_risk(shuffled, confidence), value_at_risk(pnl, confidence))


@given(exposure_matrices())
def test_cover_measures_are_ordered(exposures: NDArray[np.float64]) -> None:
    cover1, cover2, cover3 = (cover(exposures, n).amount for n in (1, 2, 3))
    floor = emir_art42_floor(exposures).amount
    assert cover1 <= cover2 <= cover3
    assert cover1 <= floor <= cover3
    # Per scenario max(E1, E2 + E3) <= E1 + E2: the floor never exceeds Cover-2.
    assert floor <= cover2


@given(exposure_matrices(), st.randoms(use_true_random=False))
def test_cover_follows_its_groups_when_rows_move(
    exposures: NDArray[np.float64], random: Random
) -> None:
    order = np.array(random.sample(range(exposures.shape[0]), exposures.shape[0]))
    for n in (1, 2, 3):
        base = cover(exposures, n)
        moved = cover(exposures[order], n)
        assert moved.amount == base.amount
        assert moved.scenario == base.scenario
        # Same exposures in the same order; among ties the group may differ, not the amount.
        picked = exposures[[int(order[g]) for g in moved.groups], base.scenario]
        assert picked.tolist() == exposures[list(base.groups), base.scenario].tolist()


@given(
    pnl_matrices(max_accounts=12, max_scenarios=15),
    st.data(),
    st.randoms(use_true_random=False),
)
def test_group_exposures_ignore_account_order(
    pnl: NDArray[np.float64], data: st.DataObject, random: Random
) -> None:
    n_accounts = pnl.shape[0]
    margin = data.draw(arrays(np.float64, n_accounts, elements=AMOUNT))
    groups = data.draw(arrays(np.intp, n_accounts, elements=st.integers(0, 3)))
    order = np.array(random.sample(range(n_accounts), n_accounts))
    base = group_exposures(account_shortfall(pnl, margin), groups, 4)
    moved = group_exposures(account_shortfall(pnl[order], margin[order]), groups[order], 4)
    np.testing.assert_allclose(moved, base, rtol=1e-12, atol=1e-6)
    assert np.isclose(cover(moved, 2).amount, cover(base, 2).amount, rtol=1e-12, atol=1e-6)


CONTRIBUTION_METHODS = st.sampled_from(list(ContributionMethod))


@given(st.data(), st.integers(1, 8), AMOUNT, CONTRIBUTION_METHODS)
def test_contributions_add_up_and_respect_minimums(
    data: st.DataObject, n_members: int, size: float, method: ContributionMethod
) -> None:
    margin_weight = data.draw(st.floats(0.0, 1.0))
    minimum = data.draw(st.floats(0.0, 1e5))
    static = data.draw(st.floats(0.0, 1e5))
    positive = st.floats(1e-3, 1e6, allow_nan=False)
    margin = data.draw(arrays(np.float64, n_members, elements=positive))
    stress = data.draw(arrays(np.float64, n_members, elements=positive))
    params = FundParams(
        method=method,
        margin_weight=margin_weight,
        minimum_contribution=minimum,
        static_contribution=static,
    )
    contributions = allocate_contributions(size, margin, stress, params)
    least = max(minimum, static)
    assert np.all(contributions >= least)
    assert np.isclose(contributions.sum(), max(size, least * n_members), rtol=1e-9, atol=1e-6)
    # Above the minimum, contributions follow the key: a larger key never pays less.
    key_order = np.argsort(margin if method is ContributionMethod.MARGIN else stress)
    if method is not ContributionMethod.MIXED:
        paid = contributions[key_order]
        assert np.all(np.diff(paid) >= -1e-9 * max(size, 1.0))


@given(exposure_matrices(max_groups=7, max_scenarios=12), st.data())
def test_stress_this_house(exposures: NDArray[np.float64], data: st.DataObject) -> None:
    # LCH "Stress This House" [LCH-STRESS-THIS-HOUSE]: with the fund sized exactly to Cover-2
    # on the scenario set, no scenario with at most two defaulting groups exhausts the fund,
    # so no assessment is needed; SITG junior to the fund only adds to the resources.
    n_groups = exposures.shape[0]
    sizing = size_default_fund(exposures, FundParams(cover=2))
    positive = st.floats(1.0, 1e6, allow_nan=False)
    margin = data.draw(arrays(np.float64, n_groups, elements=positive))
    stress = exposures.max(axis=1) + 1.0
    method = data.draw(CONTRIBUTION_METHODS)
    fund = allocate_contributions(sizing.size, margin, stress, FundParams(method=method))
    sitg = data.draw(st.floats(0.0, 1e5))
    prefunded = sitg + float(fund.sum())
    # Every single default and every pair, every scenario: defaulters' DF, then SITG,
    # then survivors' DF; the loss never gets past the survivors' DF.
    loss = exposures[:, None, :] + exposures[None, :, :]
    own = fund[:, None] + fund[None, :]
    pair = ~np.eye(n_groups, dtype=bool)
    singles = exposures - fund[:, None] - sitg
    pairs = loss - own[:, :, None] - sitg
    survivors_single = fund.sum() - fund
    tolerance = 1e-9 * max(sizing.size, 1.0)
    assert np.all(singles <= survivors_single[:, None] + tolerance)
    assert np.all(pairs[pair] <= (fund.sum() - own[pair])[:, None] + tolerance)
    # The reverse stress at multiplier 1 agrees: never exhausted on the scenario set.
    result = reverse_stress(exposures[None], [1.0], fund, prefunded=prefunded + tolerance)
    assert np.all(np.isinf(result.multiplier))
