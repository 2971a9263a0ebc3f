"""Run a resolved case through its waterfall, event by event, writing the journal.

Per event: replenish the fund if the schedule says so, post each defaulter's
close-out loss, apply the tranches in rulebook order (each by the rule of its
kind's spec, invariants re-checked after each), then return what is left
of the defaulters' initial margin to their estates. Every movement of money is
a journal entry whose postings sum to zero; the results are read from the
same postings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ccpwaterfall._gc import cyclic_gc_held
from ccpwaterfall.domain import Case, Money
from ccpwaterfall.domain.money import sum_money
from ccpwaterfall.ledger import Entry, Posting, balances
from ccpwaterfall.waterfall.accounts import (
    CLOSE_OUT,
    EXTERNAL_CCP,
    MemberPart,
    capital_account,
    external_member_account,
    loss_account,
    member_account,
    parse_capital_account,
)
from ccpwaterfall.waterfall.invariants import (
    AccountBounds,
    account_bounds,
    check_accounts,
    check_conservation,
    check_outcome,
)
from ccpwaterfall.waterfall.kinds import TRANCHE_KINDS, TrancheRegistry
from ccpwaterfall.waterfall.resolve import resolve_case
from ccpwaterfall.waterfall.resolved import ResolvedCase, ResolvedEvent
from ccpwaterfall.waterfall.result import (
    CaseResult,
    EventResult,
    MemberCharges,
    ReplenishmentCall,
    TrancheResult,
    input_text,
)
from ccpwaterfall.waterfall.state import EventContext, WaterfallState


def run_case(
    case: Case,
    kinds: TrancheRegistry = TRANCHE_KINDS,
    opening: Mapping[str, Money] | None = None,
) -> CaseResult:
    """Run ``case`` through its waterfall: ``run_waterfall(resolve_case(case), ...)``."""
    return run_waterfall(resolve_case(case, kinds), kinds, opening)


def run_waterfall(
    resolved: ResolvedCase,
    kinds: TrancheRegistry = TRANCHE_KINDS,
    opening: Mapping[str, Money] | None = None,
) -> CaseResult:
    """Every event of a resolved case through the waterfall, with the journal.

    Each tranche is applied by the rule of its kind's spec in ``kinds``.
    ``opening``: the balance of each resource account to start from (what
    earlier events or a drill left, such as ``closing_balances`` of an earlier
    result); by default the case's own amounts: every member's margin,
    contribution and VM gains and every CCP capital tranche in full. Pure: the
    result depends on the arguments only. Raises ``InvariantError`` if a rule
    breaks an accounting invariant (a defect, not a user error), ValueError
    when ``opening`` names an account that is not a resource of the case or
    gives a negative balance.
    """
    with cyclic_gc_held():
        return _run(resolved, kinds, opening)


def _run(
    resolved: ResolvedCase, kinds: TrancheRegistry, opening: Mapping[str, Money] | None
) -> CaseResult:
    units: dict[str, int] = {}
    state = WaterfallState(resolved.currency, MappingProxyType(units), {})
    run = _Run(resolved, state, [], units, account_bounds(resolved))
    postings = _opening_postings(resolved) if opening is None else _given_opening(resolved, opening)
    run.record(None, _opening_narration(resolved), postings, "opening", _capital_labels(resolved))
    events = tuple(_run_event(run, kinds, event) for event in resolved.events)
    return CaseResult(resolved.case, events, tuple(run.entries))


def closing_balances(result: CaseResult) -> dict[str, Money]:
    """What every resource account of the case holds after the result's last event.

    Members' margin, contributions and VM gains and the CCP's capital: the
    ``opening`` of a run that continues from here.
    """
    return {
        account: amount
        for account, amount in balances(result.journal).items()
        if account.startswith(("member:", "ccp:capital:"))
    }


@dataclass(slots=True)
class _Run:
    """The journal being written and the state it leads to (local to one run)."""

    resolved: ResolvedCase
    state: WaterfallState
    entries: list[Entry]
    units: dict[str, int]  # the balances ``state`` reads, written here only
    bounds: AccountBounds

    def record(
        self,
        event: int | None,
        narration: str,
        postings: tuple[Posting, ...],
        rule: str,
        meta: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Append an entry (none if it moves nothing) and check the accounts it touched."""
        if not postings:
            return
        self.entries.append(Entry(len(self.entries), narration, postings, event, rule, meta))
        # In place: the rules read the state through a read-only mapping between entries.
        # Each account is tested against its bounds as it is posted (the last posting to
        # it sees its final balance); any other account, or one outside its bounds, gets
        # the full check on the final balances.
        units = self.units
        balance_of = units.get  # bound once: this loop runs once per posting
        holding = self.bounds.holding.get
        assessed = self.bounds.assessed.get
        period_start = self.state.period_start.get
        free = self.bounds.free
        unchecked: list[str] = []
        for posting in postings:
            account = posting.account
            balance = units[account] = balance_of(account, 0) + posting.units
            bound = holding(account)
            if bound is not None:
                if bound[0] <= balance <= bound[1]:
                    continue
            elif (cap := assessed(account)) is not None:
                if period_start(account, 0) - balance <= cap:
                    continue
            elif account in free:
                continue
            unchecked.append(account)
        if unchecked:
            check_accounts(self.resolved, self.state, unchecked)


