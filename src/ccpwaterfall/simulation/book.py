"""What the simulation draws on: every member's resources and losses, in minor units.

A ``Book`` holds, for each scenario of the market state and each member, the
close-out loss it would bring if its group defaulted, the margin usable
against that loss and the VM gains owed to it if it survives; and each
member's default fund contribution. Every amount crossed into money once, at
the border (``lifecycle.border.to_money``), the same way a Cover-N drill's
case does (``lifecycle.default_case``), so each path's case holds exactly the
integers the array waterfall reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.domain import Auction, Case, Currency, Default, Member, Money, Rulebook
from ccpwaterfall.lifecycle import (
    EndOfDayInputs,
    FundRun,
    MarginRun,
    Progress,
    StressRun,
    compute_margin,
    compute_stress,
    size_fund,
    to_money,
)
from ccpwaterfall.lifecycle.inputs import by_index, quiet
from ccpwaterfall.simulation.exact_int import MAX_UNITS

Int = NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class Book:
    """Members, groups, scenarios and amounts in minor units (int64, read-only arrays).

    ``member_ids`` sorted (ties of pro rata splits go to the id that sorts first);
    ``member_group``: shape (n_members,), index into ``group_ids``; ``contribution``
    and ``margin``: shape (n_members,); ``loss``, ``usable_margin`` and ``gains``:
    shape (n_scenarios, n_members). ``severity``: the scenarios from the worst
    (largest loss beyond margin summed over groups) to the mildest.
    ``auction_tiers``: member indices of each tier, most junior first, for the
    tranches that allocate by auction tier (every path's event has this
    auction, less its defaulters); empty: those tranches draw pro rata.
    """

    name: str
    ccp_name: str
    currency: Currency
    rulebook: Rulebook
    member_ids: tuple[str, ...]
    member_names: tuple[str | None, ...]
    group_ids: tuple[str, ...]
    member_group: NDArray[np.intp]
    contribution: Int
    margin: Int
    scenario_names: tuple[str, ...]
    loss: Int
    usable_margin: Int
    gains: Int
    auction_tiers: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        m, s = len(self.member_ids), len(self.scenario_names)
        if list(self.member_ids) != sorted(self.member_ids):
            raise ValueError("member_ids must be sorted")
        for name, shape in (
            ("contribution", (m,)),
            ("margin", (m,)),
            ("loss", (s, m)),
            ("usable_margin", (s, m)),
            ("gains", (s, m)),
        ):
            array = getattr(self, name)
            if array.shape != shape or array.dtype != np.int64:
                raise ValueError(f"{name} must be int64 of shape {shape}")
            if (array < 0).any() or (array >= MAX_UNITS).any():
                raise ValueError(f"{name} must be from 0 to 2^53 minor units")
        # Sums over members must stay in range too: the splits multiply them.
        if int(self.loss.sum(axis=1).max(initial=0)) >= MAX_UNITS:
            raise ValueError("the losses of a scenario sum beyond 2^53 minor units")
        named = [i for tier in self.auction_tiers for i in tier]
        if len(set(named)) != len(named) or not all(0 <= i < m for i in named):
            raise ValueError("auction tiers name each member index at most once")

    @property
    def n_members(self) -> int:
        return len(self.member_ids)

    @property
    def n_groups(self) -> int:
        return len(self.group_ids)

    @property
    def n_scenarios(self) -> int:
        return len(self.scenario_names)

    @property
    def exposure(self) -> Int:
        """Loss beyond usable margin per scenario and group: shape (n_scenarios, n_groups)."""
        beyond = self.loss - self.usable_margin
        out = np.zeros((self.n_scenarios, self.n_groups), dtype=np.int64)
        np.add.at(out.T, self.member_group, beyond.T)
        return out

    @property
    def severity(self) -> NDArray[np.intp]:
        """Scenarios from the worst to the mildest: total exposure, ties to the lower index."""
        total = self.exposure.sum(axis=1)
        order: NDArray[np.intp] = np.lexsort((np.arange(self.n_scenarios), -total))
        return order

    def case(self, scenario: int, defaulted: NDArray[np.bool_], name: str | None = None) -> Case:
        """The ``ccp-case/1`` case of one path: its defaulters, in its scenario, one event."""
        ccy = self.currency
        members = []
        defaults = []
        for index, member_id in enumerate(self.member_ids):
            out = bool(defaulted[index])
            members.append(
                Member(
                    id=member_id,
                    name=self.member_names[index],
                    group=self.group_ids[int(self.member_group[index])],
                    default_fund=_money(self.contribution[index], ccy),
                    initial_margin=_money(
                        self.usable_margin[scenario, index] if out else self.margin[index], ccy
                    ),
                    vm_gains=Money.zero(ccy) if out else _money(self.gains[scenario, index], ccy),
                )
            )
            if out:
                defaults.append(Default(member_id, _money(self.loss[scenario, index], ccy)))
        tiers = tuple(
            tier
            for tier in (
                tuple(self.member_ids[i] for i in t if not defaulted[i]) for t in self.auction_tiers
            )
            if tier
        )
        return Case(
            name=name or f"{self.name}: simulated path in '{self.scenario_names[scenario]}'",
            currency=ccy,
            ccp_name=self.ccp_name,
            rulebook=self.rulebook,
            members=tuple(members),
            defaults=tuple(defaults),
            auctions=(Auction(None, tiers),) if tiers else (),
        )


def _money(units: np.int64 | int, ccy: Currency) -> Money:
    return Money.from_minor_units(int(units), ccy)


def _units(values: NDArray[np.float64], ccy: Currency) -> Int:
    """Float amounts as minor units, each through the border."""
    flat = [to_money(float(v), ccy).minor_units for v in values.ravel().tolist()]
    return np.asarray(flat, dtype=np.int64).reshape(values.shape)


def compute_book(
    inputs: EndOfDayInputs, closeout_factor: float = 1.0, progress: Progress = quiet
) -> Book:
    """Margin, stress and the sized fund of a risk case's end of day, as a book."""
    margin = compute_margin(inputs, progress)
    stress = compute_stress(inputs, margin, progress)
    fund = size_fund(inputs, margin, stress, progress)
    return book_of(inputs, margin, stress, fund, closeout_factor)


