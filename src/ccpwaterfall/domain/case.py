"""The terms of a case: members, the rulebook (the waterfall) and default events.

A case holds terms only. Resolving and computing happen in ``waterfall``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ccpwaterfall.domain.money import Currency, Money

#: The latest default date a case file may give: replenishment and cooling-off
#: ends (at most ``MAX_BUSINESS_DAYS`` later) then stay well inside the calendar.
LAST_DATE = dt.date(2200, 12, 31)
#: The longest count of business days a rulebook may give: ten years.
MAX_BUSINESS_DAYS = 2600
#: The largest assessment ``cap_multiple``: caps of the largest contributions stay
#: within the amounts reports can show.
MAX_CAP_MULTIPLE = Decimal(1_000_000_000)


class TrancheKind(StrEnum):
    """The kinds of tranche a rulebook may list, by their name in case files."""

    DEFAULTER_MARGIN = "defaulter_margin"
    DEFAULTER_DEFAULT_FUND = "defaulter_default_fund"
    CCP_CAPITAL = "ccp_capital"
    CCP_CAPITAL_PRO_RATA = "ccp_capital_pro_rata"
    MEMBER_DEFAULT_FUND = "member_default_fund"
    ASSESSMENTS = "assessments"
    VM_GAINS_HAIRCUT = "vm_gains_haircut"

    @property
    def display_name(self) -> str:
        return _TITLES[self]


_TITLES: dict[str, str] = {
    TrancheKind.DEFAULTER_MARGIN: "Defaulter initial margin",
    TrancheKind.DEFAULTER_DEFAULT_FUND: "Defaulter default fund",
    TrancheKind.CCP_CAPITAL: "CCP capital",
    TrancheKind.CCP_CAPITAL_PRO_RATA: "CCP capital pro rata",
    TrancheKind.MEMBER_DEFAULT_FUND: "Members' default fund",
    TrancheKind.ASSESSMENTS: "Assessments",
    TrancheKind.VM_GAINS_HAIRCUT: "VM gains haircut",
}


#: How a survivors' tranche allocates: pro rata, or by auction tier where an event has one.
ALLOCATIONS = ("pro_rata", "auction_tiers")


@dataclass(frozen=True, slots=True)
class Tranche:
    """One layer of the waterfall: its kind, a display name and the kind's parameters.

    Which parameters a kind takes, and which it requires, is its spec's
    (``waterfall.kinds``): ``amount`` for CCP capital, ``cap_multiple`` for
    assessments, ``max_fraction`` for a VM gains haircut, ``allocation`` for
    the survivors' fund and assessments, ``shared_with`` for capital drawn pro
    rata with the next tranche. Here only the values themselves are checked.
    """

    kind: str
    name: str | None = None
    amount: Money | None = None
    cap_multiple: Decimal | None = None
    max_fraction: Decimal | None = None
    allocation: str = "pro_rata"
    shared_with: str | None = None

    def __post_init__(self) -> None:
        if self.amount is not None and self.amount.amount < 0:
            raise ValueError(f"{self.kind}: amount must be non-negative")
        if self.cap_multiple is not None and not 0 <= self.cap_multiple <= MAX_CAP_MULTIPLE:
            raise ValueError(f"cap_multiple must be from 0 to {MAX_CAP_MULTIPLE}")
        if self.max_fraction is not None and not Decimal(0) <= self.max_fraction <= Decimal(1):
            raise ValueError("max_fraction must be between 0 and 1")
        if self.allocation not in ALLOCATIONS:
            raise ValueError(f"allocation must be one of {', '.join(ALLOCATIONS)}")

    @property
    def label(self) -> str:
        """The display name: ``name`` if given, else the kind's title."""
        if self.name:
            return self.name
        return _TITLES.get(self.kind, self.kind)

    @property
    def haircut_fraction(self) -> Decimal:
        """``max_fraction`` of a VM gains haircut; 1 when not given."""
        return Decimal(1) if self.max_fraction is None else self.max_fraction


@dataclass(frozen=True, slots=True)
class CoolingOff:
    """A period over which assessment caps are counted and the fund is not replenished.

    It starts at an event when none is running and ends ``business_days``
    later; a default inside it moves the end to its date plus
    ``extend_per_default``, never beyond ``max_business_days`` from the start.
    """

    business_days: int
    extend_per_default: int = 0
    max_business_days: int | None = None

    def __post_init__(self) -> None:
        days = (self.business_days, self.extend_per_default, self.max_business_days or 0)
        if not all(0 <= d <= MAX_BUSINESS_DAYS for d in days):
            raise ValueError(f"cooling-off business days must be from 0 to {MAX_BUSINESS_DAYS}")
        if self.max_business_days is not None and self.max_business_days < self.business_days:
            raise ValueError("max_business_days must be at least business_days")


