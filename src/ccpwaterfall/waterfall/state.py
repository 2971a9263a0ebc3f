"""What a tranche rule reads and returns.

The state between tranches is the journal's balances so far: what is left of
each resource is the balance of its account, a defaulter's remaining loss the
negative balance of ``loss:<id>``. State and journal therefore never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.ledger import Posting
from ccpwaterfall.waterfall.accounts import MemberPart, loss_account, member_account
from ccpwaterfall.waterfall.resolved import ResolvedCase, ResolvedEvent, ResolvedTranche
from ccpwaterfall.waterfall.result import InputValue


@dataclass(frozen=True, slots=True)
class WaterfallState:
    """Account balances after the entries so far, and where the assessment period began.

    Balances are kept as whole minor units of the case currency (exact, like
    the amounts they add up) so that posting to thousands of accounts creates
    no intermediate amounts; the accessors return ``Money``. ``period_start``
    holds the balances when the current assessment period (a cooling-off
    period, or the event without one) began, so what a member was assessed in
    the period is the fall of its assessment account since then. The mappings
    are never changed: each step builds new ones.
    """

    currency: Currency
    units: Mapping[str, int]
    period_start: Mapping[str, int]

    @classmethod
    def empty(cls, ccy: Currency) -> WaterfallState:
        return cls(ccy, {}, {})

    def balance(self, account: str) -> Money:
        """The balance of ``account``; zero if nothing was posted to it."""
        return Money.from_minor_units(self.units.get(account, 0), self.currency)

    def remaining_loss(self, defaulter: str) -> Money:
        """The defaulter's loss not yet covered."""
        return Money.from_minor_units(-self.units.get(loss_account(defaulter), 0), self.currency)

    def assessed_units(self, member_id: str) -> int:
        """Minor units ``member_id`` was assessed since the current assessment period began."""
        return self.assessed_in(member_account(member_id, MemberPart.ASSESSMENT))

    def assessed_in(self, account: str) -> int:
        """Minor units assessed through ``account`` since the current period began."""
        return self.period_start.get(account, 0) - self.units.get(account, 0)

    def assessed_in_period(self, member_id: str) -> Money:
        """What ``member_id`` was assessed since the current assessment period began."""
        return Money.from_minor_units(self.assessed_units(member_id), self.currency)

    def posted(self, postings: Iterable[Posting]) -> WaterfallState:
        """The state after ``postings`` (amounts in the case currency)."""
        units = dict(self.units)
        for posting in postings:
            if posting.amount.currency != self.currency:
                raise ValueError(f"{posting.account}: {posting.amount} is not in {self.currency}")
            units[posting.account] = units.get(posting.account, 0) + posting.amount.minor_units
        return replace(self, units=units)

    def new_assessment_period(self) -> WaterfallState:
        """The state with assessment counts starting afresh from now."""
        return replace(self, period_start=dict(self.units))


@dataclass(frozen=True, slots=True)
class EventContext:
    """The resolved case and the event a tranche is applied in.

    ``weights`` holds each survivor's contribution in minor units, built once
    per event for the tranches that split pro rata to it (never changed).
    """

    case: ResolvedCase
    event: ResolvedEvent
    _weights: dict[str, Mapping[str, int]] = field(default_factory=dict, repr=False)

    @property
    def contributions(self) -> Mapping[str, int]:
        """Each survivor's contribution to the fund in minor units, in survivor order."""
        cached = self._weights.get("contributions")
        if cached is None:
            fund = self.case.contributions
            cached = self._weights["contributions"] = {s: fund[s] for s in self.event.survivors}
        return cached


@dataclass(frozen=True, slots=True)
class TrancheOutcome:
    """What one tranche did in one event.

    ``postings`` credit the resources used (negative) and debit the loss
    accounts they cover (positive); they sum to zero and the loss postings sum
    to ``used``. ``rule`` is one plain sentence, ``inputs`` the rule's inputs
    by name, as typed values.
    """

    available: Money
    used: Money
    postings: tuple[Posting, ...]
    rule: str
    inputs: tuple[tuple[str, InputValue], ...] = ()


TrancheRule = Callable[[WaterfallState, ResolvedTranche, EventContext], TrancheOutcome]
"""A tranche kind's rule: ``(state, resolved tranche, context) -> outcome``."""
