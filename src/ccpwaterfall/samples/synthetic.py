"""Seeded synthetic clearing days shaped like a large multi-asset CCP.

A generated day has the arrays the risk pipeline takes as input:

- sparse positions, shape (n_accounts, n_instruments), float64 CSR, signed units held;
  a few large members, power-law account sizes and a few very popular instruments;
- per-unit instrument P&L for the margin scenarios and for the stress scenarios, shape
  (n_instruments, n_scenarios), C-contiguous, gains positive, losses negative, never NaN;
  built from a factor model (``loadings @ factor scenarios`` plus idiosyncratic noise)
  whose factors have Student-t tails and whose stress scenarios are scaled-up shocks;
- the account -> member -> group maps (every member and every group has at least one
  account).

Everything is drawn from one ``numpy.random.Generator`` seeded by the caller, so the same
shape and seed give the same day on every machine with the same NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

# Student-t degrees of freedom of the factor shocks: fat tails with a finite variance.
_FACTOR_TAIL_DF = 4.0
# Zipf exponents: member sizes, group sizes (affiliates cluster around large groups) and
# instrument popularity.
_MEMBER_ZIPF = 1.1
_GROUP_ZIPF = 1.0
_INSTRUMENT_ZIPF = 0.8
# Pareto tail index of the number of positions per account: a few huge accounts.
_ACCOUNT_PARETO = 1.3
# No account holds more than this share of all instruments (keeps sampling cheap).
_MAX_ACCOUNT_COVERAGE = 0.25
# Bound on top-up rounds while drawing distinct (account, instrument) cells.
_MAX_DRAW_ROUNDS = 64


@dataclass(frozen=True, slots=True)
class DayShape:
    """Dimensions of a synthetic clearing day.

    ``n_positions`` is the number of distinct non-zero (account, instrument) cells.
    """

    n_members: int = 150
    n_groups: int = 100
    n_accounts: int = 20_000
    n_instruments: int = 20_000
    n_positions: int = 1_000_000
    n_margin_scenarios: int = 2_750
    n_stress_scenarios: int = 500
    n_factors: int = 40

    def __post_init__(self) -> None:
        if min(self.n_groups, self.n_instruments, self.n_factors) < 1:
            raise ValueError("n_groups, n_instruments and n_factors must be at least 1")
        if min(self.n_margin_scenarios, self.n_stress_scenarios) < 1:
            raise ValueError("scenario counts must be at least 1")
        if not self.n_groups <= self.n_members <= self.n_accounts:
            raise ValueError("need n_groups <= n_members <= n_accounts")
        if not self.n_accounts <= self.n_positions <= self.n_accounts * self.n_instruments // 2:
            raise ValueError("need n_accounts <= n_positions <= half of all cells")


#: The "big CCP day" scaled to a 2-core machine: illustrative sizes (2,500 + 250 margin
#: scenarios: ten years as [LCH-PAIRS], plus a stressed year).
BIG_CCP_DAY = DayShape()

#: A small day with the same structure, for tests and smoke runs (well under a second).
SMALL_CCP_DAY = DayShape(
    n_members=12,
    n_groups=8,
    n_accounts=300,
    n_instruments=200,
    n_positions=4_000,
    n_margin_scenarios=250,
    n_stress_scenarios=40,
    n_factors=6,
)


@dataclass(frozen=True, slots=True)
class CcpDay:
    """One synthetic clearing day.

    positions: scipy.sparse CSR array, shape (n_accounts, n_instruments), float64, sorted
        indices, no explicit zeros.
    margin_pnl: shape (n_instruments, n_margin_scenarios), ``dtype``, C-contiguous.
    stress_pnl: shape (n_instruments, n_stress_scenarios), ``dtype``, C-contiguous.
    account_member: shape (n_accounts,), intp, member index of each account.
    member_group: shape (n_members,), intp, group index of each member.
    """

    positions: Any  # scipy.sparse.csr_array (scipy ships no type information)
    margin_pnl: NDArray[np.floating[Any]]
    stress_pnl: NDArray[np.floating[Any]]
    account_member: NDArray[np.intp]
    member_group: NDArray[np.intp]

    @property
    def n_groups(self) -> int:
        """Number of member groups (every group has at least one member)."""
        return int(self.member_group.max()) + 1

    @property
    def n_members(self) -> int:
        """Number of clearing members."""
        return int(self.member_group.shape[0])

    @property
    def account_group(self) -> NDArray[np.intp]:
        """Group index of each account, shape (n_accounts,), intp."""
        return self.member_group[self.account_member]


def generate_day(
    shape: DayShape = BIG_CCP_DAY,
    seed: int = 0,
    dtype: type[np.floating[Any]] = np.float64,
) -> CcpDay:
    """A seeded synthetic clearing day of ``shape``; P&L arrays in ``dtype``.

    Positions are always float64; ``dtype`` (float64 or float32) applies to the
    instrument P&L arrays.
    """
    if np.dtype(dtype) not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError("dtype must be float64 or float32")
    rng = np.random.default_rng(seed)
    member_group = _assign_with_cover(rng, shape.n_members, shape.n_groups, _GROUP_ZIPF)
    account_member = _assign_with_cover(rng, shape.n_accounts, shape.n_members, _MEMBER_ZIPF)
    positions = _draw_positions(rng, shape)
    margin_pnl, stress_pnl = _draw_instrument_pnl(rng, shape, np.dtype(dtype))
    return CcpDay(
        positions=positions,
        margin_pnl=margin_pnl,
        stress_pnl=stress_pnl,
        account_member=account_member,
        member_group=member_group,
    )


def _zipf_weights(n: int, exponent: float) -> NDArray[np.float64]:
    """Normalised weights proportional to rank**-exponent, shape (n,)."""
    weights: NDArray[np.float64] = np.power(np.arange(1, n + 1, dtype=np.float64), -exponent)
    return weights / float(weights.sum())


def _assign_with_cover(
    rng: np.random.Generator, n_items: int, n_owners: int, exponent: float
) -> NDArray[np.intp]:
    """Owner index of each of ``n_items``, shape (n_items,): every owner gets one item,
    the rest follow Zipf weights over a random ranking of owners."""
    ranked = rng.permutation(n_owners)
    extra = ranked[rng.choice(n_owners, n_items - n_owners, p=_zipf_weights(n_owners, exponent))]
    owners = np.concatenate([np.arange(n_owners), extra])
    return rng.permutation(owners).astype(np.intp)


def _sorted_distinct(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """The distinct values, sorted ascending (a sort-based ``np.unique``)."""
    ordered = np.sort(values)
    keep = np.empty(ordered.size, dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _draw_positions(rng: np.random.Generator, shape: DayShape) -> Any:
    """Sparse signed positions, CSR (n_accounts, n_instruments), exactly ``n_positions``
    distinct non-zero cells."""
    n_acc, n_ins = shape.n_accounts, shape.n_instruments
    # Expected positions per account: Pareto sizes, capped so no account holds too much.
    size = rng.pareto(_ACCOUNT_PARETO, n_acc) + 1.0
    size = np.minimum(size / size.sum() * shape.n_positions, _MAX_ACCOUNT_COVERAGE * n_ins)
    account_p = size / size.sum()
    instrument_rank = rng.permutation(n_ins)
    instrument_p = _zipf_weights(n_ins, _INSTRUMENT_ZIPF)

    # One cell per account first (no empty accounts), then top up with distinct cells.
    # Cells are linear indices row * n_instruments + column, kept sorted and distinct.
    cells = np.arange(n_acc, dtype=np.int64) * n_ins + rng.integers(0, n_ins, n_acc)
    for _ in range(_MAX_DRAW_ROUNDS):
        missing = shape.n_positions - cells.size
        if missing == 0:
            break
        draw = int(missing * 1.1) + 16
        rows = rng.choice(n_acc, draw, p=account_p)
        cols = instrument_rank[rng.choice(n_ins, draw, p=instrument_p)]
        candidates = _sorted_distinct(rows.astype(np.int64) * n_ins + cols)
        at = np.minimum(np.searchsorted(cells, candidates), cells.size - 1)
        fresh = candidates[cells[at] != candidates]
        fresh = fresh[rng.permutation(fresh.size)[:missing]]
        cells = _sorted_distinct(np.concatenate([cells, fresh]))
    else:  # pragma: no cover - only with absurd shapes that __post_init__ already rejects
        raise RuntimeError("could not draw enough distinct positions")

    rows, cols = np.divmod(cells, n_ins)
    # Each account leans long or short; unit counts are log-normal, a few very large.
    long_bias = rng.beta(2.0, 2.0, n_acc)
    sign = np.where(rng.random(cells.size) < long_bias[rows], 1.0, -1.0)
    units = np.round(rng.lognormal(mean=2.0, sigma=1.5, size=cells.size)) + 1.0
    return sparse.csr_array(
        (sign * units, (rows.astype(np.int32), cols.astype(np.int32))),
        shape=(n_acc, n_ins),
        dtype=np.float64,
    )


def _draw_instrument_pnl(
    rng: np.random.Generator, shape: DayShape, dtype: np.dtype[Any]
) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
    """Per-unit instrument P&L (margin, stress), each (n_instruments, n_scenarios),
    C-contiguous, from a heavy-tailed factor model."""
    n_ins, n_fac = shape.n_instruments, shape.n_factors
    # Each instrument loads on a primary factor (its asset class / curve) and two others.
    loadings = np.zeros((n_ins, n_fac))
    rows = np.arange(n_ins)
    loadings[rows, rng.integers(0, n_fac, n_ins)] += rng.normal(1.0, 0.3, n_ins)
    loadings[rows, rng.integers(0, n_fac, n_ins)] += rng.normal(0.0, 0.3, n_ins)
    loadings[rows, rng.integers(0, n_fac, n_ins)] += rng.normal(0.0, 0.3, n_ins)
    factor_vol = rng.uniform(0.004, 0.03, n_fac)
    market_beta = rng.uniform(0.2, 0.8, n_fac)
    # Contract value per unit: log-normal across instruments.
    unit_value = np.exp(rng.normal(np.log(1e4), 1.0, n_ins))
    idio_vol = 0.3 * rng.uniform(0.004, 0.03, n_ins)

    def scenarios(n_scen: int, shock_scale: NDArray[np.float64]) -> NDArray[np.floating[Any]]:
        t_scale = np.sqrt((_FACTOR_TAIL_DF - 2.0) / _FACTOR_TAIL_DF)
        market = rng.standard_t(_FACTOR_TAIL_DF, n_scen) * t_scale
        own = rng.standard_t(_FACTOR_TAIL_DF, (n_fac, n_scen)) * t_scale
        beta = market_beta[:, None]
        factors = factor_vol[:, None] * (beta * market + np.sqrt(1.0 - beta**2) * own)
        factors *= shock_scale
        pnl = loadings @ factors  # (n_instruments, n_scen), C-contiguous
        # Idiosyncratic noise, scaled per scenario by the same shock size (calm / turbulent).
        noise = rng.standard_normal((n_ins, n_scen))
        noise *= idio_vol[:, None]
        noise *= shock_scale
        pnl += noise
        del noise
        pnl *= unit_value[:, None]
        return np.ascontiguousarray(pnl, dtype=dtype)

    # Margin scenarios: a volatility regime per scenario (calm to turbulent days).
    margin_regime = np.exp(rng.normal(0.0, 0.35, shape.n_margin_scenarios))
    # Stress scenarios: shocks two to five times the typical size.
    stress_size = rng.uniform(2.0, 5.0, shape.n_stress_scenarios)
    return (
        scenarios(shape.n_margin_scenarios, margin_regime),
        scenarios(shape.n_stress_scenarios, stress_size),
    )
