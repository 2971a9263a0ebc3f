"""A case with every reference looked up once: the input of ``run_waterfall``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ccpwaterfall.domain import Case, Currency, Member, Money, Tranche
from ccpwaterfall.waterfall.accounts import MemberPart, parse_member_account


@dataclass(frozen=True, slots=True)
class ResolvedTranche:
    """One tranche of the waterfall with what it needs looked up once.

    ``amount``: the CCP capital the tranche holds (its capital account), if
    any; ``caps``: each member's cap in this tranche (assessments, VM gains
    haircut), rounded down to the minor unit.
    """

    index: int  # position in the rulebook's waterfall
    kind: str
    label: str
    terms: Tranche
    amount: Money | None = None
    caps: Mapping[str, Money] | None = None


@dataclass(frozen=True, slots=True)
class ResolvedEvent:
    """One event with its survivors and its place in the replenishment schedule.

    ``survivors`` are the members neither defaulting in this event nor before
    it; ``replenished`` the members whose contribution a replenishment before
    this event restores (every member that has not defaulted before it).
    """

    index: int
    date: dt.date | None
    defaulters: tuple[str, ...]  # sorted by id
    losses: tuple[tuple[str, Money], ...]  # (defaulter, close-out loss), sorted by id
    loss: Money
    survivors: tuple[str, ...]  # sorted by id
    replenished: tuple[str, ...]  # sorted by id
    replenished_before: bool
    new_assessment_period: bool
    cooling_off_end: dt.date | None
    replenish_after: dt.date | None
    # Auction tiers, most junior first, the survivors no tier names last; None: no auction.
    tiers: tuple[tuple[str, ...], ...] | None = None


class MemberAccounts(Mapping[str, tuple[str, MemberPart]]):
    """Every member account of a case, with its member and part, read from its name.

    ``member:<id>:<part>`` names its owner, so no table of a case's accounts is
    built: a name is looked up by parsing it and checking it is the case's.
    """

    __slots__ = ("_names",)

    def __init__(self, names: Mapping[MemberPart, Mapping[str, str]]) -> None:
        self._names = names

    def __getitem__(self, account: str) -> tuple[str, MemberPart]:
        owner = parse_member_account(account)
        if owner is None or self._names[owner[1]].get(owner[0]) != account:
            raise KeyError(account)
        return owner

    def __iter__(self) -> Iterator[str]:
        for of_part in self._names.values():
            yield from of_part.values()

    def __len__(self) -> int:
        return sum(len(of_part) for of_part in self._names.values())


@dataclass(frozen=True, slots=True)
class ResolvedCase:
    """A case ready to compute: members by id, events, tranches, amounts and caps.

    ``tranches`` are the rulebook's tranches resolved by their kinds' specs.
    ``capital`` maps the index of each tranche holding CCP capital to its
    amount; ``caps`` maps the index of each tranche with member caps to every
    member's cap (rounded down to the minor unit);
    ``assessment_limit`` and ``haircut_limit`` are each member's largest cap
    over those tranches, the bound the invariants check. ``member_accounts``
    maps the name of every member account to its member and part.
    """

    case: Case
    currency: Currency
    members: Mapping[str, Member]  # by id, in id order
    events: tuple[ResolvedEvent, ...]
    tranches: tuple[ResolvedTranche, ...]  # in rulebook order
    capital: Mapping[int, Money]
    caps: Mapping[int, Mapping[str, Money]]
    assessment_limit: Mapping[str, Money]
    haircut_limit: Mapping[str, Money]
    member_accounts: Mapping[str, tuple[str, MemberPart]]
    # The name of every member account, by part and member: built once, read in hot loops.
    accounts: Mapping[MemberPart, Mapping[str, str]]
    # What each member put up, in minor units, by account (margin, fund, VM gains).
    put_up: Mapping[str, int]
    # Each member's contribution to the fund in minor units, by id: the pro rata key.
    contributions: Mapping[str, int]
    # ``caps`` in minor units: by tranche index, each member's cap.
    cap_units: Mapping[int, Mapping[str, int]]
