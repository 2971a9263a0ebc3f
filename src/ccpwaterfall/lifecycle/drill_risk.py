"""A drill on a risk case: the defaulter's book, the market path and the CCP from the engine.

The risk case gives the members, accounts, positions, prices and history; the
engine gives each account's initial margin and each member's fund
contribution (``compute_margin``, ``compute_stress``, ``size_fund``). From
them this module builds the parts of a ``DrillPlan``: the CCP as a case
without defaults, the defaulter's accounts with their margin as collateral,
its positions by account and underlying (mark at default and delta, from
today's prices), each underlying's market path (its real daily moves from a
chosen date of the history) and standalone margin rate, and the futures a
hedge may use. Floats become money and exact decimals here, at the border.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.domain import Case, Currency, Member, Money
from ccpwaterfall.lifecycle.border import to_money
from ccpwaterfall.lifecycle.drill_plan import (
    Account,
    AccountKind,
    Instrument,
    Position,
    Product,
)
from ccpwaterfall.lifecycle.fund import FundRun
from ccpwaterfall.lifecycle.inputs import EndOfDayInputs
from ccpwaterfall.lifecycle.margin import MarginRun
from ccpwaterfall.risk.instruments import InstrumentKind, kind_code
from ccpwaterfall.risk.pricing import black76_price, unit_deltas

#: Moves and margin rates are exact decimals of this many places: far below a cent
#: on any position, and the same on every machine.
_PLACES = Decimal("1e-10")


@dataclass(frozen=True, slots=True)
class RiskDrillParts:
    """What a risk case gives a drill: the CCP, the defaulter's book and its market."""

    ccp: Case
    defaulter: str
    margin: Money  # the defaulter's initial margin, the call it misses
    accounts: tuple[Account, ...]
    products: tuple[Product, ...]
    positions: tuple[Position, ...]
    instruments: tuple[Instrument, ...]


def largest_member(margin: MarginRun, inputs: EndOfDayInputs) -> str:
    """The member with the largest initial margin (ties to the id that sorts first)."""
    order = np.lexsort((np.arange(len(margin.member_margin)), -margin.member_margin))
    return inputs.portfolio.member_ids[int(order[0])]


def path_days(inputs: EndOfDayInputs, start: dt.date, days: int) -> int | None:
    """The index of ``start`` in the history if ``days`` moves follow it, else None."""
    history = inputs.history
    if history is None:
        return None
    dates = history.dates.astype("datetime64[D]")
    index = int(np.searchsorted(dates, np.datetime64(start, "D")))
    if index >= len(dates) or dates[index] != np.datetime64(start, "D"):
        return None
    return index if index + days < len(dates) else None


def risk_drill_parts(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    fund: FundRun,
    defaulter: str,
    *,
    moves: dict[str, tuple[Decimal, ...]],
    costs: dict[str, tuple[Decimal, Decimal]],
    port_to: str | None,
    collateral_ported: Decimal,
    refused: frozenset[str] = frozenset(),
) -> RiskDrillParts:
    """The drill's parts for ``defaulter``, each underlying moving by ``moves`` (its relative
    move on each close-out day: ``history_moves`` or ``scenario_moves``).

    ``costs``: (half spread, impact) per underlying; ``port_to``: the back-up
    clearing member of every client account (None: clients are closed out);
    ``refused``: client accounts the back-up does not take within the window.
    """
    ccy = inputs.currency
    portfolio = inputs.portfolio
    instruments = inputs.instruments
    history = inputs.history
    assert history is not None
    spot = history.levels[-1]
    member_index = portfolio.member_ids.index(defaulter)
    members = tuple(
        Member(
            id=member_id,
            name=portfolio.member_names[i],
            group=portfolio.group_ids[int(portfolio.member_group[i])],
            default_fund=fund.contributions_money[i],
            initial_margin=to_money(float(margin.member_margin[i]), ccy),
            vm_gains=Money.zero(ccy),
        )
        for i, member_id in enumerate(portfolio.member_ids)
    )
    ccp = Case(
        name=inputs.name,
        currency=ccy,
        ccp_name=inputs.ccp_name,
        rulebook=inputs.rulebook,
        members=members,
        defaults=(),
        description=inputs.description,
    )
    own = np.flatnonzero(portfolio.account_member == member_index)
    accounts = tuple(
        Account(
            id=portfolio.account_ids[a],
            kind=AccountKind.CLIENT if portfolio.account_is_client[a] else AccountKind.HOUSE,
            collateral=to_money(float(margin.account_margin[a]), ccy),
            port_to=port_to if portfolio.account_is_client[a] else None,
            accepts=portfolio.account_ids[a] not in refused,
            collateral_ported=collateral_ported,
        )
        for a in own
    )
    unit_delta = unit_deltas(instruments, spot, inputs.discount_rate) * spot[instruments.underlying]
    unit_value = _unit_values(inputs, spot)
    factors = instruments.factor_ids
    positions: list[Position] = []
    book = portfolio.positions[own]
    for row, account in enumerate(own):
        start, end = book.indptr[row], book.indptr[row + 1]
        columns = book.indices[start:end]
        quantities = book.data[start:end]
        by_factor = instruments.underlying[columns]
        for factor in np.unique(by_factor):
            chosen = by_factor == factor
            value = float(quantities[chosen] @ unit_value[columns[chosen]])
            delta = float(quantities[chosen] @ unit_delta[columns[chosen]])
            positions.append(
                Position(
                    portfolio.account_ids[account],
                    factors[int(factor)],
                    _signed(value, ccy),
                    _signed(delta, ccy),
                )
            )
    products = tuple(
        Product(
            id=factor,
            moves=moves[factor],
            margin_rate=_margin_rate(inputs, f),
            half_spread=costs.get(factor, (Decimal(0), Decimal(0)))[0],
            impact=costs.get(factor, (Decimal(0), Decimal(0)))[1],
            active=_open_interest(inputs, f, member_index),
        )
        for f, factor in enumerate(factors)
    )
    futures = kind_code(InstrumentKind.FUTURE)
    hedge_instruments = tuple(
        Instrument(instrument_id, factors[int(instruments.underlying[i])])
        for i, instrument_id in enumerate(instruments.ids)
        if int(instruments.kind[i]) == futures
    )
    return RiskDrillParts(
        ccp=ccp,
        defaulter=defaulter,
        margin=to_money(float(margin.member_margin[member_index]), ccy),
        accounts=accounts,
        products=products,
        positions=tuple(positions),
        instruments=hedge_instruments,
    )


