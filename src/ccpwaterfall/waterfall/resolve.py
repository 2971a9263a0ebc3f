"""Resolve a case: look every reference up once and fail early on inconsistent terms."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

from ccpwaterfall.domain import Case, Member, Money, Tranche
from ccpwaterfall.domain.money import sum_money
from ccpwaterfall.waterfall.accounts import MemberPart, member_account
from ccpwaterfall.waterfall.kinds import TRANCHE_KINDS, TrancheRegistry, TrancheRole
from ccpwaterfall.waterfall.resolved import (
    MemberAccounts,
    ResolvedCase,
    ResolvedEvent,
    ResolvedTranche,
)
from ccpwaterfall.waterfall.schedule import schedule_events


def tranche_problems(
    index: int, waterfall: tuple[Tranche, ...], kinds: TrancheRegistry = TRANCHE_KINDS
) -> list[tuple[str, str]]:
    """What is wrong with ``waterfall[index]`` for its kind: (parameter or "", sentence) pairs.

    A kind the registry does not know; a parameter the kind requires but the
    tranche lacks, or one it does not take; the kind's own checks.
    """
    tranche = waterfall[index]
    spec = kinds.get(tranche.kind)
    if spec is None:
        return [("kind", f"unknown tranche kind {tranche.kind!r}")]
    problems: list[tuple[str, str]] = []
    for name in ("amount", "cap_multiple", "max_fraction", "shared_with"):
        given = getattr(tranche, name) is not None
        parameter = spec.parameter(name)
        if given and parameter is None:
            problems.append((name, f"a {tranche.kind} tranche takes no {name}"))
        elif not given and parameter is not None and parameter.required:
            problems.append((name, f"a {tranche.kind} tranche requires {name}"))
    if tranche.allocation != "pro_rata" and spec.parameter("allocation") is None:
        problems.append(("allocation", f"a {tranche.kind} tranche takes no allocation"))
    problems += [("", problem) for problem in spec.check(index, waterfall)]
    return problems


def resolve_case(case: Case, kinds: TrancheRegistry = TRANCHE_KINDS) -> ResolvedCase:
    """The case with members by id, survivors per event, schedule, amounts and caps.

    Each tranche is resolved by its kind's spec in ``kinds``. Raises
    ValueError, listing every problem, on terms no valid case file can produce
    (an amount in another currency, a negative amount, a tranche kind the
    registry does not know or parameters it does not take, dated and undated
    defaults mixed): those are programmer errors, as the case-file reader
    reports user errors before this point.
    """
    problems = list(_problems(case, kinds))
    if problems:
        raise ValueError(f"case {case.name!r} cannot be resolved: " + "; ".join(problems))
    ccy = case.currency
    members = {m.id: m for m in sorted(case.members, key=lambda m: m.id)}
    events = case.events
    schedules = schedule_events([event.date for event in events], case.rulebook)
    resolved: list[ResolvedEvent] = []
    defaulted: set[str] = set()
    auctions = {auction.date: auction for auction in case.auctions}
    for index, (event, schedule) in enumerate(zip(events, schedules, strict=True)):
        losses = tuple(sorted((d.member, d.loss) for d in event.defaults))
        defaulters = tuple(d for d, _ in losses)
        not_defaulted_before = tuple([m for m in members if m not in defaulted])
        survivors = tuple([m for m in not_defaulted_before if m not in defaulters])
        auction = auctions.get(event.date)
        tiers = None
        if auction is not None:
            named = {m for tier in auction.tiers for m in tier}
            rest = tuple(m for m in survivors if m not in named)
            tiers = (*auction.tiers, rest) if rest else auction.tiers
        resolved.append(
            ResolvedEvent(
                index=index,
                date=event.date,
                defaulters=defaulters,
                losses=losses,
                loss=sum_money((loss for _, loss in losses), ccy),
                survivors=survivors,
                replenished=not_defaulted_before,
                replenished_before=schedule.replenished_before,
                new_assessment_period=schedule.new_assessment_period,
                cooling_off_end=schedule.cooling_off_end,
                replenish_after=schedule.replenish_after,
                tiers=tiers,
            )
        )
        defaulted.update(defaulters)
    tranches = tuple(
        kinds[tranche.kind].resolve(tranche, index, members)
        for index, tranche in enumerate(case.rulebook.waterfall)
    )
    tranches = tuple(_labelled(t, kinds[t.kind].title) if not t.terms.name else t for t in tranches)
    capital = {t.index: t.amount for t in tranches if t.amount is not None}
    caps = {t.index: t.caps for t in tranches if t.caps is not None}
    zero = Money.zero(ccy)

    def limit(role: TrancheRole) -> Mapping[str, Money]:
        of_role = [caps[t.index] for t in tranches if role in kinds[t.kind].roles and t.caps]
        if len(of_role) == 1 and len(of_role[0]) == len(members):
            return of_role[0]  # one tranche of the role: its caps are the limits
        return {m: max((c[m] for c in of_role), default=zero) for m in members}

    names = {part: _account_names(members, part) for part in MemberPart}
    margin_names = names[MemberPart.INITIAL_MARGIN]
    fund_names = names[MemberPart.DEFAULT_FUND]
    gains_names = names[MemberPart.VM_GAINS]
    put_up = {margin_names[m]: member.initial_margin.minor_units for m, member in members.items()}
    put_up.update({fund_names[m]: member.default_fund.minor_units for m, member in members.items()})
    put_up.update({gains_names[m]: member.vm_gains.minor_units for m, member in members.items()})
    return ResolvedCase(
        case=case,
        currency=ccy,
        members=members,
        events=tuple(resolved),
        tranches=tranches,
        capital=capital,
        caps=caps,
        assessment_limit=limit(TrancheRole.ASSESSMENT),
        haircut_limit=limit(TrancheRole.VM_HAIRCUT),
        member_accounts=MemberAccounts(names),
        accounts=names,
        put_up=put_up,
        contributions={m: member.default_fund.minor_units for m, member in members.items()},
        cap_units={
            index: {m: cap.minor_units for m, cap in of_tranche.items()}
            for index, of_tranche in caps.items()
        },
    )


def _account_names(members: Mapping[str, Member], part: MemberPart) -> dict[str, str]:
    """``member_account(m, part)`` of every member, the name built once per part."""
    sample = member_account("\0", part)
    head, tail = sample.split("\0")
    return {m: f"{head}{m}{tail}" for m in members}


def _labelled(tranche: ResolvedTranche, title: str) -> ResolvedTranche:
    """The tranche named by its kind's title, as the case gives it no name."""
    return replace(tranche, label=title)


