"""Parameters of the risk models: plain frozen values, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class VolatilityFilter(StrEnum):
    """How historical returns are rescaled to today's volatility (FHS)."""

    NONE = "none"
    EWMA = "ewma"
    GARCH = "garch"


class MarginModel(StrEnum):
    """Initial margin model of an account."""

    VAR = "var"  # historical value at risk at ``confidence``
    ES = "es"  # expected shortfall: mean of the k worst scenario losses
    SPAN = "span"  # scan risk: worst loss over a 16-scenario risk array


class AntiProcyclicality(StrEnum):
    """EMIR RTS 153/2013 Art 28 anti-procyclicality option."""

    NONE = "none"
    BUFFER = "buffer"  # (a) margin buffer of at least 25%
    STRESSED_WEIGHT = "stressed_weight"  # (b) at least 25% weight on stressed observations
    TEN_YEAR_FLOOR = "ten_year_floor"  # (c) floor at margin from a 10-year look-back


class CoverBasis(StrEnum):
    """What a member group's exposure in a stress scenario is measured as."""

    LOSS_OVER_MARGIN = "loss_over_margin"  # stress loss beyond IM (PQD 4.4.3 / 4.4.7)
    BEYOND_OWN_FUND = "beyond_own_fund"  # beyond IM and the group's own DF (BoE 2024 SST)


class ContributionMethod(StrEnum):
    """How the default fund is split among members."""

    MARGIN = "margin"  # pro rata to initial margin
    STRESS = "stress"  # pro rata to stress loss over margin
    MIXED = "mixed"  # weighted blend of the two


@dataclass(frozen=True, slots=True)
class ScenarioParams:
    """Historical scenario generation from a price history."""

    mpor_days: int = 2  # margin period of risk: 2 listed, 5 OTC (RTS 153/2013 Art 26)
    lookback_days: int | None = None  # None: the whole history
    volatility_filter: VolatilityFilter = VolatilityFilter.NONE
    ewma_lambda: float = 0.97  # PAIRS legacy decay

    def __post_init__(self) -> None:
        if self.mpor_days < 1:
            raise ValueError("mpor_days must be at least 1")
        if self.lookback_days is not None and self.lookback_days < 2:
            raise ValueError("lookback_days must be at least 2")
        if not 0.0 < self.ewma_lambda < 1.0:
            raise ValueError("ewma_lambda must be strictly between 0 and 1")


@dataclass(frozen=True, slots=True)
class InterCommoditySpread:
    """A SPAN inter-commodity spread: two positively correlated commodities and a credit rate."""

    legs: tuple[str, str]
    credit: float  # fraction of each leg's price risk credited per spread, in [0, 1]

    def __post_init__(self) -> None:
        if len(self.legs) != 2 or self.legs[0] == self.legs[1]:
            raise ValueError("an inter-commodity spread has two different legs")
        if not 0.0 <= self.credit <= 1.0:
            raise ValueError("an inter-commodity spread credit is between 0 and 1")


@dataclass(frozen=True, slots=True)
class SpanParams:
    """SPAN parameters beyond the risk arrays (``risk.span``; see ``risk/span.py``).

    Per commodity (risk factor id): ``intra_spread_charge`` in price points per
    unit of spread delta, ``short_option_minimum`` in currency per short option.
    ``tiers`` maps instrument ids to a tier (contract month) label; instruments
    not named share one tier of their commodity. ``vol_scan``: the relative
    implied-volatility scan range; ``extreme_multiple`` and ``extreme_cover``:
    scenarios 15-16 move the price by that many scan ranges and count that
    fraction of the P&L.
    """

    intra_spread_charge: tuple[tuple[str, float], ...] = ()
    short_option_minimum: tuple[tuple[str, float], ...] = ()
    inter_spreads: tuple[InterCommoditySpread, ...] = ()
    tiers: tuple[tuple[str, str], ...] = ()
    vol_scan: float = 0.25
    extreme_multiple: float = 2.0
    extreme_cover: float = 0.35

    def __post_init__(self) -> None:
        rates = (*self.intra_spread_charge, *self.short_option_minimum)
        if any(not (rate >= 0.0 and rate < float("inf")) for _, rate in rates):
            raise ValueError("SPAN charges must be finite and non-negative")
        if not 0.0 <= self.vol_scan <= 1.0:
            raise ValueError("vol_scan must be between 0 and 1")
        if not self.extreme_multiple > 0.0 or not 0.0 <= self.extreme_cover <= 1.0:
            raise ValueError("extreme_multiple must be positive and extreme_cover in [0, 1]")


@dataclass(frozen=True, slots=True)
class MarginParams:
    """Initial margin per account."""

    model: MarginModel = MarginModel.ES
    confidence: float = 0.99
    es_worst: int | None = None  # k of "mean of the k worst"; None: from confidence
    anti_procyclicality: AntiProcyclicality = AntiProcyclicality.NONE
    apc_buffer: float = 0.25
    apc_stressed_weight: float = 0.25
    span: SpanParams = SpanParams()

    def __post_init__(self) -> None:
        if not 0.5 <= self.confidence < 1.0:
            raise ValueError("confidence must be in [0.5, 1)")
        if self.es_worst is not None and self.es_worst < 1:
            raise ValueError("es_worst must be at least 1")
        if self.apc_buffer < 0.25 and self.anti_procyclicality is AntiProcyclicality.BUFFER:
            raise ValueError("an Art 28(a) buffer is at least 25%")
        if (
            self.apc_stressed_weight < 0.25
            and self.anti_procyclicality is AntiProcyclicality.STRESSED_WEIGHT
        ):
            raise ValueError("an Art 28(b) stressed weight is at least 25%")


@dataclass(frozen=True, slots=True)
class FundParams:
    """Default fund sizing (Cover-N) and its split among members."""

    cover: int = 2
    basis: CoverBasis = CoverBasis.LOSS_OVER_MARGIN
    buffer: float = 0.0  # sized fund = cover amount x (1 + buffer)
    floor: float = 0.0  # minimum fund size
    cap: float | None = None  # maximum fund size
    sitg_junior: float = 0.0  # junior CCP capital ahead of the fund, deducted from the need
    method: ContributionMethod = ContributionMethod.STRESS
    margin_weight: float = 0.5  # weight of the margin key in the mixed method
    minimum_contribution: float = 0.0
    static_contribution: float = 0.0  # Eurex-style: each member pays max(static, dynamic)

    def __post_init__(self) -> None:
        if self.cover < 1:
            raise ValueError("cover must be at least 1")
        if min(self.buffer, self.floor, self.sitg_junior) < 0:
            raise ValueError("buffer, floor and sitg_junior must be non-negative")
        if self.cap is not None and self.cap < self.floor:
            raise ValueError("cap must be at least floor")
        if not 0.0 <= self.margin_weight <= 1.0:
            raise ValueError("margin_weight must be in [0, 1]")
        if min(self.minimum_contribution, self.static_contribution) < 0:
            raise ValueError("contributions must be non-negative")
