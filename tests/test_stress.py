"""Stress exposures, Cover-N and the EMIR Art 42(3) floor."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from ccpwaterfall.risk.stress import (
    account_shortfall,
    beyond_own_fund,
    cover,
    emir_art42_floor,
    group_exposures,
)


def one_scenario(*exposures: float) -> NDArray[np.float64]:
    return np.array(exposures, dtype=np.float64)[:, None]


def test_emir_cover_tests_t10() -> None:
    # Worked example: exposures [500, 300, 250, 100] -> Art 42(3) minimum 550 [EMIR-648],
    # CFTC 39.11 Cover 1 500 [CFTC-39.11], PFMI / Art 43(2) Cover 2 800 [PFMI-2012].
    exposures = one_scenario(500, 300, 250, 100)
    floor = emir_art42_floor(exposures)
    assert floor.amount == 550.0
    assert floor.groups == (1, 2)
    assert cover(exposures, 1).amount == 500.0
    cover2 = cover(exposures, 2)
    assert cover2.amount == 800.0
    assert cover2.groups == (0, 1)


def test_emir_cover_tests_a5() -> None:
    # Worked example on [EMIR-648]: [100, 70, 60, 10] -> floor 130, Cover-1 100, Cover-2 170.
    exposures = one_scenario(100, 70, 60, 10)
    assert emir_art42_floor(exposures).amount == 130.0
    assert cover(exposures, 1).amount == 100.0
    assert cover(exposures, 2).amount == 170.0


def test_art42_floor_is_the_largest_when_it_beats_the_pair() -> None:
    floor = emir_art42_floor(one_scenario(100, 40, 30, 20))
    assert (floor.amount, floor.groups) == (100.0, (0,))
    # A tie between the largest and the pair keeps the largest: "if the sum ... is larger".
    tie = emir_art42_floor(one_scenario(100, 60, 40))
    assert (tie.amount, tie.groups) == (100.0, (0,))


def test_affiliates_count_as_one_group_a5() -> None:
    # Affiliates as one [PFMI-2012]: groups 2 and 4 under one parent (70 + 10 = 80) -> 180.
    member_shortfall = one_scenario(100, 70, 60, 10)
    parent = np.array([0, 1, 2, 1])
    exposures = group_exposures(member_shortfall, parent, 3)
    assert exposures[:, 0].tolist() == [100.0, 80.0, 60.0]
    assert cover(exposures, 2).amount == 180.0


def test_mutualised_variant_picks_by_depletion_a5() -> None:
    # [BoE-SST-2024] selection, own DF [40, 5, 5, 1] -> beyond own fund [60, 65, 55, 9]:
    # groups 2 + 1 = 125; own DF [90, 5, 5, 1] -> [10, 65, 55, 9]: groups 2 + 3 = 120.
    exposures = one_scenario(100, 70, 60, 10)
    first = cover(beyond_own_fund(exposures, [40, 5, 5, 1]), 2)
    assert (first.amount, first.groups) == (125.0, (1, 0))
    second = cover(beyond_own_fund(exposures, [90, 5, 5, 1]), 2)
    assert (second.amount, second.groups) == (120.0, (1, 2))
    # The plain SLOIM pick differs in the second case.
    assert cover(exposures, 2).groups == (0, 1)


def test_client_collateral_never_offsets_house() -> None:
    # CRE54.30: each account's margin covers that account only. A house account losing
    # 100 with 40 margin and a client account with 60 spare margin still expose 60.
    stress_pnl = np.array([[-100.0], [-10.0]])
    shortfall = account_shortfall(stress_pnl, np.array([40.0, 70.0]))
    assert shortfall[:, 0].tolist() == [60.0, 0.0]
    assert group_exposures(shortfall, np.array([0, 0]), 1).tolist() == [[60.0]]


def test_account_shortfall_keeps_float32_and_checks_margin() -> None:
    pnl = np.array([[-5.0, 3.0]], dtype=np.float32)
    shortfall = account_shortfall(pnl, np.array([2.0]))
    assert shortfall.dtype == np.float32
    assert shortfall.tolist() == [[3.0, 0.0]]
    with pytest.raises(ValueError, match="margin must be non-negative"):
        account_shortfall(pnl, np.array([-1.0]))
    with pytest.raises(ValueError, match=r"margin must have shape \(1,\)"):
        account_shortfall(pnl, np.array([1.0, 2.0]))


def test_cover_picks_the_worst_scenario_and_reports_every_scenario() -> None:
    exposures = np.array(
        [
            [10.0, 50.0, 0.0],
            [20.0, 5.0, 30.0],
            [30.0, 40.0, 30.0],
        ]
    )
    result = cover(exposures, 2)
    assert result.per_scenario.tolist() == [50.0, 90.0, 60.0]
    assert (result.amount, result.scenario, result.groups) == (90.0, 1, (0, 2))
    with pytest.raises(ValueError, match="read-only"):
        result.per_scenario[0] = 0.0


def test_cover_ties_go_to_the_lower_index() -> None:
    # Equal totals in scenarios 0 and 2: scenario 0. Equal exposures: the lower group first.
    exposures = np.array([[5.0, 1.0, 7.0], [7.0, 1.0, 7.0], [7.0, 1.0, 5.0]])
    result = cover(exposures, 2)
    assert (result.scenario, result.groups) == (0, (1, 2))
    single = cover(exposures, 1)
    assert (single.scenario, single.groups) == (0, (1,))


def test_permuting_groups_permutes_the_selection() -> None:
    rng = np.random.default_rng(11)
    exposures = rng.gamma(2.0, 10.0, size=(6, 40))
    base = cover(exposures, 2)
    order = rng.permutation(6)  # row r of the permuted matrix is group order[r]
    permuted = cover(exposures[order], 2)
    assert permuted.amount == base.amount
    assert permuted.scenario == base.scenario
    assert tuple(int(order[g]) for g in permuted.groups) == base.groups


def test_cover_with_more_defaulters_than_groups_takes_them_all() -> None:
    result = cover(one_scenario(3.0, 4.0), 5)
    assert (result.amount, result.groups) == (7.0, (1, 0))
    floor = emir_art42_floor(one_scenario(3.0, 4.0))
    assert floor.amount == 4.0


def test_exposures_must_be_finite_and_non_negative() -> None:
    with pytest.raises(ValueError, match="exposures must be non-negative"):
        cover(one_scenario(1.0, -1.0), 1)
    with pytest.raises(ValueError, match="NaN"):
        emir_art42_floor(one_scenario(1.0, np.nan))
    with pytest.raises(ValueError, match="at least one group"):
        cover(np.zeros((0, 3)), 1)
    with pytest.raises(ValueError, match="n must be at least 1"):
        cover(one_scenario(1.0), 0)
    with pytest.raises(ValueError, match="group_fund must have shape"):
        beyond_own_fund(one_scenario(1.0, 2.0), [1.0])
