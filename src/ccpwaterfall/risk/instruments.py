"""Instruments as arrays: linear futures and forwards, and options on futures.

Every instrument is written on one risk factor (a price in the price history).
Arrays are indexed by instrument in the order of ``ids`` (sorted), so the same
instruments listed in any order give identical arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray


class InstrumentKind(StrEnum):
    """What an instrument is, by its name in instrument files."""

    FUTURE = "future"
    FORWARD = "forward"  # valued like a future: no discounting of the deferred settlement
    CALL = "call"  # call on a future (Black-76)
    PUT = "put"  # put on a future (Black-76)

    @property
    def is_option(self) -> bool:
        return self in (InstrumentKind.CALL, InstrumentKind.PUT)


#: The kinds in the order of their codes in ``Instruments.kind``.
INSTRUMENT_KINDS: tuple[InstrumentKind, ...] = tuple(InstrumentKind)
_CODE = {kind: code for code, kind in enumerate(INSTRUMENT_KINDS)}
_CALL = _CODE[InstrumentKind.CALL]
_PUT = _CODE[InstrumentKind.PUT]


def kind_code(kind: InstrumentKind) -> int:
    """The code of ``kind`` in ``Instruments.kind``."""
    return _CODE[kind]


def _frozen(values: ArrayLike, dtype: type[np.generic]) -> NDArray[np.generic]:
    array = np.array(values, dtype=dtype)  # always a copy: the caller keeps theirs
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True, eq=False)
class Instruments:
    """Instrument terms, one array entry per instrument, shape (n_instruments,).

    - ``kind``: int8 code into ``INSTRUMENT_KINDS``;
    - ``underlying``: index into ``factor_ids`` of the price the instrument is written on;
    - ``multiplier``: currency per price point per unit (contract size), >= 0;
    - ``strike``, ``expiry_years`` (years from today), ``volatility`` (Black-76 implied
      volatility, annualised): finite for options (strike > 0, expiry >= 0,
      volatility >= 0), NaN for futures and forwards.

    Arrays are read-only.
    """

    ids: tuple[str, ...]
    factor_ids: tuple[str, ...]
    kind: NDArray[np.int8]
    underlying: NDArray[np.intp]
    multiplier: NDArray[np.float64]
    strike: NDArray[np.float64]
    expiry_years: NDArray[np.float64]
    volatility: NDArray[np.float64]

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(set(self.ids)) != n:
            raise ValueError("instrument ids must be unique")
        if len(set(self.factor_ids)) != len(self.factor_ids):
            raise ValueError("factor ids must be unique")
        for name, dtype in (
            ("kind", np.int8),
            ("underlying", np.intp),
            ("multiplier", np.float64),
            ("strike", np.float64),
            ("expiry_years", np.float64),
            ("volatility", np.float64),
        ):
            array = _frozen(getattr(self, name), dtype)
            if array.shape != (n,):
                raise ValueError(f"{name} has shape {array.shape}, expected ({n},)")
            object.__setattr__(self, name, array)
        if n == 0:
            return
        if self.kind.min() < 0 or self.kind.max() >= len(INSTRUMENT_KINDS):
            raise ValueError("unknown instrument kind code")
        if self.underlying.min() < 0 or self.underlying.max() >= len(self.factor_ids):
            raise ValueError("underlying index out of range of factor_ids")
        if not (np.isfinite(self.multiplier).all() and (self.multiplier >= 0).all()):
            raise ValueError("multipliers must be finite and non-negative")
        option = self.is_option
        terms = np.stack([self.strike, self.expiry_years, self.volatility])
        if not np.isnan(terms[:, ~option]).all():
            raise ValueError("strike, expiry_years and volatility are NaN for linear instruments")
        opt = terms[:, option]
        if not (
            np.isfinite(opt).all()
            and (opt[0] > 0).all()
            and (opt[1] >= 0).all()
            and (opt[2] >= 0).all()
        ):
            raise ValueError("options need strike > 0, expiry_years >= 0 and volatility >= 0")

    @property
    def n_instruments(self) -> int:
        return len(self.ids)

    @property
    def is_option(self) -> NDArray[np.bool_]:
        """Shape (n_instruments,): True for calls and puts."""
        return np.isin(self.kind, (_CALL, _PUT))

    @property
    def is_call(self) -> NDArray[np.bool_]:
        """Shape (n_instruments,): True for calls."""
        return np.equal(self.kind, _CALL)

    def kinds(self) -> tuple[InstrumentKind, ...]:
        """The kind of each instrument, in the order of ``ids``."""
        return tuple(INSTRUMENT_KINDS[code] for code in self.kind.tolist())


def build_instruments(
    ids: Sequence[str],
    kinds: Sequence[InstrumentKind],
    underlyings: Sequence[str],
    *,
    multipliers: ArrayLike,
    strikes: ArrayLike,
    expiry_years: ArrayLike,
    volatilities: ArrayLike,
    factor_ids: Sequence[str],
) -> Instruments:
    """Instruments from id-keyed columns in any row order, sorted by id.

    ``underlyings`` are factor ids; every column has one entry per instrument
    (NaN strike, expiry and volatility for linear instruments). Invalid terms are
    a ``ValueError``: files are validated, with their row numbers, before this.
    """
    id_array = np.asarray(ids, dtype=str)
    order = np.argsort(id_array, kind="stable")
    factors = tuple(factor_ids)
    factor_index = {f: i for i, f in enumerate(factors)}
    unknown = sorted(set(underlyings) - set(factors))
    if unknown:
        raise ValueError(f"unknown underlying factors {unknown}")
    codes = np.fromiter((_CODE[InstrumentKind(k)] for k in kinds), np.int8, len(kinds))
    under = np.fromiter((factor_index[u] for u in underlyings), np.intp, len(underlyings))
    return Instruments(
        ids=tuple(id_array[order].tolist()),
        factor_ids=factors,
        kind=codes[order],
        underlying=under[order],
        multiplier=np.asarray(multipliers, dtype=np.float64)[order],
        strike=np.asarray(strikes, dtype=np.float64)[order],
        expiry_years=np.asarray(expiry_years, dtype=np.float64)[order],
        volatility=np.asarray(volatilities, dtype=np.float64)[order],
    )
