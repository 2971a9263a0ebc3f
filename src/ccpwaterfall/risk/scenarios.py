"""Market scenarios: price histories, historical (FHS) and hypothetical stress scenarios.

A scenario moves every risk factor from today's level by a log return
(``F_s = F_0 * exp(r)``) and shifts implied volatilities by a relative amount
(``sigma_s = sigma_0 * (1 + shift)``). Axis order: (scenarios, factors).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ccpwaterfall.risk.params import ScenarioParams, VolatilityFilter

# GARCH is fitted to returns in per cent: the optimiser is badly scaled on raw log returns.
_GARCH_SCALE = 100.0


def _frozen(values: ArrayLike, dtype: DTypeLike) -> NDArray[Any]:
    array = np.array(values, dtype=dtype)  # a copy: the caller keeps theirs
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True, eq=False)
class PriceHistory:
    """Daily levels of the risk factors on common dates.

    - ``dates``: shape (n_days,), datetime64[D], strictly increasing;
    - ``levels``: shape (n_days, n_factors), float64, finite and positive (no NaN:
      factors are aligned on the dates they all have; positive because scenarios are
      log returns).

    Arrays are read-only.
    """

    dates: NDArray[np.datetime64]
    factor_ids: tuple[str, ...]
    levels: NDArray[np.float64]

    def __post_init__(self) -> None:
        dates = _frozen(self.dates, "datetime64[D]")
        levels = _frozen(self.levels, np.float64)
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "levels", levels)
        if len(set(self.factor_ids)) != len(self.factor_ids):
            raise ValueError("factor ids must be unique")
        if dates.ndim != 1 or levels.shape != (dates.size, len(self.factor_ids)):
            raise ValueError(
                f"levels have shape {levels.shape}, expected ({dates.size}, {len(self.factor_ids)})"
            )
        if dates.size and (np.isnat(dates).any() or (np.diff(dates) <= np.timedelta64(0)).any()):
            raise ValueError("dates must be strictly increasing")
        if not (np.isfinite(levels).all() and (levels > 0).all()):
            raise ValueError("levels must be finite and positive")

    @property
    def n_days(self) -> int:
        return int(self.dates.size)

    @property
    def spot(self) -> NDArray[np.float64]:
        """Today's levels (the last date), shape (n_factors,)."""
        spot: NDArray[np.float64] = self.levels[-1]
        return spot

    def select(self, factor_ids: Sequence[str]) -> PriceHistory:
        """The history of ``factor_ids`` only, in that order."""
        index = [self.factor_ids.index(f) for f in factor_ids]
        return PriceHistory(self.dates, tuple(factor_ids), self.levels[:, index])


class ScenarioKind(StrEnum):
    """Where a scenario set comes from."""

    HISTORICAL = "historical"  # observed MPOR-day moves (possibly volatility filtered)
    STRESS = "stress"  # hypothetical named shocks


@dataclass(frozen=True, slots=True, eq=False)
class ScenarioSet:
    """Scenarios applied to today's market.

    - ``names``: shape (n_scenarios,), unique (a historical scenario is named by its end
      date, ``"2008-10-10"``);
    - ``factor_returns``: shape (n_scenarios, n_factors), float64 log returns, finite;
    - ``vol_shifts``: shape (n_scenarios, n_factors), float64 relative implied-volatility
      shifts, finite and >= -1 (0: unchanged).

    Arrays are read-only.
    """

    names: tuple[str, ...]
    factor_ids: tuple[str, ...]
    factor_returns: NDArray[np.float64]
    vol_shifts: NDArray[np.float64]
    kind: ScenarioKind

    def __post_init__(self) -> None:
        shape = (len(self.names), len(self.factor_ids))
        for name in ("factor_returns", "vol_shifts"):
            array = _frozen(getattr(self, name), np.float64)
            if array.shape != shape:
                raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
            if not np.isfinite(array).all():
                raise ValueError(f"{name} must be finite")
            object.__setattr__(self, name, array)
        if len(set(self.names)) != len(self.names):
            raise ValueError("scenario names must be unique")
        if len(set(self.factor_ids)) != len(self.factor_ids):
            raise ValueError("factor ids must be unique")
        if (self.vol_shifts < -1).any():
            raise ValueError("a relative volatility shift is at least -1")

    @property
    def n_scenarios(self) -> int:
        return len(self.names)