@dataclass(frozen=True, slots=True)
class Rulebook:
    """The waterfall in order of use and the rules for several events."""

    waterfall: tuple[Tranche, ...]
    business_days_to_replenish: int | None = None
    cooling_off: CoolingOff | None = None

    def __post_init__(self) -> None:
        days = self.business_days_to_replenish
        if days is not None and not 0 <= days <= MAX_BUSINESS_DAYS:
            raise ValueError(f"business_days_to_replenish must be from 0 to {MAX_BUSINESS_DAYS}")


@dataclass(frozen=True, slots=True)
class Member:
    """A clearing member and the resources it has put up."""

    id: str
    default_fund: Money
    initial_margin: Money
    vm_gains: Money
    name: str | None = None
    group: str | None = None

    @property
    def group_id(self) -> str:
        """The affiliate group; a member without one is its own group."""
        return self.group or self.id


@dataclass(frozen=True, slots=True)
class Default:
    """A member's default and the close-out loss of its portfolio."""

    member: str
    loss: Money
    date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class DefaultEvent:
    """Defaults on one date (or all undated ones): one simultaneous event."""

    date: dt.date | None
    defaults: tuple[Default, ...]

    @property
    def defaulters(self) -> tuple[str, ...]:
        return tuple(d.member for d in self.defaults)


def group_events(defaults: tuple[Default, ...]) -> tuple[DefaultEvent, ...]:
    """Defaults grouped into events by date, in date order, members sorted by id.

    Undated defaults form one event; a mix of dated and undated is an error.
    """
    dated = {d.date is not None for d in defaults}
    if len(dated) > 1:
        raise ValueError("dated and undated defaults cannot be mixed")
    by_date: dict[dt.date | None, list[Default]] = {}
    for default in defaults:
        by_date.setdefault(default.date, []).append(default)
    dates = sorted(by_date, key=lambda d: d or dt.date.min)
    return tuple(
        DefaultEvent(day, tuple(sorted(by_date[day], key=lambda d: d.member))) for day in dates
    )


@dataclass(frozen=True, slots=True)
class Auction:
    """The tiers a default auction left, most junior first, for the event of ``date``.

    Tranches that allocate by auction tier draw on the first tier first;
    survivors no tier names form one more tier after the named ones.
    ``date`` is None for the one event of undated defaults.
    """

    date: dt.date | None
    tiers: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        named = [m for tier in self.tiers for m in tier]
        if any(not tier for tier in self.tiers):
            raise ValueError("an auction tier lists at least one member")
        if len(set(named)) != len(named):
            raise ValueError("a member appears in at most one auction tier")


@dataclass(frozen=True, slots=True)
class Case:
    """One CCP, its members, its rulebook and one or more default events."""

    name: str
    currency: Currency
    ccp_name: str
    rulebook: Rulebook
    members: tuple[Member, ...]
    defaults: tuple[Default, ...]
    description: str | None = None
    auctions: tuple[Auction, ...] = ()

    def __post_init__(self) -> None:
        ids = [m.id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError("member ids must be unique")
        known = set(ids)
        for default in self.defaults:
            if default.member not in known:
                raise ValueError(f"default of unknown member {default.member!r}")
        defaulted = [d.member for d in self.defaults]
        if len(set(defaulted)) != len(defaulted):
            raise ValueError("a member defaults at most once")
        for problem in auction_problems(self, self.auctions):
            raise ValueError(problem)

    def member(self, member_id: str) -> Member:
        for m in self.members:
            if m.id == member_id:
                return m
        raise KeyError(member_id)

    @property
    def events(self) -> tuple[DefaultEvent, ...]:
        return group_events(self.defaults)


def auction_problems(case: Case, auctions: tuple[Auction, ...]) -> list[str]:
    """What is wrong with ``auctions`` for ``case``, as sentences (empty when nothing is).

    An auction belongs to the event of its date (the undated event when the
    defaults have no date), at most one per event; its tiers name members of
    the case that have not defaulted in that event or before it.
    """
    if not auctions:
        return []
    problems: list[str] = []
    known = {m.id for m in case.members}
    events = case.events
    dated = any(event.date is not None for event in events)
    seen: set[dt.date | None] = set()
    for auction in auctions:
        where = "the undated event" if auction.date is None else str(auction.date)
        if auction.date in seen:
            problems.append(f"a second auction for {where}: at most one per event")
        seen.add(auction.date)
        if (auction.date is None) == dated:
            problems.append(
                "an auction needs the date of its event"
                if dated
                else "the defaults have no date, so an auction has none"
            )
            continue
        index = next((i for i, e in enumerate(events) if e.date == auction.date), None)
        if index is None:
            problems.append(f"no default on {where}: an auction belongs to an event")
            continue
        defaulted = {d for event in events[: index + 1] for d in event.defaulters}
        for member in (m for tier in auction.tiers for m in tier):
            if member not in known:
                problems.append(f"auction tier names unknown member {member!r}")
            elif member in defaulted:
                problems.append(f"auction tier names {member!r}, a defaulter by {where}")
    return problems