def _run_event(run: _Run, kinds: TrancheRegistry, event: ResolvedEvent) -> EventResult:
    resolved = run.resolved
    ccy = resolved.currency
    if event.replenished_before:
        run.record(
            event.index,
            f"Replenishment of the fund and CCP capital before event {event.index}",
            _replenishment_postings(resolved, event, run.state),
            "replenishment",
        )
    if event.new_assessment_period:
        run.state = run.state.new_assessment_period()
    for defaulter, loss in event.losses:
        run.record(
            event.index,
            f"Close-out loss of {defaulter}",
            _pair(CLOSE_OUT, loss_account(defaulter), loss),
            "close_out",
        )
    context = EventContext(resolved, event)
    tranches: list[TrancheResult] = []
    before = _charge_balances(run, event)
    used_so_far = Money.zero(ccy)
    for tranche in resolved.tranches:
        index = tranche.index
        outcome = kinds[tranche.kind].rule(run.state, tranche, context)
        check_outcome(event, outcome)
        inputs = tuple((key, input_text(value)) for key, value in outcome.inputs)
        meta = (("tranche", tranche.label), ("tranche_index", str(index)), *inputs)
        run.record(event.index, tranche.label, outcome.postings, str(tranche.kind), meta)
        used_so_far += outcome.used
        check_conservation(event, run.state, used_so_far)
        tranches.append(
            TrancheResult(
                index=index,
                kind=str(tranche.kind),
                name=tranche.label,
                available=outcome.available,
                used=outcome.used,
                remaining=outcome.available - outcome.used,
                rule=outcome.rule,
                inputs=outcome.inputs,
            )
        )
    surplus = tuple(
        (d, run.state.balance(member_account(d, MemberPart.INITIAL_MARGIN)))
        for d in event.defaulters
    )
    for defaulter, amount in surplus:
        run.record(
            event.index,
            f"Unused initial margin of {defaulter} returned to its estate",
            _pair(
                external_member_account(defaulter),
                member_account(defaulter, MemberPart.INITIAL_MARGIN),
                amount,
            ),
            "surplus_return",
        )
    return EventResult(
        index=event.index,
        date=event.date,
        defaulters=event.defaulters,
        loss=event.loss,
        losses=event.losses,
        tranches=tuple(tranches),
        members=_member_charges(run, event, before),
        defaulter_surplus=surplus,
        uncovered=sum_money((run.state.remaining_loss(d) for d in event.defaulters), ccy),
        replenished_before=event.replenished_before,
        cooling_off_end=event.cooling_off_end,
        replenishment=_replenishment_call(resolved, event, run.state),
    )


def _replenishment_call(
    resolved: ResolvedCase, event: ResolvedEvent, state: WaterfallState
) -> ReplenishmentCall | None:
    """What the survivors and the CCP owe the fund after the event, if it is ever replenished."""
    rulebook = resolved.case.rulebook
    if rulebook.cooling_off is None and rulebook.business_days_to_replenish is None:
        return None
    due = event.replenish_after if rulebook.cooling_off is None else event.cooling_off_end
    names = resolved.accounts[MemberPart.DEFAULT_FUND]
    units = state.units
    put_up = resolved.put_up
    top_ups = [
        (member_id, top_up)
        for member_id in event.survivors
        if (top_up := put_up[account := names[member_id]] - units.get(account, 0))
    ]
    capital = tuple(
        (resolved.tranches[index].label, gap)
        for index, amount in resolved.capital.items()
        if not (gap := amount - state.balance(capital_account(index))).is_zero()
    )
    member_ids = tuple([member_id for member_id, _ in top_ups])
    member_units = tuple([top_up for _, top_up in top_ups])
    return ReplenishmentCall.of_units(due, member_ids, member_units, capital, resolved.currency)


_ChargeColumns = tuple[list[int], list[int], list[int]]


def _charge_balances(run: _Run, event: ResolvedEvent) -> _ChargeColumns:
    """Each survivor's fund, assessment and VM gains balances now, in id order."""
    units = run.units
    accounts = run.resolved.accounts
    survivors = event.survivors
    return (
        [units.get(a, 0) for a in map(accounts[MemberPart.DEFAULT_FUND].__getitem__, survivors)],
        [units.get(a, 0) for a in map(accounts[MemberPart.ASSESSMENT].__getitem__, survivors)],
        [units.get(a, 0) for a in map(accounts[MemberPart.VM_GAINS].__getitem__, survivors)],
    )


