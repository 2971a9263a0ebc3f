"""What a waterfall run returns: per event, per tranche and per member, with the journal.

Every figure here can be rebuilt from the journal; the explain records say
which rule produced each one and from which inputs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

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


@dataclass(frozen=True, slots=True)
class MemberCharge:
    """What one surviving member bore: from its fund, by assessment, by VM haircut."""

    member: str
    default_fund: Money
    assessment: Money
    vm_haircut: Money

    @property
    def total(self) -> Money:
        return self.default_fund + self.assessment + self.vm_haircut


@dataclass(frozen=True, slots=True)
class ReplenishmentCall:
    """What restores the fund and the CCP capital to full after an event, and by when.

    ``due`` is the day the rulebook replenishes on: ``business_days_to_replenish``
    business days after the event, or the end of the cooling-off period (None for
    an undated event). Amounts count everything used since the last
    replenishment; only non-zero top-ups are listed.
    """

    due: dt.date | None
    members: tuple[tuple[str, Money], ...]  # (member, top-up of its contribution), by id
    ccp_capital: tuple[tuple[str, Money], ...]  # (tranche name, top-up), in rulebook order

    def members_total(self, currency: Currency) -> Money:
        total = Money.zero(currency)
        for _, amount in self.members:
            total += amount
        return total


@dataclass(frozen=True, slots=True)
class EventResult:
    """One simultaneous default event run through the waterfall."""

    index: int
    date: dt.date | None
    defaulters: tuple[str, ...]  # sorted by id
    loss: Money  # sum of the defaulters' close-out losses
    losses: tuple[tuple[str, Money], ...]  # (defaulter, close-out loss)
    tranches: tuple[TrancheResult, ...]  # in rulebook order
    members: tuple[MemberCharge, ...]  # survivors that bear a loss, sorted by id
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
        zero = Money.zero(self.case.currency)
        sums: dict[str, MemberCharge] = {}
        for event in self.events:
            for charge in event.members:
                before = sums.get(charge.member, MemberCharge(charge.member, zero, zero, zero))
                sums[charge.member] = MemberCharge(
                    charge.member,
                    before.default_fund + charge.default_fund,
                    before.assessment + charge.assessment,
                    before.vm_haircut + charge.vm_haircut,
                )
        return tuple(sums[m] for m in sorted(sums))

    @property
    def uncovered(self) -> Money:
        total = Money.zero(self.case.currency)
        for event in self.events:
            total += event.uncovered
        return total