def _problems(case: Case, kinds: TrancheRegistry) -> Iterator[str]:
    """Every inconsistency in the case's terms."""
    ccy = case.currency

    def wrong(where: str, amount: Money) -> str | None:
        if amount.currency != ccy:
            return f"{where} is in {amount.currency.code}, the case in {ccy.code}"
        if amount.minor_units < 0:
            return f"{where} is negative: {amount}"
        return None

    for member in case.members:
        fund, margin, gains = member.default_fund, member.initial_margin, member.vm_gains
        # The usual member is right: checked as integers before any message is made.
        if (
            fund.currency is ccy
            and margin.currency is ccy
            and gains.currency is ccy
            and fund.minor_units >= 0
            and margin.minor_units >= 0
            and gains.minor_units >= 0
        ):
            continue
        for part, amount in (
            ("default_fund", fund),
            ("initial_margin", margin),
            ("vm_gains", gains),
        ):
            if problem := wrong(f"member {member.id!r} {part}", amount):
                yield problem
    for default in case.defaults:
        if problem := wrong(f"default of {default.member!r} loss", default.loss):
            yield problem
    waterfall = case.rulebook.waterfall
    for index, tranche in enumerate(waterfall):
        for name, issue in tranche_problems(index, waterfall, kinds):
            yield f"waterfall[{index}]{'.' + name if name else ''}: {issue}"
        if tranche.amount is not None and (
            problem := wrong(f"waterfall[{index}] amount", tranche.amount)
        ):
            yield problem