def historical_scenarios(history: PriceHistory, params: ScenarioParams) -> ScenarioSet:
    """Overlapping MPOR-day log returns of the last ``params.lookback_days`` dates.

    The scenario ending on date ``t`` is the sum of the (filtered) daily log
    returns from ``t - mpor_days`` to ``t``, so there are ``n_days - mpor_days``
    scenarios in all; ``lookback_days`` keeps those ending on the last
    ``lookback_days`` dates (all of them when None).

    With a volatility filter (filtered historical simulation, Barone-Adesi et al.),
    each daily return is first rescaled to today's volatility,
    ``r_t * sigma_T / sigma_t``, where ``sigma_t`` is the volatility forecast for day
    ``t`` made the day before and ``sigma_T`` the forecast for the day after the last
    date (the first day of the margin period):

    - EWMA: ``sigma2_t = lambda * sigma2_{t-1} + (1 - lambda) * r2_{t-1}``, seeded with
      the mean squared daily return of the whole history;
    - GARCH(1,1) with zero mean and normal innovations, fitted per factor by maximum
      likelihood over the whole history (``arch`` package).

    Volatility is estimated over the whole history, so the filter is warmed up when
    the look-back window starts. Implied volatilities are not in the history:
    ``vol_shifts`` are 0. Returns a ``ScenarioSet`` of kind ``historical``.
    """
    h = params.mpor_days
    if history.n_days <= h:
        raise ValueError(f"a history of {history.n_days} days has no {h}-day returns")
    daily = np.diff(np.log(history.levels), axis=0)  # (n_days - 1, n_factors)
    if params.volatility_filter is VolatilityFilter.EWMA:
        daily = daily * _ewma_ratio(daily, params.ewma_lambda)
    elif params.volatility_filter is VolatilityFilter.GARCH:
        daily = daily * _garch_ratio(daily)
    # Sum over overlapping windows: a strided view, no Python loop over days.
    windows = np.lib.stride_tricks.sliding_window_view(daily, h, axis=0)
    returns = windows.sum(axis=-1)  # (n_days - h, n_factors), ends on dates[h:]
    end_dates = history.dates[h:]
    n = (
        returns.shape[0]
        if params.lookback_days is None
        else min(params.lookback_days, len(end_dates))
    )
    names = np.datetime_as_string(end_dates[-n:], unit="D")
    return ScenarioSet(
        names=tuple(names.tolist()),
        factor_ids=history.factor_ids,
        factor_returns=returns[-n:],
        vol_shifts=np.zeros((n, len(history.factor_ids))),
        kind=ScenarioKind.HISTORICAL,
    )


def ewma_variance(daily: NDArray[np.float64], lam: float) -> NDArray[np.float64]:
    """EWMA variance forecasts of daily returns, shape (n_days + 1, n_factors).

    Row ``t`` is the forecast for return ``t`` made with returns before it:
    ``sigma2_t = lam * sigma2_{t-1} + (1 - lam) * r2_{t-1}``; row 0 is the seed (the
    mean squared return of the column), the last row the forecast for the next day.
    ``daily``: shape (n_days, n_factors), finite. A first-order linear filter, so
    ``scipy.signal.lfilter`` runs the recursion without a Python loop over days.
    """
    squared = np.square(daily)
    seed = squared.mean(axis=0, keepdims=True)  # (1, n_factors)
    # Imported here: scipy.signal costs about half a second, paid only by EWMA filtering.
    from scipy import signal  # noqa: PLC0415

    forecasts, _ = signal.lfilter([1.0 - lam], [1.0, -lam], squared, axis=0, zi=lam * seed)
    return np.vstack([seed, forecasts])


def _ewma_ratio(daily: NDArray[np.float64], lam: float) -> NDArray[np.float64]:
    """sigma_T / sigma_t per daily return, shape of ``daily``."""
    sigma = np.sqrt(ewma_variance(daily, lam))
    return _ratio(sigma[:-1], sigma[-1])


