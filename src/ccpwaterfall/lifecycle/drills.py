"""End of day, step 4: every stress scenario's Cover-N default through the waterfall, exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccpwaterfall.domain import (
    Case,
    Default,
    Member,
    Money,
)
from ccpwaterfall.lifecycle.border import to_money
from ccpwaterfall.lifecycle.fund import FundRun
from ccpwaterfall.lifecycle.inputs import (
    EndOfDayInputs,
    Progress,
    by_index,
    quiet,
)
from ccpwaterfall.lifecycle.margin import MarginRun
from ccpwaterfall.lifecycle.stress import StressRun
from ccpwaterfall.risk.stress import (
    rank_groups,
)
from ccpwaterfall.waterfall import CaseResult, run_case


@dataclass(frozen=True, slots=True, eq=False)
class Drill:
    """One stress scenario's Cover-N default run through the waterfall."""

    scenario: int
    scenario_name: str
    groups: tuple[str, ...]
    defaulters: tuple[str, ...]
    case: Case
    result: CaseResult

    @property
    def deepest_tranche(self) -> str:
        """The last tranche the loss reached, or ``uncovered`` beyond the waterfall."""
        event = self.result.events[0]
        if not event.uncovered.is_zero():
            return "uncovered"
        used = [t.name for t in event.tranches if not t.used.is_zero()]
        return used[-1] if used else "none"

    @property
    def loss(self) -> Money:
        return self.result.events[0].loss


def default_case(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    stress: StressRun,
    fund: FundRun,
    scenario: int,
    groups: tuple[int, ...],
) -> Case:
    """The ``ccp-case/1`` case of the groups' default in one stress scenario.

    Every member appears with its contribution, its initial margin and, for
    survivors, the VM gains owed to it in the scenario (what a VM gains haircut
    could cut). Each defaulting member's close-out loss is the loss of its
    accounts that lose in the scenario; the margin listed for it is the margin
    of those accounts usable against their own loss, account by account, so
    the loss beyond margin is exactly the stress exposure behind Cover-N.
    Margin on accounts that gained goes back to the estate outside the
    waterfall. Amounts cross into money here, at the border.
    """
    portfolio = inputs.portfolio
    ccy = inputs.currency
    pnl = stress.account_pnl[:, scenario]
    loss = np.maximum(-pnl, 0.0)
    usable_margin = np.minimum(margin.account_margin, loss)
    gains = np.maximum(pnl, 0.0)
    member_loss = by_index(loss, portfolio.account_member, portfolio.n_members)
    member_usable = by_index(usable_margin, portfolio.account_member, portfolio.n_members)
    member_gains = by_index(gains, portfolio.account_member, portfolio.n_members)
    defaulting = np.isin(portfolio.member_group, np.asarray(groups, dtype=np.intp))
    members = []
    defaults = []
    # Building exact value objects, one per member: this is the border, not array code.
    for index, member_id in enumerate(portfolio.member_ids):
        is_defaulter = bool(defaulting[index])
        members.append(
            Member(
                id=member_id,
                name=portfolio.member_names[index],
                group=portfolio.group_ids[int(portfolio.member_group[index])],
                default_fund=fund.contributions_money[index],
                initial_margin=to_money(
                    float(member_usable[index] if is_defaulter else margin.member_margin[index]),
                    ccy,
                ),
                vm_gains=Money.zero(ccy) if is_defaulter else to_money(member_gains[index], ccy),
            )
        )
        if is_defaulter:
            defaults.append(Default(member_id, to_money(float(member_loss[index]), ccy)))
    name = stress.scenario_names[scenario]
    pair = " and ".join(portfolio.group_ids[g] for g in groups)
    return Case(
        name=f"{inputs.name}: default of {pair} in '{name}'",
        currency=ccy,
        ccp_name=inputs.ccp_name,
        rulebook=inputs.rulebook,
        members=tuple(members),
        defaults=tuple(defaults),
        description=(
            f"Cover-{len(groups)} default drill generated from the stress scenario "
            f"'{name}': the groups with the largest stress loss over margin default."
        ),
    )


def drill_defaults(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    stress: StressRun,
    fund: FundRun,
    progress: Progress = quiet,
) -> tuple[Drill, ...]:
    """Every stress scenario's Cover-N default through the waterfall, exactly.

    In each scenario the Cover-N groups on the sizing basis default (ties to the
    lower group index). Scenarios where no group loses beyond its margin still
    run, with the groups that lose most.
    """
    n = fund.sizing.params.cover
    basis = fund.sizing.exposures
    order = rank_groups(basis, n)
    drills = []
    # One exact waterfall run per scenario: Decimal allocation, not array code.
    for scenario, name in enumerate(stress.scenario_names):
        progress(f"drill {name}")
        groups = tuple(int(g) for g in order[:, scenario])
        case = default_case(inputs, margin, stress, fund, scenario, groups)
        drills.append(
            Drill(
                scenario=scenario,
                scenario_name=name,
                groups=tuple(inputs.portfolio.group_ids[g] for g in groups),
                defaulters=tuple(d.member for d in case.defaults),
                case=case,
                result=run_case(case),
            )
        )
    return tuple(drills)
