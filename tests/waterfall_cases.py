"""Small builders of cases for the waterfall tests, written in the domain's terms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from ccpwaterfall.domain import (
    Case,
    CoolingOff,
    Currency,
    Default,
    Member,
    Money,
    Rulebook,
    Tranche,
    TrancheKind,
    currency,
)
from ccpwaterfall.ledger import Entry
from ccpwaterfall.waterfall import EventResult, TrancheResult

EUR = currency("EUR")

MARGIN = Tranche(TrancheKind.DEFAULTER_MARGIN)
DEFAULTER_FUND = Tranche(TrancheKind.DEFAULTER_DEFAULT_FUND)
MEMBER_FUND = Tranche(TrancheKind.MEMBER_DEFAULT_FUND)


def money(amount: int | str, ccy: Currency | str = EUR) -> Money:
    """An exact amount: ``"7m"`` style suffixes are for case files, here plain numbers.

    ``ccy`` is a currency or its ISO 4217 code.
    """
    return Money.of(amount, currency(ccy) if isinstance(ccy, str) else ccy)


def member(
    member_id: str,
    default_fund: int | str = 0,
    initial_margin: int | str = 0,
    vm_gains: int | str = 0,
    ccy: Currency | str = EUR,
) -> Member:
    return Member(
        member_id, money(default_fund, ccy), money(initial_margin, ccy), money(vm_gains, ccy)
    )


def capital(amount: int | str, name: str | None = None, ccy: Currency = EUR) -> Tranche:
    return Tranche(TrancheKind.CCP_CAPITAL, name=name, amount=money(amount, ccy))


def assessments(cap_multiple: str, name: str | None = None) -> Tranche:
    return Tranche(TrancheKind.ASSESSMENTS, name=name, cap_multiple=Decimal(cap_multiple))


def haircut(max_fraction: str | None = None) -> Tranche:
    fraction = None if max_fraction is None else Decimal(max_fraction)
    return Tranche(TrancheKind.VM_GAINS_HAIRCUT, max_fraction=fraction)


def default(
    member_id: str, loss: int | str, date: dt.date | None = None, ccy: Currency | str = EUR
) -> Default:
    return Default(member_id, money(loss, ccy), date)


def make_case(
    members: Iterable[Member],
    defaults: Iterable[Default],
    waterfall: Iterable[Tranche],
    *,
    business_days_to_replenish: int | None = None,
    cooling_off: CoolingOff | None = None,
    ccy: Currency = EUR,
    name: str = "test case",
    ccp_name: str = "Test CCP",
) -> Case:
    rulebook = Rulebook(tuple(waterfall), business_days_to_replenish, cooling_off)
    return Case(name, ccy, ccp_name, rulebook, tuple(members), tuple(defaults))


def every_kind(
    capital_amount: int | str,
    cap_multiple: str,
    max_fraction: str,
    *,
    assessments_name: str | None = None,
) -> tuple[Tranche, ...]:
    """A waterfall of all six kinds in the usual order: the defaulter's, capital, the others'."""
    return (
        MARGIN,
        DEFAULTER_FUND,
        capital(capital_amount),
        MEMBER_FUND,
        assessments(cap_multiple, assessments_name),
        haircut(max_fraction),
    )


def tranche(event: EventResult, kind: TrancheKind, occurrence: int = 0) -> TrancheResult:
    """The ``occurrence``-th tranche of ``kind`` in the event."""
    return [t for t in event.tranches if t.kind == kind][occurrence]


def charges(event: EventResult) -> dict[str, tuple[Money, Money, Money]]:
    """Each charged survivor's (default fund, assessment, VM haircut)."""
    return {c.member: (c.default_fund, c.assessment, c.vm_haircut) for c in event.members}


def used(event: EventResult) -> dict[int, Money]:
    """What each tranche used in the event, by tranche index."""
    return {t.index: t.used for t in event.tranches}


def tranche_entry(journal: Iterable[Entry], event: int, index: int) -> Entry | None:
    """The journal entry of the tranche at ``index`` in ``event``, if it moved anything."""
    for entry in journal:
        if entry.event == event and ("tranche_index", str(index)) in entry.meta:
            return entry
    return None
