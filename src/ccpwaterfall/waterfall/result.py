"""What a waterfall run returns: per event, per tranche and per member, with the journal.

Every figure here can be rebuilt from the journal; the explain records say
which rule produced each one and from which inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import overload

from ccpwaterfall.domain import Case, Currency, Money
from ccpwaterfall.ledger import Journal

# An input of a tranche's rule, as data: amounts as Money, multiples and fractions
# as Decimal, counts as int, days as dates, flags as bool, ids as a tuple, words as str.
# Reports format them; results never hold display text.
InputValue = Money | Decimal | bool | int | dt.date | str | tuple[str, ...]


def input_text(value: InputValue) -> str:
    """The plain text of an input, as the journal's entry metadata holds it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class TrancheResult:
    """The explain record of one tranche in one event.

    ``available`` is what the tranche could give in this event (after earlier
    events and caps), ``used`` what it gave, ``remaining`` the difference.
    """

    index: int  # position of the tranche in the rulebook's waterfall
    kind: str  # its kind, by its name in case files
    name: str
    available: Money
    used: Money
    remaining: Money
    rule: str  # the rule applied, in one sentence
    inputs: tuple[tuple[str, InputValue], ...] = ()  # the rule's inputs, by name


class MemberCharge:
    """What one surviving member bore: from its fund, by assessment, by VM haircut.

    Held as whole minor units: a run of 100,000 members over 30 events makes
    millions of charges, and the amounts are built as ``Money`` when read.
    Immutable; equal when member and amounts are.
    """

    __slots__ = ("_currency", "_member", "_units")

    _member: str
    _units: tuple[int, int, int]
    _currency: Currency

    def __init__(
        self, member: str, default_fund: Money, assessment: Money, vm_haircut: Money
    ) -> None:
        ccy = default_fund.currency
        if assessment.currency != ccy or vm_haircut.currency != ccy:
            raise ValueError(f"charges of {member} are not in one currency")
        self._member = member
        self._units = (default_fund.minor_units, assessment.minor_units, vm_haircut.minor_units)
        self._currency = ccy

    @classmethod
    def of_units(
        cls, member: str, default_fund: int, assessment: int, vm_haircut: int, ccy: Currency
    ) -> MemberCharge:
        """A charge from minor units of ``ccy``: the engine's path, no Money made."""
        charge = object.__new__(cls)
        charge._member = member
        charge._units = (default_fund, assessment, vm_haircut)
        charge._currency = ccy
        return charge

    @property
    def member(self) -> str:
        return self._member

    @property
    def currency(self) -> Currency:
        return self._currency

    @property
    def units(self) -> tuple[int, int, int]:
        """Fund, assessment and VM haircut in minor units."""
        return self._units

    @property
    def default_fund(self) -> Money:
        return Money.from_minor_units(self._units[0], self._currency)

    @property
    def assessment(self) -> Money:
        return Money.from_minor_units(self._units[1], self._currency)

    @property
    def vm_haircut(self) -> Money:
        return Money.from_minor_units(self._units[2], self._currency)

    @property
    def total(self) -> Money:
        return Money.from_minor_units(sum(self._units), self._currency)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MemberCharge):
            return NotImplemented
        return (
            self._member == other._member
            and self._units == other._units
            and self._currency == other._currency
        )

    def __hash__(self) -> int:
        return hash((self._member, self._units, self._currency))

    def __repr__(self) -> str:
        return (
            f"MemberCharge(member={self._member!r}, default_fund={self.default_fund!r}, "
            f"assessment={self.assessment!r}, vm_haircut={self.vm_haircut!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (MemberCharge.of_units, (self._member, *self._units, self._currency))


class MemberCharges(Sequence[MemberCharge]):
    """The survivors' charges of one event, by member id, held as columns of minor units.

    An event of 100,000 survivors makes no per-member object: a ``MemberCharge``
    is built when one is read. ``rows()`` gives (member, fund, assessment, VM
    haircut) in minor units without building any. Immutable; equal to any
    sequence of the same charges.
    """

    __slots__ = ("_assessed", "_currency", "_cut", "_fund", "_members")

    _members: tuple[str, ...]
    _fund: tuple[int, ...]
    _assessed: tuple[int, ...]
    _cut: tuple[int, ...]
    _currency: Currency | None

    def __init__(self, charges: Iterable[MemberCharge] = ()) -> None:
        listed = tuple(charges)
        currencies = {charge.currency for charge in listed}
        if len(currencies) > 1:
            raise ValueError("member charges are not in one currency")
        self._members = tuple(charge.member for charge in listed)
        self._fund = tuple(charge.units[0] for charge in listed)
        self._assessed = tuple(charge.units[1] for charge in listed)
        self._cut = tuple(charge.units[2] for charge in listed)
        self._currency = next(iter(currencies), None)

    @classmethod
    def of_columns(
        cls,
        members: tuple[str, ...],
        fund: tuple[int, ...],
        assessed: tuple[int, ...],
        cut: tuple[int, ...],
        ccy: Currency,
    ) -> MemberCharges:
        """Charges from columns of equal length: the engine's path."""
        if not len(members) == len(fund) == len(assessed) == len(cut):
            raise ValueError("member charge columns of unequal length")
        charges = object.__new__(cls)
        charges._members = members
        charges._fund = fund
        charges._assessed = assessed
        charges._cut = cut
        charges._currency = ccy if members else None
        return charges

    def rows(self) -> Iterator[tuple[str, int, int, int]]:
        """(member, fund, assessment, VM haircut) in minor units, in order."""
        return zip(self._members, self._fund, self._assessed, self._cut, strict=True)

    def __len__(self) -> int:
        return len(self._members)

    @overload
    def __getitem__(self, index: int) -> MemberCharge: ...

    @overload
    def __getitem__(self, index: slice) -> MemberCharges: ...

    def __getitem__(self, index: int | slice) -> MemberCharge | MemberCharges:
        if isinstance(index, slice):
            return MemberCharges(self[i] for i in range(*index.indices(len(self))))
        ccy = self._currency
        if ccy is None:
            raise IndexError("no member charges")
        return MemberCharge.of_units(
            self._members[index], self._fund[index], self._assessed[index], self._cut[index], ccy
        )

    def __iter__(self) -> Iterator[MemberCharge]:
        ccy = self._currency
        if ccy is None:
            return
        of_units = MemberCharge.of_units
        for member, fund, assessed, cut in self.rows():
            yield of_units(member, fund, assessed, cut, ccy)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MemberCharges):
            return self.currency_rows() == other.currency_rows()
        if isinstance(other, tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def currency_rows(self) -> tuple[Currency | None, tuple[tuple[str, int, int, int], ...]]:
        return self._currency, tuple(self.rows())

    def __hash__(self) -> int:
        return hash((self._members, self._fund, self._assessed, self._cut))

    def __repr__(self) -> str:
        return f"MemberCharges({list(self)!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (MemberCharges, (tuple(self),))


class ReplenishmentCall:
    """What restores the fund and the CCP capital to full after an event, and by when.

    ``due`` is the day the rulebook replenishes on: ``business_days_to_replenish``
    business days after the event, or the end of the cooling-off period (None for
    an undated event). Amounts count everything used since the last
    replenishment; only non-zero top-ups are listed. The members' top-ups are
    held as minor units (one per survivor per event) and built as ``Money`` when
    read. Immutable; equal when every field is.
    """

    __slots__ = ("_currency", "_member_ids", "_member_units", "ccp_capital", "due")

    due: dt.date | None
    ccp_capital: tuple[tuple[str, Money], ...]  # (tranche name, top-up), in rulebook order
    _member_ids: tuple[str, ...]
    _member_units: tuple[int, ...]
    _currency: Currency | None

    def __init__(
        self,
        due: dt.date | None,
        members: tuple[tuple[str, Money], ...],
        ccp_capital: tuple[tuple[str, Money], ...],
    ) -> None:
        currencies = {amount.currency for _, amount in members}
        if len(currencies) > 1:
            raise ValueError("replenishment top-ups are not in one currency")
        self.due = due
        self.ccp_capital = ccp_capital
        self._member_ids = tuple(member for member, _ in members)
        self._member_units = tuple(amount.minor_units for _, amount in members)
        self._currency = next(iter(currencies), None)

    @classmethod
    def of_units(
        cls,
        due: dt.date | None,
        member_ids: tuple[str, ...],
        member_units: tuple[int, ...],
        ccp_capital: tuple[tuple[str, Money], ...],
        ccy: Currency,
    ) -> ReplenishmentCall:
        """A call from the members' top-ups in minor units of ``ccy``: the engine's path."""
        call = object.__new__(cls)
        call.due = due
        call.ccp_capital = ccp_capital
        call._member_ids = member_ids
        call._member_units = member_units
        call._currency = ccy if member_ids else None
        return call

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, name):
            raise AttributeError(f"ReplenishmentCall.{name} cannot be changed")
        object.__setattr__(self, name, value)

    @property
    def members(self) -> tuple[tuple[str, Money], ...]:
        """(member, top-up of its contribution), by id."""
        ccy = self._currency
        if ccy is None:
            return ()
        money = Money.from_minor_units
        return tuple(
            (member, money(units, ccy))
            for member, units in zip(self._member_ids, self._member_units, strict=True)
        )

    @property
    def member_units(self) -> tuple[tuple[str, int], ...]:
        """(member, top-up in minor units), by id."""
        return tuple(zip(self._member_ids, self._member_units, strict=True))

    def members_total(self, currency: Currency) -> Money:
        return Money.from_minor_units(sum(self._member_units), currency)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReplenishmentCall):
            return NotImplemented
        return (
            self.due == other.due
            and self.ccp_capital == other.ccp_capital
            and self.members == other.members
        )

    def __hash__(self) -> int:
        return hash((self.due, self.ccp_capital, self._member_ids, self._member_units))

    def __repr__(self) -> str:
        return (
            f"ReplenishmentCall(due={self.due!r}, members={self.members!r}, "
            f"ccp_capital={self.ccp_capital!r})"
        )


