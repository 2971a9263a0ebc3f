"""Resolve a case: look every reference up once and fail early on inconsistent terms."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ccpwaterfall.domain import Case, Money, TrancheKind
from ccpwaterfall.domain.money import sum_money
from ccpwaterfall.waterfall.accounts import MemberPart, member_account
from ccpwaterfall.waterfall.resolved import ResolvedCase, ResolvedEvent
from ccpwaterfall.waterfall.rules import RULES
from ccpwaterfall.waterfall.schedule import schedule_events


def resolve_case(case: Case) -> ResolvedCase:
    """The case with members by id, survivors per event, schedule, amounts and caps.

    Raises ValueError, listing every problem, on terms no valid case file can
    produce (an amount in another currency, a negative amount, a tranche kind
    without a rule, dated and undated defaults mixed): those are programmer
    errors, as the case-file reader reports user errors before this point.
    """
    problems = list(_problems(case))
    if problems:
        raise ValueError(f"case {case.name!r} cannot be resolved: " + "; ".join(problems))
    ccy = case.currency
    members = {m.id: m for m in sorted(case.members, key=lambda m: m.id)}
    events = case.events
    schedules = schedule_events([event.date for event in events], case.rulebook)
    resolved: list[ResolvedEvent] = []
    defaulted: set[str] = set()
    for index, (event, schedule) in enumerate(zip(events, schedules, strict=True)):
        losses = tuple(sorted((d.member, d.loss) for d in event.defaults))
        defaulters = tuple(d for d, _ in losses)
        not_defaulted_before = tuple(m for m in members if m not in defaulted)
        resolved.append(
            ResolvedEvent(
                index=index,
                date=event.date,
                defaulters=defaulters,
                losses=losses,
                loss=sum_money((loss for _, loss in losses), ccy),
                survivors=tuple(m for m in not_defaulted_before if m not in defaulters),
                replenished=not_defaulted_before,
                replenished_before=schedule.replenished_before,
                new_assessment_period=schedule.new_assessment_period,
                cooling_off_end=schedule.cooling_off_end,
                replenish_after=schedule.replenish_after,
            )
        )
        defaulted.update(defaulters)
    waterfall = case.rulebook.waterfall
    capital = {
        i: t.amount
        for i, t in enumerate(waterfall)
        if t.kind is TrancheKind.CCP_CAPITAL and t.amount is not None
    }
    caps: dict[int, Mapping[str, Money]] = {}
    for i, tranche in enumerate(waterfall):
        if tranche.kind is TrancheKind.ASSESSMENTS and tranche.cap_multiple is not None:
            multiple = tranche.cap_multiple
            caps[i] = {
                m: member.default_fund.times_floor(multiple) for m, member in members.items()
            }
        elif tranche.kind is TrancheKind.VM_GAINS_HAIRCUT:
            fraction = tranche.haircut_fraction
            caps[i] = {m: member.vm_gains.times_floor(fraction) for m, member in members.items()}
    zero = Money.zero(ccy)

    def limit(kind: TrancheKind) -> dict[str, Money]:
        of_kind = [caps[i] for i, t in enumerate(waterfall) if t.kind is kind]
        return {m: max((c[m] for c in of_kind), default=zero) for m in members}

    return ResolvedCase(
        case=case,
        currency=ccy,
        members=members,
        events=tuple(resolved),
        capital=capital,
        caps=caps,
        assessment_limit=limit(TrancheKind.ASSESSMENTS),
        haircut_limit=limit(TrancheKind.VM_GAINS_HAIRCUT),
        member_accounts={
            member_account(m, part): (m, part) for m in members for part in MemberPart
        },
    )


def _problems(case: Case) -> Iterator[str]:
    """Every inconsistency in the case's terms."""
    amounts: list[tuple[str, Money]] = []
    for member in case.members:
        amounts += [
            (f"member {member.id!r} default_fund", member.default_fund),
            (f"member {member.id!r} initial_margin", member.initial_margin),
            (f"member {member.id!r} vm_gains", member.vm_gains),
        ]
    amounts += [(f"default of {d.member!r} loss", d.loss) for d in case.defaults]
    for index, tranche in enumerate(case.rulebook.waterfall):
        if tranche.kind not in RULES:
            yield f"waterfall[{index}]: no rule for tranche kind {tranche.kind!r}"
        if tranche.amount is not None:
            amounts.append((f"waterfall[{index}] amount", tranche.amount))
    for where, amount in amounts:
        if amount.currency != case.currency:
            yield f"{where} is in {amount.currency.code}, the case in {case.currency.code}"
        elif amount.amount < 0:
            yield f"{where} is negative: {amount}"