def _ratio(sigma_t: NDArray[np.float64], sigma_today: NDArray[np.float64]) -> NDArray[np.float64]:
    # A factor that never moved has sigma 0 everywhere: leave its (zero) returns as they are.
    safe = np.where(sigma_t > 0, sigma_t, 1.0)
    return np.where(sigma_t > 0, sigma_today / safe, 1.0)


def _garch_ratio(daily: NDArray[np.float64]) -> NDArray[np.float64]:
    """sigma_T / sigma_t per daily return from a GARCH(1,1) fit per factor."""
    # Imported where used: arch takes a second to import and only GARCH needs it.
    from arch import arch_model  # noqa: PLC0415

    sigma = np.empty_like(daily)
    today = np.empty(daily.shape[1])
    # One fit per risk factor: a handful of factors, never a loop over days.
    for k in range(daily.shape[1]):
        model = arch_model(
            daily[:, k] * _GARCH_SCALE, mean="Zero", vol="GARCH", p=1, q=1, rescale=False
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optimiser chatter; convergence is checked below
            fit = model.fit(disp="off")
        if fit.convergence_flag != 0:
            raise ValueError(f"GARCH(1,1) fit did not converge for factor {k}")
        sigma[:, k] = np.asarray(fit.conditional_volatility) / _GARCH_SCALE
        forecast = fit.forecast(horizon=1, reindex=False).variance
        today[k] = np.sqrt(float(np.asarray(forecast)[-1, 0])) / _GARCH_SCALE
    return _ratio(sigma, today)


def stress_scenarios(
    named: Mapping[str, Mapping[str, float]],
    factor_ids: Sequence[str],
    vol_shifts: Mapping[str, Mapping[str, float]] | None = None,
) -> ScenarioSet:
    """Hypothetical named scenarios: a log-return shock per risk factor.

    ``named`` maps a scenario name to its shocks by factor id (a factor left out
    is not moved); ``vol_shifts`` maps a scenario name to relative implied
    volatility shifts by factor id (none: unchanged). Scenarios keep the order of
    ``named``. An unknown factor or scenario name is a ``ValueError``.
    Returns a ``ScenarioSet`` of kind ``stress``.
    """
    factors = tuple(factor_ids)
    names = tuple(named)
    shifts = vol_shifts or {}
    unknown = set(shifts) - set(names)
    if unknown:
        raise ValueError(f"volatility shifts for unknown scenarios {sorted(unknown)}")
    return ScenarioSet(
        names=names,
        factor_ids=factors,
        factor_returns=_scatter(names, named, factors),
        vol_shifts=_scatter(names, shifts, factors),
        kind=ScenarioKind.STRESS,
    )


@dataclass(frozen=True, slots=True)
class StressDefinition:
    """A named hypothetical scenario: log-return shocks and relative vol shifts by factor id.

    Factors left out are not moved.
    """

    name: str
    shocks: tuple[tuple[str, float], ...]
    vol_shifts: tuple[tuple[str, float], ...] = ()


def stress_set(definitions: Sequence[StressDefinition], factor_ids: Sequence[str]) -> ScenarioSet:
    """``stress_scenarios`` of the definitions, in their order."""
    return stress_scenarios(
        {d.name: dict(d.shocks) for d in definitions},
        factor_ids,
        {d.name: dict(d.vol_shifts) for d in definitions},
    )


def _scatter(
    names: tuple[str, ...], values: Mapping[str, Mapping[str, float]], factors: tuple[str, ...]
) -> NDArray[np.float64]:
    """(n_scenarios, n_factors) matrix of the given entries, 0 elsewhere."""
    column = {f: j for j, f in enumerate(factors)}
    entries = [(i, f, v) for i, name in enumerate(names) for f, v in values.get(name, {}).items()]
    unknown = sorted({f for _, f, _ in entries} - set(factors))
    if unknown:
        raise ValueError(f"unknown risk factors {unknown}")
    matrix = np.zeros((len(names), len(factors)))
    if entries:
        rows, cols, vals = zip(*((i, column[f], v) for i, f, v in entries), strict=True)
        matrix[list(rows), list(cols)] = vals
    return matrix


def scale_scenarios(scenarios: ScenarioSet, multipliers: Sequence[float]) -> ScenarioSet:
    """A reverse-stress grid: every scenario times every multiplier.

    Scaling is linear in the scenario's numbers: log returns and relative
    volatility shifts are both multiplied (a 5% shock times 5 is a 25% shock),
    except that a volatility shift stops at -1 (volatility falls to zero, not
    below: a 30% fall times 5 is a 100% fall).
    Every factor is a price moved by a log return; there are no rate-like
    factors with arithmetic moves. Scenario ``s`` times ``m`` is named
    ``"s xm"`` (``"Equity crash x2"``); rows are scenario-major (all multipliers
    of the first scenario, then the second...). Multipliers are positive and
    distinct. The kind is kept.
    """
    m = np.asarray(multipliers, dtype=np.float64)
    if m.ndim != 1 or m.size == 0:
        raise ValueError("give at least one multiplier")
    if not (np.isfinite(m).all() and (m > 0).all()) or np.unique(m).size != m.size:
        raise ValueError("multipliers must be positive, finite and distinct")
    n_f = len(scenarios.factor_ids)
    labels = [f"x{v:g}" for v in m.tolist()]
    return ScenarioSet(
        names=tuple(f"{name} {label}" for name in scenarios.names for label in labels),
        factor_ids=scenarios.factor_ids,
        factor_returns=(scenarios.factor_returns[:, None, :] * m[None, :, None]).reshape(-1, n_f),
        vol_shifts=np.maximum(
            (scenarios.vol_shifts[:, None, :] * m[None, :, None]).reshape(-1, n_f), -1.0
        ),
        kind=scenarios.kind,
    )


def scale_each(scenarios: ScenarioSet, multipliers: ArrayLike) -> ScenarioSet:
    """Each scenario scaled by its own multiplier, as ``scale_scenarios`` scales.

    ``multipliers``: shape (n_scenarios,), finite and >= 0. Names are kept.
    Used to revalue every scenario at a different point of a reverse-stress
    search in one pass.
    """
    m = np.asarray(multipliers, dtype=np.float64)
    if m.shape != (scenarios.n_scenarios,):
        raise ValueError(f"multipliers must have shape ({scenarios.n_scenarios},), got {m.shape}")
    if not (np.isfinite(m).all() and (m >= 0).all()):
        raise ValueError("multipliers must be finite and non-negative")
    return ScenarioSet(
        names=scenarios.names,
        factor_ids=scenarios.factor_ids,
        factor_returns=scenarios.factor_returns * m[:, None],
        vol_shifts=np.maximum(scenarios.vol_shifts * m[:, None], -1.0),
        kind=scenarios.kind,
    )


def concat_scenarios(first: ScenarioSet, *more: ScenarioSet) -> ScenarioSet:
    """One scenario set from several on the same factors, in order (names stay unique).

    The kind is that of ``first``.
    """
    sets = (first, *more)
    if any(s.factor_ids != first.factor_ids for s in more):
        raise ValueError("scenario sets are on different risk factors")
    return ScenarioSet(
        names=tuple(name for s in sets for name in s.names),
        factor_ids=first.factor_ids,
        factor_returns=np.vstack([s.factor_returns for s in sets]),
        vol_shifts=np.vstack([s.vol_shifts for s in sets]),
        kind=first.kind,
    )


@dataclass(frozen=True, slots=True, eq=False)
class ScenarioPnl:
    """Per-unit instrument P&L supplied from outside (precomputed risk arrays).

    ``pnl``: shape (n_instruments, n_scenarios), float64, finite, gains positive; rows
    in the order of ``instrument_ids``, columns in the order of ``scenario_names``.
    Read-only.
    """

    instrument_ids: tuple[str, ...]
    scenario_names: tuple[str, ...]
    pnl: NDArray[np.float64]

    def __post_init__(self) -> None:
        pnl = _frozen(self.pnl, np.float64)
        shape = (len(self.instrument_ids), len(self.scenario_names))
        if pnl.shape != shape:
            raise ValueError(f"pnl has shape {pnl.shape}, expected {shape}")
        if not np.isfinite(pnl).all():
            raise ValueError("pnl must be finite")
        if len(set(self.scenario_names)) != len(self.scenario_names):
            raise ValueError("scenario names must be unique")
        object.__setattr__(self, "pnl", pnl)