@dataclass(frozen=True, slots=True)
class EventResult:
    """One simultaneous default event run through the waterfall."""

    index: int
    date: dt.date | None
    defaulters: tuple[str, ...]  # sorted by id
    loss: Money  # sum of the defaulters' close-out losses
    losses: tuple[tuple[str, Money], ...]  # (defaulter, close-out loss)
    tranches: tuple[TrancheResult, ...]  # in rulebook order
    members: Sequence[MemberCharge]  # survivors that bear a loss, sorted by id
    defaulter_surplus: tuple[tuple[str, Money], ...]  # (defaulter, unused margin returned)
    uncovered: Money  # loss no tranche covered: beyond the waterfall
    replenished_before: bool  # the fund was replenished between the last event and this one
    cooling_off_end: dt.date | None  # end of the cooling-off period in force after this event
    # The call that restores the fund after this event; None if the rulebook never replenishes.
    replenishment: ReplenishmentCall | None = None


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A whole case: its events in date order and the journal of every movement."""

    case: Case
    events: tuple[EventResult, ...]
    journal: Journal

    @property
    def totals(self) -> tuple[MemberCharge, ...]:
        """Each member's charges summed over all events, sorted by id."""
        sums: dict[str, list[int]] = {}
        for event in self.events:
            for member, fund, assessed, cut in _charge_rows(event.members):
                before = sums.get(member)
                if before is None:
                    sums[member] = [fund, assessed, cut]
                else:
                    before[0] += fund
                    before[1] += assessed
                    before[2] += cut
        ccy = self.case.currency
        return tuple(
            MemberCharge.of_units(m, fund, assessed, cut, ccy)
            for m in sorted(sums)
            for fund, assessed, cut in (sums[m],)
        )

    @property
    def uncovered(self) -> Money:
        total = Money.zero(self.case.currency)
        for event in self.events:
            total += event.uncovered
        return total


def _charge_rows(charges: Sequence[MemberCharge]) -> Iterable[tuple[str, int, int, int]]:
    """(member, fund, assessment, VM haircut) in minor units, without building charges."""
    if isinstance(charges, MemberCharges):
        return charges.rows()
    return ((c.member, *c.units) for c in charges)