def _member_charges(run: _Run, event: ResolvedEvent, before: _ChargeColumns) -> MemberCharges:
    """What each survivor bore in the event: the fall of its balances since ``before``."""
    after = _charge_balances(run, event)
    fund, assessed, cut = (
        [b - a for b, a in zip(was, now, strict=True)]
        for was, now in zip(before, after, strict=True)
    )
    members = event.survivors
    # Only the survivors that bore something: usually nearly all of them, or none.
    bore = [i for i, parts in enumerate(zip(fund, assessed, cut, strict=True)) if any(parts)]
    if len(bore) < len(members):
        members = tuple([members[i] for i in bore])
        fund = [fund[i] for i in bore]
        assessed = [assessed[i] for i in bore]
        cut = [cut[i] for i in bore]
    return MemberCharges.of_columns(
        members, tuple(fund), tuple(assessed), tuple(cut), run.resolved.currency
    )


def _opening_postings(resolved: ResolvedCase) -> tuple[Posting, ...]:
    """Members' resources and the CCP's capital, from the outside world."""
    postings: list[Posting] = []
    ccy = resolved.currency
    of_units = Posting.of_units
    put_up = resolved.put_up
    parts = (
        resolved.accounts[MemberPart.INITIAL_MARGIN],
        resolved.accounts[MemberPart.DEFAULT_FUND],
        resolved.accounts[MemberPart.VM_GAINS],
    )
    for member_id in resolved.members:
        total = 0
        for names in parts:
            account = names[member_id]
            if units := put_up[account]:
                postings.append(of_units(account, units, ccy))
                total += units
        if total:
            postings.append(of_units(external_member_account(member_id), -total, ccy))
    capital = ((capital_account(i), amount) for i, amount in resolved.capital.items())
    postings += _from_outside(capital, EXTERNAL_CCP)
    return tuple(postings)


def _opening_narration(resolved: ResolvedCase) -> str:
    labels = [f"{label} ({account})" for account, label in _capital_labels(resolved)]
    capital = f"; CCP capital: {', '.join(labels)}" if labels else ""
    return f"Opening balances: members' initial margin, default fund and VM gains{capital}"


def _capital_labels(resolved: ResolvedCase) -> tuple[tuple[str, str], ...]:
    return tuple((capital_account(i), resolved.tranches[i].label) for i in resolved.capital)


def _given_opening(resolved: ResolvedCase, opening: Mapping[str, Money]) -> tuple[Posting, ...]:
    """The given balances into the case's resource accounts, each from its outside account."""
    by_owner: dict[str, list[tuple[str, Money]]] = {}
    for account, amount in sorted(opening.items()):
        if account in resolved.member_accounts:
            member_id, part = resolved.member_accounts[account]
            owner = external_member_account(member_id)
            # What was assessed shows as a negative balance: it counts against the cap.
            holding = part is not MemberPart.ASSESSMENT
        elif (index := parse_capital_account(account)) is not None and index in resolved.capital:
            owner, holding = EXTERNAL_CCP, True
        else:
            raise ValueError(f"opening balance for {account!r}: not a resource of the case")
        if amount.currency != resolved.currency or (holding and amount.amount < 0):
            raise ValueError(f"opening balance for {account!r}: {amount} is not a holding")
        by_owner.setdefault(owner, []).append((account, amount))
    postings: list[Posting] = []
    for owner, amounts in by_owner.items():
        postings += _from_outside(amounts, owner)
    return tuple(postings)


def _replenishment_postings(
    resolved: ResolvedCase, event: ResolvedEvent, state: WaterfallState
) -> tuple[Posting, ...]:
    """Members' contributions and every CCP capital tranche back to full."""
    postings: list[Posting] = []
    fund_names = resolved.accounts[MemberPart.DEFAULT_FUND]
    for member_id in event.replenished:
        account = fund_names[member_id]
        top_up = resolved.members[member_id].default_fund - state.balance(account)
        postings += _pair(account, external_member_account(member_id), top_up)
    capital = (
        (capital_account(i), amount - state.balance(capital_account(i)))
        for i, amount in resolved.capital.items()
    )
    postings += _from_outside(capital, EXTERNAL_CCP)
    return tuple(postings)


def _from_outside(amounts: Iterable[tuple[str, Money]], external: str) -> tuple[Posting, ...]:
    """Each non-zero amount into its account, all from one ``external`` account."""
    postings = tuple(
        Posting(account, amount) for account, amount in amounts if not amount.is_zero()
    )
    if not postings:
        return ()
    total = sum_money((p.amount for p in postings), postings[0].amount.currency)
    return (*postings, Posting(external, -total))


def _pair(debit: str, credit: str, amount: Money) -> tuple[Posting, ...]:
    """``amount`` into ``debit`` from ``credit``; nothing for zero."""
    if amount.is_zero():
        return ()
    return (Posting(debit, amount), Posting(credit, -amount))
