"""A seeded synthetic CCP on three real price series: S&P 500, NASDAQ and WTI crude.

The demo clears equity index futures (on the S&P 500 and the NASDAQ Composite)
and WTI crude oil futures and forwards, with calls and puts on them. Its
members are banks with a house account and client accounts; a few belong to
affiliate groups, and two large members hold concentrated books (a short
equity put writer and a long oil speculator), so Cover-2 is driven by them and
their affiliates. Everything is drawn from ``numpy.random.default_rng(seed)``:
the same seed and levels give the same portfolio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.risk.instruments import InstrumentKind, Instruments, build_instruments
from ccpwaterfall.risk.portfolio import PortfolioRows
from ccpwaterfall.risk.pricing import black76_delta


@dataclass(frozen=True, slots=True)
class DemoContract:
    """The listing of one risk factor: contract code, size, strikes and implied vols."""

    root: str  # contract code prefix, e.g. "ES"
    multiplier: float  # currency per index point (or per dollar of a barrel price)
    strike_step: float  # listed strike interval in price points
    volatility: float  # at-the-money implied volatility
    skew: float  # vol change per unit of log-moneyness (negative: puts dearer)
    forward: bool = False  # also list a six-month forward


#: Contracts by risk factor id (multipliers of the CME E-mini S&P 500, E-mini Nasdaq-100
#: and NYMEX WTI crude contracts; vols of the order of late-2018 levels).
DEMO_CONTRACTS: dict[str, DemoContract] = {
    "sp500": DemoContract("ES", 50.0, 25.0, 0.22, -0.9),
    "nasdaq": DemoContract("NQ", 20.0, 50.0, 0.27, -0.8),
    "wti": DemoContract("CL", 1000.0, 0.5, 0.40, -0.4, forward=True),
}

# Four quarterly futures per factor. The factor is the futures price and calendar basis
# is not modelled, so all expiries move together; the options' expiries matter.
_N_FUTURES = 4
_OPTION_EXPIRIES = (1 / 12, 0.25, 0.5)  # options on the first futures, years
_MONEYNESS = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15)  # strikes as fractions of the level

_STEMS = (
    "Aster Ashdown Blackwater Borealis Calder Coldharbour Driftwood Dunmore Elmstead Everly "
    "Fairhaven Foxhollow Glenrock Greyfriars Harbourview Highcliff Ironbridge Ivybridge "
    "Juniper Kestrel Kingsmead Larkspur Lindenhall Marchmont Merrow Newhaven Northgate "
    "Oakmont Orchard Pembury Pinecrest Quayside Redfern Silverlake Thornbury Umber Valemont "
    "Westbrook Yarrow Zephyr"
).split()
_LEADER_KINDS = ("Bank", "Bank", "Capital Markets", "Futures")
_AFFILIATE_KINDS = ("Securities", "Markets", "Clearing", "Asset Management", "International")

# Notional (currency) of a typical position of the largest member's house account, and of
# each of the two concentrated books.
_NOTIONAL = 2.5e7
_BIG_NOTIONAL = 1.5e9


def demo_portfolio(
    seed: int,
    spot: Mapping[str, float],
    *,
    n_members: int = 40,
    n_groups: int = 30,
    n_accounts: int = 400,
    positions_per_account: float = 6.0,
) -> tuple[PortfolioRows, Instruments]:
    """A deterministic synthetic clearing membership and its book.

    ``spot``: today's level (the last date of the price history) of each factor to
    list contracts on, keys among those of ``DEMO_CONTRACTS``; strikes are listed
    around it. Members ``CM01``...: the first ``n_groups`` lead a group each, the
    rest are affiliates of the first few groups (large members attract
    affiliates). Every member has a house account (``CM01-H``); the remaining
    accounts are client accounts (``CM01-C001``...) spread by member size.
    ``positions_per_account`` is the mean number of instruments an account
    trades. Positions are whole contracts, long and short; about a third of
    option positions are delta hedged with the front future. CM01 writes equity
    index puts and CM02 is long crude oil, both in size.

    Returns the rows (positions summed per account and instrument, zeros dropped)
    and the instruments on the factors of ``spot`` in the order of
    ``DEMO_CONTRACTS``.
    """
    if not 2 <= n_groups <= n_members <= n_accounts:
        raise ValueError("need 2 <= n_groups <= n_members <= n_accounts")
    factors = tuple(f for f in DEMO_CONTRACTS if f in spot)
    if set(spot) - set(factors) or not factors:
        raise ValueError(f"spot levels are for the factors {sorted(DEMO_CONTRACTS)}")
    rng = np.random.default_rng(seed)
    instruments = _demo_instruments(factors, spot)

    member_ids = tuple(f"CM{i:02d}" for i in range(1, n_members + 1))
    # Affiliates join one of the first groups, the two large members' groups most often.
    leaders = np.arange(n_groups)
    attract = 1.0 / np.arange(1, n_groups + 1)
    joined = rng.choice(min(8, n_groups), size=n_members - n_groups, p=_norm(attract[:8]))
    member_leader = np.concatenate([leaders, joined])
    group_size = np.bincount(member_leader, minlength=n_groups)
    stems = [_stem(i) for i in range(n_groups)]
    rank_in_group = np.zeros(n_members, dtype=np.intp)
    rank_in_group[n_groups:] = _rank_within(joined)
    names = tuple(
        f"{stems[g]} {_LEADER_KINDS[g % 4]}" if r == 0 else _affiliate_name(stems[g], r)
        for g, r in zip(member_leader.tolist(), rank_in_group.tolist(), strict=True)
    )
    groups = tuple(
        f"{stems[g].upper()}-GROUP" if group_size[g] > 1 else None for g in member_leader.tolist()
    )

    # Member weights: Zipf-like sizes, shuffled so size is not the id order.
    weight = 1.0 / np.arange(1, n_members + 1, dtype=np.float64) ** 0.9
    weight = weight[rng.permutation(n_members)]
    # Accounts: one house account per member, clients by weight (at least none).
    n_clients = rng.multinomial(n_accounts - n_members, _norm(weight))
    account_member = np.concatenate(
        [np.arange(n_members), np.repeat(np.arange(n_members), n_clients)]
    )
    client_rank = _rank_within(np.repeat(np.arange(n_members), n_clients))
    is_client = np.arange(account_member.size) >= n_members
    account_ids = np.concatenate(
        [
            np.char.add(np.asarray(member_ids), "-H"),
            np.char.add(
                np.char.add(np.asarray(member_ids)[account_member[n_members:]], "-C"),
                np.char.zfill(client_rank.astype(str), 3),
            ),
        ]
    )
    # Scale of an account's positions: its member's weight, clients smaller than house.
    account_scale = weight[account_member] * np.where(is_client, 0.35, 1.0)
    account_scale *= rng.lognormal(0.0, 0.5, account_member.size)

    levels = np.asarray([float(spot[f]) for f in factors])
    rows_a, rows_i, rows_q = _random_book(
        rng, instruments, levels, account_scale, positions_per_account
    )
    extra = _concentrated_books(instruments, levels)
    account, instrument, quantity = _sum_positions(
        np.concatenate([rows_a, extra[0]]),
        np.concatenate([rows_i, extra[1]]),
        np.concatenate([rows_q, extra[2]]),
    )
    rows = PortfolioRows(
        member_ids=member_ids,
        member_names=names,
        member_groups=groups,
        account_ids=tuple(account_ids.tolist()),
        account_members=tuple(np.asarray(member_ids)[account_member].tolist()),
        account_is_client=tuple(is_client.tolist()),
        position_accounts=account_ids[account],
        position_instruments=np.asarray(instruments.ids)[instrument],
        position_quantities=quantity,
    )
    return rows, instruments


def _norm(weights: NDArray[np.float64]) -> NDArray[np.float64]:
    normed: NDArray[np.float64] = weights / weights.sum()
    return normed


def _affiliate_name(stem: str, rank: int) -> str:
    kind = _AFFILIATE_KINDS[(rank - 1) % len(_AFFILIATE_KINDS)]
    repeat = (rank - 1) // len(_AFFILIATE_KINDS)
    return f"{stem} {kind}" if repeat == 0 else f"{stem} {kind} {repeat + 1}"


def _stem(i: int) -> str:
    return _STEMS[i] if i < len(_STEMS) else f"{_STEMS[i % len(_STEMS)]} {i // len(_STEMS) + 1}"


def _rank_within(labels: NDArray[np.intp]) -> NDArray[np.intp]:
    """1-based rank of each entry among the earlier entries with the same label."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, labels.size]))
    rank = np.empty(labels.size, dtype=np.intp)
    rank[order] = np.arange(labels.size) - run_start + 1
    return rank