def book_of(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    stress: StressRun,
    fund: FundRun,
    closeout_factor: float = 1.0,
) -> Book:
    """The book of an end of day: its stress scenarios, margins and fund contributions.

    A defaulting member's close-out loss in a scenario is the loss of its
    accounts that lose there (times ``closeout_factor``, the cost of
    liquidating them); its usable margin is the margin of those accounts, each
    up to its own loss, as in a Cover-N drill (``lifecycle.default_case``).
    """
    if not (closeout_factor >= 1.0 and np.isfinite(closeout_factor)):
        raise ValueError("closeout_factor must be a finite number of at least 1")
    portfolio = inputs.portfolio
    ccy = inputs.currency
    pnl = stress.account_pnl
    n = portfolio.n_members
    loss = np.maximum(-pnl, 0.0)
    usable = np.minimum(margin.account_margin[:, None], loss)
    gains = np.maximum(pnl, 0.0)
    scenarios = range(pnl.shape[1])

    def per_member(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.stack([by_index(values[:, s], portfolio.account_member, n) for s in scenarios])

    member_loss = per_member(loss) * closeout_factor
    return Book(
        name=inputs.name,
        ccp_name=inputs.ccp_name,
        currency=ccy,
        rulebook=inputs.rulebook,
        member_ids=portfolio.member_ids,
        member_names=portfolio.member_names,
        group_ids=portfolio.group_ids,
        member_group=np.asarray(portfolio.member_group, dtype=np.intp),
        contribution=np.asarray([m.minor_units for m in fund.contributions_money], np.int64),
        margin=_units(np.asarray(margin.member_margin, dtype=np.float64), ccy),
        scenario_names=stress.scenario_names,
        loss=_units(member_loss, ccy),
        usable_margin=_units(per_member(usable), ccy),
        gains=_units(per_member(gains), ccy),
    )
