"""Full revaluation of instruments under scenarios: linear P&L and Black-76 options.

All functions broadcast over arrays; none loops over instruments or scenarios.
``instrument_pnl`` is the pricing step of the risk pipeline: per-unit P&L of
every instrument in every scenario, shape (n_instruments, n_scenarios), gains
positive. Memory: besides its output it allocates two arrays of its dtype (float64
or float32) of shape (n_options, n_scenarios), a bool array of that shape only when
some option has no time value left (expired or zero volatility), and no other array of
that size.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from ccpwaterfall.risk.instruments import Instruments
from ccpwaterfall.risk.scenarios import ScenarioKind, ScenarioSet


class PnlDtype(StrEnum):
    """The float type of the scenario P&L arrays (pricing and aggregation to accounts)."""

    FLOAT64 = "float64"
    FLOAT32 = "float32"


#: Business days per year: converts a horizon in days to year fractions of expiry.
TRADING_DAYS_PER_YEAR = 252

#: CME SPAN price moves per scenario as fractions of the price scan range (scenarios
#: 1-16, docs/references.md [CME-SPAN]); the last two are multiplied by the
#: extreme multiple.
SPAN_PRICE_MOVES: tuple[float, ...] = (
    0.0, 0.0, 1 / 3, 1 / 3, -1 / 3, -1 / 3, 2 / 3, 2 / 3,
    -2 / 3, -2 / 3, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0,
)  # fmt: skip
#: Volatility moves per SPAN scenario: +1 up by the scan range, -1 down, 0 unchanged.
SPAN_VOL_MOVES: tuple[float, ...] = (1, -1) * 7 + (0, 0)


def _undiscounted_black76(
    forward: NDArray[np.floating[Any]],
    strike: NDArray[np.floating[Any]],
    sign: NDArray[np.floating[Any]],
    sd: NDArray[np.floating[Any]],
    out: NDArray[np.floating[Any]],
) -> NDArray[np.floating[Any]]:
    """Undiscounted Black-76 value ``sign * (F N(sign d1) - K N(sign d2))`` into ``out``.

    ``forward``, ``sd`` (total standard deviation ``sigma * sqrt(T)``) and ``out`` have
    the full broadcast shape; ``strike`` and ``sign`` (+1 call, -1 put) broadcast
    against it, all of the dtype of ``out`` (float64, or float32 for float32 P&L). ``sd``
    is scratch space and is overwritten; ``forward`` is only read.
    Where ``sd`` is 0 (expired or zero volatility) the value is the intrinsic value
    ``max(sign * (F - K), 0)``. When some ``sd`` is not positive it allocates one bool
    array of the full shape; otherwise nothing of that size.
    """
    # One cheap reduction decides whether the intrinsic branch is needed at all (a NaN
    # sd, from inf * 0, takes the masked path too, where it is not live).
    if sd.size and sd.min() > 0.0:
        return _black76_terms(forward, strike, sign, sd, out, None)
    live = np.greater(sd, 0.0, out=np.empty(sd.shape, dtype=np.bool_))  # an array, even 0-d
    value = _black76_terms(forward, strike, sign, sd, out, live)
    intrinsic = np.subtract(forward, strike, out=sd)
    intrinsic *= sign
    np.maximum(intrinsic, 0.0, out=intrinsic)
    dead = np.logical_not(live, out=live)  # in place: no second mask
    np.copyto(value, intrinsic, where=dead)
    return value


def _black76_terms(
    forward: NDArray[np.floating[Any]],
    strike: NDArray[np.floating[Any]],
    sign: NDArray[np.floating[Any]],
    sd: NDArray[np.floating[Any]],
    out: NDArray[np.floating[Any]],
    live: NDArray[np.bool_] | None,
) -> NDArray[np.floating[Any]]:
    """``sign * (F N(sign d1) - K N(sign d2))`` into ``out``, in place; ``sd`` is scratch.

    ``live``: where ``sd`` > 0 (None: everywhere); elsewhere the value is left for the
    caller to replace (d1 is not divided by a zero ``sd`` there).
    """
    d1 = np.divide(forward, strike, out=out)
    np.log(d1, out=d1)
    # A tiny sd sends d1 to +-inf, where N(d1) is exactly 0 or 1: no warning needed.
    with np.errstate(over="ignore"):
        if live is None:
            d1 /= sd
        else:
            np.divide(d1, sd, out=d1, where=live)
    # d1 = ln(F/K)/sd + sd/2, with sd halved and doubled back in place (exact in binary).
    sd *= 0.5
    d1 += sd
    sd *= 2.0
    d2 = np.subtract(d1, sd, out=sd)
    d1 *= sign
    special.ndtr(d1, out=d1)
    d1 *= forward
    d2 *= sign
    special.ndtr(d2, out=d2)
    d2 *= strike
    d1 -= d2
    d1 *= sign
    return out


def _black76_inputs(
    forward: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    volatility: ArrayLike,
    is_call: ArrayLike,
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
]:
    """Broadcast inputs as (forward, strike, years to expiry >= 0, sd = vol x sqrt(years),
    sign +1 for a call and -1 for a put), all float64 arrays of the broadcast shape."""
    f, k, t, v, call = np.broadcast_arrays(
        np.asarray(forward, np.float64),
        np.asarray(strike, np.float64),
        np.asarray(expiry_years, np.float64),
        np.asarray(volatility, np.float64),
        np.asarray(is_call, np.bool_),
    )
    years = np.maximum(t, 0.0)
    sd = np.array(v * np.sqrt(years), dtype=np.float64)  # an array even for scalar inputs
    return f, k, years, sd, np.where(call, 1.0, -1.0)


def black76_price(
    forward: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    volatility: ArrayLike,
    is_call: ArrayLike,
    *,
    rate: float = 0.0,
) -> NDArray[np.float64]:
    """Black-76 price of European options on a future, broadcast over all inputs.

    ``forward`` > 0 and ``strike`` > 0 in price points; ``expiry_years`` (years; <= 0:
    expired, valued at intrinsic); ``volatility`` (annualised, >= 0; 0: discounted
    intrinsic); ``is_call`` bool (False: put). Price per unit of underlying, discounted
    at the continuously compounded ``rate``. Shape: the broadcast shape; float64.
    """
    f, k, years, sd, sign = _black76_inputs(forward, strike, expiry_years, volatility, is_call)
    price = np.empty_like(sd)
    _undiscounted_black76(f, k, sign, sd, price)
    price *= np.exp(-rate * years)
    return price


def black76_delta(
    forward: ArrayLike,
    strike: ArrayLike,
    expiry_years: ArrayLike,
    volatility: ArrayLike,
    is_call: ArrayLike,
    *,
    rate: float = 0.0,
) -> NDArray[np.float64]:
    """Black-76 delta (d price / d forward), broadcast over all inputs.

    Call ``exp(-rT) N(d1)``, put ``-exp(-rT) N(-d1)``. Expired or zero-volatility
    options have the delta of their intrinsic value (1 or 0 for a call, -1 or 0 for a
    put, half way at the money). Inputs as in ``black76_price``. Shape: the broadcast
    shape; float64.
    """
    f, k, years, sd, sign = _black76_inputs(forward, strike, expiry_years, volatility, is_call)
    live = sd > 0
    d1 = np.array(np.log(f / k), dtype=np.float64)
    with np.errstate(over="ignore"):
        np.divide(d1, sd, out=d1, where=live)
    d1 += 0.5 * sd
    delta = sign * special.ndtr(sign * d1)
    # Intrinsic delta: sign where in the money, 0 out of it, sign/2 at the money.
    intrinsic = 0.5 * (np.sign(f - k) + sign)
    result: NDArray[np.float64] = np.where(live, delta, intrinsic) * np.exp(-rate * years)
    return result


def unit_deltas(
    instruments: Instruments, spot: ArrayLike, rate: float = 0.0
) -> NDArray[np.float64]:
    """Delta of one unit of each instrument in currency per price point, shape (n_instruments,).

    Futures and forwards: the multiplier. Options: the Black-76 delta at
    ``spot`` (shape (n_factors,), today's prices) times the multiplier.
    """
    prices = np.asarray(spot, dtype=np.float64)
    delta = np.ones(len(instruments.ids))
    options = instruments.is_option
    if options.any():
        underlying = prices[instruments.underlying[options]]
        is_call = instruments.is_call[options]
        delta[options] = black76_delta(
            underlying,
            instruments.strike[options],
            instruments.expiry_years[options],
            instruments.volatility[options],
            is_call,
            rate=rate,
        )
    result: NDArray[np.float64] = delta * instruments.multiplier
    return result


def instrument_pnl(
    instruments: Instruments,
    spot: ArrayLike,
    scenarios: ScenarioSet,
    horizon_days: int,
    rate: float = 0.0,
    dtype: PnlDtype = PnlDtype.FLOAT64,
) -> NDArray[np.floating[Any]]:
    """Per-unit P&L of every instrument in every scenario, by full revaluation.

    ``spot``: today's factor levels, shape (n_factors,), positive; ``scenarios`` must be
    on the same factors as ``instruments``. In scenario ``s`` factor ``f`` moves to
    ``F_s = F_0 * exp(r[s, f])``.

    - Futures and forwards: ``multiplier * (F_s - F_0)`` (a forward is valued like a
      future: its deferred settlement is not discounted).
    - Calls and puts on futures: ``multiplier * (V_s - V_0)`` with Black-76 values;
      ``V_s`` has the time to expiry reduced by ``horizon_days`` business days
      (``TRADING_DAYS_PER_YEAR`` a year) and the implied volatility shifted to
      ``sigma * (1 + vol_shift)``; an option that expires within the horizon is worth
      its intrinsic value.

    Returns shape (n_instruments, n_scenarios) in ``dtype``, gains positive, never NaN.
    With float32 the scenario arithmetic (forwards, Black-76, the differences) runs in
    float32, on float32 buffers (half the memory); today's values and the instrument
    terms are computed in float64 and rounded once. Broadcasting only: no loop over
    instruments or scenarios.
    """
    if scenarios.factor_ids != instruments.factor_ids:
        raise ValueError("scenarios and instruments are on different risk factors")
    if horizon_days < 0:
        raise ValueError("horizon_days must be non-negative")
    f0 = np.asarray(spot, dtype=np.float64)
    if f0.shape != (len(instruments.factor_ids),):
        raise ValueError(f"spot has shape {f0.shape}, expected ({len(instruments.factor_ids)},)")
    if not (np.isfinite(f0).all() and (f0 > 0).all()):
        raise ValueError("spot levels must be finite and positive")

    n_scenarios = scenarios.n_scenarios
    kind = np.dtype(dtype.value)
    out = np.empty((instruments.n_instruments, n_scenarios), dtype=kind)
    option = instruments.is_option
    options = np.flatnonzero(option)
    linear = np.flatnonzero(~option)
    value = _option_pnl(instruments, f0, scenarios, options, horizon_days, rate, out)
    # F_s / F_0 - 1, (n_factors, n_scenarios), rounded once to the P&L dtype.
    moves = np.expm1(scenarios.factor_returns.T).astype(kind)
    scale = (instruments.multiplier * f0[instruments.underlying]).astype(kind)
    if value is None or linear.size > options.size:
        # Mostly linear: one pass over every row, then the option rows are overwritten.
        # ``take`` with an ``out`` and mode "clip" gathers in place, without a temporary.
        np.take(moves, instruments.underlying, axis=0, out=out, mode="clip")
        out *= scale[:, None]
        if value is not None:
            out[options] = value
        return out
    # Mostly options: the linear rows alone, computed in the options' buffer once free.
    out[options] = value
    if linear.size:
        block = value[: linear.size]
        np.take(moves, instruments.underlying[linear], axis=0, out=block, mode="clip")
        block *= scale[linear][:, None]
        out[linear] = block
    return out


def _option_pnl(
    instruments: Instruments,
    f0: NDArray[np.float64],
    scenarios: ScenarioSet,
    options: NDArray[np.intp],
    horizon_days: int,
    rate: float,
    scratch: NDArray[np.floating[Any]],
) -> NDArray[np.floating[Any]] | None:
    """Per-unit P&L of the option rows ``options``, shape (n_options, n_scenarios), in
    the dtype of ``scratch``.

    ``scratch`` (n_instruments, n_scenarios) is free memory: its first rows hold the
    scenario forwards, so only two arrays of the block's size are allocated.
    """
    if options.size == 0:
        return None
    kind = scratch.dtype
    u = instruments.underlying[options]
    strike = instruments.strike[options][:, None]
    sign = np.where(instruments.is_call[options], 1.0, -1.0)[:, None]
    years = instruments.expiry_years[options]
    left = np.maximum(years - horizon_days / TRADING_DAYS_PER_YEAR, 0.0)
    vol = instruments.volatility[options]
    shape = (options.size, scenarios.n_scenarios)

    # Scenario forwards F_0 exp(r), (n_factors, n_scenarios), gathered per option row.
    levels = (f0[:, None] * np.exp(scenarios.factor_returns.T)).astype(kind)
    forward = scratch[: options.size]
    np.take(levels, u, axis=0, out=forward, mode="clip")
    # Volatility factors 1 + shift, floored at 0 on the small factor array (shifts are
    # at least -1, so the floor only guards; vol >= 0 keeps sd >= 0 after the gather).
    growth = np.maximum(1.0 + scenarios.vol_shifts.T, 0.0).astype(kind)
    sd = np.empty(shape, dtype=kind)
    np.take(growth, u, axis=0, out=sd, mode="clip")
    sd *= vol.astype(kind)[:, None]
    sd *= np.sqrt(left).astype(kind)[:, None]
    value = _undiscounted_black76(
        forward, strike.astype(kind), sign.astype(kind), sd, np.empty(shape, dtype=kind)
    )
    del sd
    if rate != 0.0:  # exp(0) is 1: the pass would change nothing
        value *= np.exp(-rate * left).astype(kind)[:, None]
    today = black76_price(f0[u], strike[:, 0], years, vol, sign[:, 0] > 0, rate=rate)
    value -= today.astype(kind)[:, None]
    value *= instruments.multiplier[options].astype(kind)[:, None]
    return value


def risk_array_pnl(
    instruments: Instruments,
    spot: ArrayLike,
    price_scan: ArrayLike,
    vol_scan: ArrayLike,
    *,
    extreme_multiple: float = 2.0,
    cover_fraction: float = 0.35,
    horizon_days: int = 1,
    rate: float = 0.0,
) -> NDArray[np.float64]:
    """SPAN-style 16-scenario risk arrays: per-unit P&L, shape (n_instruments, 16).

    Scenarios 1-14 move the price by 0, +-1/3, +-2/3 and +-3/3 of the price scan
    range, each with the implied volatility up and down by the volatility scan range;
    scenarios 15-16 move the price by +- ``extreme_multiple`` scan ranges with
    unchanged volatility, and only ``cover_fraction`` of their P&L is counted
    (CME SPAN, docs/references.md [CME-SPAN]; [MCMILLAN-SPAN] for a worked example).

    ``price_scan``: shape (n_factors,), the price scan range in price points (an
    arithmetic move, ``F_0 + move``), less than ``F_0 / extreme_multiple``;
    ``vol_scan``: shape (n_factors,), relative volatility scan range (0.1: vols up
    and down by 10% of their level). Gains positive (a risk array of losses is the
    negative). ``horizon_days``: SPAN's look-ahead of one business day.
    """
    f0 = np.asarray(spot, dtype=np.float64)
    scan = np.broadcast_to(np.asarray(price_scan, dtype=np.float64), f0.shape)
    vscan = np.broadcast_to(np.asarray(vol_scan, dtype=np.float64), f0.shape)
    if not (extreme_multiple > 0 and 0 <= cover_fraction <= 1):
        raise ValueError("extreme_multiple must be positive and cover_fraction in [0, 1]")
    if (scan < 0).any() or (vscan < 0).any() or (vscan > 1).any():
        raise ValueError("scan ranges must be non-negative (vol_scan at most 1)")
    if (extreme_multiple * scan >= f0).any():
        raise ValueError("an extreme down move would take a price to zero or below")
    fractions = np.asarray(SPAN_PRICE_MOVES)
    fractions[14:] *= extreme_multiple
    scenarios = ScenarioSet(
        names=tuple(f"SPAN {i}" for i in range(1, 17)),
        factor_ids=instruments.factor_ids,
        factor_returns=np.log1p(fractions[:, None] * scan[None, :] / f0[None, :]),
        vol_shifts=np.asarray(SPAN_VOL_MOVES, dtype=np.float64)[:, None] * vscan[None, :],
        kind=ScenarioKind.STRESS,
    )
    pnl = np.asarray(instrument_pnl(instruments, f0, scenarios, horizon_days, rate), np.float64)
    pnl[:, 14:] *= cover_fraction
    return pnl