def _demo_instruments(factors: tuple[str, ...], spot: Mapping[str, float]) -> Instruments:
    """Quarterly futures, an oil forward, and calls and puts on a strike grid."""
    ids: list[str] = []
    kinds: list[InstrumentKind] = []
    under: list[str] = []
    mult: list[float] = []
    strike: list[float] = []
    expiry: list[float] = []
    vol: list[float] = []
    # A few rows per factor (three factors): building the listing, not array work.
    for factor in factors:
        c = DEMO_CONTRACTS[factor]
        level = float(spot[factor])
        linear = [(f"{c.root}-F{k}", InstrumentKind.FUTURE) for k in range(1, _N_FUTURES + 1)]
        if c.forward:
            linear.append((f"{c.root}-FWD6M", InstrumentKind.FORWARD))
        for code, kind in linear:
            ids.append(code)
            kinds.append(kind)
            under.append(factor)
            mult.append(c.multiplier)
            strike.append(np.nan)
            expiry.append(np.nan)
            vol.append(np.nan)
        grid = np.unique(np.round(level * np.asarray(_MONEYNESS) / c.strike_step) * c.strike_step)
        smile = np.maximum(c.volatility + c.skew * np.log(grid / level), 0.05)
        for k, years in enumerate(_OPTION_EXPIRIES, start=1):
            for option, letter in ((InstrumentKind.CALL, "C"), (InstrumentKind.PUT, "P")):
                for point, sigma in zip(grid.tolist(), smile.tolist(), strict=True):
                    ids.append(f"{c.root}-O{k}-{letter}{point:g}")
                    kinds.append(option)
                    under.append(factor)
                    mult.append(c.multiplier)
                    strike.append(point)
                    expiry.append(years)
                    vol.append(round(sigma, 4))
    return build_instruments(
        ids,
        kinds,
        under,
        multipliers=mult,
        strikes=strike,
        expiry_years=expiry,
        volatilities=vol,
        factor_ids=factors,
    )


