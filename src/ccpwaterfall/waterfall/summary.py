"""A case in a few figures: who bore how much of the loss, summed over its events.

``ccp compare`` sets these side by side, one column per case, the way
comparisons of real defaults are published (Nasdaq 2018 against KRX 2013).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.waterfall.kinds import TRANCHE_KINDS, TrancheRegistry, TrancheRole
from ccpwaterfall.waterfall.result import CaseResult

_DEFAULTER_ROLES = (TrancheRole.DEFAULTER_MARGIN, TrancheRole.DEFAULTER_FUND)


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """The headline figures of a case run, in the case currency, summed over events.

    ``member_fund_before`` is the survivors' contributions in the first event:
    the fund that could be drawn. ``member_fund_share_used`` is
    ``member_fund_used / member_fund_before`` (``None`` when there is no fund);
    it can exceed 1 when the fund is replenished and drawn again.
    """

    case: str
    ccp: str
    currency: Currency
    events: int
    loss: Money
    defaulter_resources_used: Money
    ccp_capital_used: Money
    member_fund_before: Money
    member_fund_used: Money
    member_fund_share_used: Decimal | None
    assessments: Money
    vm_haircut: Money
    uncovered: Money


def summarise(result: CaseResult, kinds: TrancheRegistry = TRANCHE_KINDS) -> CaseSummary:
    """The headline figures of ``result``: loss and the use of each layer, over all events.

    Each tranche's use counts for the role of its kind (a kind of several roles
    counts for the first).
    """
    ccy = result.case.currency
    used: dict[TrancheRole, int] = dict.fromkeys(TrancheRole, 0)
    loss = uncovered = 0
    for event in result.events:
        loss += event.loss.minor_units
        uncovered += event.uncovered.minor_units
        for tranche in event.tranches:
            used[kinds[tranche.kind].roles[0]] += tranche.used.minor_units

    first_defaulters = set(result.events[0].defaulters) if result.events else set()
    fund_before = sum(
        m.default_fund.minor_units for m in result.case.members if m.id not in first_defaulters
    )
    fund_used = used[TrancheRole.MEMBER_FUND]
    share = Decimal(fund_used) / Decimal(fund_before) if fund_before else None

    def money(units: int) -> Money:
        return Money.from_minor_units(units, ccy)

    return CaseSummary(
        case=result.case.name,
        ccp=result.case.ccp_name,
        currency=ccy,
        events=len(result.events),
        loss=money(loss),
        defaulter_resources_used=money(sum(used[r] for r in _DEFAULTER_ROLES)),
        ccp_capital_used=money(used[TrancheRole.CCP_CAPITAL]),
        member_fund_before=money(fund_before),
        member_fund_used=money(fund_used),
        member_fund_share_used=share,
        assessments=money(used[TrancheRole.ASSESSMENT]),
        vm_haircut=money(used[TrancheRole.VM_HAIRCUT]),
        uncovered=money(uncovered),
    )
