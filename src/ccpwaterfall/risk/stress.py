"""Stress tests: shortfalls over margin, group exposures, Cover-N and the EMIR Art 42(3) floor.

Axis order: (accounts or groups, scenarios). Exposures are stress losses beyond
what the defaulter's own resources cover, so they are never negative.

- ``account_shortfall``: stress loss over margin per account. An account's
  collateral covers that account only (client collateral never offsets house:
  Basel CRE54.30), so shortfalls are taken per account and only then summed.
- ``group_exposures``: the sums per member group; affiliates count as one
  (CFTC 39.11(a)(1); PFMI P4 Cover 2 "and their affiliates").
- ``beyond_own_fund``: beyond the group's own default fund contribution too,
  the mutualised depletion of the BoE 2024 SST.
- ``cover``: Cover-N = max over scenarios of the sum of the N largest group
  exposures (CPMI-IOSCO PQD 4.4.3 / 4.4.7).
- ``emir_art42_floor``: max over scenarios of max(E(1), E(2) + E(3)) (EMIR
  Art 42(3): the fund alone withstands the largest member, or the second and
  third if their sum is larger).

Tie-breaks are deterministic: among equal exposures the lower group index
first; among scenarios with equal totals the lower scenario index. The N
largest are summed in descending order, so equal sets give equal totals to the
last bit whatever the order of the groups.

NaN policy for every function here: a NaN or infinite entry raises ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ccpwaterfall.risk.aggregate import float_array, require_non_negative, sum_by_index


# eq=False: the result holds an array, which has no single truth value.
@dataclass(frozen=True, slots=True, eq=False)
class CoverResult:
    """A cover measure: its amount, the scenario that sets it and the groups behind it.

    ``per_scenario``: shape (n_scenarios,), float64, the measure in each
    scenario (read-only); ``amount`` is its maximum, reached first in
    ``scenario``; ``groups`` are the defaulting groups in that scenario, in
    descending exposure.
    """

    amount: float
    scenario: int
    groups: tuple[int, ...]
    per_scenario: NDArray[np.float64]


def account_shortfall(stress_pnl: ArrayLike, margin: ArrayLike) -> NDArray[np.floating[Any]]:
    """Stress loss over margin per account and scenario: ``max(-pnl - IM, 0)``.

    ``stress_pnl``: shape (n_accounts, n_scenarios), float32 or float64, gains
    positive; ``margin``: shape (n_accounts,), >= 0, the initial margin held
    against each account. Returns shape (n_accounts, n_scenarios) in the dtype
    of ``stress_pnl``, >= 0. Negative margin, a shape mismatch, NaN or inf ->
    ValueError.
    """
    pnl = float_array("stress_pnl", stress_pnl, 2)
    held = float_array("margin", margin, 1)
    if held.shape != (pnl.shape[0],):
        raise ValueError(f"margin must have shape ({pnl.shape[0]},), got {held.shape}")
    require_non_negative("margin", held)
    # In place on one fresh array: -pnl, minus margin, floored.
    shortfall = np.negative(pnl)
    shortfall -= held.astype(pnl.dtype, copy=False)[:, None]
    np.maximum(shortfall, 0.0, out=shortfall)
    result: NDArray[np.floating[Any]] = shortfall
    return result


def group_exposures(
    shortfall: ArrayLike, account_group: ArrayLike, n_groups: int
) -> NDArray[np.floating[Any]]:
    """Exposures per member group: account shortfalls summed by group.

    ``shortfall``: shape (n_accounts, n_scenarios), >= 0 (``account_shortfall``);
    ``account_group``: integer array, shape (n_accounts,), in [0, n_groups),
    the group of each account's member (affiliates share one group). Returns
    shape (n_groups, n_scenarios) in the dtype of ``shortfall``. NaN, inf or a
    negative entry -> ValueError.
    """
    values = float_array("shortfall", shortfall, 2)
    require_non_negative("shortfall", values)
    return sum_by_index(values, account_group, n_groups)


def beyond_own_fund(exposures: ArrayLike, group_fund: ArrayLike) -> NDArray[np.float64]:
    """Exposures beyond each group's own default fund contribution: ``max(E - DF, 0)``.

    ``exposures``: shape (n_groups, n_scenarios), >= 0; ``group_fund``: shape
    (n_groups,), >= 0. Returns shape (n_groups, n_scenarios), float64: what the
    group's default would take from mutualised resources (BoE 2024 SST). NaN,
    inf, negative entries or a shape mismatch -> ValueError.
    """
    values = _exposure_matrix(exposures)
    fund = float_array("group_fund", group_fund, 1)
    if fund.shape != (values.shape[0],):
        raise ValueError(f"group_fund must have shape ({values.shape[0]},), got {fund.shape}")
    require_non_negative("group_fund", fund)
    beyond = values.astype(np.float64) - fund.astype(np.float64)[:, None]
    np.maximum(beyond, 0.0, out=beyond)
    return beyond


def _exposure_matrix(exposures: ArrayLike) -> NDArray[np.floating[Any]]:
    values = float_array("exposures", exposures, 2)
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"exposures needs at least one group and one scenario, got {values.shape}")
    require_non_negative("exposures", values)
    return values


def largest(exposures: NDArray[np.floating[Any]], n: int) -> NDArray[np.float64]:
    """The n largest exposures of each scenario, descending: shape (n, n_scenarios), float64.

    ``exposures``: shape (n_groups, n_scenarios), checked by the caller. Rows
    beyond the number of groups are zero (an absent group exposes nothing).
    """
    n_groups, n_scenarios = exposures.shape
    values = exposures.astype(np.float64)
    take = min(n, n_groups)
    if take < n_groups:
        values = -np.partition(-values, take - 1, axis=0)[:take]
    top = -np.sort(-values, axis=0)
    if take < n:
        top = np.vstack([top, np.zeros((n - take, n_scenarios))])
    return top


def rank_groups(exposures: NDArray[np.floating[Any]], n: int) -> NDArray[np.intp]:
    """The n groups that expose most in each scenario: shape (..., min(n, n_groups), n_scenarios).

    ``exposures``: shape (..., n_groups, n_scenarios). Descending exposure,
    ties to the lower group index (a stable sort of the negated values). This
    is the one ranking of defaulting groups: Cover-N, the Art 42(3) floor, fund
    sizing, drills and reverse stress all choose their groups with it.
    """
    take = min(n, exposures.shape[-2])
    order: NDArray[np.intp] = np.argsort(-exposures, axis=-2, kind="stable")[..., :take, :]
    return order


def _ranked_groups(column: NDArray[np.floating[Any]], n: int) -> tuple[int, ...]:
    return tuple(int(g) for g in rank_groups(column[:, None], n)[:, 0])


def _read_only(array: NDArray[np.float64]) -> NDArray[np.float64]:
    array.flags.writeable = False
    return array


def cover(exposures: ArrayLike, n: int) -> CoverResult:
    """Cover-N: the largest total exposure of the N groups that expose most, over scenarios.

    ``exposures``: shape (n_groups, n_scenarios), >= 0 (per group, affiliates
    merged; beyond margin, or beyond own fund for the mutualised variant).
    ``n`` >= 1; with fewer groups than ``n`` all groups default. Returns a
    ``CoverResult``: ``per_scenario`` (n_scenarios,) the sum of the n largest
    exposures in each scenario; ``amount`` its maximum; ``scenario`` the first
    scenario reaching it; ``groups`` the n largest there, descending, ties to
    the lower group index. Worked example on [EMIR-648]: [500, 300, 250, 100]
    gives Cover-1 500 and Cover-2 800. NaN, inf or negative entries -> ValueError.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    values = _exposure_matrix(exposures)
    per_scenario = largest(values, n).sum(axis=0)
    scenario = int(np.argmax(per_scenario))
    groups = _ranked_groups(values[:, scenario], min(n, values.shape[0]))
    return CoverResult(
        amount=float(per_scenario[scenario]),
        scenario=scenario,
        groups=groups,
        per_scenario=_read_only(per_scenario),
    )


def emir_art42_floor(exposures: ArrayLike) -> CoverResult:
    """EMIR Art 42(3) minimum default fund: max over scenarios of max(E(1), E(2) + E(3)).

    ``exposures``: shape (n_groups, n_scenarios), >= 0; missing ranks (fewer
    than three groups) count as zero. Returns a ``CoverResult`` whose
    ``groups`` are the largest group, or the second and third where their sum
    is strictly larger. Worked example on [EMIR-648]: [500, 300, 250, 100] -> 550.
    NaN, inf or negative entries -> ValueError.
    """
    values = _exposure_matrix(exposures)
    top = largest(values, 3)
    pair = top[1] + top[2]
    per_scenario = np.maximum(top[0], pair)
    scenario = int(np.argmax(per_scenario))
    ranked = _ranked_groups(values[:, scenario], 3)
    groups = ranked[1:3] if pair[scenario] > top[0, scenario] else ranked[:1]
    return CoverResult(
        amount=float(per_scenario[scenario]),
        scenario=scenario,
        groups=groups,
        per_scenario=_read_only(per_scenario),
    )