def _popularity(instruments: Instruments, spot: NDArray[np.float64]) -> NDArray[np.float64]:
    """Trading probability per instrument: front futures and near-the-money options."""
    option = instruments.is_option
    moneyness = np.where(option, instruments.strike / spot[instruments.underlying], 1.0)
    near = np.exp(-(((moneyness - 1.0) / 0.07) ** 2))
    short = np.where(option, 1.0 / (1.0 + 8.0 * np.nan_to_num(instruments.expiry_years)), 1.0)
    return _norm(np.where(option, 0.5 * near * short, 1.0))


def _random_book(
    rng: np.random.Generator,
    instruments: Instruments,
    spot: NDArray[np.float64],
    account_scale: NDArray[np.float64],
    mean_positions: float,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Random long/short positions, some options delta hedged with the front future.

    Returns (account index, instrument index, quantity) rows, shape (n_rows,) each.
    """
    n_accounts = account_scale.size
    count = 1 + rng.poisson(max(mean_positions - 1.0, 0.0), n_accounts)
    account = np.repeat(np.arange(n_accounts), count)
    instrument = rng.choice(
        instruments.n_instruments, account.size, p=_popularity(instruments, spot)
    )
    under = instruments.underlying[instrument]
    unit_notional = instruments.multiplier[instrument] * spot[under]
    size = _NOTIONAL * account_scale[account] * rng.lognormal(0.0, 0.8, account.size)
    sign = rng.choice(np.array([-1.0, 1.0]), account.size)
    quantity = sign * np.maximum(np.round(size / unit_notional), 1.0)

    # Delta hedges: a third of option positions, hedged on the first future of the factor.
    front = np.searchsorted(
        np.asarray(instruments.ids),
        np.char.add(np.asarray([DEMO_CONTRACTS[f].root for f in instruments.factor_ids]), "-F1"),
    )
    hedged = instruments.is_option[instrument] & (rng.random(account.size) < 1 / 3)
    h = instrument[hedged]
    delta = black76_delta(
        spot[instruments.underlying[h]],
        instruments.strike[h],
        instruments.expiry_years[h],
        instruments.volatility[h],
        instruments.is_call[h],
    )
    hedge = -np.round(delta * quantity[hedged])
    return (
        np.concatenate([account, account[hedged]]),
        np.concatenate([instrument, front[under[hedged]]]),
        np.concatenate([quantity, hedge]),
    )


def _concentrated_books(
    instruments: Instruments, spot: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """CM01 (account 0) writes near-the-money equity puts; CM02 (account 1) is long oil.

    Returns (account index, instrument index, quantity) rows.
    """
    factors = instruments.factor_ids
    under = instruments.underlying
    unit_notional = instruments.multiplier * spot[under]
    equity = np.isin(under, [factors.index(f) for f in ("sp500", "nasdaq") if f in factors])
    moneyness = np.where(instruments.is_option, instruments.strike / spot[under], np.nan)
    puts = np.flatnonzero(
        equity
        & instruments.is_option
        & ~instruments.is_call
        & (moneyness >= 0.89)
        & (moneyness <= 0.96)
        & (instruments.expiry_years <= 0.25)
    )
    oil = np.flatnonzero(
        ~instruments.is_option & (under == (factors.index("wti") if "wti" in factors else -1))
    )
    put_q = -np.round(_BIG_NOTIONAL / max(puts.size, 1) / unit_notional[puts])
    oil_q = np.round(_BIG_NOTIONAL / max(oil.size, 1) / unit_notional[oil])
    return (
        np.concatenate([np.zeros(puts.size, np.intp), np.ones(oil.size, np.intp)]),
        np.concatenate([puts, oil]),
        np.concatenate([put_q, oil_q]),
    )


def _sum_positions(
    account: NDArray[np.intp], instrument: NDArray[np.intp], quantity: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """One row per (account, instrument), quantities summed, zero rows dropped."""
    pairs, inverse = np.unique(np.stack([account, instrument], axis=1), axis=0, return_inverse=True)
    total = np.bincount(inverse.ravel(), weights=quantity, minlength=pairs.shape[0])
    keep = total != 0
    return pairs[keep, 0], pairs[keep, 1], total[keep]