def _unit_values(inputs: EndOfDayInputs, spot: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mark at default of one unit: 0 for futures (settled daily), Black-76 for options."""
    instruments = inputs.instruments
    value = np.zeros(len(instruments.ids))
    options = instruments.is_option
    if options.any():
        value[options] = black76_price(
            spot[instruments.underlying[options]],
            instruments.strike[options],
            instruments.expiry_years[options],
            instruments.volatility[options],
            instruments.is_call[options],
            rate=inputs.discount_rate,
        )
    result: NDArray[np.float64] = value * instruments.multiplier
    return result


def history_moves(inputs: EndOfDayInputs, start: int, days: int) -> dict[str, tuple[Decimal, ...]]:
    """Each factor's real relative daily moves on the ``days`` days after history row ``start``."""
    history = inputs.history
    assert history is not None
    window = history.levels[start : start + days + 1]
    return {
        factor: tuple(_decimal(float(b / a - 1.0)) for a, b in itertools.pairwise(window[:, f]))
        for f, factor in enumerate(history.factor_ids)
    }


def scenario_moves(
    inputs: EndOfDayInputs, scenario: str, days: int
) -> dict[str, tuple[Decimal, ...]] | None:
    """A named stress scenario spread evenly over ``days``: its log-return shock in equal
    daily steps, as relative moves (None if the risk case has no such scenario)."""
    definition = next((d for d in inputs.stress if d.name == scenario), None)
    if definition is None:
        return None
    shocks = dict(definition.shocks)
    return {
        factor: (_decimal(math.expm1(shocks.get(factor, 0.0) / days)),) * days
        for factor in inputs.instruments.factor_ids
    }


def _margin_rate(inputs: EndOfDayInputs, factor: int) -> Decimal:
    """The mean of the worst absolute MPOR moves of the factor over the look-back.

    The tail is the margin model's (1% at a confidence of 0.99): the expected
    shortfall of a unit of delta, long or short.
    """
    history = inputs.history
    assert history is not None
    params = inputs.margin_params
    levels = np.log(history.levels[:, factor])
    mpor = inputs.scenario_params.mpor_days
    moves = np.abs(np.expm1(levels[mpor:] - levels[:-mpor]))
    lookback = inputs.scenario_params.lookback_days
    if lookback is not None:
        moves = moves[-lookback:]
    worst = max(1, math.ceil(len(moves) * (1.0 - params.confidence)))
    return _decimal(float(np.sort(moves)[-worst:].mean()))


def _open_interest(
    inputs: EndOfDayInputs, factor: int, defaulter: int
) -> tuple[tuple[str, int], ...]:
    """Each other member's open interest (absolute units) in the factor's instruments."""
    portfolio = inputs.portfolio
    columns = np.flatnonzero(inputs.instruments.underlying == factor)
    per_account = np.asarray(abs(portfolio.positions[:, columns]).sum(axis=1)).ravel()
    per_member = np.bincount(
        portfolio.account_member, weights=per_account, minlength=len(portfolio.member_ids)
    )
    return tuple(
        (member_id, round(float(per_member[i])))
        for i, member_id in enumerate(portfolio.member_ids)
        if i != defaulter and per_member[i] >= 0.5
    )


def _signed(value: float, ccy: Currency) -> Money:
    amount = to_money(abs(value), ccy)
    return -amount if value < 0 else amount


def _decimal(value: float) -> Decimal:
    return Decimal(value).quantize(_PLACES) + 0
