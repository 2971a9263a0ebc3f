"""Bank capital for exposures to a qualifying CCP (Basel CRE54; CRR Arts 308 and 310).

- ``k_ccp``: the CCP's hypothetical capital, ``sum max(EAD - IM - DF, 0) x RW x
  capital ratio`` (CRE54.29; RW 20%, ratio 8%, ADGM 10%).
- ``k_cm``: each member's capital for its default fund contribution,
  ``max(K_CCP x DF_i / (DF_CCP + DF_CM), 8% x 2% x DF_i)`` (CRE54.36);
  ``risk_weighted_assets`` is 12.5 x K.
- ``crr310_simple``: CRR Art 310, ``8% x min(2% TE + 1250% DF, 20% TE)``.
- ``resource_stack``: how a loss runs through a stack of prefunded layers.

Vectors are float64, shape (n_members,). NaN policy: a NaN or infinite entry
raises ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ccpwaterfall.risk.aggregate import float_array, require_non_negative

RISK_WEIGHT = 0.2  # CRE54.29: at least 20%
CAPITAL_RATIO = 0.08  # CRE54.29: 8% (ADGM PRU A4.9.16: 10%)
FLOOR_RISK_WEIGHT = 0.02  # CRE54.36: the 2% floor on DF_i
RWA_PER_CAPITAL = 12.5  # CRE54.36: RWA = 12.5 x K


def _member_vector(name: str, values: ArrayLike) -> NDArray[np.float64]:
    vector = float_array(name, np.atleast_1d(np.asarray(values)), 1).astype(np.float64)
    require_non_negative(name, vector)
    return vector


def _optional_like(
    name: str, values: ArrayLike | None, shape: tuple[int, ...]
) -> NDArray[np.float64]:
    if values is None:
        return np.zeros(shape)
    vector = _member_vector(name, values)
    if vector.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {vector.shape}")
    return vector


def k_ccp(
    ead: ArrayLike,
    im: ArrayLike | None = None,
    df: ArrayLike | None = None,
    risk_weight: float = RISK_WEIGHT,
    capital_ratio: float = CAPITAL_RATIO,
) -> float:
    """The CCP's hypothetical capital: ``sum max(EAD_i - IM_i - DF_i, 0) x RW x ratio``.

    ``ead``: shape (n_members,), >= 0, exposure at default per member (or per
    client sub-account: client collateral never offsets house, CRE54.30);
    ``im``, ``df``: the same shape, collateral and prefunded contributions,
    zero when omitted (pass them when ``ead`` is gross of collateral).
    Worked example on [BASEL-CRE54]: EAD [100, 50, 30, 20] -> 3.2.
    """
    exposure = _member_vector("ead", ead)
    margin = _optional_like("im", im, exposure.shape)
    fund = _optional_like("df", df, exposure.shape)
    net = np.maximum(exposure - margin - fund, 0.0)
    return float(net.sum()) * risk_weight * capital_ratio


def k_cm(
    k_ccp: float,
    df_members: ArrayLike,
    df_ccp: float,
    floor_risk_weight: float = FLOOR_RISK_WEIGHT,
    capital_ratio: float = CAPITAL_RATIO,
) -> NDArray[np.float64]:
    """Each member's capital for its prefunded contribution (CRE54.36).

    ``K_CM_i = max(K_CCP x DF_i / (DF_CCP + DF_CM), capital_ratio x
    floor_risk_weight x DF_i)`` with ``DF_CM = sum DF_i``. ``df_members``:
    shape (n_members,), >= 0; ``df_ccp`` counts only CCP prefunded resources
    junior or pari passu to the members' contributions. Returns shape
    (n_members,), float64; all zero when there is no fund at all.
    Worked example on [BASEL-CRE54]: K_CCP 3.2, DF_CCP 1, DF [8, 6, 4, 2] ->
    3.2 x DF_i / 21.
    """
    fund = _member_vector("df_members", df_members)
    if not math.isfinite(k_ccp) or k_ccp < 0.0:
        raise ValueError(f"k_ccp must be finite and non-negative, got {k_ccp}")
    if not math.isfinite(df_ccp) or df_ccp < 0.0:
        raise ValueError(f"df_ccp must be finite and non-negative, got {df_ccp}")
    total = df_ccp + float(fund.sum())
    share = fund / total if total > 0.0 else np.zeros_like(fund)
    return np.maximum(k_ccp * share, capital_ratio * floor_risk_weight * fund)


def risk_weighted_assets(capital: ArrayLike) -> NDArray[np.float64]:
    """Risk-weighted assets of a capital requirement: ``12.5 x K`` (CRE54.36; CRR Art 308)."""
    return RWA_PER_CAPITAL * _member_vector("capital", capital)


def crr310_simple(
    trade_exposure: ArrayLike, df: ArrayLike, capital_ratio: float = CAPITAL_RATIO
) -> NDArray[np.float64]:
    """CRR Art 310 alternative: ``K_i = 8% x min(2% x TE_i + 1250% x DF_i, 20% x TE_i)``.

    ``trade_exposure``, ``df``: shape (n_members,) (scalars are one member),
    >= 0. Returns shape (n_members,), float64. Worked example on [CRR-310]:
    TE 1,000 with DF 10 -> 11.6, with DF 20 -> 16.0 (the 20% cap binds).
    """
    exposure = _member_vector("trade_exposure", trade_exposure)
    fund = _member_vector("df", df)
    if exposure.shape != fund.shape:
        raise ValueError(f"trade_exposure has shape {exposure.shape}, df {fund.shape}")
    return capital_ratio * np.minimum(0.02 * exposure + 12.5 * fund, 0.2 * exposure)


@dataclass(frozen=True, slots=True)
class StackUse:
    """A loss run through a stack of layers: what each layer gave and what is left."""

    used: tuple[tuple[str, float], ...]  # (layer name, amount used), in stack order
    beyond: float  # loss no layer covered (to assessments and beyond)


def resource_stack(layers: Sequence[tuple[str, float]], loss: float) -> StackUse:
    """Run ``loss`` through ``layers`` in order: each gives ``min(amount, what is left)``.

    ``layers``: (name, amount >= 0) pairs in order of use, e.g. ICE Clear
    Credit at 30 Sep 2023 ([ICE-CLEAR-CREDIT-2023]): SITG 50, default insurance 75,
    guaranty fund 3,326 (= 3,451). A simplification of the waterfall (no
    defaulter/survivor split); the exact waterfall lives in ``waterfall``.
    """
    if not math.isfinite(loss) or loss < 0.0:
        raise ValueError(f"loss must be finite and non-negative, got {loss}")
    amounts = _member_vector("layer amounts", [amount for _, amount in layers])
    before = np.cumsum(amounts) - amounts  # what the layers ahead of each can take
    used = np.clip(loss - before, 0.0, amounts)
    return StackUse(
        used=tuple((name, float(u)) for (name, _), u in zip(layers, used, strict=True)),
        beyond=max(loss - float(amounts.sum()), 0.0),
    )
